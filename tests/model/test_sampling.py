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
