"""``sgdsm sweep`` through ``cli.main``: the sweep's table, which ``sgdsm validate
--sweep-table`` includes in its report, and bad inputs refused in one line."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from sgdsm_cloud.cli import EXIT_ERROR, EXIT_OK, EXIT_USAGE, main
from tests.cli.conftest import snapshot


def test_sweep_writes_the_table_that_validate_includes(
    tmp_path, tiny_store, tiny_model_dir, monkeypatch, capsys
):
    from sgdsm_cloud.model.config import ModelConfig, TrainConfig
    from sgdsm_cloud.validate import sweep

    base = ModelConfig(layers=2, features=4)
    plan = [sweep.SweepPoint("kernel", 3, base),
            sweep.SweepPoint("kernel", 5, dataclasses.replace(base, kernel=5))]  # fmt: skip
    tiny = TrainConfig(patch=16, stride=8, epochs=1, samples_per_epoch=16, batch_size=8,
                       max_validation_samples=8, gap_library_size=16)  # fmt: skip
    monkeypatch.setattr(sweep, "sweep_plan", lambda preset: plan)
    monkeypatch.setattr(sweep, "training_config", lambda preset, base: tiny)
    store, model = str(tiny_store), str(tiny_model_dir)
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


@pytest.mark.parametrize(
    ("option", "status", "message"),
    [
        (["--preset", "huge"], EXIT_USAGE, "--preset: invalid choice: 'huge'"),
        (["--gap-size", "0"], EXIT_ERROR, "--gap-size must be >= 1"),
        (["--gap-mode", "circles"], EXIT_USAGE, "--gap-mode: invalid choice: 'circles'"),
        (["--days", "2016-01-05"], EXIT_ERROR, "2016-01-05 is not in the validated period"),
    ],
)
def test_a_bad_option_is_one_line_and_trains_nothing(
    tmp_path, tiny_store, capsys, option, status, message
):
    out = tmp_path / "sweep"
    assert main(["sweep", "--store", str(tiny_store), "--out", str(out), *option]) == status
    err = capsys.readouterr().err.strip()
    assert err.startswith("sgdsm sweep: error:") and message in err and "\n" not in err
    assert not out.exists()


def test_a_folder_of_someone_elses_files_is_refused_unchanged(tmp_path, tiny_store, capsys):
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "chapter-3.tex").write_text("\\chapter{Soil moisture}\n")
    before = snapshot(out)
    code = main(["sweep", "--store", str(tiny_store), "--out", str(out), "--device", "cpu"])
    assert code == EXIT_ERROR
    err = capsys.readouterr().err.strip()
    assert err.startswith("sgdsm sweep: error:") and str(out) in err and "\n" not in err
    assert snapshot(out) == before
