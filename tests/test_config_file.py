"""The pipeline YAML: sections become subcommand defaults, bad keys name themselves."""

from __future__ import annotations

import argparse

import dask.config
import distributed  # noqa: F401  (loads the distributed.* config defaults)
import pytest

from sgdsm_cloud import config_file
from sgdsm_cloud.errors import ConfigError


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sgdsm")
    sub = parser.add_subparsers(dest="command", required=True)
    ingest = sub.add_parser("ingest")
    ingest.add_argument("sources", nargs="+")
    ingest.add_argument("--store", required=True)
    ingest.add_argument("--workers", type=int, default=2)
    ingest.add_argument("--pass", dest="pass_", choices=["A", "D"], default="D")
    ingest.add_argument("--overwrite", action="store_true")
    ingest.add_argument("--storage-options")
    return parser


def write(tmp_path, text: str):
    path = tmp_path / "pipeline.yaml"
    path.write_text(text)
    return path


def test_section_sets_defaults_and_command_line_wins(tmp_path):
    parser = make_parser()
    config = config_file.load(
        write(tmp_path, "ingest:\n  sources: [a, b]\n  store: s3://x/raw.zarr\n  workers: 4\n")
    )
    config_file.apply(config, parser)
    args = parser.parse_args(["ingest"])
    assert (args.sources, args.store, args.workers) == (["a", "b"], "s3://x/raw.zarr", 4)
    args = parser.parse_args(["ingest", "c", "--workers", "1"])
    assert (args.sources, args.workers) == (["c"], 1)


def test_dashed_and_underscored_keys_and_mappings(tmp_path):
    parser = make_parser()
    config = config_file.load(
        write(
            tmp_path,
            "ingest:\n  store: s\n  pass: A\n  storage_options: {anon: true}\n  overwrite: true\n",
        )
    )
    config_file.apply(config, parser)
    args = parser.parse_args(["ingest", "src"])
    assert args.pass_ == "A"  # 'pass' is the option name, its dest is pass_
    assert args.storage_options == '{"anon": true}'
    assert args.overwrite is True


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ingest:\n  workerz: 3\n", "unknown key 'ingest.workerz'"),
        ("ingset:\n  store: x\n", "unknown section 'ingset'"),
        ("ingest:\n  workers: many\n", "'ingest.workers' has an invalid value"),
        ("ingest:\n  pass: X\n", "'ingest.pass' must be one of A, D"),
        ("ingest:\n  overwrite: 'yes'\n", "'ingest.overwrite' must be true or false"),
        ("ingest:\n  store: [a, b]\n", "'ingest.store' takes a single value"),
        ("- just\n- a list\n", "top level must be a mapping"),
        ("ingest: [1, 2]\n", "section 'ingest' must be a mapping"),
    ],
)
def test_bad_config_names_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        config_file.apply(
            config_file.load(write(tmp_path, text)), make_parser(), source="pipeline.yaml"
        )


def test_missing_and_invalid_files(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        config_file.load(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        config_file.load(write(tmp_path, "ingest: [unclosed\n"))


def test_dask_section_reaches_dask_config(tmp_path):
    config = config_file.load(
        write(
            tmp_path,
            "dask:\n  distributed:\n    worker:\n      memory:\n        target: 0.55\n  array.chunk-size: 64MiB\n",
        )
    )
    with dask.config.set({}):
        before = dask.config.get("distributed.worker.memory.spill")
        config_file.apply_dask(config)
        assert dask.config.get("distributed.worker.memory.target") == 0.55
        assert dask.config.get("array.chunk-size") == "64MiB"
        assert dask.config.get("distributed.worker.memory.spill") == before  # siblings untouched


def test_sgdsm_runs_a_step_from_the_pipeline_file(tmp_path, capsys):
    from sgdsm_cloud.cli import EXIT_ERROR, EXIT_OK, main

    out = tmp_path / "archive"
    path = write(
        tmp_path,
        f"synth:\n  out_dir: {out}\n  start: 2015-04-01\n  end: 2015-04-02\n  bbox: 10,45,12,47\n",
    )
    assert main(["-q", "--config", str(path), "synth"]) == EXIT_OK
    assert len(list(out.glob("LPRM-AMSR2_L3_D_SOILM3_V001_2015040*.nc4"))) == 2
    bad = write(tmp_path, "synth:\n  strat: 2015-04-01\n")
    assert main(["--config", str(bad), "synth", str(out)]) == EXIT_ERROR
    assert "unknown key 'synth.strat'" in capsys.readouterr().err
