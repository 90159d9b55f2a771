"""Opening a version with xarray through fsspec's ReferenceFileSystem (no other library).

Versions are immutable, so a version file's references may be cached by its URL; only
``latest.json`` changes, and it is read afresh by whoever opens it (``skip_instance_cache``).
"""

from __future__ import annotations

from typing import Any

import xarray as xr


def reference_options(
    refs_url: str, storage_options: dict[str, Any] | None = None, *, fresh: bool = False
) -> dict[str, Any]:
    """``storage_options`` of ``xr.open_zarr("reference://", ...)`` for the references at
    ``refs_url``: the same fsspec options reach the reference file and the packs. ``fresh``:
    read the reference file again even if this process opened it before (``latest.json``)."""
    options = dict(storage_options or {})
    protocol = refs_url.split("://", 1)[0] if "://" in refs_url else "file"
    # zarr drives the reference filesystem asynchronously; an object store's own filesystem
    # (s3fs) must then be asynchronous too (a local one is wrapped by fsspec)
    remote = options if protocol == "file" else {**options, "asynchronous": True}
    out: dict[str, Any] = {
        "fo": refs_url,
        "target_options": options,
        "remote_protocol": protocol,
        "remote_options": remote,
    }
    if fresh:
        out["skip_instance_cache"] = True
    return out


def open_refs(
    refs_url: str,
    storage_options: dict[str, Any] | None = None,
    *,
    fresh: bool = False,
    **kwargs: Any,
) -> xr.Dataset:
    """The dataset whose references are at ``refs_url`` (a version file or latest.json)."""
    options = reference_options(refs_url, storage_options, fresh=fresh)
    kwargs.setdefault("consolidated", True)
    return xr.open_zarr("reference://", storage_options=options, zarr_format=3, **kwargs)
