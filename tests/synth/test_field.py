"""The truth field: physical bounds, climate contrasts, memory and exponential dry-down."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from sgdsm_cloud.grid import BBox
from sgdsm_cloud.synth import SynthConfig
from sgdsm_cloud.synth.field import (
    MEMORY_DAYS,
    SoilMoistureField,
    climate_wetness,
    latitude_profile,
)

START = dt.date(2015, 6, 1)


def series(
    bbox: BBox, days: int, seed: int = 0
) -> tuple[SoilMoistureField, np.ndarray, np.ndarray]:
    """(field, truth (T, H, W), rain (T, H, W)) over ``days`` consecutive days from START."""
    config = SynthConfig(START, START, bbox=bbox, seed=seed)
    field = SoilMoistureField(seed, config.crop)
    dates = [START + dt.timedelta(days=k) for k in range(days)]
    return (
        field,
        np.stack([field.truth(d) for d in dates]),
        np.stack([field.rain(d) for d in dates]),
    )


@pytest.fixture(scope="module")
def europe():
    return series(BBox(-5, 42, 15, 55), 40)


def test_values_are_physical_on_land_and_nan_at_sea(europe):
    field, truth, _ = europe
    land = truth[:, field.land]
    assert np.isfinite(land).all()
    assert land.min() >= 0.02 and land.max() <= 0.5
    assert np.isnan(truth[:, ~field.land]).all() and (~field.land).any()


def test_soil_moisture_has_memory(europe):
    field, truth, _ = europe
    x = truth[:, field.land]
    anomalies = x - x.mean(axis=0)
    lag1 = (anomalies[1:] * anomalies[:-1]).sum(axis=0) / np.maximum(
        (anomalies**2).sum(axis=0), 1e-12
    )
    assert np.median(lag1) > 0.7


def test_soil_dries_down_without_rain_and_wets_up_with_it(europe):
    field, truth, rain = europe
    change = np.diff(truth, axis=0)[:, field.land]
    dry = rain[1:, field.land] == 0
    wet = rain[1:, field.land] > 0.3
    assert dry.any() and wet.any()
    assert (change[dry] <= 1e-3).all()  # only the slow seasonal drift of the base level
    assert (change[dry] < 0).mean() > 0.9
    assert (change[wet] > 0).mean() > 0.95


def test_dry_down_is_exponential_towards_the_base_level(europe):
    field, truth, rain = europe
    land = field.land
    quiet = (rain[1:4] == 0).all(axis=0) & land  # three rain-free days in a row
    x = truth[0:4][:, quiet]
    excess = x - x.min(axis=0)
    ratios = np.diff(np.log(np.maximum(x[:, (excess[0] > 0.05)] - 0.0, 1e-6)), axis=0)
    assert ratios.size and (ratios < 0).all()  # monotone decay on every quiet cell


def test_deserts_are_drier_than_the_wet_tropics():
    _, sahara, _ = series(BBox(5, 20, 15, 26), 5)
    _, congo, _ = series(BBox(15, -3, 25, 3), 5)
    assert np.nanmean(sahara) < 0.1
    assert np.nanmean(congo) > 0.2


def test_a_day_does_not_depend_on_where_the_period_starts():
    config = SynthConfig(START, START, bbox=BBox(0, 45, 4, 48))
    day = START + dt.timedelta(days=12)
    walked = SoilMoistureField(0, config.crop)
    for k in range(13):
        value = walked.truth(START + dt.timedelta(days=k))
    np.testing.assert_array_equal(SoilMoistureField(0, config.crop).truth(day), value)
    assert MEMORY_DAYS >= 45


def test_climate_wetness_follows_latitude_and_continentality():
    lat = np.array([[0.0], [24.0], [55.0]])
    assert (
        latitude_profile(np.array(0.0))
        > latitude_profile(np.array(55.0))
        > latitude_profile(np.array(24.0))
    )
    maritime = climate_wetness(lat, np.zeros((3, 1)), np.zeros((3, 1)))
    inland = climate_wetness(lat, np.ones((3, 1)), np.zeros((3, 1)))
    assert ((inland < maritime) & (maritime < 1) & (inland > 0)).all()
