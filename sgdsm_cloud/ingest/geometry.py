"""Where the store's grid sits inside a file's grid, and inside the global grid (pure functions).

A store has one fixed regular grid: the global grid, a ``--bbox`` snapped to it, or the grid
of a regional file. Every later file must contain that grid cell for cell at the same
resolution; its window is then a pair of slices, so cropping is a view, never a regrid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.grid import BBox, bbox_slices, global_lat, global_lon

_TOLERANCE = 1e-3  # of a cell: file coordinates are float32


@dataclass(frozen=True, eq=False)
class StoreGrid:
    """The store's cell centres: ``lat`` north-up, ``lon`` ascending, at ``resolution`` degrees."""

    lat: np.ndarray
    lon: np.ndarray
    resolution: float

    def __post_init__(self) -> None:
        if self.lat.ndim != 1 or self.lon.ndim != 1 or self.lat.size < 1 or self.lon.size < 1:
            raise ConfigError("a store grid needs one-dimensional, non-empty lat and lon")

    @classmethod
    def from_bbox(cls, resolution: float, bbox: BBox) -> StoreGrid:
        rows, cols = bbox_slices(resolution, bbox)
        return cls(global_lat(resolution)[rows], global_lon(resolution)[cols], resolution)

    @property
    def shape(self) -> tuple[int, int]:
        return self.lat.size, self.lon.size

    def describe(self) -> str:
        half = self.resolution / 2
        return (
            f"{self.resolution} deg, lat {self.lat[-1] - half:g}..{self.lat[0] + half:g}, "
            f"lon {self.lon[0] - half:g}..{self.lon[-1] + half:g} ({self.lat.size} x {self.lon.size} cells)"
        )

    def same_as(self, other: StoreGrid) -> bool:
        return (
            abs(self.resolution - other.resolution) < 1e-9
            and self.shape == other.shape
            and np.allclose(self.lat, other.lat, atol=_TOLERANCE * self.resolution)
            and np.allclose(self.lon, other.lon, atol=_TOLERANCE * self.resolution)
        )


def locate(inner: np.ndarray, outer: np.ndarray, resolution: float) -> slice | None:
    """The slice of ``outer`` equal to ``inner`` (both regular, same direction), or None."""
    if inner.size > outer.size:
        return None
    start = int(np.argmin(np.abs(outer - inner[0])))
    stop = start + inner.size
    if stop > outer.size:
        return None
    if not np.allclose(outer[start:stop], inner, rtol=0, atol=_TOLERANCE * resolution):
        return None
    return slice(start, stop)


def window(
    grid: StoreGrid, lat: np.ndarray, lon: np.ndarray, resolution: float
) -> tuple[slice, slice] | None:
    """Rows and columns of a file's (north-up, lon-ascending) grid that hold ``grid``, or None."""
    if abs(resolution - grid.resolution) > 1e-9:
        return None
    rows = locate(grid.lat, lat, resolution)
    cols = locate(grid.lon, lon, resolution)
    return None if rows is None or cols is None else (rows, cols)


def global_window(grid: StoreGrid) -> tuple[slice, slice]:
    """Where ``grid`` sits in the global grid (for the land mask); ConfigError if it is not aligned."""
    found = window(grid, global_lat(grid.resolution), global_lon(grid.resolution), grid.resolution)
    if found is None:
        raise ConfigError(
            f"the grid {grid.describe()} is not aligned with the global {grid.resolution} deg grid "
            "(cell centres at half-cell offsets); only aligned regional files can start a store"
        )
    return found
