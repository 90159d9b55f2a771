"""``sgdsm ingest`` through ``main()``: exit codes 0 / 3 / 1 and one stderr line per problem."""

from __future__ import annotations

import pytest
import xarray as xr

from sgdsm_cloud.cli import main
from tests.ingest.helpers import write_days


def run(capsys, *argv: str) -> tuple[int, list[str]]:
    code = main(["-q", "ingest", *argv])
    return code, capsys.readouterr().err.strip().splitlines()


def test_clean_run_exits_0_and_summarises(tmp_path, capsys):
    write_days(tmp_path / "raw", [0, 1])
    store = str(tmp_path / "cube.zarr")
    code, err = run(
        capsys,
        str(tmp_path / "raw"),
        "--store",
        store,
        "--variable",
        "x",
        "--workers",
        "1",
        "--chunks",
        "4,10,20",
    )
    assert code == 0
    assert (
        err[-1]
        == f"sgdsm ingest: {store}: 2 file(s) ingested, 0 already in the store, 0 quarantined, 0 filtered out of 2 listed; 2 days in the store"
    )
    assert xr.open_zarr(store)["sm"].encoding["chunks"] == (4, 10, 20)


def test_quarantine_exits_3_with_one_line_per_file(tmp_path, capsys, corpus):
    code, err = run(
        capsys,
        str(corpus.directory),
        "--store",
        str(tmp_path / "c.zarr"),
        "--variable",
        "x",
        "--workers",
        "1",
    )
    assert code == 3
    lines = [line for line in err if "quarantined" in line and "ERROR" in line]
    assert len(lines) == len(corpus.bad)
    for bad_name, reason in corpus.bad.items():
        assert (
            sum(
                f"quarantined {corpus.directory / bad_name}: " in line and reason in line
                for line in lines
            )
            == 1
        )


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        (["--bbox", "1,2,3"], 2, "argument --bbox: must be four numbers"),
        (["--start", "April"], 2, "argument --start: must be a date YYYY-MM-DD"),
        (["--variable", "ku"], 1, "--variable must be one of c1, c2, x"),
        (["--storage-options", "{bad"], 2, "argument --storage-options: must be a JSON object"),
    ],
)
def test_bad_options_exit_with_one_line(tmp_path, capsys, extra, code, message):
    """A malformed value (the option schema's types) is a usage error, exit 2; a value the
    store cannot take is an error, exit 1; either way one line."""
    write_days(tmp_path / "raw", [0])
    status, err = run(capsys, str(tmp_path / "raw"), "--store", str(tmp_path / "c.zarr"), *extra)
    assert status == code and len(err) == 1 and err[0].startswith("sgdsm ingest: error: ")
    assert message in err[0]


def test_missing_source_and_prepending_exit_1(tmp_path, capsys):
    code, err = run(capsys, str(tmp_path / "absent"), "--store", str(tmp_path / "c.zarr"))
    assert code == 1 and "does not exist" in err[-1]
    write_days(tmp_path / "raw", [3])
    assert (
        run(capsys, str(tmp_path / "raw"), "--store", str(tmp_path / "c.zarr"), "--variable", "x")[
            0
        ]
        == 0
    )
    write_days(tmp_path / "raw", [1])
    code, err = run(capsys, str(tmp_path / "raw"), "--store", str(tmp_path / "c.zarr"))
    assert (
        code == 1
        and "a store only grows forward in time: skip them with --start 2015-04-04" in err[-1]
    )


def test_help_lists_the_options(capsys):
    assert main(["ingest", "--help"]) == 0
    out = capsys.readouterr().out
    for option in (
        "--store",
        "--variable",
        "--pass",
        "--start",
        "--end",
        "--bbox",
        "--storage-options",
        "--workers",
    ):
        assert option in out


def test_every_config_option_also_comes_from_the_pipeline_file(tmp_path, capsys):
    """The options generated from IngestConfig take text from the YAML as from the command
    line: dates, a box and chunk sizes are parsed the same way, with the same messages."""
    write_days(tmp_path / "raw", [0, 1, 2, 3])
    store = tmp_path / "cube.zarr"
    path = tmp_path / "pipeline.yaml"
    path.write_text(
        f"ingest:\n  sources: [{tmp_path / 'raw'}]\n  store: {store}\n  variable: x\n"
        "  pass: D\n  start: 2015-04-02\n  end: 2015-04-03\n  bbox: 0,40,5,45\n"
        "  workers: 1\n  chunks: 2,10,10\n"
    )
    assert main(["-q", "--config", str(path), "ingest"]) == 0, capsys.readouterr().err
    cube = xr.open_zarr(store)
    assert [str(t)[:10] for t in cube["time"].values] == ["2015-04-02", "2015-04-03"]
    assert cube["sm"].encoding["chunks"] == (2, 10, 10) and cube.sizes["lon"] == 20
    path.write_text(f"ingest:\n  store: {store}\n  start: April\n")
    assert main(["-q", "--config", str(path), "ingest", str(tmp_path / "raw")]) == 1
    assert "'ingest.start' has an invalid value 'April': must be a date YYYY-MM-DD" in (
        capsys.readouterr().err
    )
