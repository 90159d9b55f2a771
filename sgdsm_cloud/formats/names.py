"""Parse dates, pass direction and product from archive file names (regexes, no offsets)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sgdsm_cloud.errors import BadInputFile

# LPRM-AMSR2_L3_D_SOILM3_V001_20150401013507.nc4 ; the 0.1 deg "downscaled" variant has DS_.
LPRM_NAME = re.compile(
    r"^LPRM-AMSR2_L3_(?P<ds>DS_)?(?P<pass>[AD])_SOILM3_V(?P<version>\d{3})_(?P<stamp>\d{14})\.nc4?$"
)
# GW1AM2_20130722_01D_EQMD_L3SGSMCHA1100100.h5 ; H = 0.1 deg grid, L = 0.25 deg grid.
JAXA_NAME = re.compile(
    r"^GW1AM2_(?P<date>\d{8})_01D_EQM(?P<pass>[AD])_L3SGSMC(?P<grid>[HL])(?P<version>[A-Z0-9]+)\.h5$"
)
AMSR2_FIRST_DAY = dt.date(2012, 7, 3)  # first AMSR2 L3 products after launch (18 May 2012)


@dataclass(frozen=True)
class ArchiveName:
    """What a raw file's name says about it.

    Attributes:
        name: the base name.
        product: ``"lprm"`` or ``"jaxa"``.
        date: the UTC day the file holds.
        pass_: ``"A"`` (ascending, 13:30 LT) or ``"D"`` (descending, 01:30 LT).
        resolution: grid spacing in degrees.
        version: the product version string from the name.
    """

    name: str
    product: str
    date: dt.date
    pass_: str
    resolution: float
    version: str


def parse_name(path: str, *, today: dt.date | None = None) -> ArchiveName:
    """Parse a file name (a path or URL is fine); raise BadInputFile when it is not an archive name."""
    name = path.rstrip("/").rsplit("/", 1)[-1]
    if m := LPRM_NAME.match(name):
        stamp = m["stamp"]
        date = _date(name, stamp[:8])
        product, res = "lprm", (0.1 if m["ds"] else 0.25)
    elif m := JAXA_NAME.match(name):
        date = _date(name, m["date"])
        product, res = "jaxa", (0.1 if m["grid"] == "H" else 0.25)
    else:
        raise BadInputFile(
            name,
            "unrecognised file name; expected LPRM-AMSR2_L3_{A|D}_SOILM3_V001_YYYYMMDDhhmmss.nc4 "
            "or GW1AM2_YYYYMMDD_01D_EQM{A|D}_L3SGSMC{H|L}<version>.h5",
        )
    today = today or dt.datetime.now(dt.UTC).date()
    if date > today:
        raise BadInputFile(name, f"date {date} in the file name is in the future")
    if date < AMSR2_FIRST_DAY:
        raise BadInputFile(name, f"date {date} in the file name predates AMSR2 ({AMSR2_FIRST_DAY})")
    return ArchiveName(name, product, date, m["pass"], res, m["version"])


def _date(name: str, digits: str) -> dt.date:
    try:
        return dt.datetime.strptime(digits, "%Y%m%d").date()
    except ValueError:
        raise BadInputFile(name, f"'{digits}' in the file name is not a valid date") from None
