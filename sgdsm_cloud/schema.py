"""The product schema: every variable's name, type, fill value and CF attributes, the flags,
the range filled values are clamped to, and the global CF/ACDD attributes.

The raw cube (``cube``), the seamless product (``product``, ``fill.template``, the update
path), the daily NetCDF files (``publish.export``), STAC and validation all take them from
here, so a standard name, a flag meaning or the Conventions string is written once. The
attributes only a publisher knows (creator, publisher, licence, institution) come from
:class:`Attribution`, whose defaults say they are unset rather than leave them out.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from sgdsm_cloud.landmask import EXCLUDED_REGIONS
from sgdsm_cloud.options import option

# -- conventions --------------------------------------------------------------------------------
CONVENTIONS = "CF-1.10, ACDD-1.3"  # CF 1.9+ allows the unsigned flags
# The table the names below are in; the IOOS compliance checker bundles this version, so it
# checks offline.
STANDARD_NAME_VOCABULARY = "CF Standard Name Table v93"
KEYWORDS = (
    "EARTH SCIENCE > LAND SURFACE > SOILS > SOIL MOISTURE/WATER CONTENT > SURFACE SOIL MOISTURE, "
    "soil moisture, AMSR2, GCOM-W1, passive microwave, gap filling, SGD-SM"
)
KEYWORDS_VOCABULARY = "GCMD:GCMD Keywords"
METHOD_DOI = "10.5194/essd-13-1385-2021"
REFERENCES = (
    "Zhang, Q., Yuan, Q., Li, J., Wang, Y., Sun, F., and Zhang, L.: Generating seamless global "
    "daily AMSR2 soil moisture (SGD-SM) long-term products for the years 2013-2019, Earth Syst. "
    f"Sci. Data, 13, 1385-1401, https://doi.org/{METHOD_DOI}, 2021"
)

# -- names --------------------------------------------------------------------------------------
DIMS = ("time", "lat", "lon")
BOUNDS_DIM = "bnds"
LAT_BOUNDS, LON_BOUNDS = "lat_bnds", "lon_bnds"
SM, LAND, LAND_FRACTION = "sm", "land", "land_fraction"
SM_ERROR, FROZEN = "sm_error", "frozen"  # the source's quality layers (raw cube)
DAY_STATUS, SOURCE_FILE, SOURCE_SHA256, SOURCE_SIZE = (
    "day_status", "source_file", "source_sha256", "source_size"
)  # fmt: skip
FLAG, SM_UNCERTAINTY, PROVISIONAL = "flag", "sm_uncertainty", "provisional"  # product
# a two-pass product's granules of the other overpass, beside the filled pass's
OTHER_SOURCE_FILE, OTHER_SOURCE_SHA256 = "other_pass_source_file", "other_pass_source_sha256"

# -- soil moisture and its range ----------------------------------------------------------------
SM_STANDARD_NAME = "volume_fraction_of_condensed_water_in_soil"
SM_ERROR_STANDARD_NAME = f"{SM_STANDARD_NAME} standard_error"
SM_UNITS = "m3 m-3"
SM_DTYPE = "float32"

# The range each source product's retrievals take (m3 m-3): LPRM saturates at 99 percent, JAXA
# SMC spans 0..100 percent. Filled values are clamped to it and valid_min/valid_max say so.
PHYSICAL_RANGES = {"lprm": (0.0, 0.99), "jaxa": (0.0, 1.0)}
DEFAULT_RANGE = (0.0, 1.0)


def physical_range(attrs: dict[str, Any]) -> tuple[float, float]:
    """``(min, max)`` of a cube's source product (0..1 when the product is unknown)."""
    return PHYSICAL_RANGES.get(str(attrs.get("source_product", "")).lower(), DEFAULT_RANGE)


def clamp(values: np.ndarray, valid_range: tuple[float, float]) -> np.ndarray:
    """Model output limited to the source product's range: the one clamp of filled values."""
    return np.clip(values, *valid_range)


RAW_SM_ATTRS = {
    "standard_name": SM_STANDARD_NAME,
    "long_name": "surface soil moisture",
    "units": SM_UNITS,
    "valid_min": 0.0,
    "valid_max": 1.0,
}
SM_ERROR_ATTRS = {
    "standard_name": SM_ERROR_STANDARD_NAME,
    "long_name": "error estimate of the retrieved surface soil moisture, from the source product",
    "units": SM_UNITS,
}

# -- coordinates --------------------------------------------------------------------------------
LAT_ATTRS = {
    "standard_name": "latitude",
    "long_name": "latitude of the cell centre",
    "units": "degrees_north",
    "axis": "Y",
}
LON_ATTRS = {
    "standard_name": "longitude",
    "long_name": "longitude of the cell centre",
    "units": "degrees_east",
    "axis": "X",
}
TIME_ATTRS = {"standard_name": "time", "long_name": "day (UTC)", "axis": "T"}
TIME_UNITS, CALENDAR = "days since 1970-01-01", "proleptic_gregorian"


def cell_bounds(centres: np.ndarray, half_cell: float) -> np.ndarray:
    """``(n, 2)`` edges of the cells around ``centres``, each pair in the coordinate's own
    direction, so that adjacent cells share ``bounds[i, 1] == bounds[i + 1, 0]`` (CF 7.1)."""
    centres = np.asarray(centres, dtype="float64")
    step = np.sign(centres[1] - centres[0]) if centres.size > 1 else 1.0
    return np.stack([centres - step * half_cell, centres + step * half_cell], axis=1)


# -- flags --------------------------------------------------------------------------------------
STATUS_MISSING, STATUS_INGESTED, STATUS_QUARANTINED = 0, 1, 2
DAY_STATUS_ATTRS = {
    "long_name": "ingest status of the day",
    "standard_name": "status_flag",
    "flag_values": [STATUS_MISSING, STATUS_INGESTED, STATUS_QUARANTINED],
    "flag_meanings": "missing ingested quarantined",
}
LAND_ATTRS = {
    "long_name": "land mask (land fraction >= 0.5)",
    "flag_values": [0, 1],
    "flag_meanings": "not_land land",
}
LAND_FRACTION_ATTRS = {"long_name": "land fraction from the GLOBE 30 arc-second mask", "units": "1"}

# Soil is taken as frozen below the freezing point of water: LPRM's own retrievals stop there
# (the lowest skin temperature next to a retrieval in the real file of 2015-04-01 is 273.1 K,
# over 96,207 cells), and ISMN's quality flags D01-D03 use the same 0 C (docs/quality.md).
FREEZING_K = 273.15
FROZEN_NO, FROZEN_YES, FROZEN_UNKNOWN = 0, 1, 255
FROZEN_ATTRS = {
    "long_name": f"surface frozen (source skin temperature below {FREEZING_K} K)",
    "flag_values": [FROZEN_NO, FROZEN_YES, FROZEN_UNKNOWN],
    "flag_meanings": "not_frozen frozen no_temperature",
}
# A gap with no skin temperature on its own day takes the nearest day's within this many days
# on either side: the fill's own window (T-4..T+4 in the paper).
FROZEN_WINDOW_DAYS = 4

FLAG_NOT_LAND, FLAG_OBSERVED, FLAG_FILLED, FLAG_NOT_FILLED, FLAG_FROZEN = 0, 1, 2, 3, 4
FLAG_VALUES = np.array(
    [FLAG_NOT_LAND, FLAG_OBSERVED, FLAG_FILLED, FLAG_NOT_FILLED, FLAG_FROZEN], dtype="uint8"
)
FLAG_MEANINGS = "not_land_or_excluded observed filled not_filled frozen"
# Cubes written before the frozen flag existed: the same values 0-3, no 4; still readable.
EARLIER_FLAG_MEANINGS = ("not_land_or_excluded observed filled not_filled",)
FLAG_ATTRS = {
    "standard_name": "status_flag",
    "long_name": "origin of the soil moisture value",
    "flag_values": FLAG_VALUES,
    "flag_meanings": FLAG_MEANINGS,
    "coverage_content_type": "qualityInformation",
    "comment": (
        f"0: not land, or in a region SGD-SM does not fill ({EXCLUDED_REGIONS}); sm is NaN. "
        "1: observed, kept unchanged. 2: filled by the network. 3: a land gap with no observation "
        "within the network's reach; sm is NaN. 4: a land gap on a day the source's skin "
        f"temperature says the surface is frozen (below {FREEZING_K} K on that day, else "
        f"on the nearest day within +-{FROZEN_WINDOW_DAYS} days that has one; the raw cube's "
        "'frozen'): soil moisture is not liquid water there, so sm is NaN rather than a fill. "
        "Only sources with a surface temperature (LPRM ts) give 4; JAXA SMC has none."
    ),
}

# -- the seamless product's variables -----------------------------------------------------------
PRODUCT_SM_ATTRS = {
    **RAW_SM_ATTRS,
    "long_name": "surface soil moisture, gaps filled by SGD-SM",
    "ancillary_variables": f"{FLAG} {SM_UNCERTAINTY}",
    "coverage_content_type": "modelResult",
}
UNCERTAINTY_ATTRS = {
    "standard_name": SM_ERROR_STANDARD_NAME,
    "long_name": "standard error of the surface soil moisture",
    "units": SM_UNITS,
    "coverage_content_type": "qualityInformation",
}
DAY_FINAL, DAY_PROVISIONAL = 0, 1
PROVISIONAL_ATTRS = {
    "long_name": "whether the day's values may still change",
    "flag_values": np.array([DAY_FINAL, DAY_PROVISIONAL], dtype="uint8"),
    "flag_meanings": "final provisional",
    "comment": (
        "A day is filled from the days T-4..T+4 of the record. While any of T+1..T+4 is still "
        "to come the day is provisional: a later update fills it again when they arrive. Once "
        "T+4 has arrived it is final and its values no longer change, unless a source granule "
        "of its window is replaced, which the product's history records."
    ),
}
SOURCE_FILE_ATTRS = {"long_name": "source granule of the day (file name)"}
SOURCE_SHA256_ATTRS = {"long_name": "SHA-256 of the day's source granule"}
OTHER_SOURCE_FILE_ATTRS = {"long_name": "source granule of the day's other overpass (file name)"}
OTHER_SOURCE_SHA256_ATTRS = {"long_name": "SHA-256 of the day's other-overpass granule"}


def product_sm_attrs(raw_attrs: dict[str, Any]) -> dict[str, Any]:
    """``sm``'s attributes: valid_min/valid_max are the range filled values are clamped to."""
    low, high = physical_range(raw_attrs)
    return {**PRODUCT_SM_ATTRS, "valid_min": low, "valid_max": high}


# -- global attributes --------------------------------------------------------------------------
UNSET = "unset"


def _unset(flag: str) -> str:
    return f"{UNSET} (the publisher sets it with --{flag})"


@dataclass(frozen=True)
class Attribution:
    """The ACDD attributes only the publisher knows; each default says it is unset.

    ``sgdsm fill`` writes them into the product's root attributes, updates keep them, and the
    exported files and the STAC catalogue carry them on.
    """

    creator_name: str = option(_unset("creator-name"), "who made the product (ACDD creator)")
    creator_email: str = option(_unset("creator-email"), "the creator's contact e-mail")
    creator_url: str = option(_unset("creator-url"), "the creator's web page")
    institution: str = option(_unset("institution"), "the institution that made the product")
    publisher_name: str = option(_unset("publisher-name"), "who distributes the product")
    publisher_email: str = option(_unset("publisher-email"), "the publisher's contact e-mail")
    publisher_url: str = option(_unset("publisher-url"), "the publisher's web page")
    license: str = option(_unset("license"), "terms of use: an SPDX id such as CC-BY-4.0, or a URL")
    naming_authority: str = option(
        _unset("naming-authority"), "reverse-DNS name of the publisher (ACDD naming_authority)"
    )
    project: str = option("SGD-SM", "the project the product belongs to")

    def attrs(self) -> dict[str, str]:
        return {f.name: str(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_attrs(cls, attrs: dict[str, Any]) -> Attribution:
        """The attribution a product's attributes carry (an update keeps its product's)."""
        return cls(
            **{f.name: str(attrs[f.name]) for f in dataclasses.fields(cls) if f.name in attrs}
        )


ATTRIBUTION_KEYS = tuple(f.name for f in dataclasses.fields(Attribution))


def is_unset(value: Any) -> bool:
    """Whether an attribute is missing or still says :data:`UNSET`."""
    return not str(value or "").strip() or str(value).startswith(UNSET)


def product_id(raw_attrs: dict[str, Any]) -> str:
    """ACDD ``id`` of a seamless product: its source, variable and pass."""
    parts = ("source_product", "source_variable", "source_pass")
    source = "-".join(str(raw_attrs.get(p, "")).lower() for p in parts if raw_attrs.get(p))
    return f"sgdsm-amsr2-{source}" if source else "sgdsm-amsr2"


def discovery_attrs(processing_level: str) -> dict[str, str]:
    """The CF/ACDD attributes every store and file of the project declares alike."""
    return {
        "Conventions": CONVENTIONS,
        "standard_name_vocabulary": STANDARD_NAME_VOCABULARY,
        "keywords": KEYWORDS,
        "keywords_vocabulary": KEYWORDS_VOCABULARY,
        "processing_level": processing_level,
        "cdm_data_type": "Grid",
        "platform": "GCOM-W1",
        "instrument": "AMSR2",
    }


def half_cells(lat: np.ndarray, lon: np.ndarray) -> tuple[float, float]:
    """Half the grid step along latitude and longitude (0 for a single cell)."""
    from sgdsm_cloud.grid import infer_resolution

    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    return (
        infer_resolution(lat) / 2 if lat.size > 1 else 0.0,
        infer_resolution(lon) / 2 if lon.size > 1 else 0.0,
    )


def geospatial_attrs(
    lat: np.ndarray, lon: np.ndarray, half: tuple[float, float] | None = None
) -> dict[str, Any]:
    """ACDD extent of the grid: the extreme cell centres, as the coordinates hold them (what
    the IOOS compliance checker compares), and their polygon in WKT; the cells' edges are the
    bounds variables' (:func:`bounds_variables`). ``half``: the whole grid's half cells, for a
    cut of one cell."""
    half_lat, half_lon = half or half_cells(lat, lon)
    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    south, north, west, east = (float(v) for v in (lat.min(), lat.max(), lon.min(), lon.max()))
    corners = ((south, west), (south, east), (north, east), (north, west), (south, west))
    ring = ", ".join(f"{y:g} {x:g}" for y, x in corners)
    return {
        "geospatial_lat_min": south,
        "geospatial_lat_max": north,
        "geospatial_lon_min": west,
        "geospatial_lon_max": east,
        "geospatial_lat_units": "degrees_north",
        "geospatial_lon_units": "degrees_east",
        "geospatial_lat_resolution": f"{2 * half_lat:g} degree",
        "geospatial_lon_resolution": f"{2 * half_lon:g} degree",
        "geospatial_bounds": f"POLYGON (({ring}))",  # latitude first, as EPSG:4326 orders axes
        "geospatial_bounds_crs": "EPSG:4326",
    }


def bounds_variables(lat: np.ndarray, lon: np.ndarray) -> dict[str, tuple[Any, ...]]:
    """``lat_bnds`` and ``lon_bnds``, the cells' edges, as xarray variable tuples (the
    coordinates' ``bounds`` attributes name them: :func:`coordinate_attrs`). They carry no
    attributes: CF 7.1 has them inherit their coordinate's."""
    half_lat, half_lon = half_cells(lat, lon)
    return {
        LAT_BOUNDS: (("lat", BOUNDS_DIM), cell_bounds(lat, half_lat), {}),
        LON_BOUNDS: (("lon", BOUNDS_DIM), cell_bounds(lon, half_lon), {}),
    }


def coordinate_attrs(name: str) -> dict[str, str]:
    """CF attributes of the coordinate ``name`` (``lat``, ``lon`` or ``time``); ``lat`` and
    ``lon`` name their bounds."""
    return {
        "lat": {**LAT_ATTRS, "bounds": LAT_BOUNDS},
        "lon": {**LON_ATTRS, "bounds": LON_BOUNDS},
        "time": dict(TIME_ATTRS),
    }[name]
