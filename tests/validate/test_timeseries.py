import numpy as np
import pytest

from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.validate.context import parse_points
from sgdsm_cloud.validate.timeseries import PAPER_POINTS, pick_points


def test_parse_points():
    assert parse_points("38.125,117.375; 0.375,36.875;") == [(38.125, 117.375), (0.375, 36.875)]
    assert len(PAPER_POINTS) == 6
    for bad in ("38.1", "a,b", "95,10", ";"):
        with pytest.raises(ConfigError, match="--points"):
            parse_points(bad)


def test_pick_points_prefers_well_observed_usable_cells_far_apart():
    fraction = np.zeros((20, 20))
    fraction[2, 2], fraction[3, 3], fraction[15, 15], fraction[10, 2] = 0.9, 0.95, 0.8, 0.99
    usable = np.ones((20, 20), dtype=bool)
    usable[10, 2] = False  # best cell, but not fillable land
    assert pick_points(fraction, usable, 3, 5, max_fraction=1.0) == [(3, 3), (15, 15)]
    assert pick_points(fraction, usable, 3, 5, max_fraction=0.85) == [
        (15, 15)
    ]  # series with gaps preferred
    assert pick_points(fraction, usable, 3, 5, max_fraction=0.5) == [
        (3, 3),
        (15, 15),
    ]  # none qualifies: all do
    assert pick_points(fraction, usable, 3, 5, seed=1) == pick_points(
        fraction, usable, 3, 5, seed=1
    )
