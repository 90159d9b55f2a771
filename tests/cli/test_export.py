"""``sgdsm export`` through ``cli.main``: the JSON summary of a run on a scheduler or in this
process, a re-run that resumes or ``--overwrite`` that rewrites, and every bad input refused in
one line before anything is written."""

from __future__ import annotations

import json

import pytest

from sgdsm_cloud import cli
from tests.publish.export.conftest import check_day


def last_json_line(text: str) -> dict:
    return json.loads(text.strip().splitlines()[-1])


def test_cli_export_on_a_running_scheduler(tmp_path, cube, cube_store, cluster, capsys):
    ds, url = cube, cube_store
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


def test_cli_bad_bbox_is_a_usage_error(tmp_path, cube_store, capsys):
    code = cli.main(["export", "--filled", cube_store, "--out", str(tmp_path), "--bbox", "1,2,3"])
    assert code == cli.EXIT_USAGE
    assert "argument --bbox: must be four numbers" in capsys.readouterr().err


def test_one_worker_runs_in_this_process_and_overwrite_rewrites(tmp_path, cube_store, capsys):
    out = tmp_path / "daily"
    argv = ["-q", "export", "--filled", cube_store, "--out", str(out), "--workers", "1"]
    argv += ["--prefix", "SM", "--end", "2015-04-03"]
    assert cli.main(argv) == cli.EXIT_OK
    assert last_json_line(capsys.readouterr().out) == {
        "out": str(out), "days": 3, "written": 3, "skipped": 0
    }  # fmt: skip
    assert sorted(p.name for p in out.glob("*.nc")) == [f"SM_2015040{d}.nc" for d in (1, 2, 3)]
    assert cli.main([*argv, "--end", "2015-04-04"]) == cli.EXIT_OK  # the last --end wins
    resumed = last_json_line(capsys.readouterr().out)
    assert (resumed["days"], resumed["written"], resumed["skipped"]) == (4, 1, 3)
    assert cli.main([*argv, "--overwrite"]) == cli.EXIT_OK
    rewritten = last_json_line(capsys.readouterr().out)
    assert (rewritten["days"], rewritten["written"], rewritten["skipped"]) == (3, 3, 0)


@pytest.mark.parametrize(
    ("option", "status", "message"),
    [
        (["--complevel", "12"], cli.EXIT_ERROR, "error: --complevel must be 0..9, got 12"),
        (["--prefix", "daily/SM"], cli.EXIT_ERROR, "error: --prefix 'daily/SM'"),
        (["--bbox", "100,10,110,20"], cli.EXIT_ERROR, "holds no cell centre of the cube"),
        (["--start", "2015-03-01"], cli.EXIT_ERROR, "--start/--end 2015-03-01..2015-04-06"),
        (["--format", "grib"], cli.EXIT_USAGE, "--format/--fmt: invalid choice: 'grib'"),
        (["--days-per-task", "0"], cli.EXIT_USAGE, "--days-per-task"),
    ],
)
def test_a_bad_value_is_one_line_and_writes_nothing(
    tmp_path, cube_store, capsys, option, status, message
):
    out = tmp_path / "daily"
    code = cli.main(["export", "--filled", cube_store, "--out", str(out), *option])
    err = capsys.readouterr().err.strip()
    assert code == status and message in err
    assert err.startswith("sgdsm export: error:") and "\n" not in err
    assert not out.exists()


def test_a_missing_cube_or_another_export_in_the_folder_is_one_line(tmp_path, cube_store, capsys):
    out = tmp_path / "daily"
    missing = tmp_path / "nowhere.zarr"
    assert cli.main(["export", "--filled", str(missing), "--out", str(out)]) == cli.EXIT_ERROR
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and str(missing) in err and "does not exist" in err
    assert not out.exists()

    argv = ["-q", "export", "--filled", cube_store, "--out", str(out), "--workers", "1"]
    assert cli.main([*argv, "--end", "2015-04-01"]) == cli.EXIT_OK
    before = sorted(p.name for p in out.iterdir())
    capsys.readouterr()
    assert cli.main([*argv, "--bbox", "5,48,6,49"]) == cli.EXIT_ERROR
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "holds another export (lat, lon differ" in err
    assert "--overwrite" in err and sorted(p.name for p in out.iterdir()) == before
