"""What an export is asked to do, and the names of the files' variables."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.grid import BBox
from sgdsm_cloud.options import Count, Day, option
from sgdsm_cloud.product import FLAG

FORMATS = ("netcdf",)

FILL_VALUE = -32767  # the SGD-SM dataset's (and LPRM's) int16 fill value

PERCENT_TOLERANCE = 1e-3  # percent added before flooring: float32 fractions of whole percents

UNCERTAINTY_SCALE = 0.01  # percent per packed unit, as LPRM's soil_moisture_*_error

PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class ExportConfig:
    """What to export and how.

    Attributes:
        fmt: the file format; ``"netcdf"`` (the SGD-SM dataset's daily NetCDF4 layout).
        bbox: region; cells whose centres fall inside it (default: the whole cube).
        start, end: first and last day (inclusive, default: the cube's), by ``cube.select_days``.
        days_per_task: days one task writes (default: the cube's time chunk, so that every
            task reads whole chunks).
        prefix: file names are ``PREFIX_YYYYMMDD.nc``.
        complevel: zlib level of the data variables (0: uncompressed).
        overwrite: rewrite the period's files, and the directory's record, instead of resuming.
    """

    fmt: str = option("netcdf", "output format", flags=("--format",), choices=FORMATS)
    bbox: BBox | None = option(
        None, "region W,S,E,N in degrees (default: the whole cube)", metavar="W,S,E,N"
    )
    start: Any = option(None, "first day, YYYY-MM-DD (default: the cube's first)", kind=Day)
    end: Any = option(None, "last day, YYYY-MM-DD (default: the cube's last)", kind=Day)
    days_per_task: int | None = option(
        None, "days per task (default: the cube's time chunk)", kind=Count
    )
    prefix: str = option("SGD-SM", "file names are PREFIX_YYYYMMDD.nc")
    complevel: int = option(4, "zlib compression level of the variables, 0..9 (0: none)")
    overwrite: bool = option(False, "rewrite existing files instead of skipping them (resume)")

    def __post_init__(self) -> None:
        if self.fmt not in FORMATS:
            raise ConfigError(f"export format must be one of {FORMATS}, got {self.fmt!r}")
        if isinstance(self.bbox, str):
            object.__setattr__(self, "bbox", BBox.parse(self.bbox))
        if self.bbox is not None and not isinstance(self.bbox, BBox):
            raise ConfigError(f"export bbox must be a grid.BBox or 'W,S,E,N', got {self.bbox!r}")
        if self.days_per_task is not None and (
            isinstance(self.days_per_task, bool) or int(self.days_per_task) < 1
        ):
            raise ConfigError(f"--days-per-task must be 1 or more, got {self.days_per_task}")
        if not PREFIX.fullmatch(str(self.prefix)):
            raise ConfigError(
                f"--prefix {self.prefix!r}: use letters, digits, '.', '_' and '-' (no '/')"
            )
        if not 0 <= int(self.complevel) <= 9:
            raise ConfigError(f"--complevel must be 0..9, got {self.complevel}")


@dataclass(frozen=True)
class Names:
    """The variables of the files, from the cube's source band."""

    band: str  # "c1", "c2", "x" or "" (another product)
    uncertainty: bool  # the cube has sm_uncertainty

    @property
    def suffix(self) -> str:
        return f"_{self.band}" if self.band else ""

    @property
    def original(self) -> str:
        return f"original_sm{self.suffix}"

    @property
    def reconstructed(self) -> str:
        return f"reconstructed_sm{self.suffix}"

    @property
    def uncertainty_name(self) -> str | None:
        return f"{self.reconstructed}_uncertainty" if self.uncertainty else None

    def all(self) -> list[str]:
        names = [self.original, self.reconstructed, FLAG]
        return names + ([self.uncertainty_name] if self.uncertainty_name else [])
