"""Crash recovery: a real ``sgdsm ingest`` process killed mid-run, re-run, equals an uninterrupted run."""

from __future__ import annotations

import signal
import subprocess
import sys

import numpy as np
import xarray as xr

from sgdsm_cloud.cli import main

from .helpers import assert_same_store, snapshot

# The driver, dying hard (SIGKILL) once two slabs have finished: the CLI run with the driver's
# task runner wrapped, in the child process only.
DIES_AFTER_TWO_SLABS = """
import os, signal, sys
import sgdsm_cloud.ingest.run as run
from sgdsm_cloud.cli import main
real = run.run_tasks
def dying(fn, tasks, on_result, **kwargs):
    done = []
    def counted(result):
        on_result(result)
        done.append(result)
        if len(done) == 2:
            os.kill(os.getpid(), signal.SIGKILL)
    return real(fn, tasks, counted, **kwargs)
run.run_tasks = dying
sys.exit(main(sys.argv[1:]))
"""


def test_killed_run_resumes_to_the_same_store_as_a_clean_run(tmp_path, corpus):
    killed, clean = str(tmp_path / "killed.zarr"), str(tmp_path / "clean.zarr")
    args = [
        "ingest",
        str(corpus.directory),
        "--variable",
        "x",
        "--workers",
        "1",
        "--chunks",
        "4,10,20",
    ]
    proc = subprocess.run(
        [sys.executable, "-c", DIES_AFTER_TWO_SLABS, "-q", *args, "--store", killed],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr

    partial = xr.open_zarr(killed, consolidated=False)
    slabs_done = partial["day_status"].values.reshape(5, 4).any(axis=1)
    assert slabs_done.sum() == 2  # two of the five slabs were written before the kill
    assert partial.attrs["quarantine"] == []  # the run never reached its end

    assert main(["-q", *args, "--store", killed]) == 3  # the same command resumes
    assert main(["-q", *args, "--store", clean]) == 3
    resumed, reference = snapshot(killed), snapshot(clean)
    assert_same_store(resumed, reference)
    assert len(reference["attrs"]["quarantine"]) == len(corpus.bad)
    assert np.isfinite(reference["sm"]).any(axis=(1, 2)).sum() == len(corpus.good)
