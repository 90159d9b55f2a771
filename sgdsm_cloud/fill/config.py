"""Settings of a fill run (frozen, checked on creation)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.options import Count, option

DEFAULT_CHUNK_DAYS, DEFAULT_CHUNK_CELLS = 32, 90


@dataclass(frozen=True)
class FillConfig:
    """Output layout, tiling and inference settings; each field's help is its documentation
    (``sgdsm fill`` and the YAML's ``fill`` section take every field by name).

    A tile is one shard of the output (one task, the unit of writing); the default 384 days x
    360 x 360 cells is about 200 MB of float32. The inner chunks are the unit of reading: the
    defaults keep them near 1 MB, so a one-day global 0.25 degree map and a 7-year pixel series
    both touch few objects (docs/fill.md).
    """

    tile_days: int = option(384, "days per tile (= output shard)", kind=Count)
    tile_cells: int = option(360, "cells per tile side (= output shard)", kind=Count)
    chunk_days: int | None = option(
        None,
        f"days per inner chunk; must divide --tile-days (default: its largest divisor <= "
        f"{DEFAULT_CHUNK_DAYS})",
        kind=Count,
    )
    chunk_cells: int | None = option(
        None,
        f"cells per inner chunk side; must divide --tile-cells (default: its largest divisor <= "
        f"{DEFAULT_CHUNK_CELLS})",
        kind=Count,
    )
    batch_size: int = option(4, "centre days per model call (bounds activation memory)", kind=Count)
    gpu: bool = option(False, "tasks need resources GPU=1 and run on CUDA with bf16 autocast")
    bfloat16: bool = option(
        False,
        "run the network's convolutions in bfloat16 on the CPU too (on CUDA they always are): "
        "about 1.9 x faster on CPUs with AMX or AVX-512 BF16, filled values equal to float32's "
        "within about 1e-4 m3 m-3; the version records it and updates keep it",
    )
    retries: int = option(
        2,
        "extra attempts of a failing tile before the run fails (dask reschedules the tiles of "
        "dead workers independently of this)",
    )

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
