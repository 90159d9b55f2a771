"""The block plan alone: coverage, halos, wrapping, counts, serialisation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.fill.geometry import (
    BlockSpec,
    Domain,
    Halo,
    TileShape,
    needed_windows,
    plan_blocks,
    tile_starts,
    wrapped_read,
)


@st.composite
def plans(draw):
    record = draw(st.integers(1, 40))
    first = draw(st.integers(0, record - 1))
    days = draw(st.integers(1, record - first))
    domain = Domain(
        record_days=record,
        first_day=first,
        days=days,
        nlat=draw(st.integers(1, 30)),
        nlon=draw(st.integers(1, 40)),
        periodic_lon=draw(st.booleans()),
    )
    tile = TileShape(draw(st.integers(1, 12)), draw(st.integers(1, 16)), draw(st.integers(1, 16)))
    halo = Halo(draw(st.integers(0, 5)), draw(st.integers(0, 50)))
    return domain, tile, halo


@settings(max_examples=150, deadline=None)
@given(plans())
def test_every_output_cell_is_written_exactly_once(plan):
    domain, tile, halo = plan
    writes = np.zeros((domain.days, domain.nlat, domain.nlon), dtype=int)
    for block in plan_blocks(domain, tile, halo):
        writes[tuple(slice(*span) for span in block.write)] += 1
    assert (writes == 1).all()


@settings(max_examples=150, deadline=None)
@given(plans())
def test_reads_stay_in_bounds_and_hold_the_tile_plus_its_halo(plan):
    domain, tile, halo = plan
    for block in plan_blocks(domain, tile, halo):
        (t0, t1), (y0, y1), (x0, x1) = block.write
        assert 0 <= block.read_time[0] <= block.read_time[1] <= domain.record_days
        assert 0 <= block.read_lat[0] <= block.read_lat[1] <= domain.nlat
        assert all(0 <= a < b <= domain.nlon for a, b in block.read_lon)
        # The input's indices, in order, are the tile's neighbourhood clipped (or wrapped).
        raw_t = range(domain.first_day + t0 - halo.days, domain.first_day + t1 + halo.days)
        assert list(range(*block.read_time)) == [d for d in raw_t if 0 <= d < domain.record_days]
        assert list(range(*block.read_lat)) == [
            y for y in range(y0 - halo.cells, y1 + halo.cells) if 0 <= y < domain.nlat
        ]
        lon_read = [x for a, b in block.read_lon for x in range(a, b)]
        wanted = range(x0 - halo.cells, x1 + halo.cells)
        if domain.periodic_lon:
            assert lon_read == [x % domain.nlon for x in wanted]
        else:
            assert lon_read == [x for x in wanted if 0 <= x < domain.nlon]
        # The core of the input block is exactly the tile.
        (ct, cy, cx) = block.core
        assert list(range(*block.read_time))[slice(*ct)] == list(
            range(domain.first_day + t0, domain.first_day + t1)
        )
        assert list(range(*block.read_lat))[slice(*cy)] == list(range(y0, y1))
        assert lon_read[slice(*cx)] == list(range(x0, x1))


@settings(max_examples=100, deadline=None)
@given(n=st.integers(1, 500), size=st.integers(1, 100))
def test_tile_count_and_remainder_follow_the_docstring_formula(n, size):
    spans = tile_starts(n, size)
    lengths = [b - a for a, b in spans]
    assert len(spans) == math.ceil(n / size)
    assert lengths.count(size) == n // size
    assert lengths[-1] == (n % size or size)


def test_halo_of_a_dateline_tile_wraps_to_the_other_side():
    runs, core = wrapped_read((0, 4), halo=3, n=96)
    assert runs == ((93, 96), (0, 7))
    assert core == (3, 7)
    runs, core = wrapped_read((92, 96), halo=3, n=96)
    assert runs == ((89, 96), (0, 3))
    assert core == (3, 7)


def test_a_halo_wider_than_the_ring_repeats_cells_like_a_periodic_pad():
    runs, core = wrapped_read((0, 4), halo=6, n=4)
    assert [x for a, b in runs for x in range(a, b)] == [
        2,
        3,
        0,
        1,
        2,
        3,
        0,
        1,
        2,
        3,
        0,
        1,
        2,
        3,
        0,
        1,
    ]
    assert core == (6, 10)


def test_regional_edges_are_clipped_not_wrapped():
    domain = Domain(record_days=10, first_day=2, days=6, nlat=8, nlon=12, periodic_lon=False)
    first = plan_blocks(domain, TileShape(3, 8, 6), Halo(4, 3))[0]
    assert first.read_time == (0, 9)  # days 2..4 +- 4, clipped at the record's start
    assert first.read_lon == ((0, 9),)
    assert first.core == ((2, 5), (0, 8), (0, 6))


def test_block_spec_round_trips_through_json():
    domain = Domain(record_days=30, first_day=4, days=20, nlat=12, nlon=24, periodic_lon=True)
    for block in plan_blocks(domain, TileShape(7, 5, 10), Halo(4, 11)):
        assert BlockSpec.from_json(block.to_json()) == block


def test_ids_are_unique_and_name_the_tile_position():
    domain = Domain(record_days=30, first_day=0, days=30, nlat=12, nlon=24, periodic_lon=True)
    blocks = plan_blocks(domain, TileShape(10, 6, 12), Halo(4, 3))
    assert len({b.id for b in blocks}) == len(blocks) == 3 * 2 * 2
    assert blocks[-1].id == "t0002-y001-x001"


def test_days_outside_the_record_are_refused_with_the_fix():
    with pytest.raises(ConfigError, match="--start/--end"):
        Domain(record_days=10, first_day=5, days=6, nlat=1, nlon=1, periodic_lon=False)


def test_windows_cover_every_needed_cell_with_the_networks_reach():
    needed = np.zeros((40, 60), dtype=bool)
    needed[2, 3] = needed[35, 55] = True  # two far corners: separate windows are smaller
    windows = needed_windows(needed, (5, 5), (50, 70), radius=4)
    assert len(windows) == 2
    covered = np.zeros_like(needed)
    for window in windows:
        (tile_rows, tile_cols), (out_rows, out_cols) = window.placement((5, 5))
        covered[tile_rows, tile_cols] = True
        assert out_rows.stop - out_rows.start == tile_rows.stop - tile_rows.start
        for row, col in zip(*np.nonzero(needed[tile_rows, tile_cols]), strict=True):
            block_row, block_col = 5 + tile_rows.start + row, 5 + tile_cols.start + col
            # the network sees `radius` cells on every side, or the block's edge
            assert window.rows.start <= max(block_row - 4, 0)
            assert window.rows.stop >= min(block_row + 5, 50)
            assert window.cols.start <= max(block_col - 4, 0)
            assert window.cols.stop >= min(block_col + 5, 70)
    assert covered[needed].all()
    assert sum(w.cells for w in windows) < 50 * 70


def test_no_needed_cell_needs_no_window_and_one_dense_area_one_window():
    assert needed_windows(np.zeros((8, 8), dtype=bool), (0, 0), (8, 8), radius=2) == []
    dense = np.ones((8, 8), dtype=bool)
    (window,) = needed_windows(dense, (2, 2), (12, 12), radius=2)
    assert (window.rows, window.cols) == (slice(0, 12), slice(0, 12))
