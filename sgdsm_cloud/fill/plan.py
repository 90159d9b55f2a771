"""From a raw cube's coordinates, a model's reach and a FillConfig to the run's block plan."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import xarray as xr

from sgdsm_cloud.cube import select_days
from sgdsm_cloud.errors import ChunkAlignmentError
from sgdsm_cloud.fill.config import FillConfig
from sgdsm_cloud.fill.geometry import AXES, BlockSpec, Domain, Halo, TileShape, plan_blocks
from sgdsm_cloud.fill.layout import Layout, output_layout
from sgdsm_cloud.grid import is_global_lon


@dataclass(frozen=True)
class FillPlan:
    """Everything the driver decides before any task runs.

    Attributes:
        domain: output extent within the raw record.
        halo: the model's reach (half window in days, receptive radius in cells).
        layout: the output's chunks and shards; tiles are its shards.
        blocks: one BlockSpec per tile.
    """

    domain: Domain
    halo: Halo
    layout: Layout
    blocks: tuple[BlockSpec, ...]

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.domain.days, self.domain.nlat, self.domain.nlon)

    @property
    def time_slice(self) -> slice:
        """The output days as a slice of the raw cube's time axis."""
        return slice(self.domain.first_day, self.domain.first_day + self.domain.days)

    def fingerprint(self, source_url: str, model_sha256: str, gpu: bool) -> dict[str, Any]:
        """What must match for a re-run to resume this run's output (see manifest.py)."""
        return {
            "source": source_url,
            "model_sha256": model_sha256,
            "first_day": self.domain.first_day,
            "shape": list(self.shape),
            "chunks": list(self.layout.chunks),
            "shards": list(self.layout.shards),
            "halo": [self.halo.days, self.halo.cells],
            "precision": "bf16" if gpu else "fp32",
        }


def halo_of(model_config: Any) -> Halo:
    """The input context a model needs: its half window (days) and receptive radius (cells)."""
    return Halo(days=model_config.half_window, cells=model_config.receptive_radius)


def plan_fill(
    raw: xr.Dataset, halo: Halo, config: FillConfig, start: Any = None, end: Any = None
) -> FillPlan:
    """The block plan for filling ``raw`` (a raw cube) from ``start`` to ``end``."""
    selected = select_days(raw["time"].values, start, end)
    first_day, days = selected.start, selected.stop - selected.start
    domain = Domain(
        record_days=raw.sizes["time"],
        first_day=first_day,
        days=days,
        nlat=raw.sizes["lat"],
        nlon=raw.sizes["lon"],
        periodic_lon=raw.sizes["lon"] > 1 and is_global_lon(raw["lon"].values),
    )
    layout = output_layout((days, domain.nlat, domain.nlon), config)
    blocks = tuple(plan_blocks(domain, layout.tile, halo))
    check_aligned(blocks, layout, (days, domain.nlat, domain.nlon))
    return FillPlan(domain=domain, halo=halo, layout=layout, blocks=blocks)


def span_blocks(plan: FillPlan, span: tuple[int, int]) -> list[BlockSpec]:
    """The plan's tiles, in space, over the product days ``[start, stop)`` (whole chunks):
    what a refill of those days computes, with the halos a fill of the whole plan has."""
    start, stop = span
    domain = dataclasses.replace(
        plan.domain, first_day=plan.domain.first_day + start, days=stop - start
    )
    tile = TileShape(stop - start, plan.layout.tile.lat, plan.layout.tile.lon)
    blocks = []
    for block in plan_blocks(domain, tile, plan.halo):
        _, y, x = block.write
        rest = block.id.split("-", 1)[1]
        blocks.append(
            dataclasses.replace(
                block, id=f"d{start:05d}-{stop:05d}-{rest}", write=((start, stop), y, x)
            )
        )
    return blocks


def check_aligned(
    blocks: tuple[BlockSpec, ...], layout: Layout, shape: tuple[int, int, int]
) -> None:
    """Raise ChunkAlignmentError unless every tile is a union of whole shards.

    Two writers on one shard lose data (a partial shard is read-modify-write), and xarray does
    not check this for numpy data, so the plan is checked before any task runs.
    """
    for block in blocks:
        spans = zip(AXES, block.write, layout.shards, shape, strict=True)
        for axis, (start, stop), shard, size in spans:
            if start % shard or (stop % shard and stop != size):
                raise ChunkAlignmentError(
                    f"tile {block.id}: {axis} {start}:{stop} is not a union of whole shards of "
                    f"{shard}; tiles must be planned from the output layout (plan_fill does this)"
                )
