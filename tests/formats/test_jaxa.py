"""JAXA reader: small fixtures written by ``jaxa.write``; the 0..360 -> -180..180 roll checked cell by cell."""

from __future__ import annotations

import datetime as dt

import h5py
import numpy as np
import pytest

from sgdsm_cloud.errors import BadInputFile
from sgdsm_cloud.formats import jaxa, read_day
from sgdsm_cloud.grid import global_lat, global_lon

DAY = dt.date(2015, 4, 1)


def field(res: float) -> np.ndarray:
    """Distinct, valid values (m3 m-3, whole tenths of a percent) per cell, a few gaps."""
    lat, lon = global_lat(res), global_lon(res)
    values = (np.add.outer(np.arange(lat.size) * 7, np.arange(lon.size)) % 1000) / 1000.0
    values[::37, ::11] = np.nan
    return values


@pytest.fixture(scope="module")
def quarter_degree(tmp_path_factory):
    path = tmp_path_factory.mktemp("jaxa") / jaxa.file_name(DAY, "D", resolution=0.25)
    values = field(0.25)
    jaxa.write(path, values, pass_="D", date=DAY)
    return path, values


def test_name_of_a_quarter_degree_file_parses_to_the_l_grid(quarter_degree):
    path, _ = quarter_degree
    assert path.name == "GW1AM2_20150401_01D_EQMD_L3SGSMCLA3300300.h5"


def test_roll_from_0_360_is_right_cell_by_cell(quarter_degree):
    path, _ = quarter_degree
    with h5py.File(path, "r") as h5:
        raw = h5[jaxa.DATASET][:, :, 0]
        scale = float(h5[jaxa.DATASET].attrs[jaxa.SCALE_ATTR][0])
    day = read_day(str(path))
    res = 0.25
    raw_lon = res / 2 + res * np.arange(raw.shape[1])  # column 0 = 0.125 E
    raw_lon_180 = np.where(raw_lon > 180, raw_lon - 360, raw_lon)
    for column in range(raw.shape[1]):  # every column lands where its own longitude says
        out = int(np.argmin(np.abs(day.lon - raw_lon_180[column])))
        expected = np.where(raw[:, column] >= 0, raw[:, column] * scale / 100.0, np.nan).astype(
            "float32"
        )
        np.testing.assert_array_equal(day.values[:, out], expected)
    np.testing.assert_array_equal(day.lon, global_lon(res))
    np.testing.assert_array_equal(day.lat, global_lat(res))


def test_values_round_trip_the_writer(quarter_degree):
    path, values = quarter_degree
    day = read_day(str(path))
    expected = np.where(np.isfinite(values), np.round(values * 1000) / 1000, np.nan).astype(
        "float32"
    )
    np.testing.assert_allclose(day.values, expected, rtol=0, atol=1e-6)
    assert np.array_equal(np.isnan(day.values), np.isnan(values))


def test_tenth_degree_file_reads_on_the_h_grid(tmp_path):
    path = tmp_path / jaxa.file_name(DAY, "A", resolution=0.1)
    values = np.full((1800, 3600), np.nan)
    values[0, 0] = 0.2  # 89.95 N, -179.95 E
    values[1799, 1800] = 0.4  # 89.95 S, 0.05 E
    jaxa.write(path, values, pass_="A", date=DAY)
    with h5py.File(path, "r") as h5:
        raw = h5[jaxa.DATASET][:, :, 0]
    assert raw[1799, 0] == 400 and raw[0, 1800] == 200  # stored from 0 E
    day = read_day(str(path))
    assert day.values.shape == (1800, 3600) and day.pass_ == "A"
    assert day.values[0, 0] == np.float32(0.2) and day.values[1799, 1800] == np.float32(0.4)
    assert np.isfinite(day.values).sum() == 2


def test_negative_raw_values_are_missing(tmp_path):
    path = tmp_path / jaxa.file_name(DAY, "D", resolution=0.25)
    jaxa.write(path, np.full((720, 1440), 0.25), pass_="D")
    with h5py.File(path, "r+") as h5:
        data = h5[jaxa.DATASET]
        data[0, 0, 0], data[0, 1, 0] = -32768, -32767
    day = read_day(str(path))
    assert np.isnan(day.values[0, 720]) and np.isnan(day.values[0, 721])
    assert np.isfinite(day.values).sum() == 720 * 1440 - 2


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (
            lambda h5: h5.attrs.__setitem__("OrbitDirection", np.array([b"Ascending"])),
            "contradicts pass 'D'",
        ),
        (lambda h5: _replace(h5, np.zeros((1440, 720, 1), "int16")), "has shape"),
        (lambda h5: _replace(h5, np.zeros((720, 1440, 1), "float32")), "expected int16"),
        (lambda h5: h5.__delitem__(jaxa.DATASET), "not a JAXA AMSR2 L3 SMC file"),
        (
            lambda h5: _replace(h5, np.full((720, 1440, 1), 1200, "int16")),
            "outside the physical range",
        ),
    ],
)
def test_untrustworthy_files_are_refused(tmp_path, mutate, reason):
    path = tmp_path / jaxa.file_name(DAY, "D", resolution=0.25)
    jaxa.write(path, np.full((720, 1440), 0.25), pass_="D")
    with h5py.File(path, "r+") as h5:
        mutate(h5)
    with pytest.raises(BadInputFile, match=reason):
        read_day(str(path))


def _replace(h5: h5py.File, data: np.ndarray) -> None:
    del h5[jaxa.DATASET]
    h5.create_dataset(jaxa.DATASET, data=data).attrs[jaxa.SCALE_ATTR] = np.array([0.1], "float32")
