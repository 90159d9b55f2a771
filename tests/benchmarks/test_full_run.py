"""The full-shape rehearsal's own machinery: watching a step's processes, killing it, sizes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from benchmarks import full_run  # noqa: E402


def test_a_step_is_timed_and_its_phases_and_output_kept(tmp_path):
    step = full_run.run_step("help", ["synth", "--help"], tmp_path / "logs")
    assert step.returncode == 0 and not step.killed
    assert "--workers" in step.stdout  # the synth option that writes spans in processes
    assert step.client_peak_mb > 10 and step.phases is None
    assert (tmp_path / "logs" / "help.err").exists()


def test_a_step_is_killed_when_asked_and_a_failed_step_names_its_log(tmp_path):
    archive = tmp_path / "archive"
    step = full_run.run_step(
        "synth",
        ["synth", str(archive), "--start", "2015-01-01", "--end", "2015-12-31",
         "--bbox=0,40,10,50", "--workers", "2"],
        tmp_path / "logs",
        kill_when=lambda: archive.exists(),
    )  # fmt: skip
    assert step.killed and step.returncode == -9
    with pytest.raises(RuntimeError, match=r"step bad failed .*bad\.err"):
        full_run.run_step("bad", ["ingest", str(tmp_path / "nothing")], tmp_path / "logs")


def test_tree_size_counts_files_and_bytes(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x").write_bytes(b"12345")
    (tmp_path / "y").write_bytes(b"12")
    assert full_run.tree_size(tmp_path) == (2, 7)


def test_requests_per_tile_grow_with_the_halo():
    shape = full_run.FULL
    assert full_run._requests_per_tile(shape, 4, 11) > full_run._requests_per_tile(shape, 0, 0)
