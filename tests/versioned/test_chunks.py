"""zarr's own encoding of regions into chunk bytes, and of a template into metadata."""

from __future__ import annotations

import json

import dask.array as da
import numpy as np
import pytest
import xarray as xr
import zarr
from zarr.storage import MemoryStore

from sgdsm_cloud.versioned.chunks import encode_region, template_items


def template(days: int = 10) -> xr.Dataset:
    data = da.full((days, 6, 8), np.nan, dtype="float32", chunks=(4, 3, 4))
    return xr.Dataset({"sm": (("time", "y", "x"), data)}, coords={"time": np.arange(days)})


ENCODING = {"sm": {"chunks": (4, 3, 4), "fill_value": np.float32("nan")}}


def test_a_template_writes_consolidated_metadata_and_no_lazy_chunk():
    items = template_items(template(), ENCODING)
    assert "zarr.json" in items and "sm/zarr.json" in items and "time/c/0" in items
    assert not any(key.startswith("sm/c/") for key in items)
    root = json.loads(items["zarr.json"])
    assert "sm" in root["consolidated_metadata"]["metadata"]


def test_region_chunks_decode_to_the_values_and_fill_value_chunks_are_none():
    metadata = template_items(template(), ENCODING)["sm/zarr.json"]
    values = np.arange(4 * 6 * 8, dtype="float32").reshape(4, 6, 8)
    values[:, :3, :4] = np.nan  # one chunk of fill values only
    chunks = encode_region(metadata, "sm", (slice(4, 8), slice(0, 6), slice(0, 8)), values)
    assert sorted(chunks) == [f"sm/c/1/{y}/{x}" for y in (0, 1) for x in (0, 1)]
    assert chunks["sm/c/1/0/0"] is None
    store = MemoryStore()
    zarr.create_array(store, name="sm", shape=(10, 6, 8), chunks=(4, 3, 4), dtype="float32",
                      fill_value=np.nan)  # fmt: skip
    array = zarr.open_array(store, path="sm", mode="r+")
    array[4:8] = values
    np.testing.assert_array_equal(array[4:8], values)
    for key, data in chunks.items():
        stored = zarr.core.sync.sync(store.get(key, zarr.core.buffer.default_buffer_prototype()))
        assert (data is None) == (stored is None)


def test_a_region_that_cuts_a_chunk_is_refused():
    metadata = template_items(template(), ENCODING)["sm/zarr.json"]
    with pytest.raises(ValueError, match="not whole chunks"):
        encode_region(metadata, "sm", (slice(2, 8), slice(0, 6), slice(0, 8)), np.zeros((6, 6, 8)))
    # the array's end closes its last chunk
    tail = encode_region(
        metadata, "sm", (slice(8, 10), slice(0, 6), slice(0, 8)), np.ones((2, 6, 8))
    )
    assert len(tail) == 4 and all(v is not None for v in tail.values())
