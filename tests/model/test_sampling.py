"""Training samples: the period, the store reader, patch selection, the time split."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.model.config import TrainConfig
from sgdsm_cloud.model.sampling import (
    DayReader,
    DaySplit,
    Period,
    SampleIndex,
    coverage,
    epoch_samples,
    resolve_period,
    scan,
    split_days,
    window_sums,
)

from .cubes import in_memory_cube

HW = 4
CONFIG = TrainConfig(
    patch=8, stride=4, min_label_fraction=0.7, min_neighbour_coverage=0.9, slab_days=5
)


@settings(max_examples=30, deadline=None)
@given(
    values=arrays(
        np.int8, st.tuples(st.integers(3, 9), st.integers(3, 9)), elements=st.integers(0, 1)
    ),
    size=st.integers(1, 3),
)
def test_window_sums_match_brute_force(values, size):
    sums = window_sums(values, size)
    h, w = values.shape
    expected = [
        [values[r : r + size, c : c + size].sum() for c in range(w - size + 1)]
        for r in range(h - size + 1)
    ]
    np.testing.assert_array_equal(sums, np.array(expected).reshape(sums.shape))


def test_period_selects_the_days_between_start_and_end():
    time = pd.date_range("2019-01-01", periods=10)
    assert resolve_period(time, "2019-01-03", "2019-01-05") == Period(2, 3)
    assert resolve_period(time, None, None) == Period(0, 10)
    with pytest.raises(ConfigError, match="fix --start/--end"):
        resolve_period(time, "2020-01-01", None)


def test_reader_returns_nan_outside_the_period():
    observed = np.arange(5 * 2 * 2, dtype="float32").reshape(5, 2, 2)
    reader = DayReader(in_memory_cube(observed, np.ones((2, 2), bool)), Period(1, 3))
    days = reader.read(-1, 4)
    assert np.isnan(days[0]).all() and np.isnan(days[4]).all()
    np.testing.assert_array_equal(days[1:4], observed[1:4])


def test_scan_accepts_exactly_the_patches_that_pass_every_threshold(small_cube):
    observed, land, reader = small_cube
    index, _ = scan(reader, CONFIG, HW, np.random.default_rng(0))
    obs = np.isfinite(observed) & land
    p = CONFIG.patch
    expected = set()
    for day in range(obs.shape[0]):
        others = [d for d in range(day - HW, day + HW + 1) if d != day and 0 <= d < obs.shape[0]]
        union = obs[others].any(0)
        for r in range(0, land.shape[0] - p + 1, CONFIG.stride):
            for c in range(0, land.shape[1] - p + 1, CONFIG.stride):
                lw = land[r : r + p, c : c + p]
                if lw.sum() < p * p:
                    continue
                label = obs[day, r : r + p, c : c + p].sum() / lw.sum()
                cover = union[r : r + p, c : c + p].sum() / lw.sum()
                if label >= CONFIG.min_label_fraction and cover >= CONFIG.min_neighbour_coverage:
                    expected.add((day, r, c))
    found = set(zip(index.day.tolist(), index.row.tolist(), index.col.tolist()))
    assert found == expected and len(found) > 10


def test_split_keeps_the_last_days_for_validation_behind_a_buffer_of_half_window_days():
    assert split_days(20, 0.2, buffer=4) == DaySplit(train_end=12, validation_start=16)
    assert split_days(10, 0.2, buffer=0) == DaySplit(8, 8)
    assert split_days(10, 0.0, buffer=4) == DaySplit(10, 10)
    assert not split_days(10, 0.0, buffer=4).held_out
    assert split_days(1, 0.5, buffer=4) == DaySplit(1, 1)  # one day: all of it trains
    with pytest.raises(ConfigError, match="too short to hold out 2 validation day"):
        split_days(6, 0.3, buffer=4)
    assert SampleIndex(np.arange(3), np.zeros(3), np.zeros(3)).subset(
        np.array([2])
    ).day.tolist() == [2]


def test_coverage_counts_samples_per_year_and_band_beside_the_land():
    dates = pd.date_range("2014-12-30", periods=4)
    lat = np.array([45.0, 15.0, -15.0, -45.0])  # one row per band 30..60, 0..30, -30..0, -60..-30
    land = np.array([[1, 1], [1, 0], [0, 0], [1, 0]], dtype=bool)
    index = SampleIndex(
        day=np.array([0, 1, 2, 3]), row=np.array([0, 0, 1, 3]), col=np.zeros(4, int)
    )
    shares = coverage(index, dates, lat, land, patch=1)
    assert shares["samples_by_year"] == {"2014": 0.5, "2015": 0.5}
    assert shares["samples_by_lat_band"]["30..60"] == 0.5
    assert shares["samples_by_lat_band"]["0..30"] == 0.25
    assert shares["samples_by_lat_band"]["-60..-30"] == 0.25
    assert shares["land_by_lat_band"] == {
        "-90..-60": 0.0, "-60..-30": 0.25, "-30..0": 0.0, "0..30": 0.25, "30..60": 0.5, "60..90": 0.0
    }  # fmt: skip


def test_an_epoch_draws_its_samples_from_few_slabs_when_asked():
    days = np.repeat(np.arange(100), 5)  # 5 samples a day, 100 days: 10 slabs of 10 days
    index = SampleIndex(day=days, row=np.zeros(days.size, int), col=np.arange(days.size))
    config = TrainConfig(slab_days=10, slabs_per_epoch=2, samples_per_epoch=30)
    drawn = epoch_samples(index, config, np.random.default_rng(0))
    assert len(drawn) == 30 and len(np.unique(drawn.day // 10)) <= 2
    assert (np.diff(drawn.day) >= 0).all()  # in day order, as the slabs read them
    other = epoch_samples(index, config, np.random.default_rng(1))
    assert set(np.unique(other.day // 10)) != set(np.unique(drawn.day // 10))
    everything = epoch_samples(index, TrainConfig(slab_days=10), np.random.default_rng(0))
    assert len(everything) == days.size
