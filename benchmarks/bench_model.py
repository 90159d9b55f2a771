"""Speed of the SGD-SM network against its FLOP floor and its peers, measured in one run.

For each workload (a model preset on a batch of 9-day windows with a realistic share of valid
cells) this times, round-robin (benchmarks.common.interleaved):

* ``SGDSMNet`` forward (inference mode): output pixel-days per second;
* the same dense ``Conv3d`` stack without masks (same weights, same trimmed depths): the
  project's target is a partial-convolution time <= 1.4 x this;
* the straightforward partial convolution (reference_partialconv.py, same weights);
* a dense float32 matmul, the machine's achievable FLOP/s next to the dense stack's own;
* the network and the dense stack again in the ``channels_last_3d`` memory format (oneDNN's
  dense conv3d is much faster in it on the development CPU; this shows how much of that the
  network keeps).

The FLOP floor counts, analytically per output pixel-day, the multiply-adds of every
convolution over the depth slices it actually computes (depth trimming included) plus the
mask box-sums; divided by the best FLOP/s that the plain dense matmul or conv stack (either
memory format) reaches in the same round, it is the time the model could take at best on this
machine.

Every workload runs twice: with one torch thread and with one per CPU core. On a loaded machine
each parallel operation waits for its worker threads to be scheduled, which costs the network
(about ten small mask and rescaling operations per layer) far more than the dense stack (one
convolution and one ReLU); the one-thread ratio isolates the compute overhead.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from benchmarks.common import Samples, interleaved, per_round, result
from benchmarks.reference_partialconv import reference_like
from sgdsm_cloud.model.config import ModelConfig
from sgdsm_cloud.model.network import SGDSMNet

MATMUL_SIDE = 2048
DENSE_TARGET = 1.4  # partial-conv model time / dense conv3d stack time


@dataclass(frozen=True)
class Workload:
    """A model preset on ``batch`` windows of ``size x size`` cells, ``valid`` of them observed."""

    preset: str
    batch: int
    size: int
    valid: float = 0.4

    def __post_init__(self) -> None:
        if self.batch < 1 or self.size < 1 or not 0 < self.valid <= 1:
            raise ValueError(f"workload needs batch, size >= 1 and 0 < valid <= 1, got {self}")

    @property
    def label(self) -> str:
        return f"{self.preset} {self.batch}x{self.size}x{self.size}"

    @property
    def pixel_days(self) -> int:
        """Output pixel-days of one forward call (one centre day per window)."""
        return self.batch * self.size * self.size


QUICK = (Workload("paper", 2, 24), Workload("small", 2, 64))
FULL = (Workload("paper", 2, 48), Workload("small", 4, 128))


@dataclass(frozen=True)
class FlopCount:
    """Floating-point operations per output pixel-day."""

    conv: int  # 2 x multiply-adds of the convolutions
    mask: int  # additions of the mask box-sums

    @property
    def total(self) -> int:
        return self.conv + self.mask


def flops_per_pixel_day(model: nn.Module, window: int) -> FlopCount:
    """FLOPs of one output pixel-day of ``model``, counted over the depths it really computes.

    The depths are read from a forward pass on a 1 x 1 window (so the count follows whatever
    trimming the network does); each Conv3d costs ``2 x C_in x C_out x k^3`` per output
    element and its one-channel mask box-sum ``k^3`` additions per output position.
    """
    depths: dict[nn.Module, int] = {}
    convs = [m for m in model.modules() if isinstance(m, nn.Conv3d)]
    hooks = [
        conv.register_forward_hook(lambda m, _, out: depths.__setitem__(m, _first(out).shape[2]))
        for conv in convs
    ]
    try:
        with torch.inference_mode():
            ones = torch.ones(1, 1, window, 1, 1, device=convs[0].weight.device)
            model(ones, ones)
    finally:
        for hook in hooks:
            hook.remove()
    conv = sum(2 * c.in_channels * c.out_channels * _volume(c) * depths[c] for c in convs)
    mask = sum(_volume(c) * depths[c] for c in convs)
    return FlopCount(conv=conv, mask=mask)


def _first(output: Tensor | tuple[Tensor, ...]) -> Tensor:
    return output[0] if isinstance(output, tuple) else output


def _volume(conv: nn.Conv3d) -> int:
    kd, kh, kw = conv.kernel_size
    return kd * kh * kw


class DenseStack(nn.Module):
    """``model``'s convolutions as plain dense Conv3d layers: same weights and depths, no masks."""

    def __init__(self, model: SGDSMNet) -> None:
        super().__init__()
        self.convs = [m for m in model.modules() if isinstance(m, nn.Conv3d)]

    def forward(self, data: Tensor) -> Tensor:
        x = data
        for i, conv in enumerate(self.convs):
            x = F.conv3d(x, conv.weight, conv.bias, padding=conv.padding)
            if i < len(self.convs) - 1:
                x = F.relu(x)
        return x[:, :, x.shape[2] // 2]


def make_inputs(workload: Workload, window: int, seed: int = 0) -> tuple[Tensor, Tensor]:
    """``(data, mask)``, each ``(batch, 1, window, size, size)``: swath-like blobs of valid cells.

    Validity is a smooth random field thresholded at its ``valid`` quantile on every day, so gaps
    come in patches as in AMSR2 days rather than as salt-and-pepper noise; values lie in
    [0.05, 0.45].
    """
    generator = torch.Generator().manual_seed(seed)
    shape = (workload.batch, 1, window, workload.size, workload.size)
    days, coarse_side = workload.batch * window, max(workload.size // 8, 2)
    coarse = torch.rand(days, 1, coarse_side, coarse_side, generator=generator)
    field = F.interpolate(
        coarse, size=(workload.size, workload.size), mode="bilinear", align_corners=False
    )
    field = field.reshape(days, -1)
    valid_cells = max(round(workload.valid * field.shape[1]), 1)
    threshold = field.kthvalue(valid_cells, dim=1, keepdim=True).values
    mask = (field <= threshold).float().reshape(shape)
    data = (0.05 + 0.4 * torch.rand(shape, generator=generator)) * mask
    return data, mask


def build_model(preset: str, seed: int = 0) -> SGDSMNet:
    """The preset's network with seeded random weights, in eval mode."""
    torch.manual_seed(seed)
    return SGDSMNet(ModelConfig.preset(preset)).eval()


@contextlib.contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run the block with ``count`` torch threads, then restore the previous count."""
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def measure(workload: Workload, *, threads: int, warmup: int, repeats: int) -> list[dict]:
    """All comparisons of one workload on the CPU with ``threads`` torch threads."""
    with torch_threads(threads):
        return _measure(workload, warmup=warmup, repeats=repeats)


def _measure(workload: Workload, *, warmup: int, repeats: int) -> list[dict]:
    model = build_model(workload.preset)
    reference, dense = reference_like(model), DenseStack(model)
    data, mask = make_inputs(workload, model.config.window)
    last = build_model(workload.preset).to(memory_format=torch.channels_last_3d)
    dense_last = DenseStack(last)
    data_last, mask_last = (
        t.contiguous(memory_format=torch.channels_last_3d) for t in (data, mask)
    )
    left = torch.rand(MATMUL_SIDE, MATMUL_SIDE)
    right = torch.rand(MATMUL_SIDE, MATMUL_SIDE)
    with torch.inference_mode():
        seconds = interleaved(
            {
                "sgdsm": lambda: model(data, mask),
                "dense": lambda: dense(data),
                "reference": lambda: reference(data, mask),
                "sgdsm_last": lambda: last(data_last, mask_last),
                "dense_last": lambda: dense_last(data_last),
                "matmul": lambda: left @ right,
            },
            warmup=warmup,
            repeats=repeats,
        )
    flops = flops_per_pixel_day(model, model.config.window)
    return comparison_rows(workload, flops, seconds)


def comparison_rows(
    workload: Workload, flops: FlopCount, seconds: dict[str, Samples]
) -> list[dict]:
    """Result rows from the round-robin timings of ``measure``."""
    label, pixels = workload.label, workload.pixel_days
    matmul_rate = seconds["matmul"].map(lambda s: 2 * MATMUL_SIDE**3 / s)
    dense_rate = seconds["dense"].map(lambda s: flops.conv * pixels / s)
    dense_last_rate = seconds["dense_last"].map(lambda s: flops.conv * pixels / s)
    floor_seconds = per_round(
        lambda *rates: flops.total * pixels / max(rates), matmul_rate, dense_rate, dense_last_rate
    )
    time_over_floor = per_round(lambda t, f: t / f, seconds["sgdsm"], floor_seconds)
    threads = torch.get_num_threads()
    label = f"{label}, {threads} thread{'s' if threads > 1 else ''}"
    share = f"{workload.valid:.0%} valid"
    return [
        result(
            f"{label}: SGD-SM forward",
            seconds["sgdsm"].map(lambda s: pixels / s),
            "px-day/s",
            note=share,
        ),
        result(
            f"{label}: SGD-SM / dense conv3d stack",
            per_round(lambda s, d: s / d, seconds["sgdsm"], seconds["dense"]),
            "time ratio",
            reference="dense conv3d stack, same run",
            note=f"target <= {DENSE_TARGET}",
        ),
        result(
            f"{label}: SGD-SM / reference partial conv",
            per_round(lambda s, r: s / r, seconds["sgdsm"], seconds["reference"]),
            "time ratio",
            reference="reference_partialconv.py, same run",
        ),
        result(
            f"{label}: SGD-SM channels_last_3d / SGD-SM",
            per_round(lambda c, s: c / s, seconds["sgdsm_last"], seconds["sgdsm"]),
            "time ratio",
            reference="SGD-SM (NCDHW), same run",
        ),
        result(
            f"{label}: SGD-SM channels_last_3d / dense conv3d stack channels_last_3d",
            per_round(lambda s, d: s / d, seconds["sgdsm_last"], seconds["dense_last"]),
            "time ratio",
            reference="dense stack channels_last_3d, same run",
        ),
        result(
            f"{label}: SGD-SM time / FLOP-floor time",
            time_over_floor,
            "time ratio",
            reference="FLOP floor, same run",
        ),
        result(
            f"{label}: fraction of the FLOP floor",
            time_over_floor.map(lambda r: 1 / r),
            "fraction",
            reference="FLOP floor, same run",
        ),
        result(
            f"{label}: FLOPs per output px-day",
            flops.total,
            "FLOP",
            note=f"conv {flops.conv:,}, mask box-sums {flops.mask:,}",
        ),
        result(
            f"{label}: SGD-SM achieved",
            seconds["sgdsm"].map(lambda s: flops.total * pixels / s / 1e9),
            "GFLOP/s",
        ),
        result(
            f"{label}: dense conv3d stack achieved", dense_rate.map(lambda r: r / 1e9), "GFLOP/s"
        ),
        result(
            f"{label}: dense conv3d stack channels_last_3d achieved",
            dense_last_rate.map(lambda r: r / 1e9),
            "GFLOP/s",
        ),
        result(
            f"{label}: dense fp32 matmul {MATMUL_SIDE}^3",
            matmul_rate.map(lambda r: r / 1e9),
            "GFLOP/s",
        ),
    ]


def run(quick: bool) -> list[dict]:
    """The benchmark-runner entry point (benchmarks/common.py describes the convention)."""
    workloads, warmup, repeats = (QUICK, 1, 3) if quick else (FULL, 1, 5)
    thread_counts = sorted({1, os.cpu_count() or 1})
    rows: list[dict] = []
    for workload in workloads:
        for threads in thread_counts:
            rows.extend(measure(workload, threads=threads, warmup=warmup, repeats=repeats))
    return rows
