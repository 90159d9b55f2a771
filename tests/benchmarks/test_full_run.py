"""The full-shape run's own machinery: watching a step's processes, killing it, sizes, shapes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from benchmarks import full_run, steps  # noqa: E402


def test_a_step_is_timed_and_its_phases_and_output_kept(tmp_path):
    step = steps.run_step("help", ["synth", "--help"], tmp_path / "logs")
    assert step.returncode == 0 and not step.killed
    assert "--workers" in step.stdout  # the synth option that writes spans in processes
    assert step.client_peak_mb > 10 and step.phases is None
    assert (tmp_path / "logs" / "help.err").exists()


def test_a_step_is_killed_when_asked_and_a_failed_step_names_its_log(tmp_path):
    archive = tmp_path / "archive"
    step = steps.run_step(
        "synth",
        ["synth", str(archive), "--start", "2015-01-01", "--end", "2015-12-31",
         "--bbox=0,40,10,50", "--workers", "2"],
        tmp_path / "logs",
        kill_when=lambda: archive.exists(),
    )  # fmt: skip
    assert step.killed and step.returncode == -9
    with pytest.raises(RuntimeError, match=r"step bad failed .*bad\.err"):
        steps.run_step("bad", ["ingest", str(tmp_path / "nothing")], tmp_path / "logs")


def test_tree_size_counts_files_and_bytes(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x").write_bytes(b"12345")
    (tmp_path / "y").write_bytes(b"12")
    assert steps.tree_size(tmp_path) == (2, 7)


def test_the_shapes_cover_the_product_and_a_month_of_updates():
    assert full_run.FULL.days == 2556 and full_run.FULL.day(30) == "2020-01-30"
    assert full_run.QUICK.days == 64 and full_run.QUICK.updates == 2


def test_epoch_seconds_come_from_the_train_log():
    log = "\n".join(
        f"2026-12-06 11:40:{s:02d},000 INFO sgdsm_cloud.model.train: epoch {i}/40 (lr 0.001): "
        "loss 0.02 | validation gaps: loss 0.02 R 0.8 RMSE 0.03 MAE 0.02"
        for i, s in enumerate((0, 3, 7, 10), start=1)
    )
    assert full_run._epoch_seconds(log) == 3.0
