"""Cut the cases each gap programme scores from the raw cube.

* Simulated gaps: one case per block; the crop is the block plus ``halo`` cells (at least the
  model's receptive radius, so the network sees what it would see on the whole grid), the
  centre day has every simulated gap of that day hidden, and the reference is the original
  observation of the block's removed cells.
* Synthetic truth: one case per day on the whole grid; the scored cells are the real gaps on
  fillable land and the reference is the complete field the archive was drawn from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from sgdsm_cloud import cube
from sgdsm_cloud.errors import StoreContractError
from sgdsm_cloud.storage import Location, redact
from sgdsm_cloud.validate.evaluate import Case
from sgdsm_cloud.validate.masks import DayGaps, GapConfig, pattern_gaps, square_gaps
from sgdsm_cloud.validate.product import Crop, read_days


def observed_fillable(sm: xr.DataArray, day: int, fillable: np.ndarray) -> np.ndarray:
    return np.isfinite(sm.isel(time=day).values) & fillable


MAX_PATTERN_SOURCES = 32


def evenly(values: np.ndarray, count: int) -> np.ndarray:
    """At most ``count`` evenly spaced elements of ``values`` (all of them when there are fewer)."""
    if values.size <= count:
        return values
    return values[np.unique(np.linspace(0, values.size - 1, count).round().astype(int))]


def draw_gaps(
    sm: xr.DataArray, fillable: np.ndarray, days: list[int], config: GapConfig, period: np.ndarray
) -> list[DayGaps]:
    """The simulated gaps of each day.

    In ``pattern`` mode, up to ``MAX_PATTERN_SOURCES`` days spread over ``period`` lend their
    gap patterns.
    """
    sources = {}
    if config.mode == "pattern":
        sources = {
            int(d): np.isfinite(sm.isel(time=int(d)).values)
            for d in evenly(period, MAX_PATTERN_SOURCES)
        }
    out = []
    for day in days:
        observed = observed_fillable(sm, day, fillable)
        if config.mode == "squares":
            out.append(square_gaps(day, observed, config))
        else:
            out.append(pattern_gaps(day, observed, sources, config))
    return out


def simulated_cases(
    sm: xr.DataArray,
    land: np.ndarray,
    dates: pd.DatetimeIndex,
    gaps: list[DayGaps],
    halo: int,
    half_window: int,
    periodic: bool,
    fill_land: np.ndarray | None = None,
    other: xr.DataArray | None = None,
) -> list[Case]:
    """One case per simulated block (see the module docstring); ``fill_land``: the cells the
    product fills (default: all of ``land``); ``other``: the other overpass's ``sm``, for
    two-pass models (read whole: its observations are not hidden)."""
    shape = land.shape
    cases = []
    for day_gaps in gaps:
        window = np.arange(day_gaps.day - half_window, day_gaps.day + half_window + 1)
        for square in day_gaps.squares:
            rows, cols = square.slices
            crop = Crop.around(
                (rows.start, rows.stop), (cols.start, cols.stop), halo, shape, periodic
            )
            values = read_days(sm, window, crop)
            original = values[half_window].copy()
            values[half_window][crop.take(day_gaps.removed)] = np.nan
            removed = np.zeros(original.shape, dtype=bool)
            removed[crop.core] = crop.take(day_gaps.removed)[crop.core]
            label = f"{dates[day_gaps.day]:%Y-%m-%d} row {square.row} col {square.col}"
            cases.append(
                Case(
                    label,
                    day_gaps.day,
                    crop,
                    values,
                    crop.take(land),
                    half_window,
                    removed,
                    original,
                    None if fill_land is None else crop.take(fill_land),
                    None if other is None else read_days(other, window, crop),
                )
            )
    return cases


def truth_cases(
    sm: xr.DataArray,
    truth: xr.DataArray,
    land: np.ndarray,
    fillable: np.ndarray,
    dates: pd.DatetimeIndex,
    days: list[int],
    half_window: int,
    halo: int = 0,
    periodic: bool = False,
    other: xr.DataArray | None = None,
) -> list[Case]:
    """One whole-grid case per day, scored on the real gaps of fillable land against the truth
    (``other``: the other overpass's ``sm``, for two-pass models).

    The crop is the whole grid plus ``halo`` columns wrapped across the dateline when
    ``periodic`` (the methods then see what ``sgdsm fill`` sees there); only the grid itself is
    scored.
    """
    shape = land.shape
    crop = Crop.around((0, shape[0]), (0, shape[1]), halo, shape, periodic)
    core = np.zeros((crop.rows.size, crop.cols.size), dtype=bool)
    core[crop.core] = True
    cases = []
    for day in days:
        window = np.arange(day - half_window, day + half_window + 1)
        values = read_days(sm, window, crop)
        removed = core & crop.take(fillable) & ~np.isfinite(values[half_window])
        reference = crop.take(truth.sel(time=dates[day]).values.astype("float32"))
        cases.append(
            Case(
                f"{dates[day]:%Y-%m-%d}",
                day,
                crop,
                values,
                crop.take(land),
                half_window,
                removed,
                reference,
                crop.take(fillable),
                None if other is None else read_days(other, window, crop),
            )
        )
    return cases


def truth_field(location: Location, lat: np.ndarray, lon: np.ndarray) -> xr.DataArray:
    """The truth on the raw cube's cells, aligned by cell centre (either may be the larger)."""
    ds = cube.open_store(location.url, location.storage_options, "sgdsm synth")
    # truth.zarr from 'sgdsm synth' holds the field as 'sm'; an in-memory synthesis calls it 'truth'.
    name = "truth" if "truth" in ds.variables else "sm"
    if name not in ds.variables or ds[name].dims != ("time", "lat", "lon"):
        raise StoreContractError(
            f"{redact(location.url)}: expected a 'sm(time, lat, lon)' truth variable "
            "(truth.zarr from 'sgdsm synth')"
        )
    half_cell = abs(float(lat[1] - lat[0])) / 2 if lat.size > 1 else 1e-6
    return ds[name].reindex(lat=lat, lon=lon, method="nearest", tolerance=half_cell)
