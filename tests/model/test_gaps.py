"""The simulated-gap library: real masks over land, strata, the day rule, the cap."""

from __future__ import annotations

import numpy as np
import pytest

from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.model.config import TrainConfig
from sgdsm_cloud.model.gaps import GapLibrary
from sgdsm_cloud.model.sampling import DayReader, Period, scan

from .cubes import in_memory_cube, smooth_cube

HW = 4
CONFIG = TrainConfig(
    patch=8, stride=4, min_label_fraction=0.7, min_neighbour_coverage=0.9, slab_days=5
)


def test_gap_library_holds_real_day_masks_over_land_in_the_strata(small_cube):
    observed, land, reader = small_cube
    _, library = scan(reader, CONFIG, HW, np.random.default_rng(0))
    obs = np.isfinite(observed) & land
    p, edges = CONFIG.patch, np.asarray(CONFIG.gap_bins)
    assert len(library) > 20 and len(set(library.strata.tolist())) > 1
    for mask, day, stratum in zip(library.masks, library.days, library.strata):
        fraction = 1.0 - mask.mean()
        assert edges[stratum] < fraction <= edges[stratum + 1]
        windows = [
            obs[day, r : r + p, c : c + p]
            for r in range(0, land.shape[0] - p + 1, CONFIG.stride)
            for c in range(0, land.shape[1] - p + 1, CONFIG.stride)
            if land[r : r + p, c : c + p].all()
        ]
        assert any(np.array_equal(mask, w) for w in windows)


def test_draws_never_use_a_mask_of_the_sample_day():
    day_of_mask = np.array([0, 1, 0, 1, 0])
    masks = np.stack([np.full((2, 2), day == 0) for day in day_of_mask])  # day-0 masks are all True
    library = GapLibrary(masks, day_of_mask, np.array([0, 0, 1, 1, 2]))  # stratum 2: day 0 only
    for seed in range(50):
        drawn = library.draw(np.random.default_rng(seed), np.zeros(200, dtype=int))
        assert drawn.shape == (200, 2, 2)
        assert not drawn.any(), f"seed {seed} drew a mask of the sample's own day"
    mixed = library.draw(np.random.default_rng(0), np.array([0, 1] * 100))
    assert not mixed[0::2].any() and mixed[1::2].all()


def test_a_library_of_the_sample_day_alone_is_an_error():
    library = GapLibrary(np.ones((2, 2, 2), bool), np.array([3, 3]), np.array([0, 1]))
    with pytest.raises(ConfigError, match="masks of a single day only"):
        library.draw(np.random.default_rng(0), np.array([3]))
    assert library.draw(np.random.default_rng(0), np.array([4])).shape == (1, 2, 2)


def test_library_size_is_capped():
    _, observed, land = smooth_cube(days=6, ny=20, nx=20)
    reader = DayReader(in_memory_cube(observed, land), Period(0, 6))
    config = TrainConfig(patch=8, stride=2, gap_library_size=8, min_label_fraction=0.5)
    _, library = scan(reader, config, HW, np.random.default_rng(0))
    assert 0 < len(library) <= 8
