"""``read_day``: one entry point for paths, bytes and file objects; broken bytes never escape as crashes."""

from __future__ import annotations

import io

import numpy as np
import pytest

from sgdsm_cloud.errors import BadInputFile
from sgdsm_cloud.formats import lprm, read_day
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


def _len_of_int(h5, parsed, variable):  # TypeError
    return len(h5["Latitude"].size)


def _attribute_of_none(h5, parsed, variable):  # AttributeError
    return h5.attrs.get("no such attribute").decode()


def _divide_by_zero(h5, parsed, variable):  # ZeroDivisionError
    return h5["Latitude"].size / (h5["Longitude"].size - h5["Longitude"].size)


@pytest.mark.parametrize(
    ("decoder", "bug"),
    [
        (_len_of_int, TypeError),
        (_attribute_of_none, AttributeError),
        (_divide_by_zero, ZeroDivisionError),
    ],
)
def test_a_bug_in_a_decoder_propagates_while_a_broken_file_is_still_quarantined(
    real_lprm_dir, monkeypatch, decoder, bug
):
    """A reader's own bug must stop the run with its traceback: quarantining every file it
    touches would turn one bug into a whole archive refused (and exit 3)."""
    data = (real_lprm_dir / FIRST).read_bytes()
    monkeypatch.setattr(lprm, "decode", decoder)
    with pytest.raises(bug):
        read_day(data, FIRST, variable="x")
    with pytest.raises(BadInputFile, match="not a readable HDF5/netCDF4 file"):
        read_day(data[:1000], FIRST, variable="x")  # truncated: still the file's fault


def test_what_reading_a_malformed_file_raises_still_quarantines(real_lprm_dir, monkeypatch):
    """KeyError and ValueError from reading the file's variables, and errors raised inside
    h5py whatever their type, say the file cannot be decoded."""
    data = (real_lprm_dir / FIRST).read_bytes()
    for decoder, reason in [
        (lambda h5, parsed, variable: h5["no_such_variable"], "cannot decode (KeyError"),
        (lambda h5, parsed, variable: h5["Latitude"][()].reshape(-1, 7919), "(ValueError"),
        (lambda h5, parsed, variable: h5["Latitude"].attrs.get(0), "(TypeError"),  # inside h5py
    ]:
        monkeypatch.setattr(lprm, "decode", decoder)
        with pytest.raises(BadInputFile, match=reason.replace("(", r"\(")):
            read_day(data, FIRST, variable="x")
