"""Agreement scores between a prediction and a reference (pure numpy).

All scores use the pairs where both values are finite. With ``d = pred - ref``:

* ``bias = mean(d)``
* ``rmse = sqrt(mean(d**2))``
* ``mae = mean(|d|)``
* ``ubrmse = sqrt(rmse**2 - bias**2)`` (the standard deviation of ``d``), the error left once
  the mean offset is removed;
* ``r`` the Pearson correlation.

Seams at gap borders are scored with :func:`border_jumps`: a filled gap whose border cells jump
away from their observed neighbours much more than the original field did shows a visible edge.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Scores:
    """Agreement of a prediction with a reference over ``n`` finite pairs (NaN when undefined)."""

    r: float
    rmse: float
    mae: float
    ubrmse: float
    bias: float
    n: int

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def score(pred: np.ndarray, ref: np.ndarray) -> Scores:
    """Scores over the pairs where both ``pred`` and ``ref`` are finite."""
    pred = np.asarray(pred, dtype="float64").ravel()
    ref = np.asarray(ref, dtype="float64").ravel()
    if pred.shape != ref.shape:
        raise ValueError(f"prediction and reference differ in size: {pred.size} vs {ref.size}")
    both = np.isfinite(pred) & np.isfinite(ref)
    p, o = pred[both], ref[both]
    n = int(p.size)
    if n == 0:
        return Scores(np.nan, np.nan, np.nan, np.nan, np.nan, 0)
    d = p - o
    bias = float(d.mean())
    rmse = float(np.sqrt(np.mean(d**2)))
    ubrmse = float(np.sqrt(max(rmse**2 - bias**2, 0.0)))
    return Scores(pearson_r(p, o), rmse, float(np.abs(d).mean()), ubrmse, bias, n)


def pearson_r(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation; NaN with fewer than two pairs or a constant input."""
    if a.size < 2:
        return float("nan")
    da, db = a - a.mean(), b - b.mean()
    denom = np.sqrt(np.sum(da**2) * np.sum(db**2))
    return float(np.sum(da * db) / denom) if denom > 0 else float("nan")


def border_jumps(inside: np.ndarray, outside: np.ndarray, removed: np.ndarray) -> np.ndarray:
    """``|inside[a] - outside[b]|`` for every 4-neighbour pair with ``a`` removed and ``b`` kept.

    ``inside`` holds the values in the gap (a method's fill, or the original field), ``outside``
    the observed field around it. A non-finite value gives a NaN jump, so two calls with the
    same ``removed`` return the same pairs in the same order and can be compared pair by pair
    (:func:`continuity_ratio`).
    """
    removed = np.asarray(removed, dtype=bool)
    jumps = []
    for axis in (0, 1):
        for step in (1, -1):
            # Pair each cell with its neighbour one step along ``axis`` (no wrap-around).
            src = [slice(None), slice(None)]
            dst = [slice(None), slice(None)]
            src[axis] = slice(0, -1) if step == 1 else slice(1, None)
            dst[axis] = slice(1, None) if step == 1 else slice(0, -1)
            a_in, b_out = tuple(src), tuple(dst)
            pair = removed[a_in] & ~removed[b_out]
            diff = np.abs(
                inside[a_in][pair].astype("float64") - outside[b_out][pair].astype("float64")
            )
            jumps.append(diff)
    return np.concatenate(jumps)


def continuity_ratio(fill_jumps: np.ndarray, original_jumps: np.ndarray) -> float:
    """Mean border jump of a fill over that of the original field, on the pairs both define.

    1 means the seam is as smooth as the field itself; larger values mean a visible edge.
    NaN when no pair is defined or the original field has no jump at all.
    """
    both = np.isfinite(fill_jumps) & np.isfinite(original_jumps)
    if not both.any():
        return float("nan")
    reference = float(np.mean(original_jumps[both]))
    return float(np.mean(fill_jumps[both])) / reference if reference > 0 else float("nan")
