"""The seamless cube's template: variables, CF/ACDD metadata, codecs and the chunk layout.

The driver turns the template into a version's metadata once (:func:`metadata_refs`: every
``zarr.json``, the metadata consolidated, the coordinates, ``land`` and the per-day variables
inline). Tasks only encode chunks of ``sm``, ``flag`` and ``sm_uncertainty`` into packs
(``versioned``); the template's lazy placeholders are never computed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from sgdsm_cloud import __version__, cube
from sgdsm_cloud.fill.layout import Layout
from sgdsm_cloud.fill.plan import FillPlan
from sgdsm_cloud.outputs import KIND_ATTR
from sgdsm_cloud.product import (
    DAY_FINAL,
    DAY_PROVISIONAL,
    DAY_VARIABLES,
    FLAG,
    FLAG_NOT_LAND,
    LAND,
    LAST_FINAL_DAY,
    LAST_PROVISIONAL_DAY,
    PROVISIONAL,
    SEAMLESS_KIND,
    SM,
    SM_UNCERTAINTY,
    SOURCE_FILE,
    SOURCE_SHA256,
    provisional_days,
    uncertainty_attrs,
)
from sgdsm_cloud.schema import (
    CALENDAR,
    DIMS,
    FLAG_ATTRS,
    LAT_BOUNDS,
    LON_BOUNDS,
    METHOD_DOI,
    OTHER_SOURCE_FILE,
    OTHER_SOURCE_FILE_ATTRS,
    OTHER_SOURCE_SHA256,
    OTHER_SOURCE_SHA256_ATTRS,
    PROVISIONAL_ATTRS,
    REFERENCES,
    SM_ERROR,
    SOURCE_FILE_ATTRS,
    SOURCE_SHA256_ATTRS,
    TIME_UNITS,
    Attribution,
    bounds_variables,
    coordinate_attrs,
    discovery_attrs,
    geospatial_attrs,
    product_id,
    product_sm_attrs,
)
from sgdsm_cloud.storage import public_url, redact
from sgdsm_cloud.versioned.chunks import template_items
from sgdsm_cloud.versioned.refs import Refs, inline

DAY_CHUNK = 4096  # days per chunk of the time coordinate and the per-day variables (11 years)

# What the product carries over from the raw cube's attributes: which source it was made from.
_CARRIED_ATTRS = ("source_product", "source_variable", "source_pass")


@dataclass(frozen=True)
class ModelInfo:
    """What the output records about the network that filled it."""

    sha256: str
    config: dict[str, Any]
    provenance: dict[str, Any]
    uncertainty: dict[str, Any] | None = None  # the error model, when the checkpoint has one

    @classmethod
    def from_checkpoint(cls, checkpoint: Any) -> ModelInfo:
        """From a ``model.checkpoint.Checkpoint``."""
        error_model = getattr(checkpoint, "uncertainty", None)
        return cls(
            checkpoint.sha256,
            checkpoint.config.to_dict(),
            dict(checkpoint.provenance),
            error_model.to_dict() if error_model is not None else None,
        )


def _method_phrase(config: dict[str, Any]) -> str:
    """How the summary names the network that filled the gaps."""
    if config.get("variant") == "anomaly":
        both = (
            ", reading the other overpass of the same days too" if config.get("passes") == 2 else ""
        )
        return (
            "the 'anomaly' variant of SGD-SM (per-cell priors of the window and the day's "
            f"smoothed anomaly, corrected by a 2-D CNN{both})"
        )
    return "the SGD-SM 3-D partial-convolution network"


def output_attrs(
    raw_attrs: dict[str, Any],
    *,
    source_url: str,
    model: ModelInfo,
    time_coverage: tuple[str, str],
    geospatial: dict[str, Any],
    attribution: Attribution | None = None,
    created: datetime | None = None,
) -> dict[str, Any]:
    """Root CF / ACDD attributes of the seamless cube (``schema.discovery_attrs``, the
    publisher's ``attribution``), including provenance."""
    created = created or datetime.now(UTC)
    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    source = public_url(source_url)
    history_line = f"{stamp} sgdsm fill {__version__}: filled gaps of {source}"
    history_line += f" with model sha256:{model.sha256}"
    previous = str(raw_attrs.get("history", "")).strip()
    attrs = {
        KIND_ATTR: SEAMLESS_KIND,
        **discovery_attrs(processing_level="L4"),
        "id": product_id(raw_attrs),
        "title": "Seamless daily AMSR2 surface soil moisture (SGD-SM gap-filled)",
        "summary": (
            "Daily surface soil moisture with the gaps of the AMSR2 record filled by "
            f"{_method_phrase(model.config)} (days T-4..T+4). Observed values are kept "
            "unchanged; the variable 'flag' says which values are observed, filled, or not filled, "
            "and 'sm_uncertainty' gives each value's standard error where it is known."
        ),
        "comment": (
            "Values in m3 m-3. A day is provisional (variable 'provisional') while days of its "
            "window are still to come; an update fills it again when they arrive, and the "
            "product's versions keep every earlier state."
        ),
        "source": f"{raw_attrs.get('source', 'AMSR2 soil moisture')}; raw cube {source}",
        "source_store": source,
        "references": REFERENCES,
        "method_doi": METHOD_DOI,
        "history": f"{previous}\n{history_line}" if previous else history_line,
        "date_created": stamp,
        "product_version": __version__,
        "sgdsm_cloud_version": __version__,
        "time_coverage_start": time_coverage[0],
        "time_coverage_end": time_coverage[1],
        "time_coverage_duration": _duration(*time_coverage),
        "time_coverage_resolution": "P1D",
        **geospatial,
        **(attribution or Attribution()).attrs(),
        "model_sha256": model.sha256,
        "model_config": json.dumps(model.config, sort_keys=True),
        "model_provenance": redact(json.dumps(model.provenance, sort_keys=True, default=str)),
    }
    if model.uncertainty is not None:
        attrs["model_uncertainty"] = redact(json.dumps(model.uncertainty, sort_keys=True))
    attrs.update({k: raw_attrs[k] for k in _CARRIED_ATTRS if k in raw_attrs})
    return attrs


def _duration(first: str, last: str) -> str:
    """ISO 8601 duration of the days ``first..last`` (both included), e.g. ``P365D``."""
    try:
        days = (pd.Timestamp(last) - pd.Timestamp(first)).days + 1
    except ValueError:
        return ""
    return f"P{days}D"


def make_template(
    raw: xr.Dataset,
    layout: Layout,
    attrs: dict[str, Any],
    *,
    filled_uncertainty: bool = False,
    provisional: np.ndarray | None = None,
    other: xr.Dataset | None = None,
) -> xr.Dataset:
    """The lazy output dataset for ``raw`` (already cut to the output days): nothing computed.

    ``sm``, ``flag`` and ``sm_uncertainty`` are lazy placeholders chunked as the output, never
    computed; ``land``, the coordinates and the per-day variables are real values, written
    with the metadata: ``provisional`` (the days whose window is not complete yet, default
    none) and the raw cube's ``source_file``/``source_sha256`` when it has them.
    ``filled_uncertainty``: the model gives filled values a standard error (its ``comment``
    says so, and whether observed values get the raw cube's ``sm_error``). ``other``: the
    other overpass's raw cube over the same days, whose granules a two-pass product records too.
    """
    import dask.array as da

    sm_meta = product_sm_attrs(raw.attrs)
    shape = (raw.sizes["time"], raw.sizes["lat"], raw.sizes["lon"])
    coords = {
        **{name: (name, raw[name].values, coordinate_attrs(name)) for name in DIMS},
        **bounds_variables(raw["lat"].values, raw["lon"].values),
    }
    unc_meta = uncertainty_attrs(filled_uncertainty, SM_ERROR in raw.variables)
    if provisional is None:
        provisional = np.zeros(shape[0], dtype="uint8")
    per_day = {
        PROVISIONAL: (("time",), np.asarray(provisional, dtype="uint8"), PROVISIONAL_ATTRS),
        **{
            name: (("time",), _text(raw, name, shape[0]), attrs)
            for name, attrs in (
                (SOURCE_FILE, SOURCE_FILE_ATTRS),
                (SOURCE_SHA256, SOURCE_SHA256_ATTRS),
            )
        },
    }
    if other is not None:
        for name, source, meta in (
            (OTHER_SOURCE_FILE, SOURCE_FILE, OTHER_SOURCE_FILE_ATTRS),
            (OTHER_SOURCE_SHA256, SOURCE_SHA256, OTHER_SOURCE_SHA256_ATTRS),
        ):
            per_day[name] = (("time",), _text(other, source, shape[0]), meta)
    return xr.Dataset(
        {
            SM: (DIMS, da.full(shape, np.nan, dtype="float32", chunks=layout.chunks), sm_meta),
            FLAG: (DIMS, da.zeros(shape, dtype="uint8", chunks=layout.chunks), FLAG_ATTRS),
            SM_UNCERTAINTY: (
                DIMS,
                da.full(shape, np.nan, dtype="float32", chunks=layout.chunks),
                unc_meta,
            ),
            LAND: (("lat", "lon"), raw[cube.LAND].values.astype("uint8"), dict(cube.LAND_ATTRS)),
            **per_day,
        },
        coords=coords,
        attrs=attrs,
    )


def _text(raw: xr.Dataset, name: str, days: int) -> np.ndarray:
    """A per-day text variable of the raw cube (empty text when it has none)."""
    values = raw[name].values if name in raw.variables else [""] * days
    return np.asarray(values, dtype=np.dtypes.StringDType())


def template_for(
    raw: xr.Dataset,
    plan: FillPlan,
    source_url: str,
    model: ModelInfo,
    attribution: Attribution | None = None,
    other: xr.Dataset | None = None,
) -> xr.Dataset:
    """The template of filling ``raw`` (the whole raw cube) as ``plan`` says: the days of the
    plan, those whose window reaches past the record's end marked provisional (``other``: the
    other overpass's raw cube, for a two-pass model)."""
    days = raw.isel(time=plan.time_slice)
    time = pd.DatetimeIndex(days["time"].values)
    index = np.arange(plan.time_slice.start, plan.time_slice.stop)
    provisional = provisional_days(index, plan.domain.record_days, plan.halo.days)
    attrs = output_attrs(
        raw.attrs,
        source_url=source_url,
        model=model,
        time_coverage=(time[0].strftime("%Y-%m-%d"), time[-1].strftime("%Y-%m-%d")),
        geospatial=geospatial_attrs(days["lat"].values, days["lon"].values),
        attribution=attribution,
    )
    attrs.update(day_status_attrs(time, provisional))
    return make_template(
        days,
        plan.layout,
        attrs,
        filled_uncertainty=model.uncertainty is not None,
        provisional=provisional,
        other=None if other is None else other.isel(time=plan.time_slice),
    )


def day_status_attrs(time: pd.DatetimeIndex, provisional: np.ndarray) -> dict[str, str]:
    """``last_final_day`` and ``last_provisional_day`` (empty text when there is none), as
    ARCO-ERA5 publishes ``valid_time_stop`` beside ``valid_time_stop_era5t``."""
    final = time[np.asarray(provisional) == DAY_FINAL]
    late = time[np.asarray(provisional) == DAY_PROVISIONAL]
    return {
        LAST_FINAL_DAY: final[-1].strftime("%Y-%m-%d") if final.size else "",
        LAST_PROVISIONAL_DAY: late[-1].strftime("%Y-%m-%d") if late.size else "",
    }


def encoding_for(template: xr.Dataset, layout: Layout) -> dict[str, dict[str, Any]]:
    """Zarr v3 encodings: Blosc zstd, (time, lat, lon) variables in the layout's chunks,
    single-chunk statics and per-day variables.

    The time coordinate and the per-day variables have chunks of :data:`DAY_CHUNK` days, so
    that a growing time axis keeps the same chunk grid. ``sm_uncertainty`` is encoded as ``sm``. ``sm`` sets both the zarr ``fill_value`` (what
    absent chunks read as) and the CF ``_FillValue`` (what readers mask) to NaN. ``flag`` has
    no missing values, every value has a meaning, so it carries no ``_FillValue`` (which would
    also make xarray decode it to float); its zarr ``fill_value`` is 0, the flag of ocean, so
    all-ocean chunks are never stored.
    """
    from zarr.codecs import BloscCodec

    floats = {
        "chunks": layout.chunks,
        "fill_value": np.float32("nan"),
        "_FillValue": np.float32("nan"),
        "compressors": (BloscCodec(cname="zstd", clevel=3, shuffle="shuffle"),),
    }
    days = (DAY_CHUNK,)  # fixed: the time axis grows, its chunk grid must not change
    return {
        SM: floats,
        SM_UNCERTAINTY: dict(floats),
        FLAG: {
            "chunks": layout.chunks,
            "fill_value": np.uint8(FLAG_NOT_LAND),
            "compressors": (BloscCodec(cname="zstd", clevel=3, shuffle="bitshuffle"),),
        },
        LAND: {"chunks": (template.sizes["lat"], template.sizes["lon"])},
        "time": {
            "units": TIME_UNITS,
            "calendar": CALENDAR,
            "dtype": "int32",
            "chunks": days,
        },
        # coordinates and their bounds have no missing values, so no _FillValue (CF 5)
        "lat": {"chunks": (template.sizes["lat"],), "_FillValue": None},
        "lon": {"chunks": (template.sizes["lon"],), "_FillValue": None},
        **{
            name: {"chunks": template[name].shape, "_FillValue": None}
            for name in (LAT_BOUNDS, LON_BOUNDS)
            if name in template.variables
        },
        **{name: {"chunks": days} for name in DAY_VARIABLES if name in template.variables},
    }


def metadata_refs(template: xr.Dataset, layout: Layout) -> Refs:
    """A version's references of everything but the chunks of ``sm``, ``flag`` and
    ``sm_uncertainty``: the metadata (consolidated at the root), the coordinates, ``land``
    and the per-day variables, all inline."""
    items = template_items(template, encoding_for(template, layout))
    return {key: inline(key, data) for key, data in items.items()}


def array_metadata(refs: Refs) -> dict[str, str]:
    """The ``zarr.json`` of each (time, lat, lon) variable, which tasks encode chunks with."""
    return {name: refs[f"{name}/zarr.json"] for name in (SM, FLAG, SM_UNCERTAINTY)}
