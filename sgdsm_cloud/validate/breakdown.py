"""Where a gap filler wins or loses: scores split by properties of each scored cell.

For every scored cell of a :class:`~.evaluate.Case` :func:`cell_properties` records

* ``gap_cells``: size of the connected land gap the cell lies in on the filled day (simulated
  and real gaps together, within the case's crop), in cells;
* ``edge_distance``: distance in cells to the nearest cell the day observes;
* ``days_to_observation``: days to the nearest other day of the window that observes the cell
  (``nan`` when none does);
* ``value_class``: ``zero`` (the reference is exactly 0), ``saturated`` (>= 0.985, LPRM stops at
  0.99) or ``ordinary``;
* ``lat``: the cell's latitude.

:func:`scores_by` then scores each method on each bin of one property. Pure numpy/pandas/scipy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import ndimage

from sgdsm_cloud.metrics import score
from sgdsm_cloud.validate.evaluate import Case

SATURATED = 0.985


def cell_properties(case: Case, lat: np.ndarray) -> pd.DataFrame:
    """One row per scored cell of ``case`` (the order of ``case.reference[case.removed]``).

    ``lat`` is the latitude of each row of the whole grid.
    """
    today = np.isfinite(case.values[case.centre])
    gap = ~today & case.land
    labels, _ = ndimage.label(gap)
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    edge = ndimage.distance_transform_edt(~today) if today.any() else np.full(today.shape, np.inf)
    days = _days_to_observation(case.values, case.centre)
    reference = case.reference[case.removed]
    value_class = np.where(
        reference <= 0.0, "zero", np.where(reference >= SATURATED, "saturated", "ordinary")
    )
    rows = np.broadcast_to(case.crop.rows[:, None], today.shape)
    return pd.DataFrame(
        {
            "gap_cells": sizes[labels][case.removed],
            "edge_distance": edge[case.removed],
            "days_to_observation": days[case.removed],
            "value_class": value_class,
            "lat": np.asarray(lat)[rows[case.removed]],
        }
    )


def _days_to_observation(values: np.ndarray, centre: int) -> np.ndarray:
    """Per cell, days from ``centre`` to the nearest other window day observing it (NaN if none)."""
    nearest = np.full(values.shape[1:], np.nan)
    for distance in range(values.shape[0] - 1, 0, -1):  # nearest last, so it wins
        for day in (centre - distance, centre + distance):
            if 0 <= day < values.shape[0]:
                nearest[np.isfinite(values[day])] = distance
    return nearest


def scores_by(
    properties: pd.DataFrame,
    pairs: dict[str, tuple[np.ndarray, np.ndarray]],
    column: str,
    bins: Sequence[float] | None = None,
) -> pd.DataFrame:
    """RMSE, MAE, R and N of each method per bin of ``column`` (its categories when no ``bins``).

    Scores use the cells every method filled, so the methods are compared on the same cells.
    """
    refs = next(iter(pairs.values()))[1]
    common = np.isfinite(refs) & np.all([np.isfinite(p) for p, _ in pairs.values()], axis=0)
    key = properties[column]
    groups = pd.cut(key, bins, right=False) if bins is not None else key.astype(str)
    rows = []
    for group in pd.unique(groups[common].dropna()):
        members = common & (groups == group).to_numpy()
        for method, (pred, ref) in pairs.items():
            s = score(pred[members], ref[members])
            rows.append({column: str(group), "method": method, "RMSE": s.rmse, "MAE": s.mae,
                         "R": s.r, "N": s.n})  # fmt: skip
    table = pd.DataFrame(rows)
    order = sorted(table[column].unique(), key=_bin_start) if bins is not None else None
    if order is not None:
        table[column] = pd.Categorical(table[column], categories=order, ordered=True)
        table = table.sort_values([column], kind="stable").reset_index(drop=True)
    return table


def _bin_start(label: str) -> float:
    """The left edge of a ``pd.cut`` label such as ``[1.0, 3.0)``."""
    return float(label.strip("[(").split(",")[0])


DISTANCE_BINS = (
    1,
    3,
    6,
    10,
    np.inf,
)  # cells from the day's nearest observation: 1-2, 3-5, 6-9, 10+


def distance_table(
    cases: Sequence[Case],
    lat: np.ndarray,
    pairs: dict[str, tuple[np.ndarray, np.ndarray]],
    model: str,
    reference: str,
) -> pd.DataFrame | None:
    """RMSE of every method by cells from the day's nearest observation, one row per bin, with
    ``model``'s RMSE as a share of ``reference``'s: where in a gap the model earns its place.

    ``pairs`` are :func:`~.evaluate.evaluate`'s on ``cases`` (the same cells, in order). None
    when there is nothing to split.
    """
    if not cases or not pairs:
        return None
    properties = pd.concat([cell_properties(c, lat) for c in cases], ignore_index=True)
    long = scores_by(properties, pairs, "edge_distance", list(DISTANCE_BINS))
    if long.empty:
        return None
    labels = {str(b): _distance_label(b) for b in long["edge_distance"].unique()}
    long["cells from the day's nearest observation"] = long["edge_distance"].astype(str).map(labels)
    wide = long.pivot_table(index="cells from the day's nearest observation", columns="method",
                            values="RMSE", sort=False, observed=True)  # fmt: skip
    wide.columns = [f"{m} RMSE" for m in wide.columns]
    counts = long.groupby("cells from the day's nearest observation", sort=False)["N"].first()
    table = pd.concat([counts, wide], axis=1).reset_index()
    if f"{model} RMSE" in table and f"{reference} RMSE" in table:
        table[f"{model} / {reference}"] = table[f"{model} RMSE"] / table[f"{reference} RMSE"]
    return table


def _distance_label(interval: str) -> str:
    """``[3.0, 6.0)`` -> ``3-5``; ``[10.0, inf)`` -> ``10 or more``."""
    low, high = (float(x) for x in interval.strip("[)").split(","))
    return f"{low:.0f} or more" if np.isinf(high) else f"{low:.0f}-{high - 1:.0f}"
