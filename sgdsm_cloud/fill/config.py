"""Settings of a fill run (frozen, checked on creation)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from sgdsm_cloud.errors import ConfigError

DEFAULT_CHUNK_DAYS, DEFAULT_CHUNK_CELLS = 32, 90


@dataclass(frozen=True)
class FillConfig:
    """Output layout, tiling and inference settings.

    Attributes:
        tile_days, tile_cells: output cells per tile (one task) along time and along each
            spatial axis. A tile is one shard of the output, so it is also the unit of writing.
            Defaults: 384 days x 360 x 360 cells, about 200 MB of float32 per shard.
        chunk_days, chunk_cells: the inner chunks of a shard, the unit of reading. They must
            divide the tile; None picks the largest divisor of the tile not above 32 days and
            90 cells (about 1 MB of float32), so a one-day global 0.25 degree map and a 7-year
            pixel series both touch few objects (docs/fill.md).
        batch_size: centre days per model call (micro-batch), bounding activation memory.
        gpu: tasks ask for ``resources={'GPU': 1}`` and run on CUDA with bf16 autocast.
        retries: extra attempts of a failed tile before the run fails (worker deaths are
            rescheduled by dask independently of this).
    """

    tile_days: int = 384
    tile_cells: int = 360
    chunk_days: int | None = None
    chunk_cells: int | None = None
    batch_size: int = 4
    gpu: bool = False
    retries: int = 2

    def __post_init__(self) -> None:
        if self.chunk_days is None:
            object.__setattr__(
                self, "chunk_days", _largest_divisor(self.tile_days, DEFAULT_CHUNK_DAYS)
            )
        if self.chunk_cells is None:
            object.__setattr__(
                self, "chunk_cells", _largest_divisor(self.tile_cells, DEFAULT_CHUNK_CELLS)
            )
        for name in ("tile_days", "tile_cells", "chunk_days", "chunk_cells", "batch_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"fill option '{name}' must be >= 1, got {getattr(self, name)}")
        if self.retries < 0:
            raise ConfigError(f"fill option 'retries' must be >= 0, got {self.retries}")
        for tile, chunk in (("tile_days", "chunk_days"), ("tile_cells", "chunk_cells")):
            if getattr(self, tile) % getattr(self, chunk):
                raise ConfigError(
                    f"fill option '{tile}' ({getattr(self, tile)}) must be a multiple of '{chunk}' "
                    f"({getattr(self, chunk)}): a tile is a shard made of whole chunks"
                )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _largest_divisor(n: int, at_most: int) -> int:
    """The largest divisor of ``n`` not above ``at_most`` (``n`` itself when ``n <= at_most``)."""
    if n < 1:
        return n  # rejected by the range check that follows
    return max(d for d in range(1, min(n, at_most) + 1) if n % d == 0)
