"""Swath geometry: half the tropics per pass and day, full coverage poleward of ~60 deg, real stripes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from sgdsm_cloud.formats import read_day
from sgdsm_cloud.grid import global_lat, global_lon
from sgdsm_cloud.landmask import global_land_fraction
from sgdsm_cloud.synth import swath

DAY = dt.date(2015, 4, 1)
LAT, LON = global_lat(0.25), global_lon(0.25)


@pytest.fixture(scope="module")
def descending() -> np.ndarray:
    return swath.observed(DAY, "D", LAT, LON)


def test_one_pass_sees_about_half_the_equator(descending):
    equator = descending[np.abs(LAT) < 1].mean()
    assert 0.45 < equator < 0.65


def test_swaths_overlap_poleward_of_sixty_degrees(descending):
    for band in ((LAT > 62) & (LAT < 85), (LAT < -62) & (LAT > -85)):
        assert descending[band].mean() > 0.98


def test_ascending_and_descending_passes_see_different_cells(descending):
    ascending = swath.observed(DAY, "A", LAT, LON)
    tropics = np.abs(LAT) < 30
    assert 0.4 < ascending[tropics].mean() < 0.7
    assert (ascending[tropics] != descending[tropics]).mean() > 0.3


def test_stripes_move_every_day_and_repeat_after_the_16_day_cycle(descending):
    tropics = np.abs(LAT) < 30
    next_day = swath.observed(DAY + dt.timedelta(days=1), "D", LAT, LON)
    assert (next_day[tropics] != descending[tropics]).mean() > 0.3
    np.testing.assert_array_equal(
        swath.observed(DAY + dt.timedelta(days=16), "D", LAT, LON), descending
    )


def test_a_region_is_a_crop_of_the_global_mask(descending):
    rows, cols = slice(200, 330), slice(1300, 1440)
    np.testing.assert_array_equal(
        swath.observed(DAY, "D", LAT[rows], LON[cols]), descending[rows, cols]
    )
    fine_lat, fine_lon = global_lat(0.1), global_lon(0.1)
    fine = swath.observed(DAY, "D", fine_lat[400:500], fine_lon[:3600])
    np.testing.assert_array_equal(
        swath.observed(DAY, "D", fine_lat[430:460], fine_lon[1000:1100]), fine[30:60, 1000:1100]
    )


def test_real_retrievals_fall_inside_the_modelled_swath(real_lprm_dir):
    land = global_land_fraction(0.25) >= 0.5
    for date in (dt.date(2015, 4, 1), dt.date(2015, 4, 2)):
        (path,) = real_lprm_dir.glob(f"*_{date:%Y%m%d}*.nc4")
        valid = np.isfinite(read_day(str(path), variable="soil_moisture_x").values) & land
        inside = swath.observed(date, "D", LAT, LON)[valid].mean()
        assert inside > 0.99, f"{path.name}: only {inside:.3f} of real retrievals inside the swath"


def test_unknown_pass_is_rejected():
    with pytest.raises(ValueError, match="pass"):
        swath.observed(DAY, "X", LAT[:2], LON[:2])
