"""One executor for the pipeline's steps: in this process, or on a dask.distributed cluster.

:func:`connect` gives a Client of a running scheduler (``--scheduler``, default
``$DASK_SCHEDULER_ADDRESS``) or of a LocalCluster of single-threaded worker processes.
:func:`run_tasks` maps a function over a step's tasks (ingest's slabs, fill's tiles): each
result reaches a callback in the driver as its task completes, a progress bar counts them, and
at most a bounded number of tasks is submitted at a time (twice the cluster's worker threads,
followed as workers join or leave). A worker that dies mid-task is replaced and dask reruns
its task elsewhere, which the steps allow because a task rewrites only what it alone owns.
What a run cannot recover from becomes a typed error whose message says that finished work
is kept and that the same command resumes: :class:`~sgdsm_cloud.errors.WorkerLost` (a task's
workers died as often as dask allows: killed, or out of memory) and
:class:`~sgdsm_cloud.errors.ClusterLost` (the scheduler went away, the connection to it
closed, or the cluster cancelled the run).

Without a client, tasks run one after the other in this process: no cluster, no processes
(``sgdsm ingest --workers 1``, tests and small runs).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import CancelledError
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from queue import Empty, SimpleQueue
from typing import Any

from sgdsm_cloud.errors import ClusterError, ClusterLost, ConfigError, WorkerLost

logger = logging.getLogger(__name__)

SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"  # what a DaskJob's runner pod is given
IN_FLIGHT_PER_THREAD = 2  # one task running and one waiting on each worker thread
REFRESH_S = 2.0  # how often the bound follows workers joining or leaving


def default_scheduler() -> str | None:
    """The scheduler address from ``$DASK_SCHEDULER_ADDRESS``, or None (start a LocalCluster)."""
    return os.environ.get(SCHEDULER_ENV) or None


@dataclass(frozen=True)
class TaskKind:
    """How a step names its tasks in keys, the progress bar and error messages.

    Attributes:
        step: the command, e.g. ``"ingest"`` (keys ``sgdsm-ingest-<run>-<id>``, the bar's label).
        noun: one task, e.g. ``"slab"``.
        target: what the tasks write (a store's URL), named first in error messages.
        memory_hint: advice when workers die repeatedly, e.g. ``"with fewer --workers"``.
    """

    step: str
    noun: str
    target: str = ""
    memory_hint: str = ""


@contextmanager
def connect(
    scheduler: str | None = None,
    workers: int | None = None,
    *,
    gpu: bool = False,
) -> Iterator[Any]:
    """A Client of the cluster at ``scheduler``, or of a LocalCluster of worker processes.

    The LocalCluster runs ``workers`` processes (default: one per core, or one with ``gpu``)
    of one thread each: processes, not threads, because h5py decodes under a global lock and
    torch sizes its threads per worker. With ``gpu`` each worker offers ``GPU=1``, so all of
    them share the visible devices: give a multi-GPU host one worker per device with
    dask-cuda or ``dask worker``. An unreachable scheduler raises ClusterError.
    """
    client, cluster = _start(scheduler, workers, gpu)
    try:
        yield client
    finally:
        _stop(client, cluster)


def _start(scheduler: str | None, workers: int | None, gpu: bool) -> tuple[Any, Any]:
    """(client, the LocalCluster started for it or None)."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler), None  # gives up after distributed.comm.timeouts.connect
        except (OSError, TimeoutError) as err:
            raise ClusterError(
                f"cannot reach the dask scheduler at {scheduler} ({err}); start it or fix "
                f"--scheduler (default: ${SCHEDULER_ENV})"
            ) from None
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {workers}")
    # Workers killed at the end of an interrupted run leave semaphores that multiprocessing's
    # resource tracker (a process started with this one's warning options) cleans up with a
    # warning at exit: expected there, so not shown.
    if _TRACKER_QUIET not in sys.warnoptions:
        sys.warnoptions.append(_TRACKER_QUIET)
    cluster = LocalCluster(
        n_workers=workers or (1 if gpu else os.cpu_count() or 1),
        threads_per_worker=1,
        processes=True,
        resources={"GPU": 1} if gpu else None,
        dashboard_address=":0",  # a free port: two runs on one host never collide
        preload=[__name__],  # dask_setup: Ctrl-C reaches the driver alone
    )
    try:
        return Client(cluster), cluster
    except BaseException:
        cluster.close()
        raise


_TRACKER_QUIET = "ignore::UserWarning:multiprocessing.resource_tracker"


def dask_setup(worker: Any) -> None:
    """Run in every LocalCluster worker process at its start (a dask preload): ignore SIGINT.

    A terminal's Ctrl-C goes to every process of its foreground group: without this, each
    worker printed its own KeyboardInterrupt traceback (about 80 lines for two workers) over
    the driver's one line, which already says the run can be resumed. The driver stops the
    workers when it leaves :func:`connect`; a worker the nanny restarts runs this again. The
    worker's note on each task that shutdown cancels is debug output, not a warning, and so
    is a heartbeat that found the scheduler already closed.
    """
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.getLogger("distributed.worker.state_machine").setLevel(logging.ERROR)
    worker_log = logging.getLogger("distributed.worker")
    if not any(isinstance(f, _HeartbeatNoise) for f in worker_log.filters):
        worker_log.addFilter(_HeartbeatNoise())


class _HeartbeatNoise(logging.Filter):
    """Drops a worker's failed heartbeat (with its traceback): it happens when the scheduler
    closes first at the end of a run, and a scheduler really lost is the driver's ClusterLost."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Failed to communicate with scheduler during")


def _stop(client: Any, cluster: Any) -> None:
    """Close ``client`` (and ``cluster``). After a lost connection, dask logs the reconnection
    this cancels as an error with its traceback; the run's ClusterLost already says it all."""
    try:
        if client.status == "running":
            client.close()
        else:
            quiet = logging.getLogger("distributed.client")
            disabled, quiet.disabled = quiet.disabled, True
            try:
                client.close()
            finally:
                quiet.disabled = disabled
    finally:
        if cluster is not None:
            _close_quietly(cluster)


def _close_quietly(cluster: Any) -> None:
    """Close a LocalCluster this process started. A worker still inside a task (an interrupted
    run) is killed after a few seconds; dask's warning about it says nothing the run's own
    message does not, so it goes to the debug log."""
    nanny = logging.getLogger("distributed.nanny")
    level = nanny.level
    nanny.setLevel(logging.ERROR)
    try:
        cluster.close()
    finally:
        nanny.setLevel(level)


def run_tasks(
    fn: Callable[..., Any],
    items: Sequence[Any],
    on_result: Callable[[Any], None],
    *,
    kind: TaskKind,
    ids: Sequence[str],
    client: Any = None,
    kwargs: Mapping[str, Any] | None = None,
    resources: Mapping[str, float] | None = None,
    retries: int = 0,
    in_flight: int | None = None,
) -> None:
    """Run ``fn(item, **kwargs)`` for every item; ``on_result`` gets each result as it completes.

    Args:
        ids: one short name per item (``slab-00003``), for keys and error messages.
        client: a ``distributed.Client``; None runs every task here, in order.
        resources: what each task needs of a worker (e.g. ``{"GPU": 1}``).
        retries: extra attempts of a task that raised (dask's ``retries``).
        in_flight: tasks submitted at a time (default: twice the cluster's worker threads).

    A task's own exception reaches the caller unchanged, once the tasks still queued are
    cancelled. Lost workers and a lost cluster raise WorkerLost and ClusterLost.
    """
    from sgdsm_cloud.progress import progress  # tqdm: only once a run starts (sgdsm --help)

    if len(ids) != len(items):
        raise ValueError(f"{len(ids)} ids for {len(items)} tasks")
    kwargs = dict(kwargs or {})
    with progress(desc=kind.step, total=len(items), unit=kind.noun) as bar:
        if client is None:
            for item in items:
                on_result(fn(item, **kwargs))
                bar.update()
            return
        _run_on_cluster(
            fn, items, on_result, bar, kind, ids, client, kwargs, resources, retries, in_flight
        )


def _run_on_cluster(
    fn: Callable[..., Any],
    items: Sequence[Any],
    on_result: Callable[[Any], None],
    bar: Any,
    kind: TaskKind,
    ids: Sequence[str],
    client: Any,
    kwargs: dict[str, Any],
    resources: Mapping[str, float] | None,
    retries: int,
    in_flight: int | None,
) -> None:
    """The cluster's side of :func:`run_tasks`.

    Each future reports itself done through its own client (``add_done_callback``), not
    through dask's ``wait``, which waits through the process's default client: a notebook's
    client need not be the default one. A closed client (the driver's connection ended), a
    lost comm (CommClosedError is an OSError) or futures the cluster cancelled: the cluster is
    gone for this run.
    """
    from distributed import KilledWorker
    from distributed.client import ClosedClientError

    lost = (CancelledError, OSError, ClosedClientError)
    logger.info("dask dashboard: %s", client.dashboard_link)
    run = uuid.uuid4().hex[:8]  # keys unique per run: a finished key would return a stale result
    waiting = deque(zip(ids, items, strict=True))
    pending: dict[Any, str] = {}  # future -> task id
    completed: SimpleQueue[Any] = SimpleQueue()  # futures, in the order they finished
    done, limit, refreshed = 0, 1, float("-inf")
    try:
        while waiting or pending:
            try:
                if waiting and time.monotonic() - refreshed >= REFRESH_S:
                    limit = in_flight or max(1, IN_FLIGHT_PER_THREAD * _threads(client))
                    refreshed = time.monotonic()
                while waiting and len(pending) < limit:
                    task_id, item = waiting.popleft()
                    future = client.submit(
                        _on_worker,
                        fn,
                        item,
                        key=f"sgdsm-{kind.step}-{run}-{task_id}",
                        resources=dict(resources) if resources else None,
                        retries=retries,
                        pure=False,
                        **kwargs,
                    )
                    pending[future] = task_id
                    future.add_done_callback(completed.put)
            except lost as err:
                raise _cluster_lost(kind, err, done, len(items)) from None
            try:
                future = completed.get(timeout=REFRESH_S)
            except Empty:
                continue  # nothing finished yet: follow the workers, then wait again
            task_id = pending.pop(future)
            try:
                result = future.result()
            except Exception as err:
                if future.status != "error":  # cancelled, or fetching the result failed
                    raise _cluster_lost(kind, err, done, len(items)) from None
                if isinstance(err, KilledWorker):
                    raise _worker_lost(kind, task_id, err, done, len(items)) from None
                raise  # the task's own error, unchanged
            on_result(result)
            done += 1
            bar.update()
    finally:
        # Stop what is left; after a lost cluster there is nothing to reach, and the original
        # error is the one to report.
        if pending:
            with suppress(Exception):
                client.cancel([future for future in pending if not future.done()])


def _on_worker(fn: Callable[..., Any], item: Any, **kwargs: Any) -> Any:
    """A task as a worker runs it: ``fn(item, **kwargs)``, once the worker's allocator keeps
    freed memory for reuse (:func:`reuse_freed_memory`)."""
    global _allocator_tuned
    if not _allocator_tuned:
        reuse_freed_memory()
        _allocator_tuned = True
    return fn(item, **kwargs)


_allocator_tuned = False  # per worker process


def reuse_freed_memory() -> None:
    """Let glibc keep freed blocks for reuse instead of returning them to the system at once.

    dask starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which also freezes glibc's mmap
    threshold at 128 KiB: then every large array a task frees (a decoded day, a network
    activation) is a fresh mmap, page-faulted again when the next one is allocated. That made
    ingest's slabs about twice as slow on workers as in the driver, and the fill's network
    1.7-1.9x (docs/ingest.md, docs/fill.md). Raising both thresholds (the mmap one to glibc's
    32 MiB maximum) restores heap reuse; a worker then holds about one task's working memory
    between tasks. A no-op without glibc.
    """
    import ctypes

    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    mallopt(m_mmap_threshold, 32 * 1024 * 1024)
    mallopt(m_trim_threshold, 1024 * 1024 * 1024)


def _threads(client: Any) -> int:
    """Worker threads of the cluster now (workers join and leave while a run goes on).

    A client whose scheduler has gone has no connection left to ask (dask then fails with an
    AttributeError on it): that is a lost connection.
    """
    try:
        return sum(client.nthreads().values())
    except AttributeError as err:
        raise ConnectionError(f"no scheduler to ask: {err}") from None


def _prefix(kind: TaskKind) -> str:
    return f"{kind.target}: " if kind.target else ""


def _cluster_lost(kind: TaskKind, err: BaseException, done: int, total: int) -> ClusterLost:
    reason = _cancel_reason(err) or f"{type(err).__name__}: {err}".rstrip(": ")
    return ClusterLost(
        f"{_prefix(kind)}the dask cluster went away or cancelled the run ({reason}); "
        f"{done} of {total} {kind.noun}s finished and are kept: re-run the same command to "
        "resume"
    )


def _worker_lost(kind: TaskKind, task_id: str, err: Any, done: int, total: int) -> WorkerLost:
    deaths = getattr(err, "allowed_failures", 0) + 1
    times = f"{deaths} time{'s' if deaths != 1 else ''}, as often as dask allows"
    hint = f" ({kind.memory_hint} if memory is short)" if kind.memory_hint else ""
    return WorkerLost(
        f"{_prefix(kind)}a {kind.noun} worker process died (killed, or out of memory?) while "
        f"running {task_id} ({times}); {done} of {total} {kind.noun}s finished and are kept: "
        f"re-run the same command to resume{hint}"
    )


def _cancel_reason(err: BaseException) -> str | None:
    """dask's reason for cancelling a future, e.g. ``scheduler-connection-lost`` (None when it
    gives none, or ``unknown``: then the error itself says more)."""
    reason = getattr(err, "reason", None)
    return None if reason in (None, "unknown") else str(reason)
