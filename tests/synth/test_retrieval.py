"""Retrieval failures: frozen soil by season and latitude, ice sheets, coasts, RFI, overpass time."""

from __future__ import annotations

import datetime as dt

import numpy as np

from sgdsm_cloud.grid import BBox
from sgdsm_cloud.synth import SynthConfig
from sgdsm_cloud.synth import retrieval as r
from sgdsm_cloud.synth.field import SoilMoistureField


def model(bbox: BBox) -> tuple[r.RetrievalModel, SoilMoistureField]:
    config = SynthConfig("2015-01-01", "2015-01-01", bbox=bbox)
    field = SoilMoistureField(0, config.crop)
    return r.RetrievalModel(0, config.crop, field), field


def test_boreal_soil_is_frozen_in_winter_and_thawed_in_summer():
    siberia, field = model(BBox(90, 58, 100, 62))
    winter = siberia.succeeded(dt.date(2015, 1, 15), "D")[field.land].mean()
    summer = siberia.succeeded(dt.date(2015, 7, 15), "D")[field.land].mean()
    assert winter < 0.02 and summer > 0.8


def test_night_pass_is_colder_than_day_pass():
    rockies, _ = model(BBox(-112, 38, -104, 46))
    day = dt.date(2015, 4, 1)
    difference = rockies.temperature(day, "A") - rockies.temperature(day, "D")
    np.testing.assert_allclose(difference, r.PASS_OFFSET_C["A"] - r.PASS_OFFSET_C["D"], atol=1e-4)


def test_highlands_freeze_where_the_lowlands_around_them_do_not():
    tibet, _ = model(BBox(80, 30, 96, 36))
    assert tibet.temperature(dt.date(2015, 4, 1), "D").mean() < 0
    assert r.highland_elevation(np.array([33.0]), np.array([88.0]))[0, 0] > 4
    assert r.highland_elevation(np.array([0.0]), np.array([-30.0]))[0, 0] < 0.01


def test_ice_sheets_never_retrieve():
    greenland, field = model(BBox(-50, 70, -30, 76))
    assert not greenland.succeeded(dt.date(2015, 7, 15), "A")[field.land].any()


def test_water_in_the_footprint_makes_failure_likely():
    inland = r.coast_failure_probability(np.array([1.0, 0.9]))
    coast = r.coast_failure_probability(np.array([0.8, 0.6, 0.4, 0.2]))
    assert (inland == 0).all() and (np.diff(coast) > 0).all() and 0 < coast[0] and coast[-1] < 1


def test_rfi_regions_cover_the_usa_europe_and_east_asia_only():
    lat, lon = np.array([40.0, 48.0, 35.0, -10.0]), np.array([-95.0, 10.0, 115.0, -60.0])
    weight = np.diag(r.rfi_region_weight(lat, lon))
    assert (weight[:3] > 0.9).all() and weight[3] < 0.01


def test_random_failures_are_redrawn_for_each_pass_and_day():
    brittany, field = model(BBox(-5, 46, -1, 49))  # coast: failures are random
    day = dt.date(2015, 8, 1)
    a, d, d2 = (
        brittany.succeeded(day, "A"),
        brittany.succeeded(day, "D"),
        brittany.succeeded(day + dt.timedelta(days=1), "D"),
    )
    land = field.land
    assert 0.5 < d[land].mean() < 1.0
    assert (a != d)[land].mean() > 0.02 and (d != d2)[land].mean() > 0.02
