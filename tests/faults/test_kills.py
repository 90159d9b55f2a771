"""Real ``sgdsm`` processes killed with SIGKILL mid-run: a re-run gives the uninterrupted output.

Each run is frozen at a known point by the proxy (it parks the requests of one source file or
one output shard), the kill comes once the store shows progress, and the parked requests are
let go afterwards, as a dead client's last requests would be.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import xarray as xr
from data.badfiles import name
from ingest.helpers import config, write_days
from products import done_tiles

from sgdsm_cloud.cli import main
from sgdsm_cloud.ingest import ingest
from sgdsm_cloud.storage import Location
from sgdsm_cloud.versioned.repository import Repository

from .conftest import (
    FILL_TILE_COUNT,
    FILL_TILES,
    WHERE_ATTRS,
    process_with_port,
    report,
    sgdsm,
    store_digest,
    upload,
    upload_store,
    wait_for,
)

pytestmark = pytest.mark.s3

SLAB_DAYS = 4


def day_status(s3, url: str) -> list[int]:
    ds = xr.open_zarr(url, storage_options=s3.storage_options, consolidated=False)
    return ds["day_status"].values.tolist()


@dataclass(frozen=True)
class IngestCorpus:
    """Twelve days (three slabs), the store that holds only the first, the digest of the
    store after the same two runs, all local, and the name of a file of the second slab."""

    days: Path
    first_day: Path
    digest: dict[str, str]
    second_slab_file: str


@pytest.fixture(scope="module")
def ingest_corpus(tmp_path_factory) -> IngestCorpus:
    root = tmp_path_factory.mktemp("ingest-corpus")
    corpus = write_days(root / "raw", range(3 * SLAB_DAYS))
    ingest(config([corpus.directory / name(corpus.day(0))], root / "first-day.zarr"))
    reference = root / "reference.zarr"
    shutil.copytree(root / "first-day.zarr", reference)
    ingest(config([corpus.directory], reference))
    return IngestCorpus(
        corpus.directory,
        root / "first-day.zarr",
        store_digest(str(reference)),
        name(corpus.day(SLAB_DAYS + 2)),
    )


@pytest.fixture
def ingest_case(s3, proxy, ingest_corpus):
    """The twelve days on S3 and a store on S3 that already holds the first day, so the killed
    process starts writing at once; the re-run store must have ``ingest_corpus.digest``."""
    upload(s3, ingest_corpus.days, "raw")
    store = upload_store(s3, ingest_corpus.first_day, "cube.zarr")
    argv = [
        "-q",
        "ingest",
        s3.url("raw"),
        "--store",
        store,
        "--variable",
        "x",
        "--storage-options",
        json.dumps({"endpoint_url": proxy.url}),
    ]
    # The second slab's read of one file waits: the first slab finishes, whichever process
    # runs it, and the second cannot. (Parking every read after the fifth could park both
    # workers mid-slab, with no slab ever finished.)
    hold = proxy.hold(f"/raw/{ingest_corpus.second_slab_file}", method="GET")
    return store, ingest_corpus.digest, argv, hold


def slabs_done(s3, store: str) -> int:
    """Slabs whose every day the store records as ingested."""
    status = day_status(s3, store)
    return sum(all(status[i : i + SLAB_DAYS]) for i in range(0, len(status), SLAB_DAYS))


def test_ingest_driver_killed_mid_run_resumes_to_the_uninterrupted_store(s3, ingest_case):
    store, expected, argv, hold = ingest_case
    process = sgdsm(*argv, "--workers", "1")
    wait_for(lambda: hold.waiting >= 1 or process.poll() is not None, "a parked source read")
    assert process.poll() is None, process.communicate()
    at_kill = slabs_done(s3, store)
    assert 1 <= at_kill < 3  # progress in the store, and work left
    process.send_signal(signal.SIGKILL)
    process.communicate()
    hold.release()
    assert process.returncode == -signal.SIGKILL

    assert main([*argv, "--workers", "1"]) == 0  # takes over the dead process's lock
    assert store_digest(store, s3.storage_options) == expected
    report("ingest driver SIGKILL", slabs_at_kill=at_kill, **landed(s3, store))


def kill_slab_worker(process, hold) -> int:
    """SIGKILL the worker process of ``process``'s cluster whose source read is parked."""
    worker = process_with_port(process.pid, hold.peers[0][1])
    assert worker != process.pid  # the slab runs in a worker process of the driver's cluster
    os.kill(worker, signal.SIGKILL)
    return worker


def test_ingest_worker_killed_mid_run_fails_cleanly_and_resumes(s3, ingest_case):
    """With dask allowing no worker death (``distributed.scheduler.allowed-failures: 0``, e.g.
    from the YAML's ``dask`` section), the one kill stops the run with the typed error."""
    store, expected, argv, hold = ingest_case
    no_deaths = {"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"}
    process = sgdsm(*argv, "--workers", "2", env=no_deaths)
    wait_for(
        lambda: (hold.waiting >= 1 and slabs_done(s3, store) >= 1) or process.poll() is not None,
        "a finished slab and a parked source read",
    )
    assert process.poll() is None, process.communicate()
    at_kill = slabs_done(s3, store)
    kill_slab_worker(process, hold)
    _, err = process.communicate(timeout=120)
    hold.release()
    assert process.returncode == 1, err
    [line] = [line for line in err.splitlines() if "error:" in line]
    assert line.startswith(f"sgdsm ingest: error: {store}: a slab worker process died")
    assert "of 3 slabs finished and are kept: re-run the same command to resume" in line
    assert "Traceback" not in err

    assert main([*argv, "--workers", "1"]) == 0
    assert store_digest(store, s3.storage_options) == expected
    report("ingest worker SIGKILL, no death allowed", slabs_at_kill=at_kill, **landed(s3, store))


def test_ingest_worker_killed_mid_run_is_replaced_and_the_run_completes(s3, ingest_case):
    """By default dask reruns the dead worker's slab on a live one: the run completes."""
    store, expected, argv, hold = ingest_case
    process = sgdsm(*argv, "--workers", "2")
    wait_for(lambda: hold.waiting >= 1 or process.poll() is not None, "a parked source read")
    assert process.poll() is None, process.communicate()
    at_kill = slabs_done(s3, store)
    kill_slab_worker(process, hold)
    hold.release()
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    assert store_digest(store, s3.storage_options) == expected
    report("ingest worker SIGKILL", slabs_at_kill=at_kill, **landed(s3, store))


@pytest.fixture
def dask_processes(tmp_path):
    """A dask scheduler and a worker in processes of their own, as on Kubernetes; yields the
    scheduler's address and the two processes (the worker's whole tree dies at teardown)."""
    import psutil
    from distributed import Client

    spec = tmp_path / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    dask = [sys.executable, "-m", "dask"]
    scheduler = subprocess.Popen(
        [*dask, "scheduler", "--port", "0", "--no-dashboard", "--scheduler-file", str(spec)],
        **quiet,
    )
    worker = None
    try:
        wait_for(lambda: spec.exists() and spec.stat().st_size > 0, "the scheduler file", 120)
        address = json.loads(spec.read_text())["address"]
        worker = subprocess.Popen(
            [*dask, "worker", address, "--nthreads", "1", "--no-dashboard"], **quiet
        )
        with Client(address) as client:
            client.wait_for_workers(1, timeout=120)
        yield address, scheduler, worker
    finally:
        for process in (worker, scheduler):
            if process is None or process.poll() is not None:
                continue
            for child in psutil.Process(process.pid).children(recursive=True):
                child.kill()
            process.kill()
            process.wait()


def test_ingest_scheduler_killed_mid_run_fails_cleanly_and_resumes(s3, ingest_case, dask_processes):
    """``sgdsm ingest --scheduler``: the scheduler dies mid-run; the run stops with the typed
    error and the re-run completes the store."""
    import psutil

    store, expected, argv, hold = ingest_case
    address, scheduler, worker = dask_processes
    process = sgdsm(*argv, "--scheduler", address)
    wait_for(
        lambda: (hold.waiting >= 1 and slabs_done(s3, store) >= 1) or process.poll() is not None,
        "a finished slab and a parked source read",
    )
    assert process.poll() is None, process.communicate()
    at_kill = slabs_done(s3, store)
    scheduler.send_signal(signal.SIGKILL)
    _, err = process.communicate(timeout=120)
    for orphan in [*psutil.Process(worker.pid).children(recursive=True), worker]:
        orphan.kill()  # the worker's parked read must not land during the re-run
    hold.release()
    assert process.returncode == 1, err
    [line] = [line for line in err.splitlines() if "error:" in line]
    assert line.startswith(f"sgdsm ingest: error: {store}: the dask cluster went away"), line
    assert "of 3 slabs finished and are kept: re-run the same command to resume" in line
    assert "Traceback" not in err

    assert main([*argv, "--workers", "1"]) == 0
    assert store_digest(store, s3.storage_options) == expected
    report("ingest scheduler SIGKILL", slabs_at_kill=at_kill, **landed(s3, store))


def landed(s3, store: str) -> dict[str, int]:
    return {"days_expected": 3 * SLAB_DAYS, "days_landed": day_status(s3, store).count(1)}


@pytest.fixture
def fill_case(s3, proxy, cluster, raw_store, model_dir):
    """``sgdsm fill`` arguments for S3 to S3 on the session cluster; the last tile's shard
    write is parked so the run is still going when the test acts."""
    upload_store(s3, raw_store, "raw.zarr")
    out = s3.url("filled.zarr")
    argv = ["-q", "fill", "--store", s3.url("raw.zarr"), "--model", str(model_dir), "--out", out]
    argv += ["--scheduler", cluster.scheduler_address]
    argv += ["--storage-options", json.dumps({"endpoint_url": proxy.url})]
    for option, value in FILL_TILES.items():
        argv += [f"--{option.replace('_', '-')}", str(value)]
    hold = proxy.hold("t0001-y001-x003.pack")  # the pack of one tile
    product = Location(out, s3.storage_options)
    return out, argv, hold, product


def test_fill_driver_killed_mid_run_resumes_to_the_uninterrupted_output(s3, fill_case, clean_fill):
    out, argv, hold, product = fill_case
    process = sgdsm(*argv)
    wait_for(
        lambda: (hold.waiting >= 1 and len(done_tiles(product)) >= 2) or process.poll() is not None,
        "two finished tiles and the parked one",
    )
    assert process.poll() is None, process.communicate()
    process.send_signal(signal.SIGKILL)
    process.communicate()
    finished = done_tiles(product)  # before the release: the orphaned parked tile then finishes
    hold.release()
    assert process.returncode == -signal.SIGKILL and 2 <= len(finished) < FILL_TILE_COUNT
    assert Repository(product).head() is None  # readers see nothing of the killed run

    assert main(argv) == 0
    assert Repository(product).head() == 1
    assert store_digest(out, s3.storage_options, ignore_attrs=WHERE_ATTRS) == clean_fill
    report("fill driver SIGKILL", tiles_at_kill=len(finished), tiles_done=FILL_TILE_COUNT)


@pytest.mark.slow
def test_fill_worker_killed_mid_run_is_replaced_and_the_run_completes(s3, fill_case, clean_fill):
    out, argv, hold, product = fill_case
    process = sgdsm(*argv)
    wait_for(lambda: hold.waiting >= 1 or process.poll() is not None, "the parked tile")
    assert process.poll() is None, process.communicate()
    worker = process_with_port(os.getpid(), hold.peers[0][1])  # the cluster is this process's
    at_kill = len(done_tiles(product))
    os.kill(worker, signal.SIGKILL)
    hold.release()
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    assert Repository(product).head() == 1
    assert store_digest(out, s3.storage_options, ignore_attrs=WHERE_ATTRS) == clean_fill
    report("fill worker SIGKILL", tiles_at_kill=at_kill, tiles_done=FILL_TILE_COUNT)


def test_ctrl_c_on_a_fill_prints_one_line_and_no_worker_traceback(s3, fill_case):
    """A terminal's Ctrl-C reaches the whole process group, the fill's own LocalCluster
    workers included: only the driver's line may reach the terminal."""
    _, argv, hold, _ = fill_case
    at = argv.index("--scheduler")
    argv = [*argv[:at], "--workers", "2", *argv[at + 2 :]]
    process = subprocess.Popen(
        [sys.executable, "-m", "sgdsm_cloud", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    wait_for(lambda: hold.waiting >= 1 or process.poll() is not None, "the parked tile")
    assert process.poll() is None, process.communicate()
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=120)
    hold.release()
    assert process.returncode == 130, err
    assert err.strip().splitlines() == [
        "sgdsm fill: interrupted; re-run the same command to resume"
    ], err
    report("fill Ctrl-C", stderr_lines=len(err.strip().splitlines()))
