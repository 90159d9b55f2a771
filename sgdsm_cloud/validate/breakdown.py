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
        table = table.sort_values([column]).reset_index(drop=True)
    return table


def _bin_start(label: str) -> float:
    """The left edge of a ``pd.cut`` label such as ``[1.0, 3.0)``."""
    return float(label.strip("[(").split(",")[0])
