"""The canonical grid: pure geometry, checked on exact values and with hypothesis."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.grid import (
    GLOBAL,
    BBox,
    bbox_slices,
    check_resolution,
    global_lat,
    global_lon,
    infer_resolution,
    is_global_lon,
    lon_0_360_to_180,
)


def test_global_grids_have_half_cell_offsets():
    lat, lon = global_lat(0.25), global_lon(0.25)
    assert lat.shape == (720,) and lon.shape == (1440,)
    assert lat[0] == 89.875 and lat[-1] == -89.875 and lon[0] == -179.875 and lon[-1] == 179.875
    assert global_lat(0.1).shape == (1800,) and global_lon(0.1)[0] == pytest.approx(-179.95)


@pytest.mark.parametrize("res", [0, -0.25, 0.7])
def test_resolutions_that_do_not_divide_the_globe_are_refused(res):
    with pytest.raises(ConfigError, match="divide 180"):
        check_resolution(res)


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((10, 0, 5, 10), "west/east"),
        ((0, 10, 5, 5), "south/north"),
        ((-190, 0, 5, 10), "west/east"),
    ],
)
def test_bbox_checks_its_corners(args, match):
    with pytest.raises(ConfigError, match=match):
        BBox(*args)


def test_bbox_parse():
    assert BBox.parse("-10,35,30,60") == BBox(-10, 35, 30, 60)
    assert BBox.parse(" -10, 35 ,30,60").as_list() == [-10, 35, 30, 60]
    with pytest.raises(ConfigError, match="four numbers"):
        BBox.parse("1,2,3")


def test_bbox_slices_snap_to_cell_centres():
    rows, cols = bbox_slices(0.25, BBox(0.0, 40.0, 10.0, 45.0))
    assert (rows.stop - rows.start, cols.stop - cols.start) == (20, 40)
    assert global_lat(0.25)[rows][0] == 44.875 and global_lon(0.25)[cols][0] == 0.125
    assert bbox_slices(0.25, GLOBAL) == (slice(0, 720), slice(0, 1440))
    with pytest.raises(ConfigError, match="contains no"):
        bbox_slices(0.25, BBox(0.01, 0.01, 0.1, 0.1))


@settings(max_examples=60, deadline=None)
@given(
    west=st.floats(-180, 179),
    width=st.floats(0.3, 60),
    south=st.floats(-90, 89),
    height=st.floats(0.3, 40),
    res=st.sampled_from([0.25, 0.1]),
)
def test_bbox_slices_hold_exactly_the_centres_inside(west, width, south, height, res):
    bbox = BBox(west, south, min(west + width, 180), min(south + height, 90))
    rows, cols = bbox_slices(res, bbox)
    lat, lon = global_lat(res), global_lon(res)
    inside_lat = (lat >= bbox.south) & (lat <= bbox.north)
    inside_lon = (lon >= bbox.west) & (lon <= bbox.east)
    assert np.array_equal(np.flatnonzero(inside_lat), np.arange(rows.start, rows.stop))
    assert np.array_equal(np.flatnonzero(inside_lon), np.arange(cols.start, cols.stop))


def test_infer_resolution_and_global_longitudes():
    assert infer_resolution(global_lat(0.25)) == 0.25
    assert infer_resolution(global_lon(0.1).astype("float32")) == 0.1
    assert is_global_lon(global_lon(0.25)) and not is_global_lon(global_lon(0.25)[:-1])
    with pytest.raises(ConfigError, match="regular"):
        infer_resolution(np.array([0.0, 1.0, 3.0]))
    with pytest.raises(ConfigError, match="fewer than two"):
        infer_resolution(np.array([1.0]))


def test_roll_from_0_360_moves_the_antimeridian_to_column_zero():
    lon_0_360 = np.arange(8) * 45 + 22.5  # 22.5 .. 337.5
    rolled = lon_0_360_to_180(lon_0_360)
    assert np.array_equal(np.where(rolled > 180, rolled - 360, rolled), np.arange(8) * 45 - 157.5)
