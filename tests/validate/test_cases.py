"""The cases the gap programmes score, cut from the tiny cube: which cells are hidden and scored,
what each method sees (the window, the halo, the days beyond the record), and the truth field."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from sgdsm_cloud import cube
from sgdsm_cloud.errors import StoreContractError
from sgdsm_cloud.storage import Location
from sgdsm_cloud.validate import cases
from sgdsm_cloud.validate.cases import (
    draw_gaps,
    evenly,
    simulated_cases,
    truth_cases,
    truth_field,
)
from sgdsm_cloud.validate.masks import DayGaps, GapConfig, Square
from tests.validate.conftest import smooth_field

SQUARES = GapConfig(size=9, per_day=3, margin=2)
HALF_WINDOW = 4


@pytest.fixture(scope="module")
def sm(tiny_raw) -> xr.DataArray:
    return tiny_raw[cube.SM].load()


@pytest.fixture(scope="module")
def dates(tiny_raw) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(tiny_raw["time"].values)


def observed(sm: xr.DataArray, day: int) -> np.ndarray:
    return np.isfinite(sm.values[day])


def test_evenly_keeps_few_values_and_spreads_many():
    few = np.arange(3, 8)
    assert evenly(few, 5) is few and evenly(few, 9) is few
    np.testing.assert_array_equal(evenly(np.arange(100), 5), [0, 25, 50, 74, 99])
    spread = evenly(np.arange(10, 20), 3)
    np.testing.assert_array_equal(spread, [10, 14, 19])  # the ends always, no repeat


def test_square_gaps_hide_whole_blocks_of_observed_fillable_land(sm, tiny_land):
    fillable = tiny_land.copy()
    fillable[:, :32] = False  # only the eastern half is filled
    gaps = draw_gaps(sm, fillable, [6, 13], SQUARES, np.arange(15))
    assert [g.day for g in gaps] == [6, 13]
    for g in gaps:
        assert g.squares and g.count == 81 * len(g.squares)
        assert not (g.removed & ~(observed(sm, g.day) & fillable)).any()
        assert all(s.col >= 32 and s.source_day is None for s in g.squares)


def test_pattern_gaps_borrow_their_shape_from_days_spread_over_the_period(
    sm, tiny_land, monkeypatch
):
    monkeypatch.setattr(cases, "MAX_PATTERN_SOURCES", 3)  # sources: days 2, 6 and 11
    config = GapConfig(mode="pattern", size=9, per_day=3, margin=2)
    gaps = draw_gaps(sm, tiny_land, [6, 9], config, np.arange(2, 12))
    sources = {s.source_day for g in gaps for s in g.squares}
    assert sources and sources <= {2, 11}  # never the day itself
    for g in gaps:
        assert not (g.removed & ~(observed(sm, g.day) & tiny_land)).any()
        inside = np.zeros_like(g.removed)
        for s in g.squares:
            inside[s.slices] = True
            assert not (g.removed[s.slices] & observed(sm, s.source_day)[s.slices]).any()
        assert not (g.removed & ~inside).any()


def test_simulated_cases_hide_every_gap_of_the_day_and_score_their_own_block(sm, dates, tiny_land):
    gaps = draw_gaps(sm, tiny_land, [6], SQUARES, np.arange(15))
    halo = 12  # wide enough to reach the next block
    found = simulated_cases(sm, tiny_land, dates, gaps, halo, HALF_WINDOW, False)
    (day,) = gaps
    assert len(found) == len(day.squares)
    neighbours = 0
    for case, square in zip(found, day.squares, strict=True):
        assert case.label == f"2017-08-16 row {square.row} col {square.col}"
        assert case.day == 6 and case.centre == HALF_WINDOW and case.fill_land is None
        assert case.values.shape == (9, case.crop.rows.size, case.crop.cols.size)
        block = np.zeros_like(case.removed)
        block[case.crop.core] = True
        np.testing.assert_array_equal(case.removed, block)  # a whole square of observed land
        np.testing.assert_array_equal(case.reference, case.crop.take(sm.values[6]))
        np.testing.assert_array_equal(case.land, case.crop.take(tiny_land))
        hidden = case.crop.take(day.removed)
        assert np.isnan(case.values[HALF_WINDOW][hidden]).all()
        kept = ~hidden  # everything else is the cube as it is
        np.testing.assert_array_equal(case.values[HALF_WINDOW][kept], case.reference[kept])
        np.testing.assert_array_equal(case.values[0], case.crop.take(sm.values[2]))
        neighbours += int((hidden & ~case.removed).sum())  # another block: hidden, not scored
    assert neighbours > 0


def test_cases_at_the_records_ends_see_no_day_beyond_it(sm, dates, tiny_land):
    corner = Square(0, 55, 9)  # the north-east corner: the crop is clipped there
    removed = np.zeros(tiny_land.shape, dtype=bool)
    removed[corner.slices] = True
    gaps = [DayGaps(13, (corner,), removed & observed(sm, 13)),
            DayGaps(1, (corner,), removed & observed(sm, 1))]  # fmt: skip
    late, early = simulated_cases(sm, tiny_land, dates, gaps, 6, HALF_WINDOW, False, tiny_land)
    assert late.values.shape == early.values.shape == (9, 15, 15)
    assert late.crop.core == (slice(0, 9), slice(6, 15))
    assert np.isnan(late.values[HALF_WINDOW + 2 :]).all()  # days 15..17 do not exist
    np.testing.assert_array_equal(late.values[HALF_WINDOW + 1], late.crop.take(sm.values[14]))
    assert np.isnan(early.values[:3]).all()  # days -3..-1
    np.testing.assert_array_equal(early.values[3], early.crop.take(sm.values[0]))
    np.testing.assert_array_equal(late.fill_land, late.crop.take(tiny_land))
    assert late.removed.sum() == (removed & observed(sm, 13)).sum() > 0

    (wrapped,) = simulated_cases(sm, tiny_land, dates, gaps[:1], 6, HALF_WINDOW, True)
    assert wrapped.values.shape == (9, 15, 21)  # across the dateline on a global grid
    np.testing.assert_array_equal(wrapped.values[0][:, -6:], sm.values[9][:15, :6])


def test_truth_cases_score_the_real_gaps_of_fillable_land_against_the_truth(sm, dates, tiny_land):
    truth = xr.DataArray(smooth_field().astype("float64"), coords=sm.coords, dims=sm.dims)
    fillable = tiny_land.copy()
    fillable[40:] = False  # a southern strip the product leaves out
    first, last = truth_cases(sm, truth, tiny_land, fillable, dates, [3, 14], HALF_WINDOW)
    assert (first.label, last.label) == ("2017-08-13", "2017-08-24")
    for case in (first, last):
        assert case.values.shape == (9, 48, 64) and case.centre == HALF_WINDOW
        np.testing.assert_array_equal(case.removed, fillable & ~observed(sm, case.day))
        assert case.reference.dtype == np.float32
        np.testing.assert_array_equal(case.reference, smooth_field()[case.day])
        np.testing.assert_array_equal(case.fill_land, fillable)
        np.testing.assert_array_equal(case.values[HALF_WINDOW], sm.values[case.day])
    assert np.isnan(last.values[HALF_WINDOW + 1 :]).all()  # the record ends on day 14

    (wrapped,) = truth_cases(sm, truth, tiny_land, fillable, dates, [3], HALF_WINDOW, halo=5,
                             periodic=True)  # fmt: skip
    assert wrapped.values.shape == (9, 48, 74)
    assert wrapped.crop.core == (slice(0, 48), slice(5, 69))
    np.testing.assert_array_equal(wrapped.removed[wrapped.crop.core], first.removed)
    halo_gaps = np.isnan(wrapped.values[HALF_WINDOW][:, :5]) & wrapped.fill_land[:, :5]
    assert halo_gaps.any() and not wrapped.removed[:, :5].any()  # the halo is not scored
    assert not wrapped.removed[:, -5:].any()


def write_truth(path, lat, lon, name: str = "sm", days: int = 2) -> Location:
    values = 100.0 * np.arange(lat.size)[:, None] + np.arange(lon.size)[None, :]
    field = np.broadcast_to(values, (days, lat.size, lon.size))
    time = pd.date_range("2017-08-10", periods=days, freq="D")
    xr.Dataset({name: (("time", "lat", "lon"), field)},
               coords={"time": time, "lat": lat, "lon": lon}).to_zarr(path)  # fmt: skip
    return Location(str(path))


def test_truth_field_aligns_the_truth_on_the_cubes_cells(tmp_path):
    lat = 42.0 - 0.125 - 0.25 * np.arange(10)
    lon = -104.0 + 0.125 + 0.25 * np.arange(12)
    larger = write_truth(tmp_path / "larger.zarr", lat, lon)
    inner_lat, inner_lon = lat[2:8] + 1e-5, lon[3:11] - 1e-5  # float32 centres
    field = truth_field(larger, inner_lat, inner_lon)
    assert field.dims == ("time", "lat", "lon") and field.shape == (2, 6, 8)
    expected = 100.0 * np.arange(2, 8)[:, None] + np.arange(3, 11)[None, :]
    np.testing.assert_array_equal(field.values[1], expected)

    smaller = write_truth(tmp_path / "smaller.zarr", lat[2:8], lon[3:11], name="truth")
    field = truth_field(smaller, lat, lon).values[0]
    assert np.isnan(field[:2]).all() and np.isnan(field[:, :3]).all()  # no truth there
    np.testing.assert_array_equal(field[2:8, 3:11], 100.0 * np.arange(6)[:, None] + np.arange(8))


def test_truth_field_names_what_is_wrong_with_the_store(tmp_path):
    lat, lon = np.array([1.5, 1.0]), np.array([3.0, 3.5])
    with pytest.raises(StoreContractError, match="run 'sgdsm synth' first"):
        truth_field(Location(str(tmp_path / "missing.zarr")), lat, lon)
    wrong = write_truth(tmp_path / "wrong.zarr", lat, lon, name="soil")
    with pytest.raises(StoreContractError, match=r"expected a 'sm\(time, lat, lon\)' truth"):
        truth_field(wrong, lat, lon)
