"""The files' CF/ACDD attributes: the schema's, and the cube's own through a whitelist (no
storage option reaches a file)."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from sgdsm_cloud import __version__
from sgdsm_cloud.errors import StorageError
from sgdsm_cloud.product import FLAG, SM, SM_UNCERTAINTY
from sgdsm_cloud.publish.export.config import (
    FILL_VALUE,
    PERCENT_TOLERANCE,
    UNCERTAINTY_SCALE,
    Names,
)
from sgdsm_cloud.schema import (
    ATTRIBUTION_KEYS,
    FLAG_ATTRS,
    LAT_ATTRS,
    LON_ATTRS,
    SM_ERROR_STANDARD_NAME,
    SM_STANDARD_NAME,
    TIME_ATTRS,
    discovery_attrs,
    geospatial_attrs,
)
from sgdsm_cloud.storage import Location, public_url, redact

DATASET_DOI = "10.5281/zenodo.4417458"

BAND_FREQUENCY = {"c1": "6.9 GHz", "c2": "7.3 GHz", "x": "10.7 GHz"}

LPRM_BAND = re.compile(r"^soil_moisture_(c1|c2|x)$")

# The files' names of the coordinates and their bounds (the SGD-SM dataset's layout)
LATITUDE, LONGITUDE, TIME = "Latitude", "Longitude", "time"
BOUNDS_DIM = "bnds"
BOUNDS = {name: f"{name}_bnds" for name in (LATITUDE, LONGITUDE)}

CARRIED_ATTRS = (  # copied from the cube when present; nothing else is
    "title", "summary", "id", "keywords", "keywords_vocabulary", *ATTRIBUTION_KEYS, "program",
    "creator_type", "creator_institution", "contributor_name", "contributor_role",
    "acknowledgement", "references", "method_doi", "source", "source_product",
    "source_variable", "source_pass", "platform", "instrument", "product_version",
    "model_sha256", "model_config", "date_created",
)  # fmt: skip


def day_attrs(attrs: dict[str, Any], day: pd.Timestamp) -> dict[str, Any]:
    """The global attributes of ``day``'s file."""
    return {
        **attrs,
        "date": day.strftime("%Y-%m-%d"),
        # the first and last time values, as ACDD checkers compare them; the file is one day
        "time_coverage_start": day.strftime("%Y-%m-%dT00:00:00Z"),
        "time_coverage_end": day.strftime("%Y-%m-%dT00:00:00Z"),
        "time_coverage_duration": "P1D",
        "time_coverage_resolution": "P1D",
    }


def global_attrs(
    ds: xr.Dataset,
    source: xr.Dataset | Location,
    lat: np.ndarray,
    lon: np.ndarray,
    half: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """CF / ACDD attributes shared by every file (the per-day ones: :func:`day_attrs`)."""
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    where = public_url(source.url) if isinstance(source, Location) else "a seamless dataset"
    line = f"{now} sgdsm export {__version__}: daily NetCDF of {where}"
    previous = str(ds.attrs.get("history", "")).strip()
    attrs: dict[str, Any] = discovery_attrs(processing_level="L4")
    attrs.update({k: attr_value(ds.attrs[k]) for k in CARRIED_ATTRS if k in ds.attrs})
    attrs.update(
        {
            "title": str(ds.attrs.get("title", "Seamless daily AMSR2 surface soil moisture")),
            "comment": (
                "Daily file in the layout of the SGD-SM dataset (doi:"
                f"{DATASET_DOI}): original and reconstructed soil moisture in integer percent "
                f"(floored), fill value {FILL_VALUE}; 'flag' says which values are observed, "
                "filled or not filled."
            ),
            "history": f"{previous}\n{line}" if previous else line,
            "date_created": str(ds.attrs.get("date_created", now)),
            "date_issued": now,
            "sgdsm_cloud_version": __version__,
            **geospatial_attrs(lat, lon, half),
        }
    )
    if isinstance(source, Location):
        attrs["source_store"] = public_url(source.url)
    return attrs


def variable_attrs(ds: xr.Dataset, names: Names) -> dict[str, dict[str, Any]]:
    """CF attributes of every variable of the files."""
    high = float(ds[SM].attrs.get("valid_max", 1.0))
    band = names.band.upper()
    freq = BAND_FREQUENCY.get(names.band)
    what = f"SM_{band} from {freq}" if freq else "surface soil moisture"
    coordinates = f"{TIME} {LATITUDE} {LONGITUDE}"
    percent = {
        "units": "percent",
        "standard_name": SM_STANDARD_NAME,
        "_FillValue": np.int16(FILL_VALUE),
        "scale_factor": np.float32(1.0),
        "add_offset": np.float32(0.0),
        "valid_min": np.int16(0),
        "valid_max": np.int16(np.floor(high * 100 + PERCENT_TOLERANCE)),
        "coordinates": coordinates,
        "ancillary_variables": FLAG,
    }
    attrs: dict[str, dict[str, Any]] = {
        LATITUDE: {**LAT_ATTRS, "bounds": BOUNDS[LATITUDE]},
        LONGITUDE: {**LON_ATTRS, "bounds": BOUNDS[LONGITUDE]},
        TIME: {
            **TIME_ATTRS,
            "units": "days since 1970-01-01 00:00:00",
            "calendar": "standard",
        },
        BOUNDS[LATITUDE]: {},  # CF 7.1: bounds inherit their coordinate's attributes
        BOUNDS[LONGITUDE]: {},
        names.original: {
            **percent,
            "long_name": f"Original {what} (observed values; {FILL_VALUE} elsewhere)",
            "coverage_content_type": "physicalMeasurement",
        },
        names.reconstructed: {
            **percent,
            "long_name": f"Reconstructed {what} (observed values kept, gaps filled by SGD-SM)",
            "coverage_content_type": "modelResult",
        },
        FLAG: {
            **{k: v for k, v in FLAG_ATTRS.items() if k != "flag_values"},
            "flag_values": np.asarray(FLAG_ATTRS["flag_values"], dtype="uint8"),
            "coordinates": coordinates,
        },
    }
    if names.uncertainty_name:
        cube_attrs = ds[SM_UNCERTAINTY].attrs
        attrs[names.uncertainty_name] = {
            "units": "percent",
            "standard_name": SM_ERROR_STANDARD_NAME,
            "long_name": str(
                cube_attrs.get("long_name", f"standard error of reconstructed {what}")
            ),
            "_FillValue": np.int16(FILL_VALUE),
            "scale_factor": np.float32(UNCERTAINTY_SCALE),
            "add_offset": np.float32(0.0),
            "valid_min": np.int16(0),
            "coordinates": coordinates,
            "coverage_content_type": "qualityInformation",
        }
        if "comment" in cube_attrs:
            attrs[names.uncertainty_name]["comment"] = str(cube_attrs["comment"])
    return attrs


def attr_value(value: Any) -> Any:
    """An attribute value NetCDF can hold: text, a number or a numeric array."""
    if isinstance(value, (str, int, float, np.number)) and not isinstance(value, bool):
        return value
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf":
        return value
    return json.dumps(value, default=str) if not isinstance(value, str) else value


def band_of(attrs: dict[str, Any]) -> str:
    match = LPRM_BAND.match(str(attrs.get("source_variable", "soil_moisture_c1")))
    return match.group(1) if match else ""


def refuse_secrets(
    attributes: dict[str, Any], source: xr.Dataset | Location, out: Location
) -> None:
    text = json.dumps(attributes, default=str)
    options = {"out": out.storage_options}
    if isinstance(source, Location):
        options["source"] = source.storage_options
    if redact(text, options) != text:
        raise StorageError(
            f"refusing to export to {out.url}: the files' attributes would contain a "
            "credential from the storage options or the environment (check the cube's attributes)"
        )
