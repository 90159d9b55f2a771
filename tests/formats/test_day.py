"""``read_day``: one entry point for paths, bytes and file objects; broken bytes never escape as crashes."""

from __future__ import annotations

import io

import numpy as np
import pytest

from sgdsm_cloud.errors import BadInputFile
from sgdsm_cloud.formats import read_day
from sgdsm_cloud.formats.checks import check_physical_range

FIRST = "LPRM-AMSR2_L3_D_SOILM3_V001_20150401013507.nc4"


def test_path_bytes_and_file_object_give_the_same_day(real_lprm_dir):
    path = real_lprm_dir / FIRST
    data = path.read_bytes()
    from_path = read_day(str(path), variable="x")
    from_bytes = read_day(data, FIRST, variable="x")
    from_file = read_day(io.BytesIO(data), FIRST, variable="x")
    for day in (from_bytes, from_file):
        assert day.name == from_path.name == FIRST
        np.testing.assert_array_equal(day.values, from_path.values)


@pytest.mark.parametrize("cut", [0, 100, 1_000_000])
def test_truncated_bytes_are_a_bad_input_not_a_crash(real_lprm_dir, cut):
    data = (real_lprm_dir / FIRST).read_bytes()[:cut]
    with pytest.raises(BadInputFile, match="not a readable HDF5/netCDF4 file") as info:
        read_day(data, FIRST, variable="x")
    assert info.value.path == FIRST


def test_valid_fraction_and_dataarray(real_lprm_dir):
    day = read_day(str(real_lprm_dir / FIRST), variable="x")
    assert day.valid_fraction == pytest.approx(np.isfinite(day.values).mean())
    da = day.to_dataarray()
    assert (
        da.dims == ("lat", "lon")
        and da.attrs["units"] == "m3 m-3"
        and da.attrs["source_file"] == FIRST
    )


def test_physical_range_accepts_nan_and_bounds():
    check_physical_range("f", np.array([0.0, 100.0, np.nan]))
    with pytest.raises(BadInputFile, match="min -1"):
        check_physical_range("f", np.array([-1.0, 5.0]))
    with pytest.raises(BadInputFile, match="infinite"):
        check_physical_range("f", np.array([1.0, -np.inf]))
