"""The filled product where validation looks at it: read from a seamless store or computed.

Validation needs filled values on small pieces of the grid (around simulated gaps, stations and
time-series points). Reading a whole-grid product for that is wasteful, and computing one on a
CPU is slow, so :class:`ModelProduct` runs the network on crops: a crop widened by the model's
receptive radius (and wrapped across the dateline on a global grid) gives its core exactly the
values a whole-grid fill gives, because no cell farther away can reach it. Products and flags
are composed by ``sgdsm_cloud.product.compose``, the same rule ``sgdsm fill`` applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from sgdsm_cloud.errors import StoreContractError
from sgdsm_cloud.model.runner import Predictor
from sgdsm_cloud.product import FLAG, SM, check_seamless, compose
from sgdsm_cloud.schema import DEFAULT_RANGE

__all__ = [
    "Crop",
    "ModelFiller",
    "ModelProduct",
    "StoreProduct",
    "read_days",
]


@dataclass(frozen=True)
class Crop:
    """Row and column indices of a piece of the grid (columns may wrap on a global grid).

    Attributes:
        rows, cols: integer index arrays into the grid.
        core: slices of the crop that hold the cells asked for (the rest is context).
    """

    rows: np.ndarray
    cols: np.ndarray
    core: tuple[slice, slice]

    @classmethod
    def around(
        cls,
        rows: tuple[int, int],
        cols: tuple[int, int],
        halo: int,
        shape: tuple[int, int],
        periodic: bool,
    ) -> Crop:
        """Cells ``rows x cols`` (half-open ranges) plus ``halo`` cells on each side.

        Rows are clipped at the poles; columns wrap when ``periodic``, else they are clipped. A
        wrapped crop may be wider than the grid (a whole global day plus its halo), as the
        fill's tiles are: the columns past the dateline are the other side of the globe.
        """
        r0, r1 = max(rows[0] - halo, 0), min(rows[1] + halo, shape[0])
        if periodic:
            start = cols[0] - halo
            col_idx = np.arange(start, cols[1] + halo) % shape[1]
        else:
            start = max(cols[0] - halo, 0)
            col_idx = np.arange(start, min(cols[1] + halo, shape[1]))
        core = (slice(rows[0] - r0, rows[1] - r0), slice(cols[0] - start, cols[1] - start))
        return cls(np.arange(r0, r1), col_idx, core)

    @classmethod
    def whole(cls, shape: tuple[int, int]) -> Crop:
        return cls.around((0, shape[0]), (0, shape[1]), 0, shape, False)

    def take(self, grid: np.ndarray) -> np.ndarray:
        """The crop of a ``(..., lat, lon)`` array."""
        return grid[..., self.rows[:, None], self.cols[None, :]]


def read_days(sm: xr.DataArray, days: np.ndarray, crop: Crop) -> np.ndarray:
    """``sm`` on the given day indices and crop, NaN for days outside the record."""
    ntime = sm.sizes["time"]
    days = np.asarray(days, dtype=int)
    inside = (days >= 0) & (days < ntime)
    out = np.full((days.size, crop.rows.size, crop.cols.size), np.nan, dtype="float32")
    if inside.any():
        first, last = int(days[inside].min()), int(days[inside].max())
        block = sm.isel(time=slice(first, last + 1), lat=crop.rows, lon=crop.cols).values
        out[inside] = block[days[inside] - first]
    return out


@dataclass(frozen=True)
class ModelFiller:
    """A trained network with the geometry validation needs to cut its input.

    Attributes:
        predict: runs ``predict_days`` (device, batch size, autocast).
        half_window: days on each side of the centre day.
        receptive_radius: cells of context that reach an output cell.
        passes: 2 when the network also reads the other overpass (:meth:`model_input`).
    """

    predict: Predictor
    half_window: int
    receptive_radius: int
    valid_range: tuple[float, float] = DEFAULT_RANGE
    passes: int = 1

    @classmethod
    def from_checkpoint(
        cls,
        checkpoint: Any,
        device: str = "cpu",
        batch_size: int = 8,
        valid_range: tuple[float, float] = DEFAULT_RANGE,
    ) -> ModelFiller:
        config = checkpoint.config
        return cls(
            Predictor.from_checkpoint(checkpoint, device, batch_size),
            config.half_window,
            config.receptive_radius,
            valid_range,
            config.passes,
        )

    def model_input(self, values: np.ndarray, other: np.ndarray | None) -> np.ndarray:
        """A window ``(days, H, W)`` as the network reads it, float32: for a two-pass model
        stacked with the other overpass's window as ``(2, days, H, W)``."""
        days = np.asarray(values, dtype="float32")
        if self.passes == 1:
            return days
        if other is None:
            raise ValueError(
                "a two-pass model needs the other overpass of every window (--other-pass)"
            )
        return np.stack([days, np.asarray(other, dtype="float32")])

    def fill_window(
        self,
        values: np.ndarray,
        land: np.ndarray,
        centre: int,
        fill_land: np.ndarray | None = None,
        other: np.ndarray | None = None,
    ) -> np.ndarray:
        """The centre day of a window as the product gives it (``product.compose``): observed
        cells kept, gaps of ``fill_land`` (default: ``land``) clamped to the valid range, NaN
        where the model does not reach. No frozen rule: a case scores gaps whose reference is
        known liquid soil moisture. ``other``: the other overpass's window (two-pass models)."""
        days = self.model_input(values, other)
        pred, reached = self.predict(days, np.asarray(land, dtype=bool), np.array([centre]))
        fillable = np.asarray(land if fill_land is None else fill_land, dtype=bool)
        sm, _ = compose(values[centre : centre + 1], fillable, pred, reached, self.valid_range)
        return sm[0]


class ModelProduct:
    """The product computed from the raw cube by a :class:`ModelFiller`, where it is asked for.

    Attributes:
        sm: the raw cube's ``sm`` (lazy).
        land: (lat, lon) bool land mask, the network's input mask.
        fill_land: (lat, lon) bool, land outside the excluded regions (what the product fills).
        periodic: longitude wraps around.
        other: the other overpass's ``sm`` (lazy), for two-pass models.
    """

    def __init__(
        self,
        sm: xr.DataArray,
        land: np.ndarray,
        fill_land: np.ndarray,
        filler: ModelFiller,
        periodic: bool,
        other: xr.DataArray | None = None,
    ):
        self.sm, self.land, self.fill_land, self.filler, self.periodic = (
            sm,
            land,
            fill_land,
            filler,
            periodic,
        )
        self.other = other

    def at_cells(
        self, cells: list[tuple[int, int]], days: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(values, flags)``, each ``(days, cells)``, on the given day indices."""
        days = np.asarray(days, dtype=int)
        hw = self.filler.half_window
        span = np.arange(days.min() - hw, days.max() + hw + 1)
        values = np.full((days.size, len(cells)), np.nan, dtype="float32")
        flags = np.zeros((days.size, len(cells)), dtype="uint8")
        for k, (row, col) in enumerate(cells):
            crop = Crop.around(
                (row, row + 1),
                (col, col + 1),
                self.filler.receptive_radius,
                self.land.shape,
                self.periodic,
            )
            sm, flag = self._fill(crop, span, days - span[0])
            values[:, k], flags[:, k] = (
                sm[:, crop.core[0].start, crop.core[1].start],
                flag[:, crop.core[0].start, crop.core[1].start],
            )
        return values, flags

    def day(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        """``(values, flags)`` of the whole grid on one day, as ``sgdsm fill`` computes them:
        on a global grid the network sees across the dateline."""
        hw = self.filler.half_window
        shape = self.land.shape
        crop = Crop.around(
            (0, shape[0]), (0, shape[1]), self.filler.receptive_radius, shape, self.periodic
        )
        sm, flag = self._fill(crop, np.arange(day - hw, day + hw + 1), np.array([hw]))
        return sm[0][crop.core], flag[0][crop.core]

    def _fill(
        self, crop: Crop, span: np.ndarray, centres: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        block = read_days(self.sm, span, crop)
        other = None if self.other is None else read_days(self.other, span, crop)
        days = self.filler.model_input(block, other)
        pred, reached = self.filler.predict(days, crop.take(self.land), centres)
        return compose(
            block[centres], crop.take(self.fill_land), pred, reached, self.filler.valid_range
        )


class StoreProduct:
    """The product read from a seamless cube written by ``sgdsm fill`` (``sm`` and ``flag``)."""

    def __init__(self, filled: xr.Dataset, raw_time: np.ndarray, source: str = "filled store"):
        self.filled = check_seamless(filled, source)
        self.raw_time, self.source = np.asarray(raw_time), source

    def _times(self, days: np.ndarray) -> np.ndarray:
        wanted = self.raw_time[np.asarray(days, dtype=int)]
        have = np.isin(wanted, self.filled["time"].values)
        if not have.all():
            raise StoreContractError(
                f"{self.source} has no day {str(wanted[~have][0])[:10]} ({int((~have).sum())} validated days "
                "missing); fill the validated period or narrow --start/--end"
            )
        return wanted

    def at_cells(
        self, cells: list[tuple[int, int]], days: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        rows = xr.DataArray([r for r, _ in cells], dims="cell")
        cols = xr.DataArray([c for _, c in cells], dims="cell")
        sel = self.filled[[SM, FLAG]].sel(time=self._times(days)).isel(lat=rows, lon=cols).load()
        return sel[SM].values.astype("float32"), sel[FLAG].values.astype("uint8")

    def day(self, day: int) -> tuple[np.ndarray, np.ndarray]:
        sel = self.filled[[SM, FLAG]].sel(time=self._times(np.array([day]))[0]).load()
        return sel[SM].values.astype("float32"), sel[FLAG].values.astype("uint8")
