"""Store grid windows: exact slices inside file grids, refusals for anything else."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.grid import BBox, global_lat, global_lon
from sgdsm_cloud.ingest.geometry import StoreGrid, global_window, locate, window


def test_from_bbox_describes_its_extent():
    grid = StoreGrid.from_bbox(0.25, BBox(0, 40, 10, 45))
    assert grid.shape == (20, 40)
    assert grid.describe() == "0.25 deg, lat 40..45, lon 0..10 (20 x 40 cells)"
    assert grid.same_as(
        StoreGrid(grid.lat.astype("float32").astype("float64"), grid.lon.copy(), 0.25)
    )
    assert not grid.same_as(StoreGrid.from_bbox(0.25, BBox(0, 40, 10, 44)))


@settings(max_examples=80, deadline=None)
@given(
    res=st.sampled_from([0.25, 0.1]),
    rows=st.tuples(st.integers(0, 600), st.integers(1, 100)),
    cols=st.tuples(st.integers(0, 1300), st.integers(1, 100)),
    pad=st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(0, 5), st.integers(0, 5)),
)
def test_window_finds_a_subgrid_inside_any_larger_file_grid(res, rows, cols, pad):
    lat, lon = global_lat(res), global_lon(res)
    r0, c0 = rows[0], cols[0]
    r1, c1 = min(r0 + rows[1], lat.size), min(c0 + cols[1], lon.size)
    grid = StoreGrid(lat[r0:r1], lon[c0:c1], res)
    # a regional file around it, with float32 coordinates
    f0, f1 = max(r0 - pad[0], 0), min(r1 + pad[1], lat.size)
    g0, g1 = max(c0 - pad[2], 0), min(c1 + pad[3], lon.size)
    file_lat, file_lon = lat[f0:f1].astype("float32"), lon[g0:g1].astype("float32")
    found = window(grid, file_lat.astype("float64"), file_lon.astype("float64"), res)
    assert found == (slice(r0 - f0, r1 - f0), slice(c0 - g0, c1 - g0))


def test_window_refuses_other_resolutions_regions_and_partial_overlap():
    grid = StoreGrid.from_bbox(0.25, BBox(0, 40, 10, 45))
    lat, lon = global_lat(0.25), global_lon(0.25)
    assert window(grid, lat, lon, 0.25) is not None
    assert window(grid, global_lat(0.1), global_lon(0.1), 0.1) is None
    assert window(grid, lat[:100], lon, 0.25) is None  # file ends north of the store
    assert window(grid, lat, lon[740:760], 0.25) is None  # overlaps the store's west part only
    assert locate(np.array([1.0, 2.0]), np.array([1.0]), 1.0) is None


def test_global_window_and_misaligned_grids():
    grid = StoreGrid.from_bbox(0.25, BBox(0, 40, 10, 45))
    rows, cols = global_window(grid)
    assert global_lat(0.25)[rows][0] == grid.lat[0] and global_lon(0.25)[cols][-1] == grid.lon[-1]
    with pytest.raises(ConfigError, match="not aligned with the global 0.25 deg grid"):
        global_window(StoreGrid(grid.lat + 0.125, grid.lon, 0.25))
