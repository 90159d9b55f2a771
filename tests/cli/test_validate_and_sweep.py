"""``sgdsm validate`` and ``sgdsm sweep`` through ``sgdsm_cloud.cli.main``: options generated from
their configs keep their names, defaults and YAML keys; the sweep's table reaches the report."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from sgdsm_cloud import config_file
from sgdsm_cloud.cli import EXIT_ERROR, EXIT_OK, build_parser, main
from sgdsm_cloud.cli.validate import build_config
from sgdsm_cloud.storage import Location
from sgdsm_cloud.validate.context import ValidateConfig
from tests.validate.conftest import make_raw, smooth_field, swath_gaps


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A tiny raw cube and an untrained tiny model (the validation tests' own)."""
    import torch

    from sgdsm_cloud.model.checkpoint import save_checkpoint
    from sgdsm_cloud.model.config import ModelConfig
    from sgdsm_cloud.model.network import SGDSMNet

    folder = tmp_path_factory.mktemp("inputs")
    field = smooth_field()
    land = np.ones(field.shape[1:], dtype=bool)
    make_raw(field, swath_gaps(), land).to_zarr(folder / "raw.zarr", mode="w")
    torch.manual_seed(0)
    config = ModelConfig(layers=2, features=4)
    save_checkpoint(folder / "model", SGDSMNet(config), config, {"note": "untrained"})
    return str(folder / "raw.zarr"), str(folder / "model")


def validate_config(argv: list[str], yaml: dict | None = None) -> ValidateConfig:
    parser = build_parser()
    config_file.apply(yaml or {}, parser, source="pipeline.yaml")
    return build_config(parser.parse_args(["validate", *argv]))


def test_validate_defaults_are_those_of_the_config(tmp_path, inputs):
    store, model = inputs
    config = validate_config(["--store", store, "--model", model, "--report", str(tmp_path)])
    expected = ValidateConfig(
        store=Location.from_cli(store), model=Location.from_cli(model), report=tmp_path
    )
    assert config == expected
    assert (config.n_days, config.gap_size, config.gap_mode, config.gaps_per_day) == (
        4,
        27,
        "squares",
        8,
    )
    assert (config.seed, config.device, config.batch_size, config.sweep) == (0, "auto", 8, "none")
    opts = config.insitu_options
    assert (opts.depth_from, opts.depth_to, opts.tolerance_hours) == (0.0, 0.05, 1.0)
    assert config.crosscheck and config.days is None and config.coordinates is None


def test_validate_takes_the_same_keys_on_the_command_line_and_in_the_yaml_file(tmp_path, inputs):
    store, model = inputs
    argv = ["--store", store, "--model", model, "--report", str(tmp_path), "--gap-size", "9",
            "--gap-mode", "pattern", "--gaps-per-day", "2", "--days", "2017-08-14,2017-08-20",
            "--n-days", "3", "--seed", "5", "--points", "36.6,-97.5;37,-98",
            "--insitu-depth", "0,0.25", "--insitu-tolerance", "2", "--no-crosscheck",
            "--device", "cpu", "--batch-size", "4", "--start", "2017-08-11",
            "--end", "2017-08-22"]  # fmt: skip
    from_cli = validate_config(argv)
    yaml = {
        "validate": {
            "store": store, "model": model, "report": str(tmp_path), "gap-size": 9,
            "gap_mode": "pattern", "gaps-per-day": 2, "days": "2017-08-14,2017-08-20",
            "n-days": 3, "seed": 5, "points": "36.6,-97.5;37,-98", "insitu-depth": "0,0.25",
            "insitu_tolerance": 2, "no-crosscheck": True, "device": "cpu", "batch-size": 4,
            "start": "2017-08-11", "end": "2017-08-22",
        }
    }  # fmt: skip
    assert validate_config([], yaml) == from_cli
    assert from_cli.days == ("2017-08-14", "2017-08-20") and not from_cli.crosscheck
    assert from_cli.gaps.size == 9 and from_cli.gaps.mode == "pattern" and from_cli.gaps.seed == 5
    assert from_cli.coordinates == [(36.6, -97.5), (37.0, -98.0)]
    assert from_cli.insitu_options.depth_to == 0.25 and from_cli.insitu_options.tolerance_hours == 2
    spaced = ["--store", store, "--model", model, "--report", str(tmp_path),
              "--days", "2017-08-14", "2017-08-20"]  # fmt: skip
    assert validate_config(spaced).days == from_cli.days
    listed = {"validate": {**yaml["validate"], "days": ["2017-08-14", "2017-08-20"]}}
    assert validate_config([], listed).days == from_cli.days


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--insitu-depth", "5cm"], "--insitu-depth takes FROM,TO"),
        (["--sweep", "small", "--sweep-table", "sweep.csv"], "not both"),
        (["--gap-size", "0"], "--gap-size must be >= 1"),
    ],
)
def test_bad_validate_values_are_one_line_errors(tmp_path, inputs, capsys, option, message):
    store, model = inputs
    code = main(["validate", "--store", store, "--model", model, "--report", str(tmp_path),
                 *option])  # fmt: skip
    assert code == EXIT_ERROR
    err = capsys.readouterr().err.strip()
    assert err.startswith("sgdsm validate: error:") and message in err and "\n" not in err


def test_sweep_writes_the_table_that_validate_includes(tmp_path, inputs, monkeypatch, capsys):
    from sgdsm_cloud.model.config import ModelConfig, TrainConfig
    from sgdsm_cloud.validate import sweep

    base = ModelConfig(layers=2, features=4)
    plan = [sweep.SweepPoint("kernel", 3, base),
            sweep.SweepPoint("kernel", 5, dataclasses.replace(base, kernel=5))]  # fmt: skip
    tiny = TrainConfig(patch=16, stride=8, epochs=1, samples_per_epoch=16, batch_size=8,
                       max_validation_samples=8, gap_library_size=16)  # fmt: skip
    monkeypatch.setattr(sweep, "sweep_plan", lambda preset: plan)
    monkeypatch.setattr(sweep, "training_config", lambda preset, base: tiny)
    store, model = inputs
    gaps = ["--gap-size", "9", "--gaps-per-day", "2", "--days", "2017-08-14,2017-08-20",
            "--device", "cpu"]  # fmt: skip
    out = tmp_path / "sweep"
    assert main(["-q", "sweep", "--store", store, "--out", str(out), *gaps]) == EXIT_OK
    table = out / "sweep.csv"
    assert f"--sweep-table {table}" in capsys.readouterr().out
    assert (out / "sweep.json").is_file() and len(list((out / "sweep_models").iterdir())) == 2
    swept = pd.read_csv(table)
    assert list(swept["configuration"]) == ["k3_l2_f4", "k5_l2_f4"] and swept["RMSE"].notna().all()

    report = tmp_path / "report"
    code = main(["-q", "validate", "--store", store, "--model", model, "--report", str(report),
                 *gaps, "--points", "36.6,-97.5", "--no-crosscheck", "--sweep-table",
                 str(table)])  # fmt: skip
    assert code == EXIT_OK
    text = (report / "report.md").read_text()
    assert "## Sensitivity sweep (small)" in text
    assert "scored by SGD-SM on the simulated gaps of the main table" in text
    pd.testing.assert_frame_equal(pd.read_csv(report / "tables" / "sweep_small.csv"), swept)

    other_days = [*gaps[:5], "2017-08-16", *gaps[6:]]
    code = main(["-q", "validate", "--store", store, "--model", model, "--report",
                 str(tmp_path / "other"), *other_days, "--points", "36.6,-97.5",
                 "--no-crosscheck", "--sweep-table", str(table)])  # fmt: skip
    assert code == EXIT_OK
    assert "not those of the main table" in (tmp_path / "other" / "report.md").read_text()
