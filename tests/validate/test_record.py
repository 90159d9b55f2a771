"""Opening the raw cube where a step scores it: the validated period, the days given simulated
gaps, the land masks and whether longitude wraps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.storage import Location
from sgdsm_cloud.validate.context import ScoringConfig
from sgdsm_cloud.validate.record import day_indices, open_record

DATES = pd.date_range("2017-08-10", periods=15, freq="D")
PERIOD = np.arange(2, 12)  # 2017-08-12 .. 2017-08-21


def test_day_indices_are_sorted_unique_whole_days():
    days = ("2017-08-20", "2017-08-14", "2017-08-14T18:00")
    assert day_indices(DATES, days, PERIOD) == [4, 10]


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("2017-08-11", "2017-08-11 is not in the validated period 2017-08-12..2017-08-21"),
        ("2017-08-22", "2017-08-22 is not in the validated period"),
        ("2017-08-xx", "--days takes ISO dates separated by commas, got '2017-08-xx'"),
    ],
)
def test_day_indices_reject_days_outside_the_period_and_malformed_dates(day, message):
    with pytest.raises(ConfigError, match=message):
        day_indices(DATES, ("2017-08-14", day), PERIOD)


def test_default_days_and_their_windows_lie_inside_the_period(tiny_store, tiny_land):
    config = ScoringConfig(store=Location(str(tiny_store)), start="2017-08-12", end="2017-08-22")
    record = open_record(config, half_window=4)
    np.testing.assert_array_equal(record.period, np.arange(2, 13))
    assert record.days == [6, 7, 8]  # 4 asked for, 3 days have a whole window in the period
    assert all(d - 4 >= 2 and d + 4 <= 12 for d in record.days)
    assert record.dates.equals(DATES) and record.raw.sizes["time"] == 15  # the whole record
    spread = open_record(config, half_window=1).days
    assert spread == [3, 6, 8, 11] and min(spread) - 1 >= 2 and max(spread) + 1 <= 12
    np.testing.assert_array_equal(record.land, tiny_land)
    np.testing.assert_array_equal(record.fill_land, tiny_land)  # no excluded region here
    assert not record.periodic and record.grid_cells == 48 * 64


def test_given_days_replace_the_default_ones(tiny_store):
    config = ScoringConfig(store=Location(str(tiny_store)), days=("2017-08-20, 2017-08-12",))
    assert open_record(config, half_window=4).days == [2, 10]


def test_a_global_cube_wraps_and_leaves_the_far_south_unfilled(tmp_path):
    from tests.fill.conftest import make_raw, write_raw

    url = write_raw(make_raw(days=3), str(tmp_path / "raw.zarr"))
    record = open_record(ScoringConfig(store=Location(url)), half_window=4)
    assert record.periodic
    assert record.days == [0, 1, 2]  # a record shorter than a window: every day
    south = record.lat < -60
    assert record.land[south].any() and not record.fill_land[south].any()
    assert not (record.fill_land & ~record.land).any()
    middle = ~south & (record.lat < 50)  # south of Greenland: all land is filled
    np.testing.assert_array_equal(record.fill_land[middle], record.land[middle])
