"""Score every gap filler on the same hidden cells: the core of the simulated-gap and truth programmes.

A :class:`Case` is one day on one piece of the grid: the window of days each method sees (with
every hidden cell already NaN), the cells to score and their reference values (the removed
observations, or the synthetic truth). Every method gets exactly the same cases, so the table
compares like with like. Cells a method cannot fill (no observation within its reach) count
against its ``coverage``, not its errors.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sgdsm_cloud.metrics import border_jumps, continuity_ratio, score
from sgdsm_cloud.progress import progress
from sgdsm_cloud.validate.product import Crop

COLUMNS = ("method", "R", "RMSE", "MAE", "ubRMSE", "bias", "N", "coverage", "continuity", "note")


@dataclass(frozen=True)
class Case:
    """One day on one crop.

    Attributes:
        label: names the case in figures (e.g. the day and block position).
        day: index of the day on the raw cube's time axis.
        crop: where the case lies on the grid.
        values: ``(window, h, w)`` input with NaN for every unobserved or hidden cell.
        land: ``(h, w)`` bool land mask.
        centre: index of the day to fill in ``values``.
        removed: ``(h, w)`` bool, the cells scored.
        reference: ``(h, w)`` reference values for the scored cells.
        fill_land: ``(h, w)`` bool, the cells the product fills (land outside the excluded
            regions); None: all of ``land``.
        other: ``(window, h, w)`` the other overpass on the same days and cells (for two-pass
            models; nothing hidden), or None.
    """

    label: str
    day: int
    crop: Crop
    values: np.ndarray
    land: np.ndarray
    centre: int
    removed: np.ndarray
    reference: np.ndarray
    fill_land: np.ndarray | None = None
    other: np.ndarray | None = None


Filler = Callable[[Case], np.ndarray]

# method or station group -> (predictions, references) on the scored cells
Pairs = dict[str, tuple[np.ndarray, np.ndarray]]


@dataclass
class Evaluation:
    """Scores of each method, and what the figures need.

    Attributes:
        table: one row per method (columns ``COLUMNS``).
        pairs: method -> (predictions, references) on the scored cells.
        fills: for the first cases, method -> the filled crop (for enlarged views).
    """

    table: pd.DataFrame
    pairs: Pairs
    fills: list[dict[str, np.ndarray]] = field(default_factory=list)


def evaluate(
    cases: list[Case],
    methods: dict[str, Filler],
    unavailable: dict[str, str] | None = None,
    keep_fills: int = 0,
    desc: str = "scoring",
) -> Evaluation:
    """Run every method on every case and score it on the removed cells.

    ``unavailable`` maps a method name to the reason it was not run (a row with that note).
    The first ``keep_fills`` cases' fills are kept for figures.
    """
    preds: dict[str, list[np.ndarray]] = {name: [] for name in methods}
    refs: list[np.ndarray] = []
    jumps: dict[str, list[np.ndarray]] = {name: [] for name in methods}
    original_jumps: list[np.ndarray] = []
    fills: list[dict[str, np.ndarray]] = []
    for k, case in enumerate(progress(cases, desc=desc, unit="case")):
        outside = case.values[case.centre]
        refs.append(case.reference[case.removed])
        original_jumps.append(border_jumps(case.reference, outside, case.removed))
        kept = {}
        for name, method in methods.items():
            filled = np.asarray(method(case), dtype="float32")
            preds[name].append(filled[case.removed])
            jumps[name].append(border_jumps(filled, outside, case.removed))
            if k < keep_fills:
                kept[name] = filled
        if k < keep_fills:
            fills.append(kept)
    ref = np.concatenate(refs) if refs else np.array([])
    orig_j = np.concatenate(original_jumps) if original_jumps else np.array([])
    rows, pairs = [], {}
    for name in methods:
        pred = np.concatenate(preds[name]) if preds[name] else np.array([])
        pairs[name] = (pred, ref)
        s = score(pred, ref)
        scored = int(np.isfinite(ref).sum())
        coverage = (
            float(np.sum(np.isfinite(pred) & np.isfinite(ref)) / scored) if scored else float("nan")
        )
        cont = continuity_ratio(
            np.concatenate(jumps[name]) if jumps[name] else np.array([]), orig_j
        )
        rows.append((name, s.r, s.rmse, s.mae, s.ubrmse, s.bias, s.n, coverage, cont, ""))
    for name, reason in (unavailable or {}).items():
        nan = float("nan")
        rows.append((name, nan, nan, nan, nan, nan, 0, nan, nan, f"unavailable: {reason}"))
    return Evaluation(pd.DataFrame(rows, columns=list(COLUMNS)), pairs, fills)
