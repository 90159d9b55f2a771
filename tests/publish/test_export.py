"""``sgdsm export``: daily SGD-SM NetCDF files, read back the way the dataset's users read them.

Real components: a LocalCluster of worker processes (the session ``client``), real files read
with plain netCDF4 and with xarray, a moto S3 server on loopback for the s3:// case.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import netCDF4
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from sgdsm_cloud import cli
from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.outputs import OutputRefused
from sgdsm_cloud.publish.export import FILL_VALUE, MANIFEST, export_netcdf
from sgdsm_cloud.publish.export import write as export

from .cubes import seamless_cube, write_cube

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


@pytest.fixture
def store(tmp_path) -> tuple[xr.Dataset, str]:
    ds = cube_with_uncertainty()
    url = str(tmp_path / "seamless.zarr")
    write_cube(ds, url)
    return ds, url


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


def test_cf_and_acdd_attributes(tmp_path, store):
    ds, url = store
    (path, *_) = export_netcdf(url, str(tmp_path / "daily"), end="2015-04-01")
    with netCDF4.Dataset(path) as nc:
        glob = {k: nc.getncattr(k) for k in nc.ncattrs()}
        assert glob["Conventions"] == "CF-1.10, ACDD-1.3"
        for key in ("title", "summary", "license", "creator_name", "references", "model_sha256"):
            assert glob[key] == ds.attrs[key]
        assert glob["history"].startswith(ds.attrs["history"])
        assert "sgdsm export" in glob["history"].splitlines()[-1]
        assert glob["date"] == "2015-04-01"
        assert glob["time_coverage_start"] == "2015-04-01T00:00:00Z"
        assert glob["time_coverage_end"] == "2015-04-01T00:00:00Z"  # the file's time value
        assert (glob["geospatial_lat_min"], glob["geospatial_lat_max"]) == (48.125, 49.875)
        np.testing.assert_array_equal(nc["Latitude_bnds"][0], [50.0, 49.75])  # north-up edges
        assert nc.data_model == "NETCDF4"
        assert nc.dimensions["Latitude"].size == ds.lat.size
        lat, lon, time = nc["Latitude"], nc["Longitude"], nc["time"]
        assert (lat.units, lat.standard_name) == ("degrees_north", "latitude")
        assert (lon.units, lon.standard_name) == ("degrees_east", "longitude")
        assert time.standard_name == "time" and time.units.startswith("days since 1970-01-01")
        assert time.calendar == "standard"
        for name in ("original_sm_c1", "reconstructed_sm_c1"):
            var = nc[name]
            assert var.dtype == np.int16 and var._FillValue == FILL_VALUE
            assert var.units == "percent"
            assert var.standard_name == "volume_fraction_of_condensed_water_in_soil"
            assert (var.scale_factor, var.add_offset) == (1.0, 0.0)
            assert var.coordinates == "time Latitude Longitude"
            assert var.dimensions == ("Latitude", "Longitude")
        unc = nc["reconstructed_sm_c1_uncertainty"]
        assert unc.scale_factor == pytest.approx(0.01) and unc.units == "percent"
        assert unc.standard_name.endswith(" standard_error")
        flag = nc["flag"]
        assert flag.standard_name == "status_flag"
        assert list(flag.flag_values) == [0, 1, 2, 3, 4]
        assert flag.flag_meanings == "not_land_or_excluded observed filled not_filled frozen"
        assert "_FillValue" not in flag.ncattrs()


def test_bbox_and_period_from_a_url_or_an_open_dataset(tmp_path, store, client):
    ds, url = store
    kwargs = {"bbox": "5.5,48.5,7,49.5", "start": "2015-04-03", "end": "2015-04-05"}
    from_url = export_netcdf(url, str(tmp_path / "a"), client=client, **kwargs)
    lazy = xr.open_zarr(url)
    from_ds = export_netcdf(lazy, str(tmp_path / "b"), client=client, **kwargs)

    days = ["20150403", "20150404", "20150405"]
    assert [Path(f).name for f in from_url] == [f"SGD-SM_{d}.nc" for d in days]
    assert [Path(f).name for f in from_ds] == [Path(f).name for f in from_url]
    sub = ds.sel(lat=slice(49.5, 48.5), lon=slice(5.5, 7.0), time=slice("2015-04-03", "2015-04-05"))
    assert sub.lat.size == 4 and sub.lon.size == 6
    for i, (a, b) in enumerate(zip(from_url, from_ds, strict=True)):
        check_day(a, sub.isel(time=i))
        check_day(b, sub.isel(time=i))
    with pytest.raises(ConfigError, match="--start/--end"):
        export_netcdf(url, str(tmp_path / "c"), start="2015-03-01")
    with pytest.raises(ConfigError, match="--bbox"):
        export_netcdf(url, str(tmp_path / "c"), bbox="100,10,110,20")


def test_resume_skips_complete_files_and_never_takes_a_partial_one_as_done(
    tmp_path, store, monkeypatch
):
    ds, url = store
    out = tmp_path / "daily"
    first = export_netcdf(url, str(out), end="2015-04-03", days_per_task=2)
    assert len(first) == 3
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("*.nc")}

    # a run killed while writing its 3rd file of the rest leaves its temporary file only
    real_write, calls = export.write_day, []

    def dying_write(path, date, data, job):
        calls.append(date)
        if len(calls) == 3:
            with open(path, "wb") as half:
                half.write(b"\x89HDF\r\n")  # a truncated file under the temporary name
            raise KeyboardInterrupt  # killed: no cleanup of ours runs for a kill
        real_write(path, date, data, job)

    monkeypatch.setattr(export, "write_day", dying_write)
    monkeypatch.setattr(export.os, "remove", lambda p: None)  # a kill removes nothing
    with pytest.raises(KeyboardInterrupt):
        export_netcdf(url, str(out), days_per_task=2)
    monkeypatch.undo()
    leftovers = [p.name for p in out.iterdir() if ".part-" in p.name]
    assert leftovers == [".SGD-SM_20150406.nc.part-" + leftovers[0].rsplit("-", 1)[1]]
    assert not (out / "SGD-SM_20150406.nc").exists()

    second = export_netcdf(url, str(out), days_per_task=2)
    # day 4's group finished and was recorded; day 5's file is complete, but its group (5, 6)
    # died before the record listed it, so it is written again: only recorded files count
    assert [Path(f).name for f in second] == [
        f"SGD-SM_201504{d:02d}.nc" for d in range(5, DAYS + 1)
    ]
    assert not [p for p in out.iterdir() if ".part-" in p.name]  # the leftover is gone
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.nc") if p.name in stamps} == stamps
    for i in range(DAYS):
        check_day(out / f"SGD-SM_201504{i + 1:02d}.nc", ds.isel(time=i))
    assert export_netcdf(url, str(out)) == []  # nothing left to do
    assert len(export_netcdf(url, str(out), overwrite=True)) == DAYS


def test_a_different_export_into_the_same_directory_is_refused(tmp_path, store):
    _, url = store
    out = str(tmp_path / "daily")
    export_netcdf(url, out, end="2015-04-01")
    with pytest.raises(ConfigError, match="holds another export.*lat"):
        export_netcdf(url, out, bbox="5,48,6,49")
    assert len(export_netcdf(url, out, bbox="5,48,6,49", overwrite=True)) == DAYS
    record = json.loads((tmp_path / "daily" / "sgdsm-export.json").read_text())
    assert record["variables"][-1] == "reconstructed_sm_c1_uncertainty"


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


def test_cli_export_on_a_running_scheduler(tmp_path, store, cluster, capsys):
    ds, url = store
    out = tmp_path / "daily"
    argv = ["export", "--filled", url, "--format", "netcdf", "--out", str(out)]
    argv += ["--bbox", "5,48,6.5,49", "--start", "2015-04-02", "--end", "2015-04-03"]
    code = cli.main([*argv, "--scheduler", cluster.scheduler_address])
    assert code == cli.EXIT_OK
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (summary["days"], summary["written"], summary["skipped"]) == (2, 2, 0)
    sub = ds.sel(lat=slice(49, 48), lon=slice(5, 6.5))
    check_day(out / "SGD-SM_20150402.nc", sub.isel(time=1))
    assert cli.main([*argv, "--scheduler", cluster.scheduler_address]) == cli.EXIT_OK
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["skipped"] == 2


def test_cli_bad_bbox_is_a_usage_error(tmp_path, store, capsys):
    _, url = store
    code = cli.main(["export", "--filled", url, "--out", str(tmp_path), "--bbox", "1,2,3"])
    assert code == cli.EXIT_USAGE
    assert "argument --bbox: must be four numbers" in capsys.readouterr().err


def test_only_files_the_record_lists_with_their_size_count_as_done(tmp_path, store):
    ds, url = store
    out = tmp_path / "daily"
    export_netcdf(url, str(out), end="2015-04-03")
    record = json.loads((out / MANIFEST).read_text())
    assert sorted(record["files"]) == [f"SGD-SM_2015040{d}.nc" for d in (1, 2, 3)]
    assert all(len(entry["sha256"]) == 64 for entry in record["files"].values())
    (out / "SGD-SM_20150402.nc").write_bytes(b"corrupt")  # another size than recorded
    del record["files"]["SGD-SM_20150403.nc"]  # written, but never recorded
    (out / MANIFEST).write_text(json.dumps(record))
    again = export_netcdf(url, str(out), end="2015-04-03")
    assert [Path(f).name for f in again] == ["SGD-SM_20150402.nc", "SGD-SM_20150403.nc"]
    check_day(out / "SGD-SM_20150402.nc", ds.isel(time=1))


def test_a_folder_of_files_without_a_record_is_not_ours(tmp_path, store):
    _, url = store
    out = tmp_path / "daily"
    out.mkdir()
    (out / "SGD-SM_20150401.nc").write_bytes(b"someone's corrupt file")
    with pytest.raises(OutputRefused, match="did not write"):
        export_netcdf(url, str(out))
    assert (out / "SGD-SM_20150401.nc").read_bytes() == b"someone's corrupt file"


def test_a_failed_task_logs_its_redacted_traceback_on_its_worker(tmp_path, store, client):
    from sgdsm_cloud.publish.export import ExportConfig, execute_export, prepare_export
    from sgdsm_cloud.publish.export.write import ExportFailed
    from sgdsm_cloud.storage import Location

    _, url = store
    for chunk in Path(url, "sm", "c").rglob("*"):  # corrupt: no codec can decode it
        if chunk.is_file():
            chunk.write_bytes(b"not a compressed chunk")
    prepared = prepare_export(Location(url), Location(str(tmp_path / "daily")), ExportConfig())
    with pytest.raises(ExportFailed, match="days from 2015-04-01: "):
        execute_export(prepared, client)
    logs = "\n".join(line for lines in client.get_worker_logs().values() for _, line in lines)
    assert "export of the days from 2015-04-01 failed:\nTraceback (most recent call last)" in logs
