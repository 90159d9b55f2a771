"""Fixtures of the export tests: a ten-day cube whose observed values are whole percents (as
LPRM gives them) in a local zarr store, and the SGD-SM files' rule every written value is
checked against, read back the way the dataset's users read the files."""

from __future__ import annotations

from pathlib import Path

import netCDF4
import numpy as np
import pytest
import xarray as xr

from sgdsm_cloud.publish.export import FILL_VALUE
from tests.publish.cubes import seamless_cube, write_cube

DAYS = 10


def cube_with_uncertainty() -> xr.Dataset:
    """The test cube, observed values in whole percents (as LPRM gives them), plus an uncertainty."""
    ds = seamless_cube(days=DAYS)
    sm = ds["sm"].values.copy()
    observed = ds["flag"].values == 1
    sm[observed] = (np.round(sm[observed] * 100) / 100).astype("float32")  # e.g. 0.29 as float32
    ds["sm"].values[...] = sm
    rng = np.random.default_rng(1)
    unc = np.where(ds["flag"].values == 2, rng.uniform(0.01, 0.08, sm.shape), np.nan)
    unc = np.where(observed, 0.04, unc).astype("float32")
    ds["sm_uncertainty"] = (
        ("time", "lat", "lon"),
        unc,
        {"units": "m3 m-3", "long_name": "standard error of sm"},
    )
    return ds


def expected_percent(values: np.ndarray) -> np.ndarray:
    """The SGD-SM files' rule (docs/export.md): floor(100 sm + 0.001), fill where NaN."""
    pct = np.floor(values.astype("float64") * 100 + 0.001)
    return np.where(np.isfinite(values), pct, FILL_VALUE).astype("int16")


def read_netcdf4(path: str | Path) -> dict[str, np.ndarray]:
    """Raw stored integers and the masked/scaled view, as netCDF4 users see them."""
    with netCDF4.Dataset(path) as nc:
        raw = {}
        for name, var in nc.variables.items():
            var.set_auto_maskandscale(False)
            raw[name] = np.array(var[...])
        masked = nc["reconstructed_sm_c1"]
        masked.set_auto_maskandscale(True)
        raw["reconstructed_masked"] = np.ma.filled(masked[...].astype("float64"), np.nan)
    return raw


def check_day(path: str | Path, day: xr.Dataset) -> None:
    """Every value of ``path`` against the cube's ``day`` (same grid)."""
    got = read_netcdf4(path)
    sm, flag = day["sm"].values, day["flag"].values
    np.testing.assert_array_equal(got["reconstructed_sm_c1"], expected_percent(sm))
    np.testing.assert_array_equal(
        got["original_sm_c1"], expected_percent(np.where(flag == 1, sm, np.nan))
    )
    np.testing.assert_array_equal(got["flag"], flag)
    unc = day["sm_uncertainty"].values
    packed = np.where(np.isfinite(unc), np.rint(unc.astype("float64") * 1e4), FILL_VALUE)
    np.testing.assert_array_equal(got["reconstructed_sm_c1_uncertainty"], packed)
    np.testing.assert_allclose(got["Latitude"], day["lat"].values)
    np.testing.assert_allclose(got["Longitude"], day["lon"].values)
    pct = expected_percent(sm).astype("float64")
    np.testing.assert_array_equal(
        got["reconstructed_masked"], np.where(pct == FILL_VALUE, np.nan, pct)
    )


@pytest.fixture
def store(tmp_path) -> tuple[xr.Dataset, str]:
    """The cube of :func:`cube_with_uncertainty` and the URL of its local zarr store."""
    ds = cube_with_uncertainty()
    url = str(tmp_path / "seamless.zarr")
    write_cube(ds, url)
    return ds, url
