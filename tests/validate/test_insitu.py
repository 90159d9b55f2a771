import shutil

import numpy as np
import pandas as pd
import pytest

from sgdsm_cloud.errors import BadInputFile, ConfigError
from sgdsm_cloud.validate.insitu import (
    InsituConfig,
    StationSeries,
    nearest_records,
    overpass_times,
    read_stations,
    station_cell,
    station_table,
)
from tests.conftest import REAL_ISMN

NARBONNE = "SMOSMANIA/SMOSMANIA_SMOSMANIA_Narbonne_sm_0.050000_0.050000_ThetaProbe-ML2X_20070101_20070131.stm"
COSMOS = REAL_ISMN / "Data_seperate_files_header_20170810_20180809"
ACCEPT_U = InsituConfig(flags=("U",))  # the SMOSMANIA sample is flagged U/D05 throughout


def test_both_formats_read_the_same_station_and_values():
    header = read_stations(REAL_ISMN / "format_header_values" / NARBONNE, ACCEPT_U).stations[0]
    ceop = read_stations(REAL_ISMN / "format_ceop_sep" / NARBONNE, ACCEPT_U).stations[0]
    for station in (header, ceop):
        assert (station.network, station.name) == ("SMOSMANIA", "Narbonne")
        assert (station.lat, station.lon) == (43.15, 2.9567)
        assert (station.depth_from, station.depth_to) == (0.05, 0.05)
        assert station.values.index[0] == pd.Timestamp("2007-01-01 01:00")
        assert station.values.iloc[0] == pytest.approx(0.214)
    assert len(header.values) == 736  # 741 records, 5 flagged D05
    pd.testing.assert_series_equal(header.values, ceop.values)


def test_only_accepted_flags_are_kept():
    default = read_stations(REAL_ISMN / "format_header_values", InsituConfig())
    assert len(default.stations) == 1 and default.stations[0].values.empty  # no G record
    with_d05 = read_stations(REAL_ISMN / "format_header_values", InsituConfig(flags=("U", "D05")))
    assert len(with_d05.stations[0].values) == 741


def test_depth_filter_leaves_out_deep_sensors_and_reads_them_when_asked():
    surface = read_stations(COSMOS)
    assert surface.stations == ()
    assert len(surface.skipped) == 2 and all("depth" in reason for _, reason in surface.skipped)
    cosmos = read_stations(COSMOS, InsituConfig(depth_to=0.25))
    arm = {s.name: s for s in cosmos.stations}["ARM-1"]
    assert (arm.network, arm.lat, arm.lon, arm.depth_to) == ("COSMOS", 36.6054, -97.4878, 0.19)
    assert len(arm.values) == 6514  # records flagged G
    assert arm.values.index[0] == pd.Timestamp("2017-08-10 00:00") and arm.values.iloc[
        0
    ] == pytest.approx(0.141)
    assert arm.values.index.is_monotonic_increasing and arm.values.index.is_unique


def test_zip_archives_are_read():
    archive = read_stations(
        REAL_ISMN / "zip_archives" / "format_header_values" / "Data_SMOSMANIA.zip", ACCEPT_U
    )
    assert [s.name for s in archive.stations] == ["Narbonne"]
    assert len(archive.stations[0].values) == 736


def test_malformed_file_gets_a_clear_message(tmp_path):
    with pytest.raises(BadInputFile, match="not an ISMN station file"):
        read_stations(REAL_ISMN / "malformed" / "mal_formed_file.txt")
    with pytest.raises(BadInputFile, match="contains no ISMN station files"):
        read_stations(REAL_ISMN / "malformed")
    with pytest.raises(BadInputFile, match="does not exist"):
        read_stations(tmp_path / "nothing")


def test_a_malformed_file_among_good_ones_is_skipped_with_its_reason(tmp_path):
    shutil.copytree(REAL_ISMN / "format_header_values" / "SMOSMANIA", tmp_path / "SMOSMANIA")
    shutil.copy(
        REAL_ISMN / "malformed" / "mal_formed_file.txt",
        tmp_path / "SMOSMANIA" / "SMOSMANIA_SMOSMANIA_Bad_sm_0.0_0.05_X_2007_2007.stm",
    )
    archive = read_stations(tmp_path, ACCEPT_U)
    assert [s.name for s in archive.stations] == ["Narbonne"]
    assert len(archive.skipped) == 1 and "not an ISMN station file" in archive.skipped[0][1]


def test_overpass_is_at_the_local_solar_time_of_the_pass():
    days = pd.date_range("2017-08-10", periods=2, freq="D")
    assert overpass_times(days, 0.0, "D")[0] == pd.Timestamp("2017-08-10 01:30")
    assert overpass_times(days, -97.5, "D")[1] == pd.Timestamp("2017-08-11 08:00")
    assert overpass_times(days, 150.0, "D")[0] == pd.Timestamp(
        "2017-08-10 15:30"
    )  # 01:30 local on the 11th
    assert overpass_times(days, 30.0, "A")[0] == pd.Timestamp("2017-08-10 11:30")
    with pytest.raises(ConfigError, match="pass"):
        overpass_times(days, 0.0, "X")


def test_nearest_record_within_the_tolerance():
    index = pd.to_datetime(["2017-08-10 00:00", "2017-08-10 01:00", "2017-08-10 05:00"])
    values = pd.Series([0.1, 0.2, 0.3], index=index)
    times = pd.to_datetime(["2017-08-10 01:20", "2017-08-10 03:00", "2017-08-10 04:30"])
    np.testing.assert_array_equal(nearest_records(values, times, 1.0), [0.2, np.nan, 0.3])
    assert np.isnan(nearest_records(values.iloc[:0], times, 1.0)).all()


def test_station_is_matched_to_the_cell_that_contains_it():
    lat = 42.0 - 0.125 - 0.25 * np.arange(48)
    lon = -104.0 + 0.125 + 0.25 * np.arange(64)
    row, col = station_cell(36.6054, -97.4878, lat, lon)
    assert abs(lat[row] - 36.6054) <= 0.125 and abs(lon[col] + 97.4878) <= 0.125
    assert (row, col) == (21, 26)
    assert station_cell(43.15, 2.9567, lat, lon) is None


def test_station_table_scores_observed_and_filled_days_apart():
    station = read_stations(REAL_ISMN / "format_header_values", ACCEPT_U).stations[0]
    times = pd.date_range("2007-01-01", periods=4, freq="D")
    series = StationSeries(
        station,
        (0, 0),
        times,
        insitu=np.array([0.20, 0.22, 0.24, np.nan]),
        product=np.array([0.21, 0.22, 0.30, 0.25]),
        flags=np.array([1, 1, 2, 2], dtype="uint8"),
    )
    table = station_table([series]).set_index("days")
    assert table.loc["observed days", "N"] == 2
    assert table.loc["observed days", "bias"] == pytest.approx(0.005)
    assert table.loc["filled days", "N"] == 1
    assert table.loc["filled days", "RMSE"] == pytest.approx(0.06)
    assert table.loc["all days", "N"] == 3
    pooled = station_table([series, series])
    assert (pooled["station"] == "all stations").sum() == 3
