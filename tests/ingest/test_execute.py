"""One ingest, every executor: in process, the CLI's own LocalCluster, a Client, and a running
scheduler named by ``--scheduler`` all write the same store."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest
import xarray as xr
from data.badfiles import FIRST_DAY

from sgdsm_cloud.cli import main
from sgdsm_cloud.errors import StorageError
from sgdsm_cloud.ingest import ingest

from .helpers import assert_same_store, config, snapshot, write_days


def test_local_cluster_and_client_write_the_same_store_as_one_process(tmp_path, corpus, client):
    """``client`` is a Client of the session's cluster of worker processes; the CLI starts a
    LocalCluster of its own for --workers 2."""
    sources = [corpus.directory]
    reference = ingest(config(sources, tmp_path / "inline.zarr"))
    assert reference.slabs == 5  # 20 days in chunks of 4
    argv = ["-q", "ingest", str(corpus.directory), "--variable", "x", "--chunks", "4,10,20"]
    assert main([*argv, "--store", str(tmp_path / "local.zarr"), "--workers", "2"]) == 3
    distributed = ingest(config(sources, tmp_path / "cluster.zarr"), client=client)
    expected = snapshot(str(tmp_path / "inline.zarr"))
    assert distributed.quarantined == reference.quarantined
    assert distributed.ingested == reference.ingested
    for name in ("local", "cluster"):
        assert_same_store(expected, snapshot(str(tmp_path / f"{name}.zarr")))


def test_ingest_runs_its_slabs_on_the_scheduler_named_by_the_option(tmp_path, cluster, capsys):
    """``sgdsm ingest --scheduler ADDRESS``: the slabs run on that cluster's worker processes
    (the scheduler's task stream records them) and the store equals an in-process run."""
    from distributed import Client

    write_days(tmp_path / "raw", range(10))
    reference = tmp_path / "inline.zarr"
    ingest(config([tmp_path / "raw"], reference))
    store = tmp_path / "cluster.zarr"
    argv = ["-q", "ingest", str(tmp_path / "raw"), "--store", str(store), "--variable", "x"]
    argv += ["--chunks", "4,10,20", "--workers", "1", "--scheduler", cluster.scheduler_address]
    with Client(cluster) as observer:
        observer.get_task_stream()  # starts recording on the scheduler
        start = dt.datetime.now().timestamp()
        assert main(argv) == 0, capsys.readouterr().err
        stream = observer.get_task_stream(start=start)
        workers = set(observer.scheduler_info()["workers"])
    slabs = [r for r in stream if str(r["key"]).startswith("sgdsm-ingest-")]
    # --workers 1 runs in process, unless a scheduler is given
    assert sorted(str(r["key"]).split("-")[-1] for r in slabs) == ["00000", "00001", "00002"]
    assert {r["worker"] for r in slabs} <= workers
    assert_same_store(snapshot(str(reference)), snapshot(str(store)))


def test_an_unreachable_scheduler_is_one_error_line(tmp_path, capsys):
    import socket

    import dask

    with socket.socket() as unused:  # a port nobody listens on
        unused.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{unused.getsockname()[1]}"
    write_days(tmp_path / "raw", [0])
    argv = ["-q", "ingest", str(tmp_path / "raw"), "--store", str(tmp_path / "c.zarr")]
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        assert main([*argv, "--scheduler", address]) == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"sgdsm ingest: error: cannot reach the dask scheduler at {address}")
    assert not (tmp_path / "c.zarr").exists()


@pytest.mark.parametrize("on_cluster", [False, True])
def test_a_failed_region_write_stops_the_run_naming_the_slab(tmp_path, on_cluster, request):
    """The slab's own error reaches the caller unchanged, from this process or a worker's."""
    write_days(tmp_path / "raw", [0, 5])
    url = tmp_path / "cube.zarr"
    ingest(config([tmp_path / "raw"], url, end=FIRST_DAY + dt.timedelta(days=7)))
    write_days(tmp_path / "raw", [1, 6])  # work in both slabs: two tasks
    chunks = url / "sm" / "c" / "1"
    shutil.rmtree(chunks)
    chunks.write_text("not a directory")  # slab 1's chunks can no longer be written
    with pytest.raises(
        StorageError, match=r"slab-00001 \(days 4..7\): writing to .*cube.zarr failed"
    ):
        ingest(
            config([tmp_path / "raw"], url),
            client=request.getfixturevalue("client") if on_cluster else None,
        )
    status = xr.open_zarr(url, consolidated=False)["day_status"].values
    assert status[4:].tolist() == [0, 1, 0, 0]  # the failed day is not recorded as ingested
