"""The GPU script on the CPU: tile accounting, mode handling, and the whole script (slow)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmarks.gpu import MODES, Setting, input_side, measure, tiled_input_cells

REPO = Path(__file__).resolve().parents[2]
CPU = Setting(torch.device("cpu"), "small", tile=4, batch=1, sweep=(1,), warmup=0, repeats=1)


def test_tiled_input_cells_counts_haloed_land_tiles_with_wrapping_longitude():
    fillable = np.zeros((8, 12), dtype=bool)
    fillable[0, 0] = True  # top-left tile: halo below only, wraps around in longitude
    fillable[5, 6] = True  # bottom-middle tile: halo above only
    # tiles of 4 x 4, radius 1: each read is (4 + 1) rows x (4 + 2) columns
    assert tiled_input_cells(fillable, tile=4, radius=1) == 2 * 5 * 6
    assert tiled_input_cells(np.zeros((8, 12), dtype=bool), tile=4, radius=1) == 0
    assert input_side(360, 11) == 382


def test_fp32_and_reference_modes_run_on_the_cpu():
    for mode in (m for m in MODES if not m.cuda_only):
        row = measure(mode, CPU, batch=1)
        assert row["rate"].median > 0 and row["batch"] == 1


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU fallback")
def test_cuda_only_modes_are_skipped_without_cuda():
    skipped = [measure(mode, CPU, batch=1) for mode in MODES if mode.cuda_only]
    assert skipped and all(row["skipped"] == "needs CUDA" for row in skipped)


@pytest.mark.slow
def test_script_runs_quick_without_cuda(tmp_path):
    out = tmp_path / "gpu.json"
    done = subprocess.run(
        [sys.executable, "benchmarks/gpu.py", "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    if not torch.cuda.is_available():
        assert "CUDA is not available" in done.stdout
    assert "small: 0.25 deg, 2556 days, fillable land" in done.stdout and "0.1 deg" in done.stdout
    assert "anomaly: 0.25 deg, 2556 days" in done.stdout  # the shipped variant is measured too
    assert out.exists()


def test_the_anomaly_variant_runs_and_skips_the_3d_peers():
    setting = Setting(
        torch.device("cpu"), "anomaly", tile=4, batch=1, sweep=(1,), warmup=0, repeats=1
    )
    rows = {m.name: measure(m, setting, batch=1) for m in MODES if not m.cuda_only}
    assert rows["fp32"]["rate"].median > 0 and rows["fp32 channels_last_3d"]["rate"].median > 0
    skipped = [r for r in rows.values() if "skipped" in r]
    assert skipped and all("3-D network's peer" in r["skipped"] for r in skipped)
