import math

import numpy as np
import pytest

from sgdsm_cloud.metrics import border_jumps, continuity_ratio, pearson_r, score


def test_scores_match_hand_computed_values():
    pred = np.array([0.2, 0.3, 0.5, 0.4])
    ref = np.array([0.1, 0.3, 0.4, 0.2])
    # d = [0.1, 0.0, 0.1, 0.2]: bias 0.1, MAE 0.1, RMSE sqrt(0.06/4), ubRMSE sqrt(0.015 - 0.01)
    s = score(pred, ref)
    assert s.n == 4
    assert s.bias == pytest.approx(0.1)
    assert s.mae == pytest.approx(0.1)
    assert s.rmse == pytest.approx(math.sqrt(0.015))
    assert s.ubrmse == pytest.approx(math.sqrt(0.005))
    # r by hand: means 0.35 and 0.25; dp = [-.15,-.05,.15,.05], dr = [-.15,.05,.15,-.05]
    # sum(dp*dr) = .0225 - .0025 + .0225 - .0025 = .04; sum dp^2 = sum dr^2 = .05
    assert s.r == pytest.approx(0.04 / 0.05)


def test_ubrmse_and_bias_identities_hold():
    rng = np.random.default_rng(1)
    ref = rng.random(200)
    pred = ref + 0.05 + rng.normal(0, 0.02, 200)
    s = score(pred, ref)
    assert s.rmse**2 == pytest.approx(s.bias**2 + s.ubrmse**2)
    assert s.ubrmse == pytest.approx(np.std(pred - ref))
    shifted = score(pred + 0.1, ref)  # a constant offset changes bias and RMSE, not ubRMSE or R
    assert shifted.bias == pytest.approx(s.bias + 0.1)
    assert shifted.ubrmse == pytest.approx(s.ubrmse)
    assert shifted.r == pytest.approx(s.r)


def test_scores_skip_non_finite_pairs_and_handle_empty_input():
    s = score(np.array([1.0, np.nan, 3.0, 5.0]), np.array([1.0, 2.0, np.nan, 4.0]))
    assert s.n == 2 and s.bias == pytest.approx(0.5) and s.rmse == pytest.approx(math.sqrt(0.5))
    empty = score(np.array([np.nan]), np.array([1.0]))
    assert empty.n == 0 and math.isnan(empty.rmse) and math.isnan(empty.r)


def test_pearson_r_is_nan_for_constant_input():
    assert math.isnan(pearson_r(np.ones(5), np.arange(5.0)))


def test_border_jumps_pair_gap_cells_with_their_outside_neighbours():
    removed = np.zeros((4, 4), dtype=bool)
    removed[1:3, 1:3] = True  # a 2x2 hole: 8 border pairs
    outside = np.full((4, 4), 0.2)
    inside = np.full((4, 4), 0.5)
    jumps = border_jumps(inside, outside, removed)
    assert jumps.size == 8
    np.testing.assert_allclose(jumps, 0.3)


def test_continuity_ratio_is_one_for_the_original_field_and_grows_with_a_seam():
    rng = np.random.default_rng(0)
    field = rng.random((10, 10))
    removed = np.zeros((10, 10), dtype=bool)
    removed[3:7, 3:7] = True
    original = border_jumps(field, field, removed)
    assert continuity_ratio(original, original) == pytest.approx(1.0)
    seam = border_jumps(field + 1.0, field, removed)
    assert continuity_ratio(seam, original) > 2.0
    assert math.isnan(continuity_ratio(np.array([np.nan]), np.array([0.1])))
