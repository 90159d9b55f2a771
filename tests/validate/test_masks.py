import numpy as np
import pytest

from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.validate.masks import (
    GapConfig,
    Square,
    default_days,
    full_windows,
    pattern_gaps,
    place_squares,
    square_gaps,
)


def observed_field(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    observed = np.ones((120, 150), dtype=bool)
    observed[:, 60:75] = False  # a swath gap
    observed[rng.random(observed.shape) < 0.002] = False  # scattered missing cells
    return observed


def test_full_windows_finds_only_fully_observed_positions():
    candidate = np.ones((5, 6), dtype=bool)
    candidate[2, 3] = False
    free = full_windows(candidate, 3)
    assert free.shape == (3, 4)
    assert not free[0, 1] and not free[2, 3] and free[0, 0]
    assert full_windows(candidate, 7).size == 0


def test_squares_lie_on_observed_land_have_the_size_and_keep_the_margin():
    observed = observed_field()
    config = GapConfig(size=27, per_day=6, margin=5, seed=3)
    gaps = square_gaps(10, observed, config)
    assert 1 <= len(gaps.squares) <= 6
    for square in gaps.squares:
        assert square.size == 27
        assert observed[square.slices].all()
    assert gaps.count == 27 * 27 * len(gaps.squares)
    for a in gaps.squares:
        for b in gaps.squares:
            if a is not b:
                apart = max(abs(a.row - b.row), abs(a.col - b.col))
                assert apart >= 27 + 5


def test_squares_are_deterministic_per_seed_and_day():
    observed = observed_field()
    config = GapConfig(per_day=4, seed=7)
    first = square_gaps(3, observed, config)
    again = square_gaps(3, observed, config)
    assert first.squares == again.squares
    assert square_gaps(4, observed, config).squares != first.squares
    other_seed = square_gaps(3, observed, GapConfig(per_day=4, seed=8))
    assert other_seed.squares != first.squares


def test_no_square_fits_when_nothing_is_observed_long_enough():
    observed = np.ones((30, 30), dtype=bool)
    observed[::10] = False
    assert place_squares(observed, 27, 5, 0, np.random.default_rng(0)) == []


def test_pattern_gaps_remove_only_cells_missing_on_the_source_day():
    observed = np.ones((80, 80), dtype=bool)
    source = np.ones((80, 80), dtype=bool)
    source[:, 30:50] = False  # the other day's swath gap
    config = GapConfig(
        mode="pattern", size=27, per_day=3, margin=0, seed=1, min_removed=0.2, max_removed=0.8
    )
    gaps = pattern_gaps(5, observed, {5: observed, 9: source}, config)
    assert gaps.squares and all(s.source_day == 9 for s in gaps.squares)
    assert not (gaps.removed & source).any()
    for s in gaps.squares:
        fraction = gaps.removed[s.slices].mean()
        assert 0.2 <= fraction <= 0.8


def test_square_growth_is_clipped_to_the_grid():
    assert Square(2, 3, 5).grown(4, (10, 10)) == (slice(0, 10), slice(0, 10))
    assert Square(5, 5, 2).grown(1, (20, 20)) == (slice(4, 8), slice(4, 8))


def test_default_days_prefer_full_windows():
    assert default_days(15, 4) == [4, 6, 8, 10]
    assert default_days(5, 2) == [0, 4]
    assert default_days(0, 3) == []


@pytest.mark.parametrize(
    "kwargs",
    [{"mode": "circles"}, {"size": 0}, {"per_day": 0}, {"min_removed": 0.9, "max_removed": 0.5}],
)
def test_gap_config_rejects_bad_values(kwargs):
    with pytest.raises(ConfigError):
        GapConfig(**kwargs)
