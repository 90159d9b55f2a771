"""The regions the product leaves out: south of 60 S, and Greenland the island, not a box."""

from __future__ import annotations

import numpy as np
import pytest

from sgdsm_cloud.grid import global_lat, global_lon
from sgdsm_cloud.landmask import build_greenland, excluded_regions, shipped_greenland

# (lat, lon) of land cells a box around Greenland also caught, and of Greenland itself
NEIGHBOURS = {"Iceland": (64.9, -18.6), "Baffin Island": (70.0, -70.0), "Ellesmere": (80.0, -80.0)}
GREENLAND = {"ice sheet": (72.0, -40.0), "south tip": (60.9, -45.2), "north coast": (82.5, -35.0)}


def _cell(res: float, lat: float, lon: float) -> tuple[np.ndarray, np.ndarray]:
    """The cell centres of the global grid at ``res`` nearest to (lat, lon)."""
    glat, glon = global_lat(res), global_lon(res)
    return glat[[np.argmin(abs(glat - lat))]], glon[[np.argmin(abs(glon - lon))]]


@pytest.mark.parametrize("res", [0.25, 0.1])
def test_greenland_is_left_out_and_its_neighbours_are_not(res):
    for name, point in NEIGHBOURS.items():
        assert not excluded_regions(*_cell(res, *point)).any(), f"{name} is left out at {res}"
    for name, point in GREENLAND.items():
        assert excluded_regions(*_cell(res, *point)).all(), f"Greenland's {name} is kept at {res}"


def test_south_of_60s_is_left_out_everywhere():
    lat, lon = np.array([-59.875, -60.125, -89.875]), np.array([-179.875, 0.125, 179.875])
    np.testing.assert_array_equal(excluded_regions(lat, lon).all(axis=1), [False, True, True])


def test_coordinates_off_the_grids_read_the_finest_island():
    lat, lon = np.array([72.0, 64.9]), np.array([-40.0, -18.6])
    np.testing.assert_array_equal(excluded_regions(lat, lon), [[True, False], [False, False]])


def test_a_regional_grid_reads_the_same_island_as_the_global_one():
    res = 0.25
    glat, glon = global_lat(res), global_lon(res)
    whole = excluded_regions(glat, glon)
    rows, cols = slice(100, 160), slice(400, 700)  # 65 N..50 N, 80 W..5 E
    np.testing.assert_array_equal(excluded_regions(glat[rows], glon[cols]), whole[rows, cols])


def test_the_shipped_island_is_what_the_land_mask_gives():
    """Rebuilds the 0.25 degree island from the GLOBE land mask (a few seconds)."""
    first_row, first_col, island = build_greenland(0.25)
    shipped_row, shipped_col, shipped = shipped_greenland()[0.25]
    assert (first_row, first_col) == (shipped_row, shipped_col)
    np.testing.assert_array_equal(island, shipped)
    assert 10_000 < island.sum() < 11_000  # ~2.1 million km2 at ~200 km2 a cell


@pytest.mark.parametrize("res", [0.25, 0.1])
def test_shipped_land_counts_are_the_global_mask_counted_again(res):
    """The shipped counts against a recount of the 30" mask from 60 N to 30 N (Europe, the
    Sahara, Asia, North America's coasts): what the shipped file saves every process."""
    from global_land_mask import globe

    from sgdsm_cloud.landmask import global_land_fraction, shipped_land_count

    factor = round(res * 120)
    first, last = round(30 / res), round(60 / res)  # grid rows of 60 N and 30 N
    land = ~globe._mask[first * factor : last * factor]
    recount = land.reshape(last - first, factor, -1, factor).sum(axis=(1, 3))
    np.testing.assert_array_equal(shipped_land_count(res)[first:last], recount)
    fraction = global_land_fraction(res)
    assert fraction.dtype == np.float32 and fraction.max() == 1.0 and fraction.min() == 0.0
