"""The canonical regular lat/lon grid: north-up latitudes, longitudes -180..180 ascending.

Pure functions only. Cell centres sit at half-cell offsets, as in the LPRM (0.25 deg)
and JAXA (0.1 deg) products, so a global grid at resolution ``res`` has
``round(180/res)`` rows and ``round(360/res)`` columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sgdsm_cloud.errors import ConfigError

SUPPORTED_RESOLUTIONS = (0.25, 0.1)


@dataclass(frozen=True)
class BBox:
    """A lon/lat box in degrees: west, south, east, north (west < east, no dateline crossing)."""

    west: float
    south: float
    east: float
    north: float

    def __post_init__(self) -> None:
        if not (-180 <= self.west < self.east <= 180):
            raise ConfigError(
                f"bbox west/east must satisfy -180 <= west < east <= 180, got {self.west}, {self.east}"
            )
        if not (-90 <= self.south < self.north <= 90):
            raise ConfigError(
                f"bbox south/north must satisfy -90 <= south < north <= 90, got {self.south}, {self.north}"
            )

    @classmethod
    def parse(cls, text: str) -> BBox:
        """Parse ``"W,S,E,N"`` as the CLI's ``--bbox`` takes it."""
        try:
            west, south, east, north = (float(v) for v in text.split(","))
        except ValueError:
            raise ConfigError(
                f"--bbox must be four numbers W,S,E,N (e.g. -10,35,30,60), got {text!r}"
            ) from None
        return cls(west, south, east, north)

    def as_list(self) -> list[float]:
        return [self.west, self.south, self.east, self.north]


GLOBAL = BBox(-180.0, -90.0, 180.0, 90.0)


def check_resolution(res: float) -> float:
    """Return ``res`` if it divides the globe into whole cells, else raise ConfigError."""
    if res <= 0 or abs(180 / res - round(180 / res)) > 1e-6:
        raise ConfigError(
            f"resolution must divide 180 degrees evenly (e.g. 0.25 or 0.1), got {res}"
        )
    return float(res)


def global_lat(res: float) -> np.ndarray:
    """Cell-centre latitudes of the global grid, north-up (e.g. 89.875 .. -89.875 at 0.25)."""
    n = round(180 / check_resolution(res))
    return (90.0 - res / 2 - res * np.arange(n)).astype("float64")


def global_lon(res: float) -> np.ndarray:
    """Cell-centre longitudes of the global grid, ascending (e.g. -179.875 .. 179.875 at 0.25)."""
    n = round(360 / check_resolution(res))
    return (-180.0 + res / 2 + res * np.arange(n)).astype("float64")


def bbox_slices(res: float, bbox: BBox) -> tuple[slice, slice]:
    """Row and column slices of the global grid whose cell centres fall inside ``bbox``."""
    lat, lon = global_lat(res), global_lon(res)
    rows = np.flatnonzero((lat >= bbox.south) & (lat <= bbox.north))
    cols = np.flatnonzero((lon >= bbox.west) & (lon <= bbox.east))
    if rows.size == 0 or cols.size == 0:
        raise ConfigError(f"bbox {bbox.as_list()} contains no {res} degree cell centre")
    return slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)


def infer_resolution(coord: np.ndarray) -> float:
    """Resolution of a regular coordinate vector (the absolute step), rounded to 1e-6."""
    coord = np.asarray(coord, dtype="float64")
    if coord.size < 2:
        raise ConfigError("cannot infer a grid resolution from fewer than two coordinates")
    steps = np.abs(np.diff(coord))
    step = abs(coord[-1] - coord[0]) / (
        coord.size - 1
    )  # the mean step: float32 files blur single steps
    if not np.allclose(steps, step, rtol=0, atol=1e-4):
        raise ConfigError("coordinates are not on a regular grid")
    return round(float(step), 6)


def is_global_lon(lon: np.ndarray) -> bool:
    """True when ``lon`` covers all 360 degrees with no duplicated seam (periodic axis)."""
    res = infer_resolution(lon)
    return abs(lon.size * res - 360.0) < res / 2


def lon_0_360_to_180(values: np.ndarray) -> np.ndarray:
    """Roll the last axis of a global grid whose column 0 is at 0..res (JAXA) to start at -180."""
    return np.roll(values, values.shape[-1] // 2, axis=-1)
