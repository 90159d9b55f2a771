"""The command line: help works without heavy imports, errors are one line, not tracebacks."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from sgdsm_cloud import cli


def test_module_entry_point_prints_help():
    result = subprocess.run(
        [sys.executable, "-m", "sgdsm_cloud", "--help"], capture_output=True, text=True, check=True
    )
    assert "usage: sgdsm" in result.stdout
    for name in ("synth", "ingest", "train", "fill", "validate"):
        assert name in result.stdout


def test_help_does_not_import_torch_or_dask():
    code = "import sys; from sgdsm_cloud.cli import build_parser; build_parser(); print('torch' in sys.modules, 'dask' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False"]


def test_unknown_subcommand_is_a_usage_error(capsys):
    assert cli.main(["no-such-step"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "invalid choice" in err and len(err.strip().splitlines()) == 1


def test_a_negative_first_coordinate_needs_no_equals_sign():
    from sgdsm_cloud.cli import attach_negative_values, build_parser
    from sgdsm_cloud.grid import BBox

    dates = ["--start", "2015-04-01", "--end", "2015-04-02"]
    argv = attach_negative_values(["synth", "out", *dates, "--bbox", "-10,35,5,45", "--seed", "1"])
    assert argv == ["synth", "out", *dates, "--bbox=-10,35,5,45", "--seed", "1"]
    assert build_parser().parse_args(argv).bbox == BBox(-10, 35, 5, 45)
    points = attach_negative_values(["--points", "-33.1,151.2;-1.5,36.8"])
    assert points == ["--points=-33.1,151.2;-1.5,36.8"]
    assert attach_negative_values(["--bbox", "10,35,5,45"]) == ["--bbox", "10,35,5,45"]


def test_a_bad_bbox_is_a_usage_error_that_names_the_format(capsys):
    argv = ["synth", "out", "--start", "2015-04-01", "--end", "2015-04-02", "--bbox", "1,2,3"]
    assert cli.main(argv) == cli.EXIT_USAGE
    assert "argument --bbox: must be four numbers W,S,E,N" in capsys.readouterr().err


def test_every_subcommand_takes_its_help_line_from_its_module_docstring():
    import importlib

    parser = cli.build_parser()
    (subparsers,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    helps = {choice.dest: choice.help for choice in subparsers._choices_actions}
    for name in cli.SUBCOMMANDS:
        doc = importlib.import_module(f"sgdsm_cloud.cli.{name}").__doc__
        assert helps[name] and helps[name] in doc.replace("``", "").split("\n")[0]
        assert subparsers.choices[name].description not in (None, helps[name]), name


def test_json_logs_are_one_object_per_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "sgdsm_cloud", "--log-format", "json", "train", "--store",
         str(tmp_path / "none.zarr"), "--out", str(tmp_path / "m")],
        capture_output=True, text=True,
    )  # fmt: skip
    lines = result.stderr.strip().splitlines()
    assert result.returncode == cli.EXIT_ERROR and len(lines) == 1
    document = json.loads(lines[0])
    assert document["level"] == "ERROR" and "sgdsm ingest" in document["message"]
