"""Keep reads cheap as updates pile up: the final chunks of a tile live in one pack.

A fill writes one pack per tile (its days x its cells), so reading a day's map or a pixel's
whole series touches one object per tile, as a sharded zarr store would. A daily update
writes the chunks it refills into a pack of its own; once such a chunk turns final (every
day of it final), the tile's final chunks would be spread over several packs, and a series
would touch one more object for every chunk of the record. So when an update finds a tile's
final chunks in more than one pack, it copies them, bytes unchanged, into one new pack. That
happens about once per chunk of days (32) and costs one read and one write of the tile's
final chunks; a tile then holds at most two packs: its final chunks and its newest ones.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from sgdsm_cloud.versioned.packs import read_chunks, write_pack
from sgdsm_cloud.versioned.refs import Refs, array_of
from sgdsm_cloud.versioned.repository import Run


def scattered_tiles(
    refs: Mapping[str, Any],
    arrays: set[str],
    chunks_per_tile: tuple[int, int, int],
    final_chunks: int,
) -> dict[tuple[int, int, int], list[str]]:
    """The final chunk keys of each tile whose final chunks lie in more than one pack.

    ``chunks_per_tile``: the tile's extent in chunks (time, lat, lon); ``final_chunks``: the
    time chunks before this index hold final days only. Pure.
    """
    groups: dict[tuple[int, int, int], list[str]] = defaultdict(list)
    for key, ref in refs.items():
        if array_of(key) not in arrays or not isinstance(ref, list):
            continue
        t, y, x = (int(i) for i in key.split("/c/", 1)[1].split("/"))
        if t < final_chunks:
            groups[
                (t // chunks_per_tile[0], y // chunks_per_tile[1], x // chunks_per_tile[2])
            ].append(key)
    return {
        tile: sorted(keys) for tile, keys in groups.items() if len({refs[k][0] for k in keys}) > 1
    }


def compact(
    refs: Mapping[str, Any],
    tiles: Mapping[tuple[int, int, int], list[str]],
    run: Run,
    storage_options: dict[str, Any],
) -> Refs:
    """Copy each tile's final chunks into one pack of ``run``; their new references."""
    out: Refs = {}
    for (t, y, x), keys in sorted(tiles.items()):
        data = read_chunks({k: refs[k] for k in keys}, storage_options)
        out.update(write_pack(run.pack(f"final-t{t:04d}-y{y:03d}-x{x:03d}"), data))
    return out
