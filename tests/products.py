"""Looking into a seamless product from tests: unpublished tile records, decoded digests."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import xarray as xr

from sgdsm_cloud.product import is_versioned, open_seamless
from sgdsm_cloud.storage import Location


def done_tiles(out: Location) -> set[str]:
    """Tiles the product's unpublished runs have finished (their records)."""
    fs = out.filesystem()
    fs.invalidate_cache()
    return {
        path.rsplit("/", 1)[-1].removesuffix(".json")
        for path in fs.glob(f"{out.path}/runs/*/done/*.json")
    }


def open_any(url: str, storage_options: dict | None = None) -> xr.Dataset:
    """A seamless product's newest version, or any plain zarr store."""
    if is_versioned(url, storage_options):
        return open_seamless(url, storage_options)
    return xr.open_zarr(url, storage_options=storage_options or None, consolidated=False)


def variable_digests(ds: xr.Dataset) -> dict[str, str]:
    """SHA-256 of every decoded variable (text variables through JSON)."""
    digest = {}
    for name in sorted(ds.variables):
        values = ds[name].values
        if values.dtype.kind in "OUT":  # strings (StringDType, object, unicode)
            data = json.dumps([str(v) for v in values.ravel().tolist()]).encode()
        else:
            data = np.ascontiguousarray(values).tobytes()
        digest[name] = hashlib.sha256(data).hexdigest()
    return digest
