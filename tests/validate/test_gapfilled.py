"""The peer in the configuration of ESA CCI SM GAPFILLED: pytesmo's DCT-PLS over a long span of
the record on the case's crop, the hidden cells kept hidden, observations kept."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from sgdsm_cloud.validate import gapfilled
from sgdsm_cloud.validate.evaluate import Case
from sgdsm_cloud.validate.product import Crop

DAYS, NY, NX = 40, 14, 16


def smooth_record() -> xr.DataArray:
    """A smooth field that drifts slowly in time: any 3-D smoother restores it closely."""
    t, y, x = np.meshgrid(np.arange(DAYS), np.arange(NY), np.arange(NX), indexing="ij")
    values = 0.25 + 0.002 * t + 0.03 * np.sin(x / 4.0) * np.cos(y / 5.0)
    time = pd.date_range("2015-04-01", periods=DAYS)
    return xr.DataArray(
        values.astype("float32"), dims=("time", "lat", "lon"), coords={"time": time}
    )


def hidden_block_case(sm: xr.DataArray, day: int) -> Case:
    """Day ``day`` of ``sm`` on the whole grid with a 4 x 4 block hidden, in a 9-day window."""
    crop = Crop.whole((NY, NX))
    values = sm.isel(time=slice(day - 4, day + 5)).values.copy()
    removed = np.zeros((NY, NX), dtype=bool)
    removed[5:9, 6:10] = True
    reference = values[4].copy()
    values[4][removed] = np.nan
    land = np.ones((NY, NX), dtype=bool)
    return Case("block", day, crop, values, land, 4, removed, reference)


def test_without_pytesmo_it_says_why_and_how_to_install_it(monkeypatch):
    for name in ("pytesmo", "pytesmo.interpolate", "pytesmo.interpolate.dctpls"):
        monkeypatch.setitem(sys.modules, name, None)  # not installed
    reason = gapfilled.gapfilled_method(smooth_record())
    assert isinstance(reason, str) and "pytesmo is not installed" in reason
    assert reason.endswith("pip install 'sgdsm_cloud[crosscheck]'")


def test_it_fills_the_hidden_cells_from_the_long_span_and_keeps_the_observations():
    pytest.importorskip("pytesmo")
    sm = smooth_record()
    case = hidden_block_case(sm, day=20)
    fill = gapfilled.gapfilled_method(sm, gapfilled.GapfilledConfig(span_days=15))
    assert callable(fill)
    filled = fill(case)
    assert filled.shape == (NY, NX) and filled.dtype == np.float32
    np.testing.assert_array_equal(filled[~case.removed], case.values[4][~case.removed])
    # the record holds the hidden cells' true values: they must not leak into the fill, so the
    # fill differs from them, though only by the smoother's error on a smooth field
    error = np.abs(filled[case.removed] - case.reference[case.removed])
    assert 0 < error.max() < 0.005


def test_the_span_bounds_the_days_it_reads(monkeypatch):
    pytest.importorskip("pytesmo")
    sm = smooth_record()
    seen = []

    def smoothn(record, isrobust):
        seen.append((record.shape, isrobust, np.isnan(record).sum()))
        return (np.nan_to_num(record, nan=0.5),)

    import pytesmo.interpolate.dctpls as dctpls

    monkeypatch.setattr(dctpls, "smoothn", smoothn)
    config = gapfilled.GapfilledConfig(span_days=6, robust=False)
    fill = gapfilled.gapfilled_method(sm, config)
    assert callable(fill)
    case = hidden_block_case(sm, day=4)  # near the record's start: the span is cut there
    filled = fill(case)
    assert seen == [((4 + 1 + 6, NY, NX), False, 16)]  # days 0..10; only the block is missing
    np.testing.assert_array_equal(filled[case.removed], 0.5)
    assert "+-6 days" in config.describe() and "robust weights off" in config.describe()
