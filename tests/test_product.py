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
    FLAG_FILLED,
    FLAG_MEANINGS,
    FLAG_NOT_FILLED,
    FLAG_NOT_LAND,
    FLAG_OBSERVED,
    SM_ATTRS,
    compose_uncertainty,
    open_seamless,
    uncertainty_attrs,
)


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
    write_cube(seamless_cube(), url)  # as written before sm_uncertainty existed
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
