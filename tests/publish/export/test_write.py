"""The task: a group of days read once and written as one NetCDF file per day, atomically.

Every value read back with plain netCDF4 and with xarray against the SGD-SM files' rule, the
packing helpers, one group written by a direct call, an object store (moto S3 on loopback,
the session's LocalCluster of worker processes) that never receives a credential or a
partial file, and a failed task's one-line error with its traceback on its worker.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path

import netCDF4
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from sgdsm_cloud.publish.export import (
    FILL_VALUE,
    ExportConfig,
    execute_export,
    export_netcdf,
    file_name,
    prepare_export,
    to_packed_uncertainty,
    to_percent,
)
from sgdsm_cloud.publish.export.write import ExportFailed, export_group
from sgdsm_cloud.storage import Location

from .conftest import DAYS, check_day, expected_percent, read_netcdf4


def test_every_value_matches_the_cube_read_with_netcdf4_and_xarray(tmp_path, store, client):
    ds, url = store
    out = tmp_path / "daily"
    files = export_netcdf(url, str(out), client=client)

    names = [f"SGD-SM_{d:%Y%m%d}.nc" for d in pd.DatetimeIndex(ds.time.values)]
    assert [Path(f).name for f in files] == names
    assert sorted(p.name for p in out.glob("*.nc")) == names
    for i, name in enumerate(names):
        check_day(out / name, ds.isel(time=i))
    # whole percents stored as float32 fractions come back whole (0.29 -> 29, not 28)
    observed = ds.flag.values == 1
    assert np.array_equal(
        read_netcdf4(out / names[0])["original_sm_c1"][observed[0]],
        np.round(ds.sm.values[0][observed[0]] * 100).astype("int16"),
    )

    # xarray, the way users stack the daily files: decoded to float, NaN for the fill value
    stacked = xr.open_mfdataset(
        sorted(str(p) for p in out.glob("*.nc")), combine="nested", concat_dim="time"
    ).load()
    np.testing.assert_array_equal(stacked.time.values, ds.time.values)
    pct = expected_percent(ds.sm.values).astype("float64")
    np.testing.assert_array_equal(
        stacked.reconstructed_sm_c1.values, np.where(pct == FILL_VALUE, np.nan, pct)
    )
    assert stacked.flag.dtype == np.uint8
    np.testing.assert_array_equal(stacked.flag.values, ds.flag.values)
    unc = stacked.reconstructed_sm_c1_uncertainty.values
    want = ds.sm_uncertainty.values * 100
    assert np.array_equal(np.isnan(unc), np.isnan(want))
    np.testing.assert_allclose(unc[~np.isnan(unc)], want[~np.isnan(want)], atol=0.005 + 1e-6)


def test_export_to_s3_on_the_cluster_writes_no_credential(s3, store, client):
    ds, url = store
    options = {**s3.storage_options, "key": "testing", "secret": "testing"}
    out = s3.url("daily")
    files = export_netcdf(
        url, out, out_storage_options=options, client=client, end="2015-04-04", days_per_task=3
    )
    assert files == [s3.url(f"daily/SGD-SM_2015040{d}.nc") for d in range(1, 5)]
    fs = s3.filesystem()
    assert not [k for k in fs.ls(f"{s3.bucket}/daily") if ".part-" in k]
    for i, f in enumerate(files):
        payload = fs.cat_file(f)
        assert s3.endpoint_url.encode() not in payload
        local = Path(os.environ.get("TMPDIR", "/tmp")) / f"sgdsm-export-test-{i}.nc"
        local.write_bytes(payload)
        try:
            check_day(local, ds.isel(time=i))
        finally:
            local.unlink()
    # resume on S3: the four days are there, the rest is written
    rest = export_netcdf(url, out, out_storage_options=options, client=client)
    assert len(rest) == DAYS - 4


def test_a_failed_task_logs_its_redacted_traceback_on_its_worker(tmp_path, store, client):
    _, url = store
    for chunk in Path(url, "sm", "c").rglob("*"):  # corrupt: no codec can decode it
        if chunk.is_file():
            chunk.write_bytes(b"not a compressed chunk")
    prepared = prepare_export(Location(url), Location(str(tmp_path / "daily")), ExportConfig())
    with pytest.raises(ExportFailed, match="days from 2015-04-01: "):
        execute_export(prepared, client)
    logs = "\n".join(line for lines in client.get_worker_logs().values() for _, line in lines)
    assert "export of the days from 2015-04-01 failed:\nTraceback (most recent call last)" in logs


# -- the helpers and one group, called directly -------------------------------------------------


@pytest.mark.parametrize(
    ("prefix", "date", "name"),
    [
        ("SGD-SM", "2015-04-01", "SGD-SM_20150401.nc"),
        ("sm.v2", "2020-12-31", "sm.v2_20201231.nc"),
    ],
)
def test_file_names_are_prefix_and_compact_date(prefix, date, name):
    assert file_name(prefix, date) == name


def test_percent_is_floored_after_a_thousandth_and_nan_is_the_fill_value():
    sm = np.array([0.29, 0.459, 0.0, 1.0, np.nan, -0.004, 0.9999], dtype="float32")
    got = to_percent(sm)
    assert got.dtype == np.int16
    # 0.29 as float32 is 0.28999999: 29, not 28; 0.459 and 0.9999 floor; -0.4 percent to -1
    assert got.tolist() == [29, 45, 0, 100, FILL_VALUE, -1, 99]
    assert to_percent(np.array([[np.inf]])).tolist() == [[FILL_VALUE]]
    assert to_percent(np.array([400.0])).tolist() == [32767]  # clipped, never wrapped


def test_uncertainty_is_packed_in_hundredths_of_a_percent_rounded():
    unc = np.array([0.0123, 0.01234, 0.012351, 0.0, np.nan, -0.01, 5.0], dtype="float64")
    got = to_packed_uncertainty(unc)
    assert got.dtype == np.int16
    assert got.tolist() == [123, 123, 124, 0, FILL_VALUE, 0, 32767]


def test_one_group_is_read_once_and_written_as_one_file_per_day(tmp_path, store):
    ds, _ = store
    folder = tmp_path / "daily"
    folder.mkdir()
    config = ExportConfig(bbox="5,48,6.5,49.5", days_per_task=4, complevel=0)
    prepared = prepare_export(ds, Location(str(folder)), config)
    group = prepared.groups[1]
    assert group.days == (4, 5, 6, 7)

    entries = export_group(group, prepared.job)

    names = [f"SGD-SM_2015040{d}.nc" for d in (5, 6, 7, 8)]
    assert [e["name"] for e in entries] == names
    assert sorted(p.name for p in folder.iterdir()) == names  # no partial file, no record
    for entry in entries:
        data = (folder / entry["name"]).read_bytes()
        assert (entry["size"], entry["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
    sub = ds.sel(lat=slice(49.5, 48), lon=slice(5, 6.5))
    for i, name in enumerate(names):
        check_day(folder / name, sub.isel(time=4 + i))
    with netCDF4.Dataset(folder / names[0]) as nc:
        assert nc.getncattr("date") == "2015-04-05"
        assert float(nc["time"][...]) == (pd.Timestamp("2015-04-05") - pd.Timestamp(0)).days
        lat_bnds, lon_bnds = nc["Latitude_bnds"][...], nc["Longitude_bnds"][...]
        np.testing.assert_allclose(lat_bnds[0], [49.5, 49.25])  # north-up
        np.testing.assert_allclose(lon_bnds[0], [5.0, 5.25])
        np.testing.assert_array_equal(lat_bnds[1:, 0], lat_bnds[:-1, 1])  # cells share edges
        np.testing.assert_array_equal(lon_bnds[1:, 0], lon_bnds[:-1, 1])
        assert not nc["reconstructed_sm_c1"].filters()["zlib"]  # complevel 0: uncompressed


def test_the_data_variables_are_compressed_at_the_complevel(tmp_path, store):
    ds, _ = store
    folder = tmp_path / "daily"
    folder.mkdir()
    prepared = prepare_export(ds, Location(str(folder)), ExportConfig(end="2015-04-01"))
    (entry,) = export_group(prepared.groups[0], prepared.job)
    with netCDF4.Dataset(folder / entry["name"]) as nc:
        for name in ("original_sm_c1", "reconstructed_sm_c1", "flag"):
            filters = nc[name].filters()
            assert filters["zlib"] and filters["complevel"] == 4 and filters["shuffle"]


def test_a_task_that_fails_says_which_days_in_one_line_and_writes_nothing(tmp_path, store):
    ds, _ = store
    folder = tmp_path / "daily"
    folder.mkdir()
    prepared = prepare_export(ds, Location(str(folder)), ExportConfig(days_per_task=5))
    group = prepared.groups[1]
    broken = dataclasses.replace(group, data=group.data.drop_vars("sm_uncertainty"))
    with pytest.raises(ExportFailed, match=r"days from 2015-04-06: KeyError") as failed:
        export_group(broken, prepared.job)
    assert "\n" not in str(failed.value) and str(folder) in str(failed.value)
    assert list(folder.iterdir()) == []
