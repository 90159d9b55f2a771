"""The synthetic archive's ``truth.zarr``: the complete field, written in time slabs of whole chunks.

The template (coordinates, land mask, attributes) is written first; each span of days then
writes its slabs into their own chunks, and the metadata is consolidated once all have landed.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import xarray as xr

from sgdsm_cloud import cube, schema
from sgdsm_cloud.outputs import KIND_ATTR
from sgdsm_cloud.synth.config import SynthConfig

TRUTH_STORE = "truth.zarr"
TRUTH_KIND = "synthetic_truth"  # truth.zarr's sgdsm_kind attribute
SLAB_BYTES = 256 * 2**20  # upper bound of one truth time slab in memory
MAX_DAYS_PER_CHUNK = 32


def days_per_chunk(config: SynthConfig) -> int:
    """Days per truth chunk (and slab): a power of two <= 32 whose slab fits SLAB_BYTES."""
    nlat, nlon = config.crop.shape
    days = MAX_DAYS_PER_CHUNK
    while days > 1 and days * nlat * nlon * 4 > SLAB_BYTES:
        days //= 2
    return min(days, len(config.days))


def truth_attrs() -> dict[str, Any]:
    """The complete field's attributes: the raw cube's, with a long_name that says what it is."""
    return {
        **schema.RAW_SM_ATTRS,
        "long_name": "synthetic true surface soil moisture, complete over land",
    }


def _store(url: str, storage_options: dict[str, Any] | None) -> Any:
    import zarr.storage

    return (
        zarr.storage.FsspecStore.from_url(url, storage_options=storage_options)
        if "://" in url
        else zarr.storage.LocalStore(url)
    )


def write_template(
    coordinates: xr.Dataset, url: str, days_per_chunk: int, storage_options: dict[str, Any] | None
) -> None:
    """The store's metadata, coordinates and land mask; ``sm`` all NaN until its slabs land."""
    import dask.array as da

    ds = coordinates.drop_vars(cube.LAND_FRACTION)
    ndays, nlat, nlon = ds.sizes["time"], ds.sizes["lat"], ds.sizes["lon"]
    chunks = (days_per_chunk, min(cube.CubeChunks.lat, nlat), min(cube.CubeChunks.lon, nlon))
    ds[cube.SM] = (
        ("time", "lat", "lon"),
        da.full((ndays, nlat, nlon), np.nan, dtype="float32", chunks=chunks),
        truth_attrs(),
    )
    ds.attrs["title"] = f"Synthetic soil-moisture truth for {ds.attrs['title']}"
    ds.attrs[KIND_ATTR] = TRUTH_KIND
    del ds.attrs["quarantine"]
    encoding = {
        cube.SM: {"chunks": chunks, "fill_value": np.float32("nan")},
        "time": {
            "units": "days since 1970-01-01",
            "calendar": "proleptic_gregorian",
            "dtype": "int32",
        },
    }
    ds.to_zarr(
        _store(url, storage_options),
        mode="w",
        compute=False,
        encoding=encoding,
        zarr_format=3,
        consolidated=False,
    )


def write_slab(
    url: str, values: np.ndarray, start: int, storage_options: dict[str, Any] | None
) -> None:
    """Days ``start..start+len(values)`` of the truth: whole chunks, so no two writers meet."""
    slab = xr.Dataset({cube.SM: (("time", "lat", "lon"), values)})
    slab.to_zarr(
        _store(url, storage_options),
        region={"time": slice(start, start + len(values))},
        consolidated=False,
    )


def consolidate(url: str, storage_options: dict[str, Any] | None) -> None:
    """Consolidate the metadata once every slab has landed."""
    import zarr

    with warnings.catch_warnings():  # consolidated metadata is a zarr v3 extension; xarray reads it
        warnings.filterwarnings("ignore", message="Consolidated metadata is currently not part")
        zarr.consolidate_metadata(_store(url, storage_options))
