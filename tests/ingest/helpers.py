"""Helpers for ingest tests: small regional LPRM archives, configs, and store snapshots to compare runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr
from data.badfiles import Corpus

from sgdsm_cloud.cube import CubeChunks
from sgdsm_cloud.ingest import IngestConfig
from sgdsm_cloud.storage import Location

VOLATILE_ATTRS = ("history", "date_created", "date_modified", "sources_listed_at")


def write_days(directory: Path, offsets, **kw) -> Corpus:
    """Good regional LPRM files for days ``FIRST_DAY + offset``; the corpus records expected values."""
    directory.mkdir(parents=True, exist_ok=True)
    corpus = Corpus(directory)
    for offset in offsets:
        corpus.write_good(offset, **kw)
    return corpus


def config(sources, store, **kw) -> IngestConfig:
    """An IngestConfig for paths or Locations: variable x, small chunks."""
    kw.setdefault("variable", "x")
    kw.setdefault("chunks", CubeChunks(4, 10, 20))
    locations = tuple(s if isinstance(s, Location) else Location(str(s)) for s in sources)
    store = store if isinstance(store, Location) else Location(str(store))
    return IngestConfig(locations, store, **kw)


def snapshot(url: str, storage_options: dict | None = None) -> dict:
    """Everything a run decides: data, provenance, coordinates, attributes except timestamps."""
    ds = xr.open_zarr(url, storage_options=storage_options or None, consolidated=False)
    out = {name: ds[name].values for name in ds.variables}
    out["attrs"] = {k: v for k, v in ds.attrs.items() if k not in VOLATILE_ATTRS}
    return out


def assert_same_store(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        if key == "attrs":
            assert a[key] == b[key]
        else:
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def open_store(url: str, storage_options: dict | None = None) -> xr.Dataset:
    """The store as a reader sees it (consolidated metadata)."""
    return xr.open_zarr(url, storage_options=storage_options or None)
