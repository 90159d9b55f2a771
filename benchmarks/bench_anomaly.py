"""The shipped ``anomaly`` variant against its floor: FLOPs per output pixel-day, its CPU rate
as a share of the machine's dense matmul rate in the same run, and the GPU projection.

    python benchmarks/run.py anomaly [--quick]

The model is ``builtin:lprm-x-d-025`` (the variant and its error model, as ``sgdsm fill``
runs it: ``SGDSMNet.predict``), on swath-like windows (``bench_model.make_inputs``).

**FLOPs**, per output pixel-day, by part:

* *smoothing*: the Gaussian normalised convolutions (separable ``conv2d``), counted
  analytically as ``2 x`` their multiply-adds;
* *CNN*: the 2-D network's ``conv2d`` layers, ``2 x C_in x C_out x k^2`` each;
* *priors* and *error model*: every other floating-point operation, counted by running the
  step under a dispatch mode that adds up the elements each pointwise or reduction operator
  produces or reads (one FLOP per element).

**Rates**: the forward pass and a float32 ``2048 x 2048`` matmul are timed round-robin on one
torch thread; the FLOP rate of the forward pass (FLOPs per pixel-day x pixel-days per second) is
given as a share of the matmul's. The CNN alone is given the same way, since the priors are
bound by memory traffic rather than arithmetic.

**GPUs**: the FLOP count at the H100's dense BF16 peak (NVIDIA's datasheet, not a measurement)
is the floor; over the land tiles the fill plans for 2013-2019 at 0.25 degrees, it projects
1, 4 and 16 GPUs (perfect scaling: a floor, not a forecast).
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from benchmarks.bench_model import MATMUL_SIDE, Workload, make_inputs, torch_threads
from benchmarks.common import interleaved, per_round, result

H100_BF16_DENSE_FLOPS = 989e12  # NVIDIA H100 SXM datasheet, dense BF16 tensor-core peak
PRODUCT_DAYS = 2556


class ElementCount(TorchDispatchMode):
    """Elements produced by pointwise operators and read by reductions (``aten`` tags)."""

    def __init__(self) -> None:
        super().__init__()
        self.elements = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        out = func(*args, **(kwargs or {}))
        if torch.Tag.pointwise in func.tags and isinstance(out, torch.Tensor):
            if out.is_floating_point():
                self.elements += out.numel()
        elif func.__name__.startswith(("sum", "mean", "amax", "amin")) and args:
            if isinstance(args[0], torch.Tensor) and args[0].is_floating_point():
                self.elements += args[0].numel()
        return out


def blur_flops(core: Any, calls: tuple[int, ...]) -> int:
    """2 x multiply-adds per pixel of the separable Gaussian blurs: each normalised
    convolution blurs its values and its weights; ``calls`` lists the scales of each."""
    taps = core.kernels.shape[1]
    return sum(2 * 2 * 2 * scales * taps for scales in calls)  # 2 passes (rows, columns)


def cnn_flops(core: Any) -> int:
    return sum(
        2 * c.in_channels * c.out_channels * c.kernel_size[0] * c.kernel_size[1] for c in core.convs
    )


def counted(fn: Any) -> int:
    with ElementCount() as counter, torch.inference_mode():
        fn()
    return counter.elements


def flop_parts(model: Any, data: torch.Tensor, mask: torch.Tensor) -> dict[str, float]:
    """FLOPs per output pixel-day of each part (see the module docstring)."""
    core = model.core
    pixels = data.shape[0] * data.shape[-1] * data.shape[-2]
    scales = len(core.scales)
    with torch.inference_mode():
        x, *_ = core._inputs(data, mask)
    inputs = counted(lambda: core._inputs(data, mask)) / pixels
    forward = counted(lambda: core.run(data, mask, features=False)) / pixels
    predict = counted(lambda: model.predict(data, mask)) / pixels
    cnn_elementwise = counted(lambda: core.correction(x)) / pixels
    return {
        "priors": inputs,
        "smoothing": blur_flops(core, (1, scales)),  # neighbour mean; the day's anomaly
        "CNN": cnn_flops(core) + cnn_elementwise,
        "error model": (predict - forward) + blur_flops(core, (1,)),  # + the roughness blur
    }


MATMULS = {"matmul": "float32 matmul, same run", "matmul_bf16": "bfloat16 matmul, same run"}


def run(quick: bool) -> list[dict]:
    """The benchmark-runner entry point (benchmarks/common.py describes the convention)."""
    from benchmarks.gpu import fillable_cells, tiled_input_cells
    from sgdsm_cloud.model.builtin import resolve_model
    from sgdsm_cloud.model.checkpoint import load_checkpoint

    model = load_checkpoint(resolve_model("builtin:lprm-x-d-025"), "cpu").model.eval()
    workload = Workload("anomaly", batch=4, size=96 if quick else 256)
    data, mask = make_inputs(workload, model.config.window)
    parts = flop_parts(model, data, mask)
    total = sum(parts.values())
    core = model.core
    with torch.inference_mode():
        x, *_ = core._inputs(data, mask)
    left, right = torch.randn(MATMUL_SIDE, MATMUL_SIDE), torch.randn(MATMUL_SIDE, MATMUL_SIDE)
    left16, right16 = left.bfloat16(), right.bfloat16()

    def predict_bf16() -> Any:  # sgdsm fill --bfloat16: the CNN in bf16, the rest in float32
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return model.predict(data, mask)

    with torch_threads(1), torch.inference_mode():
        seconds = interleaved(
            {
                "predict": lambda: model.predict(data, mask),
                "predict_bf16": predict_bf16,
                "cnn": lambda: core.correction(x),
                "matmul": lambda: left @ right,
                "matmul_bf16": lambda: left16 @ right16,
            },
            warmup=1,
            repeats=3 if quick else 5,
        )
    pixels = workload.pixel_days
    matmul = seconds["matmul"].map(lambda s: 2 * MATMUL_SIDE**3 / s)
    matmul16 = seconds["matmul_bf16"].map(lambda s: 2 * MATMUL_SIDE**3 / s)

    def rate_ratio(name: str, forward: str, reference: str, note: str) -> dict:
        """The forward pass's FLOP rate over a matmul's, per round of the same run."""
        return result(
            name,
            per_round(
                lambda s, m: total * pixels / s / (2 * MATMUL_SIDE**3 / m),
                seconds[forward],
                seconds[reference],
            ),
            "ratio",
            reference=MATMULS[reference],
            note=note,
        )

    rows = [
        result(f"FLOPs per output px-day: {name}", value, "FLOP", note=note)
        for name, value, note in (
            ("priors", parts["priors"], "pointwise and reduction elements, counted"),
            (
                "smoothing",
                parts["smoothing"],
                f"{core.kernels.shape[1]}-tap separable Gaussians, analytic",
            ),
            ("CNN", parts["CNN"], f"{len(core.convs)} layers of 3x3 conv2d, analytic, + ReLU"),
            ("error model", parts["error model"], "its features and sigma, counted + one blur"),
            ("total", total, ""),
        )
    ]
    rows += [
        result(
            f"{workload.label}, 1 thread: forward with sigma",
            seconds["predict"].map(lambda s: pixels / s),
            "px-day/s",
        ),
        result("float32 matmul, 1 thread", matmul.map(lambda f: f / 1e9), "GFLOP/s"),
        rate_ratio("forward FLOP rate / matmul FLOP rate", "predict", "matmul", "target >= 0.5"),
        rate_ratio(
            "forward with the CNN in bfloat16: FLOP rate / float32 matmul FLOP rate",
            "predict_bf16",
            "matmul",
            "sgdsm fill --bfloat16; target >= 0.5",
        ),
        rate_ratio(
            "forward with the CNN in bfloat16: FLOP rate / bfloat16 matmul FLOP rate",
            "predict_bf16",
            "matmul_bf16",
            f"bfloat16 matmul {matmul16.median / 1e9:.0f} GFLOP/s",
        ),
        result(
            "CNN FLOP rate / matmul FLOP rate",
            per_round(
                lambda s, m: cnn_flops(core) * pixels / s / (2 * MATMUL_SIDE**3 / m),
                seconds["cnn"],
                seconds["matmul"],
            ),
            "ratio",
            reference="float32 matmul, same run",
            note="the 2-D network alone, channels-last",
        ),
    ]
    floor_rate = H100_BF16_DENSE_FLOPS / total
    fillable, _ = fillable_cells(0.25)
    cells = tiled_input_cells(fillable, 360, model.config.receptive_radius)
    seconds_one = PRODUCT_DAYS * cells / floor_rate
    for gpus in (1, 4, 16):
        rows.append(
            result(
                f"H100 floor, {gpus} GPU(s): 2013-2019 at 0.25 deg",
                seconds_one / gpus / 60,
                "minutes",
                note=f"{total:,.0f} FLOP/px-day at 989 TFLOP/s (datasheet BF16 peak): "
                f"{floor_rate:,.0f} px-day/s; {cells:,} input cells a day over the land tiles; "
                "perfect scaling, no I/O",
            )
        )
    return rows
