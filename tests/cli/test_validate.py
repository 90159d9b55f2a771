"""``sgdsm validate`` through ``cli.main``: the report and where it is, options generated from
the config keep their names, defaults and YAML keys, and bad values are one-line errors."""

from __future__ import annotations

import pytest

from sgdsm_cloud import cli, config_file
from sgdsm_cloud.cli.validate import build_config
from sgdsm_cloud.storage import Location
from sgdsm_cloud.validate.context import ValidateConfig


def test_validate_command_writes_the_report_and_says_where(
    tmp_path, tiny_store, tiny_model_dir, capsys
):
    report = tmp_path / "report"
    code = cli.main(
        [
            "-q",
            "validate",
            "--store",
            str(tiny_store),
            "--model",
            str(tiny_model_dir),
            "--report",
            str(report),
            "--gap-size",
            "9",
            "--gaps-per-day",
            "1",
            "--days",
            "2017-08-15",
            "--points",
            "36.6,-97.5",
            "--no-crosscheck",
            "--device",
            "cpu",
        ]
    )
    assert code == cli.EXIT_OK
    assert str(report) in capsys.readouterr().out
    text = (report / "report.md").read_text()
    assert "2017-08-15" in text and "| SGD-SM |" in text
    assert (report / "figures" / "timeseries_21_25.png").exists()


def test_validate_errors_are_one_line(tmp_path, tiny_store, tiny_model_dir, capsys):
    code = cli.main(
        [
            "validate",
            "--store",
            str(tiny_store),
            "--model",
            str(tiny_model_dir),
            "--report",
            str(tmp_path),
            "--points",
            "abc",
        ]
    )
    assert code == cli.EXIT_ERROR
    err = capsys.readouterr().err.strip()
    assert err.startswith("sgdsm validate: error: --points") and "\n" not in err
    code = cli.main(
        [
            "validate",
            "--store",
            str(tmp_path / "none.zarr"),
            "--model",
            str(tiny_model_dir),
            "--report",
            str(tmp_path / "report"),
        ]
    )
    assert code == cli.EXIT_ERROR and "sgdsm ingest" in capsys.readouterr().err


def test_validate_takes_the_shipped_model_by_name(tmp_path, tiny_store):
    from sgdsm_cloud.model.builtin import checkpoints_dir

    argv = ["validate", "--store", str(tiny_store), "--model", "builtin:lprm-x-d-025",
            "--report", str(tmp_path / "report")]  # fmt: skip
    config = build_config(cli.build_parser().parse_args(argv))
    assert config.model.url == str(checkpoints_dir() / "lprm-x-d-025")


def validate_config(argv: list[str], yaml: dict | None = None) -> ValidateConfig:
    parser = cli.build_parser()
    config_file.apply(yaml or {}, parser, source="pipeline.yaml")
    return build_config(parser.parse_args(["validate", *argv]))


def test_validate_defaults_are_those_of_the_config(tmp_path, tiny_store, tiny_model_dir):
    store, model = str(tiny_store), str(tiny_model_dir)
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


def test_validate_takes_the_same_keys_on_the_command_line_and_in_the_yaml_file(
    tmp_path, tiny_store, tiny_model_dir
):
    store, model = str(tiny_store), str(tiny_model_dir)
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
def test_bad_validate_values_are_one_line_errors(
    tmp_path, tiny_store, tiny_model_dir, capsys, option, message
):
    store, model = str(tiny_store), str(tiny_model_dir)
    code = cli.main(["validate", "--store", store, "--model", model, "--report", str(tmp_path),
                     *option])  # fmt: skip
    assert code == cli.EXIT_ERROR
    err = capsys.readouterr().err.strip()
    assert err.startswith("sgdsm validate: error:") and message in err and "\n" not in err
