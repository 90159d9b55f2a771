"""Pack objects: the chunks one task wrote, back to back in one immutable object.

A pack is written once under a name no other pack takes, before any version points to it,
so readers of published versions never see it change. Reading a map or a time series then
touches one object per pack holding its chunks, as a zarr shard would, but a later version
can replace any chunk without rewriting the others of its pack.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from sgdsm_cloud.storage import Location, write_atomic
from sgdsm_cloud.versioned.refs import Refs


def write_pack(location: Location, chunks: Mapping[str, bytes]) -> Refs:
    """Write ``chunks`` as one object at ``location``; their references. No chunks: no object."""
    if not chunks:
        return {}
    refs: Refs = {}
    offset = 0
    for key, data in chunks.items():
        refs[key] = [location.url, offset, len(data)]
        offset += len(data)
    write_atomic(location, b"".join(chunks.values()))
    return refs


def read_chunks(refs: Mapping[str, Any], storage_options: dict[str, Any]) -> dict[str, bytes]:
    """The bytes of the chunks ``refs`` point to: one ranged read each, grouped by pack."""
    by_pack: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    for key, (url, offset, length) in refs.items():
        by_pack[url].append((key, offset, length))
    out: dict[str, bytes] = {}
    for url, parts in by_pack.items():
        pack = Location(url, storage_options)
        fs = pack.filesystem()
        blobs = fs.cat_ranges(
            [pack.path] * len(parts), [o for _, o, _ in parts], [o + n for _, o, n in parts]
        )
        out.update({key: bytes(blob) for (key, _, _), blob in zip(parts, blobs, strict=True)})
    return out
