"""Timing and reporting shared by the benchmarks, and the convention the runner relies on.

The convention: a benchmark is a module ``benchmarks/bench_<name>.py`` that defines

    def run(quick: bool) -> list[dict]: ...

Each dict is one measured quantity, made with :func:`result`: ``name`` (what was measured),
``value`` (the median), ``low`` / ``high`` (the smallest and largest of the repeats, or None for
a quantity computed once), ``n`` (repeats), ``unit``, ``reference`` (what a ratio divides by)
and ``note``. ``quick=True`` must finish in about a minute on a laptop core. The runner
(``benchmarks/run.py``) adds the command, date, machine and load, prints the table, writes JSON
and records it in BENCHMARKS.md.

Absolute seconds are noisy on a shared machine, so a benchmark should report ratios against a
reference measured in the same run: :func:`interleaved` times its cases round-robin (every
repeat runs each case once), so load that comes and goes hits every case alike, and
:func:`per_round` turns the paired timings into a ratio per round.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

RESULT_KEYS = ("name", "value", "low", "high", "n", "unit", "reference", "note")


@dataclass(frozen=True)
class Samples:
    """Repeated measurements of one quantity (seconds, or anything derived from them)."""

    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.values:
            raise ValueError("Samples needs at least one value")

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    def map(self, func: Callable[[float], float]) -> Samples:
        return Samples(tuple(func(v) for v in self.values))


def timed(
    func: Callable[[], Any], *, warmup: int, repeats: int, sync: Callable[[], None] | None = None
) -> Samples:
    """Seconds per call of ``func`` over ``repeats`` calls after ``warmup`` untimed ones.

    ``sync`` (e.g. ``torch.cuda.synchronize``) runs before each clock read so that
    asynchronous devices are timed to completion.
    """
    return interleaved({"case": func}, warmup=warmup, repeats=repeats, sync=sync)["case"]


def interleaved(
    cases: Mapping[str, Callable[[], Any]],
    *,
    warmup: int,
    repeats: int,
    sync: Callable[[], None] | None = None,
) -> dict[str, Samples]:
    """Seconds per call of every case, timed round-robin: round ``r`` runs each case once."""
    if repeats < 1 or warmup < 0:
        raise ValueError(f"need repeats >= 1 and warmup >= 0, got {repeats} and {warmup}")
    sync = sync or (lambda: None)
    for _ in range(warmup):
        for func in cases.values():
            func()
    sync()
    seconds: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, func in cases.items():
            start = time.perf_counter()
            func()
            sync()
            seconds[name].append(time.perf_counter() - start)
    return {name: Samples(tuple(values)) for name, values in seconds.items()}


def per_round(func: Callable[..., float], *samples: Samples) -> Samples:
    """``func`` applied round by round to paired samples (e.g. a time ratio per round)."""
    counts = {len(s.values) for s in samples}
    if len(counts) != 1:
        raise ValueError(f"per_round needs samples of equal length, got {sorted(counts)}")
    return Samples(
        tuple(func(*values) for values in zip(*(s.values for s in samples), strict=True))
    )


def result(
    name: str,
    value: Samples | float | None,
    unit: str,
    *,
    reference: str | None = None,
    note: str = "",
) -> dict[str, Any]:
    """One row of a benchmark's output (see the module docstring for the keys).

    ``value`` is repeated samples, one number computed once, or None for a case that could not
    run (say why in ``note``).
    """
    if isinstance(value, Samples):
        return {
            "name": name, "value": value.median, "low": value.low, "high": value.high,
            "n": len(value.values), "unit": unit, "reference": reference, "note": note,
        }  # fmt: skip
    return {
        "name": name, "value": None if value is None else float(value), "low": None, "high": None,
        "n": 1, "unit": unit, "reference": reference, "note": note,
    }  # fmt: skip


def check_results(module: str, results: Any) -> list[dict[str, Any]]:
    """``results`` if it follows the convention, else a ValueError naming what is wrong."""
    if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
        raise ValueError(
            f"{module}.run must return a list of dicts made with benchmarks.common.result"
        )
    for row in results:
        missing = [key for key in RESULT_KEYS if key not in row]
        if missing:
            raise ValueError(f"{module}.run returned a row without {missing}: {row}")
    return results


def load_average() -> list[float] | None:
    """1, 5 and 15-minute load averages (None where the OS has none)."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    info: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "cpu": _cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
    try:
        import torch
    except ImportError:
        return info
    info["torch"] = torch.__version__
    info["torch_threads"] = torch.get_num_threads()
    info["device"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def format_value(value: float | None) -> str:
    """Three significant digits below 1000, whole numbers with thousands separators above."""
    if value is None:
        return ""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def format_table(results: list[dict[str, Any]]) -> str:
    """A Markdown table of results: median, [low - high] over the repeats, unit, reference."""
    lines = [
        "| measurement | median | range (n) | unit | relative to | note |",
        "|---|---:|---|---|---|---|",
    ]
    for row in results:
        spread = (
            f"{format_value(row['low'])} – {format_value(row['high'])} ({row['n']})"
            if row["low"] is not None
            else ""
        )
        lines.append(
            f"| {row['name']} | {format_value(row['value'])} | {spread} | {row['unit']} "
            f"| {row['reference'] or ''} | {row['note']} |"
        )
    return "\n".join(lines)
