"""The seamless cube's template: variables, CF/ACDD metadata, codecs and the chunk/shard layout.

The driver writes the template once (``to_zarr(compute=False)``): all metadata, the coordinates
and the static ``land`` mask. Tasks then only region-write ``sm``, ``flag`` and
``sm_uncertainty``, whole shards at a time, and the driver consolidates the metadata once at the end (cloud.md section 2).
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
    FLAG,
    FLAG_ATTRS,
    FLAG_NOT_LAND,
    LAND,
    SEAMLESS_KIND,
    SM,
    SM_ERROR,
    SM_UNCERTAINTY,
    sm_attrs,
    uncertainty_attrs,
)
from sgdsm_cloud.storage import Location, public_url, redact

DIMS = ("time", "lat", "lon")

METHOD_DOI = "10.5194/essd-13-1385-2021"
REFERENCES = (
    "Zhang, Q., Yuan, Q., Li, J., Wang, Y., Sun, F., and Zhang, L.: Generating seamless global "
    "daily AMSR2 soil moisture (SGD-SM) long-term products for the years 2013-2019, Earth Syst. "
    f"Sci. Data, 13, 1385-1401, https://doi.org/{METHOD_DOI}, 2021"
)

# ACDD attributes describing the instrument and the people, carried over from the raw cube.
_CARRIED_ATTRS = (
    "creator_name", "creator_email", "creator_url", "creator_type", "institution", "publisher_name",
    "publisher_email", "publisher_url", "license", "keywords", "platform", "instrument",
    "source_product", "source_variable", "source_pass", "project",
)  # fmt: skip


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
        return (
            "the 'anomaly' variant of SGD-SM (per-cell priors of the window and the day's "
            "smoothed anomaly, corrected by a 2-D CNN)"
        )
    return "the SGD-SM 3-D partial-convolution network"


def output_attrs(
    raw_attrs: dict[str, Any],
    *,
    source_url: str,
    model: ModelInfo,
    time_coverage: tuple[str, str],
    geospatial: dict[str, float],
    created: datetime | None = None,
) -> dict[str, Any]:
    """Root CF-1.10 / ACDD-1.3 attributes of the seamless cube, including provenance."""
    created = created or datetime.now(UTC)
    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    source = public_url(source_url)
    history_line = f"{stamp} sgdsm fill {__version__}: filled gaps of {source}"
    history_line += f" with model sha256:{model.sha256}"
    previous = str(raw_attrs.get("history", "")).strip()
    attrs = {
        KIND_ATTR: SEAMLESS_KIND,
        "Conventions": "CF-1.10, ACDD-1.3",
        "title": "Seamless daily AMSR2 surface soil moisture (SGD-SM gap-filled)",
        "summary": (
            "Daily surface soil moisture with the gaps of the AMSR2 record filled by "
            f"{_method_phrase(model.config)} (days T-4..T+4). Observed values are kept "
            "unchanged; the variable 'flag' says which values are observed, filled, or not filled, "
            "and 'sm_uncertainty' gives each value's standard error where it is known."
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
        "time_coverage_resolution": "P1D",
        **geospatial,
        "model_sha256": model.sha256,
        "model_config": json.dumps(model.config, sort_keys=True),
        "model_provenance": redact(json.dumps(model.provenance, sort_keys=True, default=str)),
    }
    if model.uncertainty is not None:
        attrs["model_uncertainty"] = redact(json.dumps(model.uncertainty, sort_keys=True))
    attrs.update({k: raw_attrs[k] for k in _CARRIED_ATTRS if k in raw_attrs})
    return attrs


def geospatial_attrs(lat: np.ndarray, lon: np.ndarray) -> dict[str, Any]:
    """ACDD bounds of the grid's cell edges."""
    from sgdsm_cloud.grid import infer_resolution

    half_lat = infer_resolution(lat) / 2 if lat.size > 1 else 0.0
    half_lon = infer_resolution(lon) / 2 if lon.size > 1 else 0.0
    return {
        "geospatial_lat_min": float(lat.min() - half_lat),
        "geospatial_lat_max": float(lat.max() + half_lat),
        "geospatial_lon_min": float(lon.min() - half_lon),
        "geospatial_lon_max": float(lon.max() + half_lon),
        "geospatial_lat_units": "degrees_north",
        "geospatial_lon_units": "degrees_east",
    }


def make_template(
    raw: xr.Dataset, layout: Layout, attrs: dict[str, Any], *, filled_uncertainty: bool = False
) -> xr.Dataset:
    """The lazy output dataset for ``raw`` (already cut to the output days): nothing computed.

    ``sm``, ``flag`` and ``sm_uncertainty`` are lazy placeholders chunked by shard, never
    computed; ``land`` and the coordinates are real values, written with the metadata.
    ``filled_uncertainty``: the model gives filled values a standard error (its ``comment``
    says so, and whether observed values get the raw cube's ``sm_error``).
    """
    import dask.array as da

    sm_meta = sm_attrs(raw.attrs)
    shape = (raw.sizes["time"], raw.sizes["lat"], raw.sizes["lon"])
    coords = {name: (name, raw[name].values, dict(raw[name].attrs)) for name in DIMS}
    unc_meta = uncertainty_attrs(filled_uncertainty, SM_ERROR in raw.variables)
    return xr.Dataset(
        {
            SM: (DIMS, da.full(shape, np.nan, dtype="float32", chunks=layout.shards), sm_meta),
            FLAG: (DIMS, da.zeros(shape, dtype="uint8", chunks=layout.shards), FLAG_ATTRS),
            SM_UNCERTAINTY: (
                DIMS,
                da.full(shape, np.nan, dtype="float32", chunks=layout.shards),
                unc_meta,
            ),
            LAND: (("lat", "lon"), raw[cube.LAND].values.astype("uint8"), dict(cube.LAND_ATTRS)),
        },
        coords=coords,
        attrs=attrs,
    )


def template_for(raw: xr.Dataset, plan: FillPlan, source_url: str, model: ModelInfo) -> xr.Dataset:
    """The template of filling ``raw`` (the whole raw cube) as ``plan`` says."""
    days = raw.isel(time=plan.time_slice)
    time = pd.DatetimeIndex(days["time"].values)
    attrs = output_attrs(
        raw.attrs,
        source_url=source_url,
        model=model,
        time_coverage=(time[0].strftime("%Y-%m-%d"), time[-1].strftime("%Y-%m-%d")),
        geospatial=geospatial_attrs(days["lat"].values, days["lon"].values),
    )
    return make_template(days, plan.layout, attrs, filled_uncertainty=model.uncertainty is not None)


def encoding_for(template: xr.Dataset, layout: Layout) -> dict[str, dict[str, Any]]:
    """Zarr v3 encodings: Blosc zstd, sharded (time, lat, lon) variables, single-chunk statics.

    ``sm_uncertainty`` is encoded as ``sm`` (same chunks and shards). ``sm`` sets both the zarr ``fill_value`` (what absent chunks read as) and the CF
    ``_FillValue`` (what readers mask) to NaN. ``flag`` has no missing values, every value has a
    meaning, so it carries no ``_FillValue`` (which would also make xarray decode it to float);
    its zarr ``fill_value`` is 0, the flag of ocean, so all-ocean chunks are never stored.
    """
    from zarr.codecs import BloscCodec

    sharding = {"shards": layout.shards} if layout.shards != layout.chunks else {}
    floats = {
        "chunks": layout.chunks,
        **sharding,
        "fill_value": np.float32("nan"),
        "_FillValue": np.float32("nan"),
        "compressors": (BloscCodec(cname="zstd", clevel=3, shuffle="shuffle"),),
    }
    return {
        SM: floats,
        SM_UNCERTAINTY: dict(floats),
        FLAG: {
            "chunks": layout.chunks,
            **sharding,
            "fill_value": np.uint8(FLAG_NOT_LAND),
            "compressors": (BloscCodec(cname="zstd", clevel=3, shuffle="bitshuffle"),),
        },
        LAND: {"chunks": (template.sizes["lat"], template.sizes["lon"])},
        "time": {
            "units": "days since 1970-01-01",
            "calendar": "proleptic_gregorian",
            "dtype": "int32",
            "chunks": (template.sizes["time"],),
        },
        "lat": {"chunks": (template.sizes["lat"],)},
        "lon": {"chunks": (template.sizes["lon"],)},
    }


def write_template(template: xr.Dataset, layout: Layout, out: Location) -> None:
    """Create the output store: metadata, coordinates and ``land``; no data of the
    (time, lat, lon) variables."""
    template.to_zarr(
        out.url,
        mode="w",
        compute=False,
        consolidated=False,
        zarr_format=3,
        encoding=encoding_for(template, layout),
        storage_options=out.storage_options or None,
    )


def consolidate(out: Location) -> None:
    """Consolidate the metadata once, after every tile is written."""
    import warnings

    import zarr

    group = zarr.open_group(out.url, mode="r+", storage_options=out.storage_options or None)
    with warnings.catch_warnings():  # zarr notes that consolidated metadata is not in the v3 spec
        warnings.simplefilter("ignore", UserWarning)
        zarr.consolidate_metadata(group.store)
