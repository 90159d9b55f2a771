"""zarr's own encoding of a product's chunks, over an in-memory store: nothing is written.

Writers never reimplement codecs or chunk keys. The driver hands a template dataset to
xarray and takes every key zarr made (metadata, consolidated metadata, the small arrays that
hold values); a task hands an array's ``zarr.json`` and a region's values to zarr-python and
takes the chunk bytes it made. A chunk equal to the fill value is not stored by zarr, so it
comes back as None: the version then has no reference for it, and it reads as the fill value.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import xarray as xr
import zarr
from zarr.core.buffer import default_buffer_prototype
from zarr.core.sync import sync
from zarr.storage import MemoryStore

from sgdsm_cloud.versioned.refs import METADATA, chunk_indices, chunk_key


def template_items(ds: xr.Dataset, encoding: dict[str, Any]) -> dict[str, bytes]:
    """Every key zarr writes for ``ds`` (lazy variables write metadata only), with the
    metadata consolidated into the root ``zarr.json`` so that readers open it in one read."""
    store = MemoryStore()
    with warnings.catch_warnings():  # consolidated metadata is an extension of zarr v3
        warnings.filterwarnings("ignore", message="Consolidated metadata is currently not part")
        ds.to_zarr(
            store, mode="w", compute=False, zarr_format=3, consolidated=True, encoding=encoding
        )
    return _items(store)


def encode_region(
    metadata: bytes, name: str, region: tuple[slice, ...], values: np.ndarray
) -> dict[str, bytes | None]:
    """The encoded chunks of array ``name`` (its ``zarr.json`` is ``metadata``) that hold
    ``values`` at ``region``; None for a chunk equal to the fill value.

    ``region`` must cover whole chunks (or end at the array's end): a partial chunk would be
    completed with fill values, not with what the product holds there.
    """
    store = MemoryStore()
    sync(store.set(f"{name}/{METADATA}", default_buffer_prototype().buffer.from_bytes(metadata)))
    array = zarr.open_array(store, path=name, mode="r+")
    chunks = tuple(int(c) for c in array.metadata.chunks)
    for axis, (span, size, n) in enumerate(zip(region, chunks, array.shape, strict=True)):
        if span.start % size or (span.stop % size and span.stop != n):
            raise ValueError(
                f"{name}: region {span} on axis {axis} is not whole chunks of {size} (length {n})"
            )
    array[region] = values
    items = _items(store)
    keys = (chunk_key(name, index) for index in chunk_indices(region, chunks))
    return {key: items.get(key) for key in keys}


def _items(store: MemoryStore) -> dict[str, bytes]:
    async def collect() -> dict[str, bytes]:
        prototype = default_buffer_prototype()
        out: dict[str, bytes] = {}
        async for key in store.list():
            buffer = await store.get(key, prototype)
            if buffer is not None:
                out[key] = buffer.to_bytes()
        return out

    return sync(collect())
