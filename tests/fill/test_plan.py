"""Planning a fill from a cube's coordinates: days, periodicity, alignment, fingerprint."""

from __future__ import annotations

import dataclasses

import pytest

from sgdsm_cloud.errors import ChunkAlignmentError, ConfigError
from sgdsm_cloud.fill.config import FillConfig
from sgdsm_cloud.fill.geometry import Halo
from sgdsm_cloud.fill.plan import check_aligned, plan_fill

from .conftest import make_raw


@pytest.fixture(scope="module")
def raw():
    return make_raw(days=10)


def test_a_global_grid_is_periodic_and_a_regional_one_is_not(raw):
    config = FillConfig(tile_days=5, tile_cells=24)
    assert plan_fill(raw, Halo(4, 3), config).domain.periodic_lon
    assert not plan_fill(raw.isel(lon=slice(0, 50)), Halo(4, 3), config).domain.periodic_lon


def test_output_days_keep_the_whole_record_as_context(raw):
    plan = plan_fill(
        raw,
        Halo(4, 3),
        FillConfig(tile_days=5, tile_cells=48),
        start="2015-03-03",
        end="2015-03-08",
    )
    assert (plan.domain.first_day, plan.domain.days, plan.domain.record_days) == (2, 6, 10)
    # Raw days 2..6 plus 4 on each side: clipped at the record's start; days 7..9 lie after the
    # output's end but inside the record, so they are read as context.
    assert plan.blocks[0].read_time == (0, 10)


def test_days_outside_the_store_name_the_options(raw):
    with pytest.raises(
        ConfigError, match=r"--start/--end .* inside the store's days 2015-03-01\.\.2015-03-10"
    ):
        plan_fill(raw, Halo(4, 3), FillConfig(), start="2015-02-20")


def test_a_tile_that_splits_a_shard_is_refused(raw):
    plan = plan_fill(raw, Halo(4, 3), FillConfig(tile_days=5, tile_cells=24))
    shifted = dataclasses.replace(plan.blocks[1], write=((0, 5), (0, 24), (12, 36)))
    with pytest.raises(ChunkAlignmentError, match="whole shards"):
        check_aligned((plan.blocks[0], shifted), plan.layout, plan.shape)


def test_the_fingerprint_changes_with_what_changes_the_output(raw):
    plan = plan_fill(raw, Halo(4, 3), FillConfig(tile_days=5, tile_cells=24))
    other = plan_fill(raw, Halo(4, 3), FillConfig(tile_days=10, tile_cells=24))
    assert plan.fingerprint("s3://b/raw.zarr", "abc", gpu=False) == plan.fingerprint(
        "s3://b/raw.zarr", "abc", gpu=False
    )
    assert plan.fingerprint("s3://b/raw.zarr", "abc", gpu=False) != other.fingerprint(
        "s3://b/raw.zarr", "abc", gpu=False
    )
    assert plan.fingerprint("s3://b/raw.zarr", "abc", gpu=False) != plan.fingerprint(
        "s3://b/raw.zarr", "abd", gpu=False
    )
