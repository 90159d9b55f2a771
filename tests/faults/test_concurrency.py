"""Two ``sgdsm ingest`` processes on overlapping periods against one store at the same time:
the second stops with the holder named, the store stays exactly what the first writes, and
the second run's days land when it runs again."""

from __future__ import annotations

import json
import shutil
import socket
import warnings

import pytest
import xarray as xr
import zarr
from data.badfiles import name
from ingest.helpers import config, write_days

from sgdsm_cloud.cli import main
from sgdsm_cloud.ingest import ingest
from sgdsm_cloud.ingest.lock import StoreLock
from sgdsm_cloud.storage import Location
from sgdsm_cloud.testing.faults import FaultPlan

from .conftest import sgdsm, store_digest, upload, upload_store, wait_for

pytestmark = pytest.mark.s3


@pytest.mark.parametrize("where", ["s3", "local"])
def test_a_second_concurrent_ingest_stops_and_the_store_stays_consistent(
    where, s3, proxy, tmp_path
):
    first_days = write_days(tmp_path / "a", range(10))
    second_days = write_days(tmp_path / "b", range(5, 15))  # overlaps days 5..9
    upload(s3, first_days.directory, "raw/a")
    upload(s3, second_days.directory, "raw/b")
    # The store exists, so neither process spends its time building the land mask. It is
    # made locally and copied: a local ingest of one day is quicker than one over S3.
    first_day = tmp_path / "first-day.zarr"
    ingest(config([first_days.directory / name(first_days.day(0))], first_day))
    if where == "s3":
        store, options = upload_store(s3, first_day, "cube.zarr"), s3.storage_options
    else:
        store, options = str(tmp_path / "cube.zarr"), {}
        shutil.copytree(first_day, store)

    def argv(prefix: str) -> list[str]:
        via = json.dumps({"endpoint_url": proxy.url})
        return ["-q", "ingest", s3.url(prefix), "--store", store, "--variable", "x"] + [
            "--workers",
            "1",
            "--storage-options",
            via,
        ]

    hold = proxy.hold("/raw/a/", method="GET", skip=2)  # the first run pauses mid-way
    first = sgdsm(*argv("raw/a"))
    wait_for(lambda: hold.waiting >= 1 or first.poll() is not None, "the first run mid-way")
    assert first.poll() is None, first.communicate()
    second = sgdsm(*argv("raw/b"))
    _, err = second.communicate(timeout=120)
    hold.release()
    assert second.returncode == 1
    [line] = [line for line in err.splitlines() if "error:" in line]
    assert line.startswith(f"sgdsm ingest: error: another ingest holds the lock on {store} since ")
    assert f"(pid {first.pid} on {socket.gethostname()}," in line
    assert "remove the stale lock with: " in line
    _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err

    with warnings.catch_warnings():  # the lock beside the store is invisible to zarr
        warnings.simplefilter("error")
        group = zarr.open_group(
            store, mode="r", use_consolidated=False, storage_options=options or None
        )
        members = set(group.array_keys())
        opened = xr.open_zarr(store, consolidated=False, storage_options=options or None)
    assert members == set(opened.variables)

    reference = str(tmp_path / "reference.zarr")
    shutil.copytree(first_day, reference)
    ingest(config([first_days.directory], reference))
    assert store_digest(store, options) == store_digest(reference)  # the first run, alone
    assert main(argv("raw/b")) == 0  # the second run, once the first is done
    ingest(config([second_days.directory], reference))
    assert store_digest(store, options) == store_digest(reference)
    assert xr.open_zarr(store, storage_options=options or None).sizes["time"] == 15


def test_the_lock_survives_a_reset_after_its_conditional_write_landed(s3, proxy):
    """The PUT with If-None-Match: * lands but its reply is lost; botocore repeats it, S3
    answers 412 (the key exists now), and the lock reads its own token back: it holds."""
    via = {"endpoint_url": proxy.url}
    proxy.plan = FaultPlan(reset_mid=1.0, only="cube.zarr.lock/00000000.json", max_consecutive=1)
    lock = StoreLock(Location(s3.url("cube.zarr"), via))
    lock.acquire()
    assert ("reset_mid", "PUT", f"/{s3.bucket}/cube.zarr.lock/00000000.json") in proxy.stats.faulted
    s3.filesystem().pipe_file(f"{s3.bucket}/cube.zarr/zarr.json", b"{}")  # a store to keep it for
    lock.release()
    record = json.loads(s3.filesystem().cat_file(f"{s3.bucket}/cube.zarr.lock/00000000.json"))
    assert record["released"] is True
