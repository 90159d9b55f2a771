"""`make demo` is the README's first command: every step it runs is a valid `sgdsm` command,
and a shrunken demo runs the whole pipeline to a report with the product filled."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from sgdsm_cloud.cli import build_parser
from sgdsm_cloud.cli.demo import DemoConfig, run_demo
from sgdsm_cloud.product import open_seamless

LPRM_SAMPLE = Path(__file__).parent / "data" / "lprm"


def test_every_demo_step_is_a_valid_sgdsm_command(tmp_path):
    parser = build_parser()
    for real in (None, LPRM_SAMPLE):
        steps = DemoConfig(tmp_path, real=real).commands()
        expected = (
            ["ingest", "fill", "validate"]
            if real
            else ["synth", "ingest", "train", "fill", "validate"]
        )
        assert [name for name, _ in steps] == expected
        for name, argv in steps:
            assert parser.parse_args(argv).command == name


def test_the_real_demo_fills_with_the_shipped_model_and_the_synthetic_one_trains_the_variant(
    tmp_path,
):
    real = dict(DemoConfig(tmp_path, real=LPRM_SAMPLE).commands())
    assert real["fill"][real["fill"].index("--model") + 1] == "builtin:lprm-x-d-025-v2"
    assert real["validate"][real["validate"].index("--model") + 1] == "builtin:lprm-x-d-025-v2"
    assert real["validate"][real["validate"].index("--start") + 1] == "2015-04-11"  # unseen days
    synthetic = dict(DemoConfig(tmp_path).commands())
    assert synthetic["train"][synthetic["train"].index("--preset") + 1] == "anomaly"
    assert "--sweep" not in synthetic["validate"]  # the sweep is its own, longer command


def test_a_shrunken_demo_runs_every_step_to_a_report(tmp_path, capsys):
    config = DemoConfig(
        tmp_path / "demo",
        bbox="135,-32,147,-20",  # 48 x 48 cells
        start="2015-03-01",
        end="2015-04-10",
        train_args=("--preset", "small", "--epochs", "1", "--batch-size", "8",
                    "--samples-per-epoch", "16"),
        fill_args=("--workers", "1"),
        validate_args=("--n-days", "1"),
    )  # fmt: skip

    report = run_demo(config)

    assert report == config.workdir / "report"
    text = (report / "report.md").read_text()
    assert "SGD-SM" in text and "linear interpolation" in text
    assert list((report / "figures").glob("*.png"))
    err = capsys.readouterr().err
    for step in ("synth", "ingest", "train", "fill", "validate"):
        assert f"$ sgdsm {step} " in err
    assert "sgdsm demo: step times synth" in err
    filled = open_seamless(str(config.workdir / "seamless"))
    raw = xr.open_zarr(config.workdir / "raw.zarr")
    observed = raw["sm"].notnull().values
    np.testing.assert_array_equal(filled["sm"].values[observed], raw["sm"].values[observed])
    assert filled["sm"].notnull().sum() > raw["sm"].notnull().sum()  # gaps were filled
