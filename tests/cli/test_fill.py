"""``sgdsm fill`` through ``cli.main``: the distributed path agrees with the notebook API."""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from sgdsm_cloud import cli, cube
from sgdsm_cloud.fill.api import fill_dataset
from sgdsm_cloud.fill.config import FillConfig
from sgdsm_cloud.product import open_seamless
from tests.fill.conftest import make_raw, write_raw

TILING = ["--tile-days", "8", "--tile-cells", "24", "--chunk-cells", "12", "--batch-size", "32"]


def fill_argv(raw_url: str, model_dir, out, *extra: str) -> list[str]:
    return ["fill", "--store", raw_url, "--model", str(model_dir), "--out", str(out), *extra]


def last_json_line(text: str) -> dict:
    return json.loads(text.strip().splitlines()[-1])


def test_cli_on_a_running_scheduler_agrees_with_the_notebook_api(
    tmp_path, cluster, client, model_dir, capsys
):
    raw_url = write_raw(make_raw(days=20), str(tmp_path / "raw.zarr"))
    out = tmp_path / "filled.zarr"
    argv = fill_argv(raw_url, model_dir, out, "--scheduler", cluster.scheduler_address)
    assert cli.main([*argv, *TILING, "--start", "2015-03-03", "--end", "2015-03-18"]) == 0
    summary = last_json_line(capsys.readouterr().out)
    assert summary["tiles"] == 2 * 2 * 4 and summary["skipped"] == 0
    assert set(summary["seconds"]) == {"plan", "template", "tiles", "commit"}
    assert summary["version"] == 1

    distributed = open_seamless(str(out))
    config = FillConfig(tile_days=8, tile_cells=24, chunk_cells=12, batch_size=32)
    lazy = fill_dataset(
        cube.open_cube(raw_url), model_dir, start="2015-03-03", end="2015-03-18", config=config
    )
    notebook = lazy.compute()  # on the test's distributed client
    xr.testing.assert_allclose(
        distributed[["sm", "flag", "land"]], notebook[["sm", "flag", "land"]], rtol=0, atol=1e-5
    )
    np.testing.assert_array_equal(distributed.flag.values, notebook.flag.values)

    # The same command again finds the fill published: nothing to do, no new version.
    assert cli.main([*argv, *TILING, "--start", "2015-03-03", "--end", "2015-03-18"]) == 0
    again = last_json_line(capsys.readouterr().out)
    assert again["skipped"] == 16 and again["version"] is None


def test_cli_with_one_worker_fills_in_this_process(tmp_path, model_dir, capsys):
    raw_url = write_raw(make_raw(days=8), str(tmp_path / "raw.zarr"))
    out = tmp_path / "filled.zarr"
    argv = fill_argv(raw_url, model_dir, out, "--workers", "1")
    assert cli.main([*argv, "--tile-days", "8", "--tile-cells", "48", "--batch-size", "32"]) == 0
    assert last_json_line(capsys.readouterr().out)["tiles"] == 2
    assert set(np.unique(open_seamless(str(out)).flag.values)) <= {0, 1, 2, 3}


def test_cli_errors_are_one_line_naming_the_fix(tmp_path, cluster, model_dir, capsys):
    raw_url = write_raw(make_raw(days=8), str(tmp_path / "raw.zarr"))
    argv = [
        "fill",
        "--store",
        raw_url,
        "--model",
        str(model_dir),
        "--out",
        str(tmp_path / "o.zarr"),
        "--scheduler",
        cluster.scheduler_address,
    ]
    assert cli.main([*argv, "--start", "2014-01-01"]) == cli.EXIT_ERROR
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--start/--end" in err
    assert cli.main([*argv, "--tile-cells", "30", "--chunk-cells", "20"]) == cli.EXIT_ERROR
    assert "multiple of 'chunk_cells'" in capsys.readouterr().err
    assert cli.main([*argv[:4], str(tmp_path / "no-model"), *argv[5:]]) == cli.EXIT_ERROR
    assert "does not exist" in capsys.readouterr().err


def test_scheduler_address_defaults_to_the_daskjob_environment(monkeypatch):
    from sgdsm_cloud.cli import build_parser
    from sgdsm_cloud.options import Cluster, from_args

    argv = ["fill", "--store", "raw.zarr", "--model", "m", "--out", "o.zarr"]
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://scheduler.sgdsm:8786")
    cluster = from_args(Cluster, build_parser().parse_args(argv))
    assert cluster.scheduler == "tcp://scheduler.sgdsm:8786"
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS")
    assert from_args(Cluster, build_parser().parse_args(argv)).scheduler is None
    given = build_parser().parse_args([*argv, "--scheduler", "tcp://other:8786"])
    assert from_args(Cluster, given).scheduler == "tcp://other:8786"
