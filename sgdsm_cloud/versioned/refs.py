"""The references of one version: every zarr key of the product and where its bytes are.

A value is the inline JSON text of a ``zarr.json``, ``"base64:..."`` for small inline chunks,
or ``[url, offset, length]`` for a chunk inside a pack object. This is the kerchunk
reference format (version 1) that fsspec's ``ReferenceFileSystem`` reads. Pure functions.
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import Iterator, Mapping
from typing import Any

Refs = dict[str, Any]
METADATA = "zarr.json"


def inline(key: str, data: bytes) -> str:
    """``data`` as an inline reference: JSON text for metadata, base64 for anything else."""
    if key.rsplit("/", 1)[-1] == METADATA:
        return data.decode()
    return "base64:" + base64.b64encode(data).decode()


def chunk_key(name: str, index: tuple[int, ...]) -> str:
    """The zarr v3 key of chunk ``index`` of array ``name`` (default chunk key encoding)."""
    return f"{name}/c/" + "/".join(str(i) for i in index)


def array_of(key: str) -> str | None:
    """The array a chunk key belongs to (``sm/c/0/1/2`` -> ``sm``); None for metadata."""
    name, sep, _ = key.partition("/c/")
    return name if sep else None


def chunk_indices(region: tuple[slice, ...], chunks: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
    """Indices of the chunks that ``region`` (whole chunks, or up to the array's end) covers."""
    ranges = [range(r.start // c, -(-r.stop // c)) for r, c in zip(region, chunks, strict=True)]
    return itertools.product(*ranges)


def apply(base: Mapping[str, Any], changes: Mapping[str, Any]) -> Refs:
    """``base`` with ``changes``: a value replaces a reference, None removes it (a chunk that
    now equals the fill value is not stored)."""
    out = dict(base)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def without_arrays(refs: Mapping[str, Any], names: set[str]) -> Refs:
    """``refs`` without the chunks of the arrays ``names``."""
    return {k: v for k, v in refs.items() if array_of(k) not in names}


def data_refs(refs: Mapping[str, Any], names: set[str]) -> Refs:
    """The chunk references of the arrays ``names`` only."""
    return {k: v for k, v in refs.items() if array_of(k) in names}


def pack_urls(refs: Mapping[str, Any]) -> set[str]:
    """Every pack object ``refs`` points into."""
    return {v[0] for v in refs.values() if isinstance(v, list)}


def document(refs: Mapping[str, Any], meta: Mapping[str, Any]) -> dict[str, Any]:
    """The reference file of a version: kerchunk's ``version``/``refs`` plus our ``sgdsm``
    block (fsspec ignores keys it does not know)."""
    return {"version": 1, "refs": dict(refs), "sgdsm": dict(meta)}
