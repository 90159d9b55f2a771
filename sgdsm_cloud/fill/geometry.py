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
