import numpy as np
import pandas as pd
import pytest

from sgdsm_cloud.validate import baselines


def test_linear_interpolation_is_exact_on_a_linear_in_time_series():
    t = np.arange(9, dtype=float)[:, None, None]
    values = (0.1 + 0.02 * t) * np.ones((9, 3, 4))
    values[4] = np.nan
    values[3, 0, 0] = np.nan  # a wider gap on one side: still exact
    values[5, 1, 1] = np.nan
    values[6, 1, 1] = np.nan
    pred = baselines.linear_interpolation(values, 4)
    np.testing.assert_allclose(pred, 0.1 + 0.02 * 4, rtol=1e-6)


def test_linear_interpolation_uses_the_one_side_available_and_keeps_observations():
    values = np.full((5, 1, 2), np.nan)
    values[0, 0, 0] = 0.3  # only before the centre
    values[2, 0, 1] = 0.25  # the centre itself is observed
    pred = baselines.linear_interpolation(values, 2)
    assert pred[0, 0] == pytest.approx(0.3)
    assert pred[0, 1] == pytest.approx(0.25)
    assert np.isnan(baselines.linear_interpolation(np.full((3, 1, 1), np.nan), 1)).all()


def test_window_mean_of_constants_is_the_constant():
    values = np.full((9, 4, 4), 0.27)
    values[4] = np.nan
    values[np.random.default_rng(0).random(values.shape) < 0.3] = np.nan
    values[:, 0, 0] = np.nan
    pred = baselines.window_mean(values, 4)
    assert np.isnan(pred[0, 0])
    np.testing.assert_allclose(pred.ravel()[1:], 0.27, rtol=1e-6)


def test_dct_pls_recovers_a_smooth_field_with_holes():
    t, y, x = np.meshgrid(np.arange(9), np.arange(48), np.arange(48), indexing="ij")
    truth = 0.25 + 0.1 * np.sin(x / 8.0) * np.cos(y / 10.0) + 0.01 * t
    values = truth.copy()
    values[4, 15:35, 15:35] = np.nan
    values[np.random.default_rng(2).random(values.shape) < 0.25] = np.nan
    pred = baselines.dct_pls(values, 4)
    hole = np.zeros((48, 48), dtype=bool)
    hole[15:35, 15:35] = True
    rmse = np.sqrt(np.mean((pred[hole] - truth[4][hole]) ** 2))
    assert rmse < 0.005  # the field's own spread is 0.07
    observed = np.isfinite(values[4])
    np.testing.assert_array_equal(pred[observed], values[4][observed].astype("float32"))


def test_smoothn_without_gaps_and_with_nothing_observed():
    y = np.linspace(0, 1, 50)
    z, s = baselines.smoothn(y, smoothing=0.0)
    np.testing.assert_allclose(z, y, atol=1e-12)
    z, s = baselines.smoothn(np.full((4, 4), np.nan))
    assert np.isnan(z).all() and np.isnan(s)


def test_dct_pls_agrees_with_pytesmo_when_installed():
    dctpls = pytest.importorskip("pytesmo.interpolate.dctpls")
    t, y, x = np.meshgrid(np.arange(9), np.arange(30), np.arange(30), indexing="ij")
    rng = np.random.default_rng(3)
    values = (
        0.2
        + 0.05 * np.sin(x / 5.0)
        + 0.03 * np.cos(y / 4.0)
        + 0.005 * t
        + rng.normal(0, 0.005, t.shape)
    )
    values[rng.random(values.shape) < 0.3] = np.nan
    ours, _ = baselines.smoothn(values)
    theirs, *_ = dctpls.smoothn(values.copy(), isrobust=False)
    np.testing.assert_allclose(ours, theirs, atol=1e-3)


def test_climatology_is_unavailable_on_short_records_and_uses_other_years_otherwise():
    short = pd.date_range("2015-04-01", periods=15, freq="D")
    assert "15 days" in baselines.climatology_unavailable(short)
    dates = pd.date_range("2013-01-01", "2016-12-31", freq="D")
    assert baselines.climatology_unavailable(dates) is None
    record = np.broadcast_to(
        dates.year.to_numpy(dtype=float)[:, None, None] / 10000, (dates.size, 2, 2)
    ).copy()
    day = int(np.flatnonzero(dates == pd.Timestamp("2015-06-15"))[0])
    observed = np.full((2, 2), np.nan)
    pred = baselines.climatology(record, dates, day, observed)
    # mean of 2013, 2014 and 2016 over the same season (2015 itself left out)
    np.testing.assert_allclose(pred, (2013 + 2014 + 2016) / 3 / 10000, rtol=1e-6)
