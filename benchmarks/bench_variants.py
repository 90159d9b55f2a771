"""Speed of the model variants against each other: output px-day/s, measured in one run.

Every preset (``paper``, ``small``, ``anomaly``, ``anomaly-2pass``) runs on the same 9-day
windows, round-robin (benchmarks.common.interleaved), so load that comes and goes hits each
alike; the ``anomaly`` variant's time per output day is reported against ``paper`` and
``small``, and ``anomaly-2pass`` (which reads a second pass's window too) against ``anomaly``. Each preset also
runs with a 17-day window: the paper's 3-D network recomputes its window for every output day,
so its cost grows with the window; the anomaly variant's 2-D network does not.

    python benchmarks/run.py variants [--quick]
"""

from __future__ import annotations

import dataclasses
import os

import torch

from benchmarks.bench_model import Workload, make_inputs, torch_threads
from benchmarks.common import interleaved, per_round, result
from sgdsm_cloud.model.config import ModelConfig
from sgdsm_cloud.model.network import SGDSMNet

PRESETS = ("paper", "small", "anomaly", "anomaly-2pass")


def variant_rows(
    batch: int, size: int, *, threads: int, warmup: int, repeats: int, windows=(9, 17)
) -> list[dict]:
    """Output px-day/s of every preset on the same windows, round-robin, and the anomaly
    variant's time against ``paper`` and ``small``; each preset also with a longer window, to
    show how the cost per output day grows with it."""
    models, inputs = {}, {}
    for window in windows:
        workload = Workload("paper", batch, size)
        one = make_inputs(workload, window)
        other = make_inputs(workload, window, seed=1)  # the other pass: gaps elsewhere
        inputs[1, window] = one
        inputs[2, window] = (torch.cat([one[0], other[0]], 1), torch.cat([one[1], other[1]], 1))
        for preset in PRESETS:
            torch.manual_seed(0)
            config = dataclasses.replace(ModelConfig.preset(preset), window=window)
            models[preset, window] = SGDSMNet(config).eval()
    with torch_threads(threads), torch.inference_mode():
        seconds = interleaved(
            {
                key: (lambda m=m, w=key[1]: m(*inputs[m.config.passes, w]))
                for key, m in models.items()
            },
            warmup=warmup,
            repeats=repeats,
        )
    pixels = batch * size * size
    label = f"{batch}x{size}x{size}, {threads} thread{'s' if threads > 1 else ''}"
    first, last = windows[0], windows[-1]
    rows = [
        result(
            f"{preset} (window {window}) {label}: forward",
            seconds[preset, window].map(lambda s: pixels / s),
            "px-day/s",
        )
        for preset, window in models
    ]
    pairs = (("anomaly", "paper"), ("anomaly", "small"), ("anomaly-2pass", "anomaly"))
    for variant, peer in pairs:
        rows.append(
            result(
                f"{variant} / {peer} {label}: time per output day (window {first})",
                per_round(lambda a, p: a / p, seconds[variant, first], seconds[peer, first]),
                "time ratio",
                reference=f"{peer}, same run",
            )
        )
    for preset in PRESETS:
        rows.append(
            result(
                f"{preset} {label}: time with window {last} / window {first}",
                per_round(lambda b, a: b / a, seconds[preset, last], seconds[preset, first]),
                "time ratio",
                reference=f"{preset} with window {first}, same run",
            )
        )
    return rows


def run(quick: bool) -> list[dict]:
    """The benchmark-runner entry point (benchmarks/common.py describes the convention)."""
    batch, size, warmup, repeats = (2, 32, 1, 3) if quick else (2, 64, 1, 5)
    rows: list[dict] = []
    for threads in sorted({1, os.cpu_count() or 1}):
        rows.extend(variant_rows(batch, size, threads=threads, warmup=warmup, repeats=repeats))
    return rows
