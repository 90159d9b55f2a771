"""``cluster.run_tasks`` on its own: in this process and on real LocalClusters of worker processes."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import dask
import pytest
from distributed import Client, LocalCluster

from sgdsm_cloud.cluster import TaskKind, connect, run_tasks
from sgdsm_cloud.errors import ClusterLost, ConfigError, WorkerLost

KIND = TaskKind("test", "task", "store.zarr", "with fewer --workers")


def nap(seconds: float, *, log: str | None = None) -> float:
    """A task: sleep. With ``log``, a marker in ``log/running`` says it runs meanwhile, and
    ``log/done`` gets how many tasks it saw running at once (itself included)."""
    if log is None:
        time.sleep(seconds)
        return seconds
    running, done = Path(log, "running"), Path(log, "done")
    running.mkdir(exist_ok=True)
    done.mkdir(exist_ok=True)
    me = running / f"{os.getpid()}-{uuid.uuid4().hex}"
    me.touch()
    seen = len(list(running.iterdir()))
    time.sleep(seconds)
    seen = max(seen, len(list(running.iterdir())))
    me.unlink()
    (done / me.name).write_text(str(seen))
    return seconds


def either(item: tuple[str, object]) -> object:
    kind, argument = item
    return wait_for(str(argument)) if kind == "wait" else nap(float(argument))


def fail(item: int) -> int:
    raise ValueError(f"bad item {item}")


def die(item: int) -> int:
    os._exit(1)  # the worker process dies mid-task, as when the kernel kills it


def run(items, client, **options):
    results = []
    run_tasks(
        options.pop("fn", nap), items, results.append, kind=KIND,
        ids=[f"task-{i}" for i in range(len(items))], client=client, **options,
    )  # fmt: skip
    return results


def test_without_a_client_tasks_run_here_in_order_with_their_arguments(tmp_path):
    assert run([0.0, 0.01, 0.0], None, kwargs={"log": str(tmp_path)}) == [0.0, 0.01, 0.0]
    assert len(list((tmp_path / "done").iterdir())) == 3
    with pytest.raises(ValueError, match="2 ids for 3 tasks"):
        run_tasks(nap, [0, 0, 0], print, kind=KIND, ids=["a", "b"])


def wait_for(path: str) -> str:
    """A task that ends once ``path`` exists (or after about a minute of polls)."""
    for _ in range(1200):
        if os.path.exists(path):
            return "released"
        time.sleep(0.05)
    return "timed out"


def test_results_reach_the_driver_as_their_tasks_complete(client, tmp_path):
    # The first task ends only once the driver holds the three after it: were results handed
    # over in submission order, it would wait out its minute.
    flag = tmp_path / "three-quick-results"
    results: list = []

    def keep(result) -> None:
        results.append(result)
        if results.count(0.0) == 3:
            flag.touch()

    items = [("wait", str(flag)), ("nap", 0.0), ("nap", 0.0), ("nap", 0.0)]
    run_tasks(either, items, keep, kind=KIND, ids=[f"task-{i}" for i in range(4)], client=client)
    assert results == [0.0, 0.0, 0.0, "released"]


def test_no_more_tasks_are_submitted_at_a_time_than_allowed(client, tmp_path):
    run([0.2] * 6, client, kwargs={"log": str(tmp_path)}, in_flight=1)
    seen = [int(p.read_text()) for p in (tmp_path / "done").iterdir()]
    # two idle workers, but one task in flight: no task ever saw another running
    assert seen == [1] * 6


def test_a_tasks_own_error_reaches_the_caller_unchanged(client):
    with pytest.raises(ValueError, match="bad item"):
        run([1, 2], client, fn=fail)


def test_workers_dying_on_a_task_raise_worker_lost_naming_it():
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=":0") as cluster:
            with Client(cluster) as client, pytest.raises(WorkerLost) as lost:
                run([0], client, fn=die)
    message = str(lost.value)
    assert "store.zarr: a task worker process died" in message and "task-0" in message
    assert "0 of 1 tasks finished and are kept" in message and "fewer --workers" in message


def test_a_cluster_gone_mid_run_raises_cluster_lost_and_keeps_the_count():
    cluster = LocalCluster(n_workers=1, threads_per_worker=1, dashboard_address=":0")
    client = Client(cluster)
    seen = []

    def then_close(result: float) -> None:
        seen.append(result)
        if len(seen) == 1:
            cluster.close()  # the scheduler goes away after the first result

    try:
        with pytest.raises(ClusterLost, match=r"went away .*1 of 4 tasks finished"):
            run_tasks(nap, [0.0, 2.0, 2.0, 2.0], then_close, kind=KIND,
                      ids=[f"t{i}" for i in range(4)], client=client)  # fmt: skip
    finally:
        client.close()
        cluster.close()


def test_a_client_that_is_not_the_default_one_runs_the_tasks(cluster):
    from distributed import default_client

    with Client(cluster, set_as_default=False) as notebook:
        with pytest.raises(ValueError, match="No clients found"):
            default_client()  # dask's wait() would have no client to wait through
        assert sorted(run([0.0, 0.01, 0.0], notebook)) == [0.0, 0.0, 0.01]


def test_a_driver_client_closed_between_tasks_raises_cluster_lost(cluster):
    # The next submit then meets a closed client (dask's ClosedClientError, no OSError).
    driver = Client(cluster, set_as_default=False)
    seen = []

    def then_close(result: float) -> None:
        seen.append(result)
        driver.close()

    try:
        with pytest.raises(
            ClusterLost, match=r"went away .*Client is closed.*1 of 3 tasks finished"
        ):
            run_tasks(nap, [0.0, 0.0, 0.0], then_close, kind=KIND,
                      ids=[f"t{i}" for i in range(3)], client=driver, in_flight=1)  # fmt: skip
    finally:
        driver.close()


def test_connect_refuses_no_workers_and_names_an_unreachable_scheduler():
    with pytest.raises(ConfigError, match="--workers must be >= 1"), connect(workers=0):
        pass
    with (
        dask.config.set({"distributed.comm.timeouts.connect": "1s"}),
        pytest.raises(Exception, match="cannot reach the dask scheduler at tcp://127.0.0.1:9"),
        connect("tcp://127.0.0.1:9"),
    ):
        pass


def test_a_failed_heartbeat_is_dropped_from_the_worker_log_and_nothing_else():
    import logging

    from sgdsm_cloud.cluster import _HeartbeatNoise

    def record(message: str) -> logging.LogRecord:
        return logging.LogRecord(
            "distributed.worker", logging.ERROR, __file__, 1, message, (), None
        )

    noise = _HeartbeatNoise()
    assert not noise.filter(record("Failed to communicate with scheduler during heartbeat."))
    assert noise.filter(record("Unexpected exception during heartbeat. Closing worker."))
    assert noise.filter(record("Compute Failed"))
