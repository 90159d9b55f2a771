"""The gap fillers the report compares, called on hand-made cases: each fills the hidden cells
where it can and keeps what was observed; the climatology and pytesmo fillers say when they can
not run."""

from __future__ import annotations

import dataclasses
import sys
import types
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from sgdsm_cloud import cube
from sgdsm_cloud.product import FLAG, FLAG_MEANINGS, SM, SM_UNCERTAINTY
from sgdsm_cloud.validate import methods
from sgdsm_cloud.validate.evaluate import Case
from sgdsm_cloud.validate.product import Crop, ModelFiller, StoreProduct

SHAPE = (12, 12)
CENTRE = 4


def block_case(values: np.ndarray, day: int = 7, crop: Crop | None = None) -> Case:
    """``values`` (window, 12, 12) with a 4 x 4 block hidden on the centre day."""
    removed = np.zeros(values.shape[1:], dtype=bool)
    removed[4:8, 4:8] = True
    reference = values[CENTRE].astype("float32")
    values = values.astype("float32")
    values[CENTRE][removed] = np.nan
    land = np.ones(values.shape[1:], dtype=bool)
    return Case("block", day, crop or Crop.whole(SHAPE), values, land, CENTRE, removed, reference)


def linear_in_time() -> np.ndarray:
    t, y, x = np.meshgrid(np.arange(9), np.arange(12), np.arange(12), indexing="ij")
    return 0.2 + 0.005 * t + 0.02 * np.sin(x / 3.0) * np.cos(y / 4.0)


@pytest.mark.parametrize(
    ("name", "tolerance"),
    [
        (methods.LINEAR, 1e-6),
        (methods.WINDOW_MEAN, 1e-6),  # a symmetric window of a linear trend
        (methods.WINDOW_ANOMALY, 1e-6),  # the same, and no anomaly around the block
        (methods.DCT_PLS, 0.005),
    ],
)
def test_baselines_fill_the_hidden_block_and_keep_the_observed_cells(name, tolerance):
    case = block_case(linear_in_time())
    filled = methods.baseline_methods()[name](case)
    assert filled.shape == SHAPE and filled.dtype == np.float32
    observed = ~case.removed
    np.testing.assert_array_equal(filled[observed], case.values[CENTRE][observed])
    np.testing.assert_allclose(filled[case.removed], case.reference[case.removed], atol=tolerance)


def test_the_baselines_are_the_four_reference_methods():
    assert list(methods.baseline_methods()) == [
        methods.LINEAR, methods.WINDOW_MEAN, methods.WINDOW_ANOMALY, methods.DCT_PLS,
    ]  # fmt: skip


def test_model_method_fills_the_gaps_of_fillable_land_by_the_product_rule():
    calls = []

    def predict(values, land, centres):
        calls.append((values, land, centres))
        pred = np.full((len(centres), *values.shape[1:]), 1.5, dtype="float32")
        reached = np.ones(pred.shape, dtype=bool)
        reached[:, :, 7] = False  # the network does not reach one column
        return pred, reached

    filler = ModelFiller(predict, half_window=4, receptive_radius=3, valid_range=(0.0, 0.6))
    case = block_case(linear_in_time())
    fill_land = np.ones(SHAPE, dtype=bool)
    fill_land[6:] = False  # the block's southern half lies in an excluded region
    case = dataclasses.replace(case, fill_land=fill_land)
    filled = methods.model_method(filler)(case)
    ((values, land, centres),) = calls
    np.testing.assert_array_equal(values, case.values)
    np.testing.assert_array_equal(land, case.land)  # the network's mask, not the fillable cells
    assert list(centres) == [CENTRE]
    observed = ~case.removed & fill_land
    np.testing.assert_array_equal(filled[observed], case.values[CENTRE][observed])
    np.testing.assert_array_equal(filled[4:6, 4:7], np.float32(0.6))  # clamped to the valid range
    assert np.isnan(filled[4:6, 7]).all()  # not reached
    assert np.isnan(filled[6:]).all()  # not fillable, observed or not


def test_store_method_reads_the_stored_day_on_the_cases_crop():
    times = pd.date_range("2017-08-10", periods=5, freq="D")
    t, y, x = np.meshgrid(np.arange(5), np.arange(6), np.arange(8), indexing="ij")
    sm = (t * 100 + y * 10 + x).astype("float32")
    dims = ("time", "lat", "lon")
    filled = xr.Dataset(
        {SM: (dims, sm), FLAG: (dims, np.ones(sm.shape, "uint8"), {"flag_meanings": FLAG_MEANINGS}),
         SM_UNCERTAINTY: (dims, np.zeros(sm.shape, "float32"))},
        coords={"time": times, "lat": np.arange(6.0)[::-1], "lon": np.arange(8.0)},
    )  # fmt: skip
    product = StoreProduct(filled, times.values)
    crop = Crop.around((1, 3), (6, 8), 1, (6, 8), periodic=True)  # wraps past the last column
    case = block_case(np.zeros((9, crop.rows.size, crop.cols.size)), day=3, crop=crop)
    values = methods.store_method(product)(case)
    np.testing.assert_array_equal(values, crop.take(sm[3]))
    assert values.shape == (4, 4) and values[0, -1] == 300  # row 0, column 0 past the edge


def test_climatology_method_averages_the_same_season_of_the_other_years():
    dates = pd.date_range("2013-01-01", "2016-12-31", freq="D")
    years = (dates.year.to_numpy() - 2000)[:, None, None] / 100.0
    record = years + 0.01 * np.arange(4)[None, None, :] + np.zeros((1, 3, 1))
    sm = xr.DataArray(record.astype("float32"), dims=("time", "lat", "lon"))
    day = int(np.flatnonzero(dates == pd.Timestamp("2015-06-15"))[0])
    crop = Crop.around((1, 3), (1, 3), 0, (3, 4), periodic=False)
    window = np.full((9, 2, 2), np.nan)
    window[CENTRE, 0, 0] = 0.42  # observed: kept
    case = Case("2015-06-15", day, crop, window, np.ones((2, 2), bool), CENTRE,
                np.ones((2, 2), bool), np.zeros((2, 2)))  # fmt: skip
    filled = methods.climatology_method(sm, dates)(case)
    others = (13 + 14 + 16) / 3 / 100.0  # 2015 itself is left out
    expected = [[0.42, others + 0.02], [others + 0.01, others + 0.02]]
    np.testing.assert_allclose(filled, expected, rtol=1e-5)


def test_climatology_of_a_short_record_fills_nothing(tiny_raw):
    sm = tiny_raw[cube.SM]
    dates = pd.DatetimeIndex(tiny_raw["time"].values)
    crop = Crop.around((20, 32), (20, 32), 0, (48, 64), periodic=False)
    case = block_case(crop.take(sm.values[3:12]), day=7, crop=crop)
    filled = methods.climatology_method(sm, dates)(case)
    assert np.isnan(filled[case.removed]).all()  # no other year to average
    np.testing.assert_array_equal(filled[~case.removed], case.values[CENTRE][~case.removed])


def test_pytesmo_method_gives_the_reason_it_cannot_run(monkeypatch):
    for name in ("pytesmo", "pytesmo.interpolate", "pytesmo.interpolate.dctpls"):
        monkeypatch.setitem(sys.modules, name, None)  # not installed
    reason = methods.pytesmo_method()
    assert isinstance(reason, str)
    assert reason.startswith("pytesmo is not installed (pytesmo")
    assert reason.endswith("pip install 'sgdsm_cloud[crosscheck]'")


def test_pytesmo_method_keeps_observations_and_skips_windows_with_nothing_observed(monkeypatch):
    calls = []

    def smoothn(y, isrobust):
        calls.append((y.dtype, isrobust))
        warnings.warn("s reached its bound", UserWarning, stacklevel=1)
        return np.full(y.shape, 0.33), 1.0, True  # a smoother changes observed cells too

    dctpls = types.ModuleType("pytesmo.interpolate.dctpls")
    dctpls.smoothn = smoothn
    for name in ("pytesmo", "pytesmo.interpolate"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "pytesmo.interpolate.dctpls", dctpls)
    fill = methods.pytesmo_method()
    assert callable(fill)
    case = block_case(linear_in_time())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # its warning about the smoothing bound is silenced
        filled = fill(case)
    assert calls == [(np.float64, False)]
    np.testing.assert_allclose(filled[case.removed], 0.33)
    np.testing.assert_array_equal(filled[~case.removed], case.values[CENTRE][~case.removed])
    empty = fill(block_case(np.full((9, *SHAPE), np.nan)))
    assert len(calls) == 1 and empty.shape == SHAPE and np.isnan(empty).all()
