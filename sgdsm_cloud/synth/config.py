"""What to synthesise: period, region, grid, file format, pass direction and seed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.formats.names import AMSR2_FIRST_DAY
from sgdsm_cloud.grid import (
    GLOBAL,
    SUPPORTED_RESOLUTIONS,
    BBox,
    bbox_slices,
    global_lat,
    global_lon,
)
from sgdsm_cloud.options import Day, option

FORMATS = ("lprm", "jaxa")
PASSES = ("A", "D")
MAX_SEED = 2**32 - 1


@dataclass(frozen=True)
class Crop:
    """A block of the global grid at ``res``: global row and column slices."""

    res: float
    rows: slice
    cols: slice

    @property
    def lat(self) -> np.ndarray:
        return global_lat(self.res)[self.rows]

    @property
    def lon(self) -> np.ndarray:
        return global_lon(self.res)[self.cols]

    @property
    def shape(self) -> tuple[int, int]:
        return self.rows.stop - self.rows.start, self.cols.stop - self.cols.start

    def of(self, global_field: np.ndarray) -> np.ndarray:
        """This block of a global (lat, lon) array."""
        return global_field[self.rows, self.cols]


@dataclass(frozen=True)
class SynthConfig:
    """A synthetic archive.

    Attributes:
        start, end: first and last UTC day (inclusive); dates, ISO strings or timestamps.
        bbox: region; cells whose centres fall inside it are synthesised.
        res: grid spacing, 0.25 (LPRM, JAXA "L") or 0.1 (LPRM "DS", JAXA "H") degrees.
        fmt: ``"lprm"`` (NetCDF4, regional grid) or ``"jaxa"`` (HDF5, always the global grid).
        pass_: ``"A"`` (ascending, 13:30) or ``"D"`` (descending, 01:30).
        seed: the random seed; the same seed gives the same field at a cell and day whatever
            region or period is asked for.
    """

    start: Any = option(help="first day, YYYY-MM-DD", kind=Day)
    end: Any = option(help="last day, YYYY-MM-DD (inclusive)", kind=Day)
    bbox: BBox = option(GLOBAL, "region W,S,E,N in degrees (default: the globe)", metavar="W,S,E,N")
    res: float = option(0.25, "grid spacing in degrees", choices=SUPPORTED_RESOLUTIONS)
    fmt: str = option("lprm", "file format", flags=("--format",), choices=FORMATS)
    pass_: str = option("D", "ascending or descending", choices=PASSES)
    seed: int = option(0, "random seed")
    crop: Crop = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        start, end = _to_date("start", self.start), _to_date("end", self.end)
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        if end < start:
            raise ConfigError(f"synth end {end} is before start {start}; swap them")
        today = dt.datetime.now(dt.UTC).date()
        if start < AMSR2_FIRST_DAY or end > today:
            raise ConfigError(
                f"synth period {start}..{end} must lie within the AMSR2 record {AMSR2_FIRST_DAY}..{today}, "
                "because readers reject archive names dated outside it"
            )
        if not isinstance(self.bbox, BBox):
            raise ConfigError(
                f"synth bbox must be a grid.BBox (e.g. BBox.parse('-10,35,30,60')), got {self.bbox!r}"
            )
        if not any(abs(self.res - r) < 1e-9 for r in SUPPORTED_RESOLUTIONS):
            raise ConfigError(
                f"synth res must be one of {SUPPORTED_RESOLUTIONS} degrees, got {self.res}"
            )
        object.__setattr__(
            self, "res", next(r for r in SUPPORTED_RESOLUTIONS if abs(self.res - r) < 1e-9)
        )
        if self.fmt not in FORMATS:
            raise ConfigError(f"synth fmt must be one of {FORMATS}, got {self.fmt!r}")
        if self.pass_ not in PASSES:
            raise ConfigError(
                f"synth pass_ must be 'A' (ascending) or 'D' (descending), got {self.pass_!r}"
            )
        if (
            isinstance(self.seed, bool)
            or not isinstance(self.seed, (int, np.integer))
            or not 0 <= self.seed <= MAX_SEED
        ):
            raise ConfigError(f"synth seed must be an integer in 0..{MAX_SEED}, got {self.seed!r}")
        rows, cols = bbox_slices(self.res, self.bbox)
        object.__setattr__(self, "crop", Crop(self.res, rows, cols))

    @property
    def days(self) -> list[dt.date]:
        """Every UTC day of the archive."""
        return [d.date() for d in pd.date_range(self.start, self.end, freq="D")]


def _to_date(name: str, value: Any) -> dt.date:
    """A date from a date, a datetime/timestamp or an ISO string (YYYY-MM-DD)."""
    try:
        if isinstance(value, str):
            return dt.date.fromisoformat(value.strip()[:10])
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        stamp = pd.Timestamp(value)
        if not pd.isna(stamp):
            return stamp.date()
    except (ValueError, TypeError):
        pass
    raise ConfigError(f"synth {name} must be a date like 2015-04-01, got {value!r}")
