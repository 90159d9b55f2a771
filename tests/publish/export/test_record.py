"""The export folder's record: what it holds (a re-run resumes only the same export, another
one is refused unless ``overwrite``), which files count as done (listed, with their recorded
size), the leftovers of a killed run, and a folder the export did not write."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.outputs import OutputRefused
from sgdsm_cloud.publish.export import MANIFEST, ExportConfig, export_netcdf
from sgdsm_cloud.publish.export import write as export_write
from sgdsm_cloud.publish.export.config import Names
from sgdsm_cloud.publish.export.record import (
    EXPORT_FOLDER,
    LAYOUT,
    complete_files,
    record_of,
    resumed_record,
    write_record,
)
from sgdsm_cloud.storage import Location
from tests.publish.cubes import MODEL_SHA256, seamless_cube

from .conftest import DAYS, check_day


def test_resume_skips_complete_files_and_never_takes_a_partial_one_as_done(
    tmp_path, store, monkeypatch
):
    ds, url = store
    out = tmp_path / "daily"
    first = export_netcdf(url, str(out), end="2015-04-03", days_per_task=2)
    assert len(first) == 3
    stamps = {p.name: p.stat().st_mtime_ns for p in out.glob("*.nc")}

    # a run killed while writing its 3rd file of the rest leaves its temporary file only
    real_write, calls = export_write.write_day, []

    def dying_write(path, date, data, job):
        calls.append(date)
        if len(calls) == 3:
            with open(path, "wb") as half:
                half.write(b"\x89HDF\r\n")  # a truncated file under the temporary name
            raise KeyboardInterrupt  # killed: no cleanup of ours runs for a kill
        real_write(path, date, data, job)

    monkeypatch.setattr(export_write, "write_day", dying_write)
    monkeypatch.setattr(export_write.os, "remove", lambda p: None)  # a kill removes nothing
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


# -- the record's functions, called directly -------------------------------------------------


def a_record(source=None, *, prefix: str = "SGD-SM", rows: int = 8) -> dict:
    """The record of an export of the test cube's first ``rows`` latitudes."""
    ds = seamless_cube(days=2)
    lat, lon = ds["lat"].values[:rows], ds["lon"].values
    return record_of(ds, ds if source is None else source, lat, lon, Names("c1", True), prefix)


def test_the_record_says_what_the_folder_holds():
    source = Location("s3://user:pass@bucket/seamless.zarr?sig=abc")
    record = a_record(source, rows=4)
    assert record == {
        "layout": LAYOUT,
        "prefix": "SGD-SM",
        "cube": "s3://bucket/seamless.zarr",  # never the URL's credentials
        "cube_date_created": "2026-01-02T00:00:00Z",
        "model_sha256": MODEL_SHA256,
        "lat": [49.875, 49.125, 4],
        "lon": [5.125, 7.875, 12],
        "variables": [
            "original_sm_c1", "reconstructed_sm_c1", "flag", "reconstructed_sm_c1_uncertainty"
        ],
    }  # fmt: skip
    assert a_record()["cube"] is None  # an open dataset has no URL


def out_with(tmp_path, record: dict | None, files: dict | None = None) -> Location:
    out = Location(str(tmp_path / "daily"))
    if record is not None:
        write_record(out, {**record, "files": files or {}})
    return out


def test_a_new_folder_starts_an_empty_record(tmp_path):
    record = a_record()
    resumed = resumed_record(out_with(tmp_path, None), record, ExportConfig())
    assert resumed == {**record, "files": {}}
    assert not (tmp_path / "daily").exists()  # nothing is written here


def test_the_same_export_resumes_the_files_its_record_lists(tmp_path):
    record = a_record()
    files = {"SGD-SM_20150401.nc": {"size": 10, "sha256": "ab" * 32}}
    out = out_with(tmp_path, record, files)
    assert resumed_record(out, record, ExportConfig())["files"] == files


@pytest.mark.parametrize(
    ("change", "keys"),
    [
        ({"rows": 4}, "lat"),
        ({"prefix": "SM"}, "prefix"),
        ({"model_sha256": "00" * 32}, "model_sha256"),
        ({"variables": ["original_sm_x", "reconstructed_sm_x", "flag"]}, "variables"),
        ({"layout": "sgdsm-netcdf-0"}, "layout"),
    ],
)
def test_a_record_of_other_settings_is_refused_and_restarted_with_overwrite(tmp_path, change, keys):
    previous = a_record()
    files = {"SGD-SM_20150401.nc": {"size": 10, "sha256": "ab" * 32}}
    out = out_with(tmp_path, previous, files)
    record = dict(previous)
    if "rows" in change or "prefix" in change:
        record = a_record(rows=change.get("rows", 8), prefix=change.get("prefix", "SGD-SM"))
    else:
        record.update(change)
    with pytest.raises(ConfigError, match=rf"holds another export \({keys} differ") as refused:
        resumed_record(out, record, ExportConfig())
    assert "--overwrite" in str(refused.value) and "--out" in str(refused.value)
    assert resumed_record(out, record, ExportConfig(overwrite=True)) == {**record, "files": {}}
    on_disk = json.loads((tmp_path / "daily" / MANIFEST).read_text())
    assert on_disk["files"] == files  # refusing or planning changes nothing


def test_the_cube_is_compared_only_when_both_records_name_one(tmp_path):
    files = {"SGD-SM_20150401.nc": {"size": 10, "sha256": "ab" * 32}}
    first = a_record(Location("s3://bucket/a.zarr"))
    out = out_with(tmp_path, first, files)
    other = a_record(Location("s3://bucket/b.zarr"))
    with pytest.raises(ConfigError, match=r"\(cube differ.*s3://bucket/a.zarr"):
        resumed_record(out, other, ExportConfig())
    # the same cube opened as a dataset has no URL to compare: its files are resumed
    assert resumed_record(out, a_record(), ExportConfig())["files"] == files


def test_a_record_without_a_file_list_resumes_nothing(tmp_path):
    record = a_record()
    out = Location(str(tmp_path / "daily"))
    write_record(out, {**record, "files": ["SGD-SM_20150401.nc"]})  # not a mapping
    assert resumed_record(out, record, ExportConfig())["files"] == {}


def test_complete_files_are_those_listed_with_their_size_on_disk(tmp_path):
    folder = tmp_path / "daily"
    out = Location(str(folder))
    assert complete_files(out, {"files": {"SGD-SM_20150401.nc": {"size": 3}}}) == set()
    folder.mkdir()
    (folder / "SGD-SM_20150401.nc").write_bytes(b"abc")
    (folder / "SGD-SM_20150402.nc").write_bytes(b"abcd")  # one byte more than recorded
    (folder / "SGD-SM_20150404.nc").write_bytes(b"abc")  # not recorded
    record = {
        "files": {
            "SGD-SM_20150401.nc": {"size": 3, "sha256": "x"},
            "SGD-SM_20150402.nc": {"size": 3, "sha256": "x"},
            "SGD-SM_20150403.nc": {"size": 3, "sha256": "x"},  # recorded, but gone
        }
    }
    assert complete_files(out, record) == {"SGD-SM_20150401.nc"}


def test_complete_files_removes_a_killed_runs_partial_files_only(tmp_path):
    folder = tmp_path / "daily"
    folder.mkdir()
    part = folder / ".SGD-SM_20150401.nc.part-0123456789ab"
    part.write_bytes(b"\x89HDF")
    kept = [folder / ".SGD-SM_20150401.nc.part-xyz", folder / ".hidden-notes"]
    for path in kept:
        path.write_text("not a part file of ours")
    assert complete_files(Location(str(folder)), {"files": {}}) == set()
    assert not part.exists()
    assert all(path.exists() for path in kept)


def test_write_record_replaces_the_record_in_one_step(tmp_path):
    out = Location(str(tmp_path / "daily"))
    write_record(out, {"layout": LAYOUT, "files": {}})
    write_record(out, {"layout": LAYOUT, "files": {"a_20150401.nc": {"size": 1}}, "b": [1]})
    text = (tmp_path / "daily" / MANIFEST).read_text()
    assert json.loads(text) == {"b": [1], "files": {"a_20150401.nc": {"size": 1}}, "layout": LAYOUT}
    assert list(json.loads(text)) == ["b", "files", "layout"]  # sorted keys
    assert [p.name for p in (tmp_path / "daily").iterdir()] == [MANIFEST]  # no temporary left


@pytest.mark.parametrize(
    ("name", "ours"),
    [
        (MANIFEST, True),
        (f"{MANIFEST}.{'0' * 32}.tmp", True),  # an interrupted write_record
        ("SGD-SM_20150401.nc", True),
        ("sm.v2_20150401.nc", True),
        (".SGD-SM_20150401.nc.part-0123456789ab", True),
        ("SGD-SM_2015041.nc", False),
        ("SGD-SM_20150401.nc4", False),
        ("notes.txt", False),
        (".SGD-SM_20150401.nc.part-xyz", False),
    ],
)
def test_the_export_folder_holds_its_record_day_files_and_partial_files(name, ours):
    assert EXPORT_FOLDER.holds(name) is ours


def test_only_a_record_of_this_layout_makes_a_folder_an_export(tmp_path, store):
    _, url = store
    out = tmp_path / "daily"
    out.mkdir()
    (out / MANIFEST).write_text(json.dumps({"layout": "sgdsm-netcdf-0", "files": {}}))
    for overwrite in (False, True):
        with pytest.raises(OutputRefused, match="did not write"):
            export_netcdf(url, str(out), end="2015-04-01", overwrite=overwrite)
    assert [p.name for p in out.iterdir()] == [MANIFEST]
    (out / MANIFEST).write_text(json.dumps({"layout": LAYOUT}))  # ours, of other settings
    with pytest.raises(ConfigError, match="holds another export"):
        export_netcdf(url, str(out), end="2015-04-01")
    assert len(export_netcdf(url, str(out), end="2015-04-01", overwrite=True)) == 1
