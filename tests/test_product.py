"""The seamless product's opener (it refuses what ``sgdsm fill`` did not write, by name) and its
rule for the standard errors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from publish.cubes import seamless_cube, write_cube  # tests/ is on sys.path (rootdir)

import sgdsm_cloud
from sgdsm_cloud.errors import StoreContractError
from sgdsm_cloud.product import (
    EARLIER_FLAG_MEANINGS,
    FLAG_FILLED,
    FLAG_FROZEN,
    FLAG_MEANINGS,
    FLAG_NOT_FILLED,
    FLAG_NOT_LAND,
    FLAG_OBSERVED,
    compose,
    compose_uncertainty,
    frozen_gaps,
    open_seamless,
    uncertainty_attrs,
)
from sgdsm_cloud.schema import FLAG_ATTRS, FLAG_VALUES
from sgdsm_cloud.schema import PRODUCT_SM_ATTRS as SM_ATTRS


def test_open_seamless_reads_what_fill_writes_and_refuses_a_raw_cube(tmp_path):
    url, raw = str(tmp_path / "seamless.zarr"), str(tmp_path / "raw.zarr")
    write_cube(seamless_cube(uncertainty=True), url)
    ds = open_seamless(url)
    assert ds["flag"].attrs["flag_meanings"] == FLAG_MEANINGS and ds.sizes["time"] == 6
    seamless_cube(uncertainty=True).drop_vars("flag").to_zarr(
        raw, zarr_format=3, consolidated=False
    )
    with pytest.raises(StoreContractError, match=r"not a seamless sgdsm cube: missing .*'flag'"):
        open_seamless(raw)
    with pytest.raises(StoreContractError, match="run 'sgdsm fill' first"):
        open_seamless(str(tmp_path / "nothing.zarr"))


def test_a_cube_with_other_flag_meanings_is_refused(tmp_path):
    cube = seamless_cube(uncertainty=True)
    cube["flag"].attrs["flag_meanings"] = "missing observed filled"
    url = str(tmp_path / "other.zarr")
    write_cube(cube, url)
    with pytest.raises(StoreContractError, match="re-run 'sgdsm fill'"):
        open_seamless(url)


def test_the_notebook_api_loads_on_first_use():
    code = (
        "import sys, sgdsm_cloud; heavy = {'xarray', 'torch', 'dask'} & set(sys.modules); "
        "sgdsm_cloud.open_seamless; print(sorted(heavy), 'xarray' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[]", "True"]
    assert set(sgdsm_cloud.__all__) == {"__version__", "open_cube", "open_seamless", "fill_dataset"}
    assert sgdsm_cloud.fill_dataset.__module__ == "sgdsm_cloud.fill.api"
    with pytest.raises(AttributeError):
        sgdsm_cloud.no_such_thing  # noqa: B018


def test_a_cube_without_sm_uncertainty_is_refused(tmp_path):
    url = str(tmp_path / "old.zarr")
    write_cube(seamless_cube(uncertainty=False), url)  # as written before sm_uncertainty existed
    with pytest.raises(StoreContractError, match="no 'sm_uncertainty'.*re-run 'sgdsm fill'"):
        open_seamless(url)


def test_uncertainty_is_sigma_where_filled_and_the_source_error_where_observed():
    flag = np.array([[FLAG_NOT_LAND, FLAG_OBSERVED, FLAG_FILLED, FLAG_NOT_FILLED]], dtype="uint8")
    sigma = np.full(flag.shape, 0.05, dtype="float32")
    error = np.full(flag.shape, 0.04, dtype="float32")
    np.testing.assert_array_equal(
        compose_uncertainty(flag, sigma, error), np.float32([[np.nan, 0.04, 0.05, np.nan]])
    )
    np.testing.assert_array_equal(
        compose_uncertainty(flag, None, error), np.float32([[np.nan, 0.04, np.nan, np.nan]])
    )
    assert np.isnan(compose_uncertainty(flag, None, None)).all()
    assert compose_uncertainty(flag, sigma, None).dtype == np.float32


def test_the_uncertainty_attributes_name_their_sources():
    attrs = uncertainty_attrs(filled=True, observed=False)
    assert attrs["standard_name"] == "volume_fraction_of_condensed_water_in_soil standard_error"
    assert attrs["units"] == "m3 m-3"
    assert (
        "standard error predicted" in attrs["comment"] and "no error estimate" in attrs["comment"]
    )
    assert "no error model" in uncertainty_attrs(filled=False, observed=True)["comment"]
    assert SM_ATTRS["ancillary_variables"].split() == ["flag", "sm_uncertainty"]


def test_frozen_gaps_take_the_own_day_else_the_nearest_day_within_the_window():
    unknown = 255
    state = np.full((9, 1, 4), unknown, dtype="uint8")
    state[4, 0, 0] = 1  # cell 0: frozen on the day itself
    state[1, 0, 1], state[6, 0, 1] = 1, 0  # cell 1: frozen 3 days before, thawed 2 after
    state[0, 0, 2], state[8, 0, 2] = 0, 1  # cell 2: a tie at 4 days: frozen wins
    state[4, 0, 3], state[3, 0, 3] = 0, 1  # cell 3: its own day says thawed
    got = frozen_gaps(state, first=4, count=1)[0, 0]
    np.testing.assert_array_equal(got, [True, False, True, False])
    np.testing.assert_array_equal(
        frozen_gaps(state, 0, 9, window=1)[:, 0, 1], [1, 1, 1, 0, 0, 0, 0, 0, 0]
    )
    # days beyond the record are unknown: a window of 4 from the first day reaches day 4 only
    np.testing.assert_array_equal(frozen_gaps(state, 0, 1)[0, 0], [True, True, False, True])
    assert not frozen_gaps(np.full((3, 2, 2), unknown, "uint8"), 0, 3).any()


def test_compose_flags_frozen_gaps_only_and_gives_them_no_value():
    observed = np.array([[[0.2, np.nan, np.nan, np.nan]]], dtype="float32")
    fill_land = np.array([[True, True, True, False]])
    pred = np.full(observed.shape, 0.3, dtype="float32")
    reached = np.array([[[True, True, False, True]]])
    frozen = np.ones(observed.shape, dtype=bool)  # every cell frozen
    sm, flag = compose(observed, fill_land, pred, reached, (0.0, 1.0), frozen)
    # observed stays observed, both gaps (reached or not) are frozen, off land stays 0
    np.testing.assert_array_equal(
        flag[0, 0], [FLAG_OBSERVED, FLAG_FROZEN, FLAG_FROZEN, FLAG_NOT_LAND]
    )
    np.testing.assert_array_equal(np.isnan(sm[0, 0]), [False, True, True, True])
    unc = compose_uncertainty(flag, np.full(sm.shape, 0.05, "float32"), None)
    assert np.isnan(unc[flag == FLAG_FROZEN]).all()
    _, thawed = compose(observed, fill_land, pred, reached, (0.0, 1.0), ~frozen)
    np.testing.assert_array_equal(thawed[0, 0], [FLAG_OBSERVED, FLAG_FILLED, FLAG_NOT_FILLED, 0])


def test_flag_values_meanings_comment_and_figure_legend_agree():
    from sgdsm_cloud.validate.figures import FLAG_COLOURS, FLAG_NAMES

    meanings = FLAG_MEANINGS.split()
    assert list(FLAG_VALUES) == list(range(len(meanings))) == [0, 1, 2, 3, 4]
    assert meanings[FLAG_FROZEN] == "frozen" and FLAG_ATTRS["flag_meanings"] == FLAG_MEANINGS
    assert len(FLAG_NAMES) == len(FLAG_COLOURS) == len(meanings)
    assert FLAG_NAMES[FLAG_FROZEN] == "frozen"
    for value in FLAG_VALUES:
        assert f"{value}: " in FLAG_ATTRS["comment"]
    assert "273.15 K" in FLAG_ATTRS["comment"]


def test_a_cube_written_before_the_frozen_flag_still_opens(tmp_path):
    old = seamless_cube(uncertainty=True)
    old["flag"].attrs["flag_meanings"] = EARLIER_FLAG_MEANINGS[0]
    old["flag"].attrs["flag_values"] = np.array([0, 1, 2, 3], dtype="uint8")
    write_cube(old, str(tmp_path / "old.zarr"))
    assert (
        open_seamless(str(tmp_path / "old.zarr"))["flag"]
        .attrs["flag_meanings"]
        .endswith("not_filled")
    )
