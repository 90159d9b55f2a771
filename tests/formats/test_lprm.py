"""LPRM reader: real GES DISC files checked against values read independently with h5py."""

from __future__ import annotations

import datetime as dt

import h5netcdf
import h5py
import numpy as np
import pytest

from sgdsm_cloud.errors import BadInputFile
from sgdsm_cloud.formats import lprm, read_day
from sgdsm_cloud.grid import global_lat, global_lon

FIRST = "LPRM-AMSR2_L3_D_SOILM3_V001_20150401013507.nc4"


def independent(path, variable: str) -> np.ndarray:
    """(lat, lon) m3 m-3 straight from the file: stored (Longitude, Latitude) int16 percent, fill -32767."""
    with h5py.File(path, "r") as h5:
        raw = h5[variable][()]
    assert raw.dtype == np.int16 and raw.shape == (1440, 720)
    return np.where(raw == -32767, np.nan, raw / 100.0).T.astype("float32")


def test_every_real_file_matches_an_independent_h5py_read(real_lprm_dir):
    paths = sorted(real_lprm_dir.glob("*.nc4"))
    assert len(paths) == 15
    for day_number, path in enumerate(paths, start=1):
        day = read_day(str(path), variable="x")
        assert day.date == dt.date(2015, 4, day_number) and day.pass_ == "D"
        np.testing.assert_array_equal(day.values, independent(path, "soil_moisture_x"))
        np.testing.assert_array_equal(day.lat, global_lat(0.25))
        np.testing.assert_array_equal(day.lon, global_lon(0.25))


def test_real_first_day_has_c1_retrievals_and_expected_counts(real_lprm_dir):
    day = read_day(str(real_lprm_dir / FIRST), variable="soil_moisture_c1")
    np.testing.assert_array_equal(
        day.values, independent(real_lprm_dir / FIRST, "soil_moisture_c1")
    )
    valid = np.isfinite(day.values)
    assert 0 < valid.sum() < 0.2 * valid.size
    assert 0.0 <= np.nanmin(day.values) and np.nanmax(day.values) <= 1.0


def test_band_missing_from_later_real_days_is_all_fill(real_lprm_dir):
    path = sorted(real_lprm_dir.glob("*0402*.nc4"))[0]
    with pytest.raises(BadInputFile, match="all fill"):
        read_day(str(path), variable="c1")
    empty = read_day(str(path), variable="c1", allow_empty=True)
    assert np.isnan(empty.values).all()


def test_unknown_variable_names_what_the_file_has(real_lprm_dir):
    with pytest.raises(BadInputFile, match=r"no variable 'soil_moisture_ku'.*soil_moisture_x"):
        read_day(str(real_lprm_dir / FIRST), variable="ku")


def test_variable_short_names():
    assert lprm.variable_name("x") == "soil_moisture_x"
    assert lprm.variable_name("soil_moisture_c2") == "soil_moisture_c2"
    assert lprm.variable_name(None) == lprm.DEFAULT_VARIABLE


def test_write_then_read_round_trips_a_regional_grid(tmp_path):
    lat, lon = global_lat(0.25)[100:120], global_lon(0.25)[200:240]
    fraction = np.linspace(0, 1, lat.size * lon.size).reshape(lat.size, lon.size)
    fraction[3, 5] = np.nan
    path = tmp_path / lprm.file_name(dt.date(2016, 1, 2), "A")
    lprm.write(path, fraction, lat, lon, variable="soil_moisture_x")
    day = read_day(str(path), variable="x")
    assert day.pass_ == "A" and day.date == dt.date(2016, 1, 2)
    np.testing.assert_array_equal(day.lat, lat)
    np.testing.assert_array_equal(day.lon, lon)
    expected = np.where(np.isfinite(fraction), np.round(fraction * 100) / 100, np.nan).astype(
        "float32"
    )
    np.testing.assert_array_equal(day.values, expected)


def test_south_up_and_0_360_files_come_out_north_up_and_ascending(tmp_path):
    lat = global_lat(0.25)[::-1]  # south-up
    lon = (global_lon(0.25) + 360) % 360  # 0..360, starting at 180.125
    lon = np.sort(lon)
    fraction = np.full((lat.size, lon.size), np.nan)
    fraction[0, 0] = 0.12  # southernmost row, lon 0.125
    fraction[-1, -1] = 0.34  # northernmost row, lon 359.875 == -0.125
    path = tmp_path / lprm.file_name(dt.date(2016, 1, 2))
    lprm.write(path, fraction, lat, lon, variable="soil_moisture_x")
    day = read_day(str(path), variable="x")
    np.testing.assert_array_equal(day.lat, global_lat(0.25))
    np.testing.assert_allclose(day.lon, global_lon(0.25))
    assert day.values[-1, np.argmin(np.abs(day.lon - 0.125))] == np.float32(0.12)
    assert day.values[0, np.argmin(np.abs(day.lon + 0.125))] == np.float32(0.34)
    assert np.isfinite(day.values).sum() == 2


def test_latitude_longitude_order_is_read_from_dimension_names(tmp_path):
    lat, lon = global_lat(0.25)[:20], global_lon(0.25)[:40]
    percent = np.arange(lat.size * lon.size, dtype="int16").reshape(lat.size, lon.size) % 90
    path = tmp_path / lprm.file_name(dt.date(2016, 1, 2))
    with h5netcdf.File(path, "w") as nc:
        nc.dimensions = {"Latitude": lat.size, "Longitude": lon.size}
        nc.create_variable("Latitude", ("Latitude",), "float32", data=lat)
        nc.create_variable("Longitude", ("Longitude",), "float32", data=lon)
        nc.create_variable(
            "soil_moisture_x", ("Latitude", "Longitude"), "int16", data=percent, fillvalue=-32767
        )
    day = read_day(str(path), variable="x")
    np.testing.assert_array_equal(day.values, (percent / 100.0).astype("float32"))


def test_scale_factor_and_offset_are_applied(tmp_path):
    lat, lon = global_lat(0.25)[:20], global_lon(0.25)[:40]
    path = tmp_path / lprm.file_name(dt.date(2016, 1, 2))
    with h5py.File(path, "w") as h5:
        h5["Latitude"], h5["Longitude"] = lat.astype("float32"), lon.astype("float32")
        ds = h5.create_dataset("soil_moisture_x", data=np.full((lon.size, lat.size), 2500, "int16"))
        ds.attrs.update(
            {
                "_FillValue": np.int16(-32767),
                "scale_factor": np.float32(0.01),
                "add_offset": np.float32(5),
            }
        )
    day = read_day(str(path), variable="x")
    np.testing.assert_allclose(day.values, 0.30, rtol=1e-6)


@pytest.mark.parametrize(
    ("data", "attrs", "reason"),
    [
        (np.full((40, 20), 101, "int16"), {}, "outside the physical range"),
        (np.full((40, 20), -5, "int16"), {}, "outside the physical range"),
        (np.full((40, 20), np.inf, "float32"), {}, "infinite values"),
        (np.full((40, 20), np.nan, "float32"), {"_FillValue": np.float32(-32767)}, "holds NaN"),
        (np.full((20, 40), 30, "int16"), {}, "axes swapped"),
        (np.full((40, 20), 30, "uint8"), {}, "has dtype uint8"),
    ],
)
def test_untrustworthy_content_is_refused(tmp_path, data, attrs, reason):
    lat, lon = global_lat(0.25)[:20], global_lon(0.25)[:40]
    path = tmp_path / lprm.file_name(dt.date(2016, 1, 2))
    with h5py.File(path, "w") as h5:
        h5["Latitude"], h5["Longitude"] = lat.astype("float32"), lon.astype("float32")
        h5.create_dataset("soil_moisture_x", data=data).attrs.update(attrs)
    with pytest.raises(BadInputFile, match=reason) as info:
        read_day(str(path), variable="x")
    assert info.value.path == path.name


def test_nan_is_missing_when_the_declared_fill_is_nan(tmp_path):
    lat, lon = global_lat(0.25)[:20], global_lon(0.25)[:40]
    data = np.full((40, 20), 30, "float32")
    data[0, 0] = np.nan
    path = tmp_path / lprm.file_name(dt.date(2016, 1, 2))
    with h5py.File(path, "w") as h5:
        h5["Latitude"], h5["Longitude"] = lat.astype("float32"), lon.astype("float32")
        h5.create_dataset("soil_moisture_x", data=data).attrs["_FillValue"] = np.float32(np.nan)
    day = read_day(str(path), variable="x")
    assert np.isnan(day.values[0, 0]) and np.isfinite(day.values).sum() == data.size - 1


def test_missing_coordinates_are_refused(tmp_path):
    path = tmp_path / lprm.file_name(dt.date(2016, 1, 2))
    with h5py.File(path, "w") as h5:
        h5["soil_moisture_x"] = np.zeros((4, 2), "int16")
    with pytest.raises(BadInputFile, match="no 'Latitude' coordinate"):
        read_day(str(path), variable="x")


def test_downscaled_tenth_degree_file_with_float32_coordinates(tmp_path):
    # up to 179.95 E, where float32 coordinates blur single steps
    lat, lon = global_lat(0.1)[400:450], global_lon(0.1)[3500:3600]
    path = tmp_path / lprm.file_name(dt.date(2016, 1, 2), downscaled=True)
    lprm.write(path, np.full((lat.size, lon.size), 0.2), lat, lon, variable="soil_moisture_x")
    day = read_day(str(path), variable="x")
    assert day.values.shape == (50, 100) and np.all(day.values == np.float32(0.2))
    np.testing.assert_allclose(day.lon, lon, atol=1e-4)


def test_error_and_ts_round_trip_south_up_and_are_read_like_the_real_file(tmp_path):
    from sgdsm_cloud.formats.quality import read_quality

    lat, lon = global_lat(0.25)[100:120][::-1], global_lon(0.25)[200:240]  # a south-up file
    fraction = np.full((lat.size, lon.size), 0.3)
    fraction[0, :] = np.nan
    error = np.full(fraction.shape, 0.043)
    error[1, 1] = np.nan
    ts = np.linspace(260.0, 300.0, fraction.size).reshape(fraction.shape)
    ts[2, 2] = np.nan
    path = tmp_path / lprm.file_name(dt.date(2016, 1, 2))
    lprm.write(path, fraction, lat, lon, variable="soil_moisture_x", error=error, ts=ts)
    with h5py.File(path) as h5:  # the layout of the real 2015-04-01 file
        assert h5["soil_moisture_x_error"].dtype == np.int16 and h5["ts"].dtype == np.int16
        assert h5["ts"].attrs["units"] == "Kelvin"
        assert np.asarray(
            h5["soil_moisture_x_error"].attrs["scale_factor"]
        ).item() == pytest.approx(0.01)
    day = read_day(str(path), variable="x")
    got_error, got_ts = read_quality(path.read_bytes(), path.name, day.values, variable="x")
    north_up = slice(None, None, -1)
    # whole percent, as in the real file: 0.043 m3 m-3 is stored as 4 and read back as 0.04
    want_error = np.where(np.isfinite(fraction) & np.isfinite(error), 0.04, np.nan)[north_up]
    np.testing.assert_allclose(got_error, want_error, atol=1e-6)
    np.testing.assert_allclose(got_ts, np.round(ts[north_up] * 10) / 10, atol=1e-3)
    assert np.isnan(got_ts[-3, 2]) and np.isnan(got_error[-1]).all()


def test_files_without_error_or_ts_give_nan_and_jaxa_gives_none(tmp_path, real_lprm_dir):
    from sgdsm_cloud.formats.quality import read_quality

    name = "LPRM-AMSR2_L3_D_SOILM3_V001_20150402013500.nc4"  # soil_moisture_x only
    data = (real_lprm_dir / name).read_bytes()
    day = read_day(data, name, variable="x")
    error, ts = read_quality(data, name, day.values, variable="x")
    assert error.shape == ts.shape == day.values.shape
    assert np.isnan(error).all() and np.isnan(ts).all()
    jaxa_name = "GW1AM2_20150401_01D_EQMD_L3SGSMCHA3300300.h5"
    assert read_quality(b"", jaxa_name, day.values) is None
