"""The store lock: one holder at a time, on local disks and S3, stale locks taken over."""

from __future__ import annotations

import datetime as dt
import json
import logging
import socket
import subprocess
import sys
import threading
import time

import pytest

from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.ingest.lock import (
    LockRecord,
    StoreLock,
    StoreLocked,
    format_time,
    is_stale,
    lock_location,
)
from sgdsm_cloud.storage import Location

T0 = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path) -> Location:
    """A store that exists (its root zarr.json), as every lock but a failed first run's has."""
    if request.param == "local":
        location = Location(str(tmp_path / "cube.zarr"))
        location.filesystem().makedirs(location.path, exist_ok=True)
    else:
        s3 = request.getfixturevalue("s3")
        location = Location(s3.url("cubes/cube.zarr"), s3.storage_options)
    location.filesystem().pipe_file(f"{location.path}/zarr.json", b"{}")
    return location


def test_a_run_that_made_no_store_leaves_no_lock_behind(tmp_path):
    store = Location(str(tmp_path / "cube.zarr"))
    with StoreLock(store):
        assert (tmp_path / "cube.zarr.lock").is_dir()
    assert not (tmp_path / "cube.zarr.lock").exists()


def records(store: Location) -> dict[str, dict]:
    lock = lock_location(store)
    fs = lock.filesystem()
    fs.invalidate_cache()
    return {
        path.rsplit("/", 1)[1]: json.loads(fs.cat_file(path))
        for path in fs.ls(lock.path, detail=False)
        if path.endswith(".json")
    }


def plant(store: Location, generation: int, record: LockRecord) -> None:
    """A record written by some other run (another host, a dead process, ...)."""
    lock = lock_location(store)
    fs = lock.filesystem()
    if store.protocol == "file":
        fs.makedirs(lock.path, exist_ok=True)
    fs.pipe_file(f"{lock.path}/{generation:08d}.json", record.to_bytes())


def test_one_holder_at_a_time_and_the_refusal_names_it(store):
    first = StoreLock(store)
    first.acquire()
    with pytest.raises(StoreLocked) as refused:
        StoreLock(store).acquire()
    message = str(refused.value)
    holder = records(store)["00000000.json"]
    assert message.startswith(
        f"another ingest holds the lock on {store.url} since {holder['since']}"
    )
    assert f"(pid {holder['pid']} on {socket.gethostname()}" in message
    removal = "rm -r " if store.protocol == "file" else "aws s3 rm --recursive s3://"
    assert f"remove the stale lock with: {removal}" in message and f"{store.url}.lock" in message
    first.release()

    with StoreLock(store):
        assert set(records(store)) == {"00000001.json"}  # older generations are cleaned up
    assert records(store)["00000001.json"]["released"] is True


def test_racing_runs_get_exactly_one_lock(store):
    outcomes: list[str] = []
    start = threading.Barrier(6)

    def contend() -> None:
        lock = StoreLock(store)
        start.wait()
        try:
            lock.acquire()
            outcomes.append("held")
        except StoreLocked:
            outcomes.append("refused")

    threads = [threading.Thread(target=contend) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["held"] + ["refused"] * 5


def test_a_lock_without_heartbeat_expires_and_is_taken_over(store, caplog):
    since = format_time(T0)
    plant(store, 4, LockRecord("other", 4242, "another-host", since, since))
    with pytest.raises(StoreLocked, match="another-host"):
        StoreLock(store, clock=lambda: T0 + dt.timedelta(minutes=9)).acquire()
    caplog.set_level(logging.WARNING, logger="sgdsm_cloud.ingest")
    late = StoreLock(store, clock=lambda: T0 + dt.timedelta(minutes=11))
    late.acquire()
    assert "taking over a stale lock of pid 4242 on another-host" in caplog.text
    assert set(records(store)) == {"00000005.json"}
    late.release()


def test_the_lock_of_a_dead_process_on_this_host_is_taken_over_at_once(store):
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead = int(finished.stdout)
    now = format_time(dt.datetime.now(dt.UTC))
    plant(store, 0, LockRecord("crashed", dead, socket.gethostname(), now, now))
    with StoreLock(store):
        assert records(store)["00000001.json"]["pid"] != dead


def test_heartbeats_refresh_the_record_and_a_lost_lock_is_noticed(store):
    lock = StoreLock(store, heartbeat_s=0.05, stale_after_s=60)
    lock.acquire()
    first = records(store)["00000000.json"]["heartbeat"]
    deadline = time.monotonic() + 30
    while records(store)["00000000.json"]["heartbeat"] == first and time.monotonic() < deadline:
        time.sleep(0.05)
    assert records(store)["00000000.json"]["heartbeat"] != first

    now = format_time(dt.datetime.now(dt.UTC))
    plant(store, 1, LockRecord("thief", 1, "another-host", now, now))  # a takeover elsewhere
    while lock.lost is None and time.monotonic() < deadline:
        time.sleep(0.05)
    with pytest.raises(StoreLocked, match="lost its lock"):
        lock.ensure_held()
    lock.release()
    assert records(store)["00000001.json"]["token"] == "thief"  # the new holder's record stays


def test_staleness_rules():
    fresh = LockRecord("t", 10, "h", format_time(T0), format_time(T0))
    alive, dead = (lambda pid: True), (lambda pid: False)
    later = T0 + dt.timedelta(seconds=30)
    assert not is_stale(fresh, later, 600, "other-host", dead)  # can't probe another host
    assert is_stale(fresh, later, 600, "h", dead)
    assert not is_stale(fresh, later, 600, "h", alive)
    assert is_stale(fresh, T0 + dt.timedelta(seconds=601), 600, "other-host", alive)
    released = LockRecord("t", 10, "h", format_time(T0), format_time(T0), released=True)
    assert is_stale(released, later, 600, "h", alive)


def test_a_store_at_a_bucket_root_is_refused():
    with pytest.raises(ConfigError, match="bucket root"):
        lock_location(Location("s3://bucket"))
    assert lock_location(Location("s3://bucket/raw.zarr")).url == "s3://bucket/raw.zarr.lock"
