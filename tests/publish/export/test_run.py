"""Planning and running an export: the region and period chosen from a store's URL or an open
dataset, the groups of days aligned with the cube's time chunks, everything that can refuse an
export refused before anything is written, and a run in this process recording its files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import xarray as xr

from sgdsm_cloud.errors import ConfigError, StorageError
from sgdsm_cloud.publish.export import (
    MANIFEST,
    ExportConfig,
    execute_export,
    export_netcdf,
    prepare_export,
    run_export,
)
from sgdsm_cloud.publish.export.run import plan_groups
from sgdsm_cloud.storage import Location
from tests.publish.cubes import write_cube

from .conftest import DAYS, check_day, cube_with_uncertainty


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


def test_groups_are_the_todo_days_of_aligned_blocks():
    dates = [f"2015-04-{d:02d}" for d in range(1, 11)]
    groups = plan_groups([1, 2, 3, 4, 6, 9], 4, dates)
    assert [(g.start, g.stop, g.days) for g in groups] == [
        (1, 4, (1, 2, 3)),  # block 0..3, day 0 done already
        (4, 7, (4, 6)),  # block 4..7: a done day inside a group stays inside its range
        (9, 10, (9,)),
    ]
    assert [g.id for g in groups] == ["days-2015-04-02-3", "days-2015-04-05-2", "days-2015-04-10-1"]
    assert groups[1].dates == ("2015-04-05", "2015-04-07")
    assert plan_groups([], 4, dates) == []
    assert [g.days for g in plan_groups(list(range(10)), 1, dates)] == [(i,) for i in range(10)]


@pytest.fixture
def chunked_store(tmp_path) -> tuple[xr.Dataset, str]:
    """The export tests' cube stored in time chunks of four days."""
    ds = cube_with_uncertainty()
    url = str(tmp_path / "chunked.zarr")
    write_cube(ds.chunk({"time": 4}), url)
    return ds, url


def test_planning_follows_the_time_chunks_and_writes_nothing(tmp_path, chunked_store):
    _, url = chunked_store
    out = tmp_path / "daily"
    prepared = prepare_export(Location(url), Location(str(out)), ExportConfig())
    assert [g.days for g in prepared.groups] == [(0, 1, 2, 3), (4, 5, 6, 7), (8, 9)]
    assert all(g.data is None for g in prepared.groups)  # the tasks read the store themselves
    assert (prepared.days, prepared.skipped) == (DAYS, 0)
    assert prepared.job.source == Location(url) and prepared.job.version is None
    assert prepared.record["files"] == {} and prepared.record["cube"] == url
    assert not out.exists()

    given = prepare_export(Location(url), Location(str(out)), ExportConfig(days_per_task=3))
    assert [len(g.days) for g in given.groups] == [3, 3, 3, 1]
    period = ExportConfig(start="2015-04-03", end="2015-04-06")
    assert [g.days for g in prepare_export(Location(url), Location(str(out)), period).groups] == [
        (2, 3),
        (4, 5),
    ]


def test_an_open_dataset_travels_with_its_groups(tmp_path, store):
    ds, _ = store
    prepared = prepare_export(ds, Location(str(tmp_path / "daily")), ExportConfig(bbox="5,48,6,49"))
    assert prepared.job.source is None and prepared.record["cube"] is None
    first = prepared.groups[0].data
    assert first is not None and set(first.data_vars) == {"sm", "flag", "sm_uncertainty"}
    assert (first.sizes["lat"], first.sizes["lon"]) == (4, 4)
    assert first.sizes["time"] == prepared.groups[0].stop - prepared.groups[0].start


def test_an_open_dataset_without_stored_chunks_is_grouped_by_its_dask_chunks(tmp_path, store):
    ds, _ = store
    rechunked = ds.chunk(time=2)
    for name in rechunked.variables:
        rechunked[name].encoding = {}  # as fill_dataset returns it: nothing stored yet
    prepared = prepare_export(rechunked, Location(str(tmp_path / "daily")), ExportConfig())
    assert {g.stop - g.start for g in prepared.groups[:-1]} == {2}


def test_a_run_in_this_process_records_every_file_it_writes(tmp_path, store):
    ds, url = store
    out = Location(str(tmp_path / "daily"))
    summary = run_export(Location(url), out, ExportConfig(end="2015-04-04", days_per_task=2))
    assert (summary.out, summary.days, summary.skipped) == (out.url, 4, 0)
    assert [Path(f).name for f in summary.written] == [f"SGD-SM_2015040{d}.nc" for d in range(1, 5)]
    record = json.loads((tmp_path / "daily" / MANIFEST).read_text())
    for name, entry in record["files"].items():
        data = (tmp_path / "daily" / name).read_bytes()
        assert entry == {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    assert sorted(record["files"]) == sorted(Path(f).name for f in summary.written)

    again = execute_export(prepare_export(Location(url), out, ExportConfig()), None)
    assert (again.days, again.skipped, len(again.written)) == (DAYS, 4, DAYS - 4)
    check_day(tmp_path / "daily" / "SGD-SM_20150410.nc", ds.isel(time=DAYS - 1))


def test_a_relative_folder_is_taken_from_the_working_directory(tmp_path, store, monkeypatch):
    _, url = store
    monkeypatch.chdir(tmp_path)
    files = export_netcdf(url, "daily", end="2015-04-01")
    assert files == [str(tmp_path / "daily" / "SGD-SM_20150401.nc")]


def test_refusals_come_before_anything_is_written(tmp_path, store):
    ds, url = store
    out = tmp_path / "daily"
    with pytest.raises(ConfigError, match="takes a seamless cube's URL or an xarray Dataset"):
        prepare_export(ds["sm"], Location(str(out)), ExportConfig())
    secret = "s3cr3t-of-the-out-folder"
    leaky = ds.copy()
    leaky.attrs["summary"] = f"exported with {secret}"
    with pytest.raises(StorageError, match="credential"):
        prepare_export(leaky, Location(str(out), {"secret": secret}), ExportConfig())
    with pytest.raises(ConfigError, match="--bbox"):
        prepare_export(Location(url), Location(str(out)), ExportConfig(bbox="100,10,110,20"))
    assert not out.exists()
