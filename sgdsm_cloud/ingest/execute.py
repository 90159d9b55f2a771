"""Run slab tasks on dask: the local scheduler by default, or a distributed Client.

Locally, one worker runs tasks in this process (dask's synchronous scheduler); more workers
use dask's process pool, because h5py decodes under a global lock that threads would share
(see docs/ingest.md for the measurement). Both keep at most ``workers`` slabs in flight, so
memory is bounded by one slab per worker whatever the archive's length. Results, small
records, come back to the driver as each slab finishes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from sgdsm_cloud.errors import SgdsmError
from sgdsm_cloud.ingest.plan import SlabTask
from sgdsm_cloud.ingest.slabs import SlabContext, SlabResult, run_slab

OnResult = Callable[[SlabResult], None]


class WorkerLost(SgdsmError):
    """A local worker process died mid-run; the run can be resumed."""


def run_local(
    tasks: Sequence[SlabTask], context: SlabContext, workers: int, on_result: OnResult
) -> None:
    """Run ``tasks`` with dask's local scheduler, calling ``on_result`` in this process as each ends."""
    import dask
    from dask.callbacks import Callback

    keys = {task.key for task in tasks}

    class _Report(Callback):
        def _posttask(self, key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
            if key in keys:
                on_result(result)

    delayed = [
        dask.delayed(run_slab, pure=False)(task, context, dask_key_name=task.key) for task in tasks
    ]
    workers = min(workers, len(tasks))
    scheduler = "synchronous" if workers <= 1 else "processes"
    try:
        with _Report():
            dask.compute(*delayed, scheduler=scheduler, num_workers=workers, optimize_graph=False)
    except BrokenProcessPool:
        raise WorkerLost(
            "a slab worker process died (killed, or out of memory) while slabs were running; "
            "finished slabs are recorded in the store: re-run the same command to resume "
            "(with fewer --workers if memory is short)"
        ) from None


def run_distributed(
    tasks: Sequence[SlabTask], context: SlabContext, client: Any, on_result: OnResult
) -> None:
    """Run ``tasks`` on a ``distributed.Client``; the cluster's slots bound the slabs in flight."""
    from distributed import as_completed

    run = uuid.uuid4().hex[:8]  # keys unique per run: a finished key would return a stale result
    futures = client.map(
        run_slab, list(tasks), context=context, key=[f"ingest-{run}-{t.key}" for t in tasks]
    )
    try:
        for future in as_completed(futures):
            on_result(future.result())
    finally:
        client.cancel(futures)
