"""Chunk and shard layout of the seamless cube, and what the two common reads cost under it.

A shard (one object in the store) is the unit of writing: one fill task writes one shard. Its
inner chunks are the unit of reading: a reader fetches the shard's index, then byte ranges of
the chunks it needs. Map reads want chunks short in time, time-series reads want them small in
space; shards made of ``(32 days x 90 x 90)`` chunks serve both with few objects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sgdsm_cloud.fill.config import FillConfig
from sgdsm_cloud.fill.geometry import TileShape

_INDEX_ENTRY_BYTES = 16  # zarr sharding index: offset and length (uint64) per inner chunk


@dataclass(frozen=True)
class Layout:
    """Inner chunks and shards of the (time, lat, lon) variables."""

    chunks: tuple[int, int, int]
    shards: tuple[int, int, int]

    @property
    def tile(self) -> TileShape:
        """Fill tiles coincide with shards."""
        return TileShape(*self.shards)


@dataclass(frozen=True)
class ReadCost:
    """Objects touched, inner chunks fetched and bytes decoded (uncompressed upper bound)."""

    objects: int
    chunk_reads: int
    bytes: int


def output_layout(shape: tuple[int, int, int], config: FillConfig) -> Layout:
    """Chunks and shards for an output of ``shape`` (time, lat, lon).

    Chunks are clipped to the array in space (not in time, which grows); a shard stays a
    whole number of chunks, so on a small axis it may reach past the array's end, which zarr
    allows.
    """
    # FillConfig.__post_init__ resolves the chunk sizes left to their default.
    assert config.chunk_days is not None and config.chunk_cells is not None
    wanted_chunks = (config.chunk_days, config.chunk_cells, config.chunk_cells)
    wanted_shards = (config.tile_days, config.tile_cells, config.tile_cells)
    # The time axis grows with every update, so a chunk keeps its full length in time (zarr
    # allows chunks past an array's end); space is fixed, chunks there are clipped to it.
    chunks = (wanted_chunks[0],) + tuple(
        min(c, n) for c, n in zip(wanted_chunks[1:], shape[1:], strict=True)
    )
    shards = tuple(
        min(s, math.ceil(n / c) * c) for s, c, n in zip(wanted_shards, chunks, shape, strict=True)
    )
    return Layout(chunks=chunks, shards=shards)  # type: ignore[arg-type]


def map_cost(shape: tuple[int, int, int], layout: Layout, itemsize: int = 4) -> ReadCost:
    """Cost of reading one whole day (a global map)."""
    _, nlat, nlon = shape
    objects = math.ceil(nlat / layout.shards[1]) * math.ceil(nlon / layout.shards[2])
    chunks = math.ceil(nlat / layout.chunks[1]) * math.ceil(nlon / layout.chunks[2])
    return ReadCost(
        objects, chunks, chunks * _chunk_bytes(layout, itemsize) + objects * _index_bytes(layout)
    )


def series_cost(shape: tuple[int, int, int], layout: Layout, itemsize: int = 4) -> ReadCost:
    """Cost of reading the whole time series of one pixel."""
    ntime = shape[0]
    objects = math.ceil(ntime / layout.shards[0])
    chunks = math.ceil(ntime / layout.chunks[0])
    return ReadCost(
        objects, chunks, chunks * _chunk_bytes(layout, itemsize) + objects * _index_bytes(layout)
    )


def _chunk_bytes(layout: Layout, itemsize: int) -> int:
    return math.prod(layout.chunks) * itemsize


def _index_bytes(layout: Layout) -> int:
    if layout.chunks == layout.shards:
        return 0  # not sharded: no index to read
    per_shard = math.prod(s // c for s, c in zip(layout.shards, layout.chunks, strict=True))
    return per_shard * _INDEX_ENTRY_BYTES + 4  # + crc32c
