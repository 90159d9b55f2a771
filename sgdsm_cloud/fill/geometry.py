"""The block plan of a fill: output tiles, the haloed input each one reads, and where its core sits.

Pure geometry (no I/O, no numpy). A tile is a box of output cells ``days x lat x lon`` aligned
with the output store's shards, so each task region-writes whole shards it alone owns. Its input
is the tile plus a halo: ``halo.days`` days on each side (the model's half window) and
``halo.cells`` cells on each side (the model's receptive radius). Halo cells beyond the raw
record (days) or beyond the grid's edge (latitude, and longitude on a regional grid) are not
read: the model treats them as unobserved, exactly as it treats the edges of a cube filled in
one piece. On a global grid longitude is periodic, so the halo of a tile at the dateline wraps
around to the other side of the grid.

Tile count and remainder, per axis of ``n`` output cells and tile size ``s``:
``ceil(n / s)`` tiles, ``n // s`` of them full and, when ``n % s`` is not 0, a last tile of
``n % s`` cells. The plan holds the product of the three axes' counts, ordered time-major.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from sgdsm_cloud.errors import ConfigError

Span = tuple[int, int]  # half-open index range [start, stop)
AXES = ("time", "lat", "lon")


@dataclass(frozen=True)
class Domain:
    """What the plan tiles: the output's extent and the raw record around it.

    Attributes:
        record_days: length of the raw cube's time axis (days outside it are unobserved).
        first_day: index in the raw cube of the output's first day.
        days: number of output days.
        nlat, nlon: grid size, the same in the raw cube and the output.
        periodic_lon: longitude wraps around (a global grid with no duplicated seam).
    """

    record_days: int
    first_day: int
    days: int
    nlat: int
    nlon: int
    periodic_lon: bool

    def __post_init__(self) -> None:
        if min(self.days, self.nlat, self.nlon) < 1:
            raise ConfigError(f"fill domain must have at least one day and cell, got {self}")
        if self.first_day < 0 or self.first_day + self.days > self.record_days:
            raise ConfigError(
                f"fill days {self.first_day}..{self.first_day + self.days - 1} lie outside the "
                f"raw record of {self.record_days} days; choose --start/--end inside the store's "
                "time axis"
            )


@dataclass(frozen=True)
class TileShape:
    """Output cells per tile along time, lat and lon (the output's shard shape)."""

    days: int
    lat: int
    lon: int

    def __post_init__(self) -> None:
        if min(self.days, self.lat, self.lon) < 1:
            raise ConfigError(f"tile sizes must be >= 1, got {self}")


@dataclass(frozen=True)
class Halo:
    """Context on each side of a tile: ``days`` (half window), ``cells`` (receptive radius)."""

    days: int
    cells: int

    def __post_init__(self) -> None:
        if self.days < 0 or self.cells < 0:
            raise ConfigError(f"halo sizes must be >= 0, got {self}")


@dataclass(frozen=True)
class BlockSpec:
    """One task of the plan.

    Attributes:
        id: stable name, ``t<i>-y<j>-x<k>`` from the tile's position in the tile grid; it labels
            the task key, logs, errors and the completion manifest.
        write: output index spans (time, lat, lon) of the tile.
        read_time, read_lat: raw-cube index spans of the input, clipped to the record and grid.
        read_lon: raw-cube longitude spans read in this order and concatenated; more than one
            when the halo wraps across the dateline.
        core: where the tile sits inside the concatenated input block (time, lat, lon spans).
    """

    id: str
    write: tuple[Span, Span, Span]
    read_time: Span
    read_lat: Span
    read_lon: tuple[Span, ...]
    core: tuple[Span, Span, Span]

    @property
    def write_slices(self) -> dict[str, slice]:
        """The tile as the ``region`` argument of ``Dataset.to_zarr``."""
        return {axis: slice(*span) for axis, span in zip(AXES, self.write, strict=True)}

    @property
    def core_slices(self) -> tuple[slice, slice, slice]:
        return tuple(slice(*span) for span in self.core)  # type: ignore[return-value]

    @property
    def shape(self) -> tuple[int, int, int]:
        """Output cells of the tile (time, lat, lon)."""
        return tuple(stop - start for start, stop in self.write)  # type: ignore[return-value]

    @property
    def read_shape(self) -> tuple[int, int, int]:
        """Shape of the concatenated input block (time, lat, lon)."""
        return (
            self.read_time[1] - self.read_time[0],
            self.read_lat[1] - self.read_lat[0],
            sum(stop - start for start, stop in self.read_lon),
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "id": self.id,
                "write": self.write,
                "read_time": self.read_time,
                "read_lat": self.read_lat,
                "read_lon": self.read_lon,
                "core": self.core,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> BlockSpec:
        data: dict[str, Any] = json.loads(text)
        return cls(
            id=data["id"],
            write=tuple(tuple(s) for s in data["write"]),  # type: ignore[arg-type]
            read_time=tuple(data["read_time"]),
            read_lat=tuple(data["read_lat"]),
            read_lon=tuple(tuple(s) for s in data["read_lon"]),
            core=tuple(tuple(s) for s in data["core"]),  # type: ignore[arg-type]
        )


def tile_starts(n: int, size: int) -> list[Span]:
    """Spans of the ``ceil(n / size)`` tiles covering ``range(n)``; the last may be short."""
    return [(start, min(start + size, n)) for start in range(0, n, size)]


def clipped_read(span: Span, halo: int, n: int) -> tuple[Span, Span]:
    """Input span ``span`` +- ``halo`` clipped to ``[0, n)``, and where ``span`` sits inside it."""
    start, stop = max(span[0] - halo, 0), min(span[1] + halo, n)
    return (start, stop), (span[0] - start, span[1] - start)


def wrapped_read(span: Span, halo: int, n: int) -> tuple[tuple[Span, ...], Span]:
    """Periodic input span ``span`` +- ``halo`` on a ring of ``n`` cells as in-bounds runs.

    Indices ``span[0] - halo .. span[1] + halo - 1`` taken modulo ``n``, split into contiguous
    runs; a halo wider than the ring repeats cells, as a periodic pad of the whole grid does.
    """
    runs: list[Span] = []
    position = span[0] - halo
    end = span[1] + halo
    while position < end:
        start = position % n
        length = min(n - start, end - position)
        runs.append((start, start + length))
        position += length
    return tuple(runs), (halo, halo + span[1] - span[0])


def plan_blocks(domain: Domain, tile: TileShape, halo: Halo) -> list[BlockSpec]:
    """Every tile of ``domain`` with its haloed read, time-major (see the module docstring)."""
    blocks = []
    for it, t in enumerate(tile_starts(domain.days, tile.days)):
        raw_t = (domain.first_day + t[0], domain.first_day + t[1])
        read_t, core_t = clipped_read(raw_t, halo.days, domain.record_days)
        for iy, y in enumerate(tile_starts(domain.nlat, tile.lat)):
            read_y, core_y = clipped_read(y, halo.cells, domain.nlat)
            for ix, x in enumerate(tile_starts(domain.nlon, tile.lon)):
                if domain.periodic_lon:
                    read_x, core_x = wrapped_read(x, halo.cells, domain.nlon)
                else:
                    one, core_x = clipped_read(x, halo.cells, domain.nlon)
                    read_x = (one,)
                blocks.append(
                    BlockSpec(
                        id=f"t{it:04d}-y{iy:03d}-x{ix:03d}",
                        write=(t, y, x),
                        read_time=read_t,
                        read_lat=read_y,
                        read_lon=read_x,
                        core=(core_t, core_y, core_x),
                    )
                )
    return blocks


@dataclass(frozen=True)
class Window:
    """A part of a tile and the piece of its haloed block the network sees to fill it.

    ``part`` (rows, columns) is in the tile's positions; ``rows``/``cols`` in the block's.
    """

    part: tuple[slice, slice]
    rows: slice
    cols: slice

    @property
    def cells(self) -> int:
        return (self.rows.stop - self.rows.start) * (self.cols.stop - self.cols.start)

    def placement(self, offset: tuple[int, int]) -> tuple[tuple[slice, slice], tuple[slice, slice]]:
        """Where the part's cells that the window covers lie: ``(in the tile, in the window's
        output)``, for a tile at ``offset`` in the block."""
        tile, out = [], []
        for part, seen, start in zip(self.part, (self.rows, self.cols), offset, strict=True):
            first, last = max(start + part.start, seen.start), min(start + part.stop, seen.stop)
            tile.append(slice(first - start, last - start))
            out.append(slice(first - seen.start, last - seen.start))
        return (tile[0], tile[1]), (out[0], out[1])


def needed_windows(
    needed: np.ndarray,
    offset: tuple[int, int],
    shape: tuple[int, int],
    radius: int | None,
    splits: tuple[int, ...] = (1, 2, 3, 4),
) -> list[Window]:
    """The pieces of a haloed block the network must see to fill the ``needed`` cells, as
    few cells as the tile's splits into ``n x n`` equal parts give (``splits``).

    ``needed`` (y, x) marks the tile's cells that need the network (gaps on fillable land);
    the tile sits at ``offset`` (rows, columns) inside a block of ``shape``. Each part's
    window is its needed cells' bounding box grown by the network's ``radius`` and cut to the
    block: every needed cell sees all it would see in the whole block, so its output is the
    same, and the choice depends on ``needed`` alone. Empty when no cell is needed; ``radius``
    None: the whole block, when any cell is needed. Pure.
    """
    if radius is None:
        whole = (slice(0, needed.shape[0]), slice(0, needed.shape[1]))
        return [Window(whole, slice(0, shape[0]), slice(0, shape[1]))] if needed.any() else []
    best: list[Window] = []
    for n in splits:
        windows = [
            w
            for rows in _parts(needed.shape[0], n)
            for cols in _parts(needed.shape[1], n)
            if (w := _window(needed, rows, cols, offset, shape, radius)) is not None
        ]
        if not best or sum(w.cells for w in windows) < sum(w.cells for w in best):
            best = windows
    return best


def _parts(n: int, k: int) -> list[slice]:
    edges = [round(i * n / k) for i in range(k + 1)]
    return [slice(a, b) for a, b in zip(edges, edges[1:], strict=False) if b > a]


def _window(
    needed: np.ndarray,
    rows: slice,
    cols: slice,
    offset: tuple[int, int],
    shape: tuple[int, int],
    radius: int,
) -> Window | None:
    part = needed[rows, cols]
    hit_rows, hit_cols = np.flatnonzero(part.any(axis=1)), np.flatnonzero(part.any(axis=0))
    if hit_rows.size == 0:
        return None
    top, left = offset[0] + rows.start, offset[1] + cols.start
    return Window(
        (rows, cols),
        slice(
            max(top + int(hit_rows[0]) - radius, 0),
            min(top + int(hit_rows[-1]) + 1 + radius, shape[0]),
        ),
        slice(
            max(left + int(hit_cols[0]) - radius, 0),
            min(left + int(hit_cols[-1]) + 1 + radius, shape[1]),
        ),
    )
