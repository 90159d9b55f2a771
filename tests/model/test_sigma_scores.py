"""Scores of a standard error: coverage, reliability, spread-skill and the coverage factor."""

from __future__ import annotations

import numpy as np

from sgdsm_cloud.model.sigma_scores import calibration_scores, coverage_scale


def test_heavy_tails_get_a_scale_that_balances_both_intervals():
    rng = np.random.default_rng(1)
    z = rng.laplace(size=50_000)
    scale = coverage_scale(z)
    cover1, cover2 = np.mean(np.abs(z) <= scale), np.mean(np.abs(z) <= 2 * scale)
    assert cover1 > 0.683 and cover2 < 0.954  # a Laplace cannot meet both ...
    assert abs(abs(cover1 - 0.683) - abs(cover2 - 0.954)) < 0.01  # ... so the misses balance


def test_calibration_scores_deciles_and_reliability():
    rng = np.random.default_rng(5)
    sigma = rng.uniform(0.01, 0.1, 10_000)
    scores = calibration_scores(rng.normal(0, sigma), sigma)
    assert len(scores.deciles) == 10 and sum(d["n"] for d in scores.deciles) == 10_000
    assert scores.spread_skill_r > 0.95
    for nominal, observed in scores.reliability:
        assert abs(observed - nominal) < 0.03
    wide = calibration_scores(rng.normal(0, sigma), 3 * sigma)
    assert wide.coverage[0] > 0.95


def test_no_finite_pair_scores_nothing():
    scores = calibration_scores(np.array([np.nan, 0.1]), np.array([0.1, 0.0]))
    assert scores.n == 0 and np.isnan(scores.rmse) and scores.deciles == []
    assert coverage_scale(np.array([np.nan])) == 1.0
