"""Per-worker state of a fill: the network loaded once per worker, never in task closures.

``client.register_plugin(FillPlugin(...), name=PLUGIN_NAME)`` runs :meth:`FillPlugin.setup` on
every worker, including workers that join or restart later; tasks fetch the plugin with
:func:`worker_plugin`. CUDA is initialised inside the worker, never in the driver. The plugin
also keeps the run's open stores, so tiles after the first skip the stores' metadata reads.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from distributed import WorkerPlugin

from sgdsm_cloud.errors import CheckpointError, ConfigError
from sgdsm_cloud.fill.block import FillJob, TileStores
from sgdsm_cloud.model.runner import Predictor
from sgdsm_cloud.storage import Location

PLUGIN_NAME = "sgdsm-fill-model"
logger = logging.getLogger(__name__)


class FillPlugin(WorkerPlugin):
    """Loads a checkpoint onto the worker's device (a :class:`Predictor`) and opens the stores.

    Args:
        model: the checkpoint directory (local path or fsspec URL with its options).
        sha256: the weights' SHA-256 the driver planned with; a worker that finds other
            weights refuses to start instead of mixing two models in one product.
        gpu: run on CUDA with bf16 autocast; otherwise on the CPU with as many torch threads
            as the worker has, one tile's network at a time (the others read and write
            meanwhile), so the worker never runs more compute threads than it has.
        batch_size: centre days per forward pass.
        bfloat16: bf16 autocast on the CPU too.
    """

    def __init__(
        self, model: Location, sha256: str, *, gpu: bool, batch_size: int, bfloat16: bool = False
    ) -> None:
        self.model = model
        self.sha256 = sha256
        self.gpu = gpu
        self.batch_size = batch_size
        self.bfloat16 = bfloat16
        self.predictor: Predictor | None = None
        self._stores: TileStores | None = None

    def setup(self, worker: Any) -> None:
        if self.gpu:
            import torch

            if not torch.cuda.is_available():
                raise ConfigError(
                    f"--gpu was given but worker {worker.address} sees no CUDA device"
                )
        self.load(threads=max(1, worker.state.nthreads))
        logger.info(
            "worker %s loaded model sha256:%s on %s",
            worker.address,
            self.sha256[:12],
            "cuda" if self.gpu else "cpu",
        )

    def load(self, threads: int | None = None) -> None:
        """Load the checkpoint onto this process's device (refusing other weights)."""
        from sgdsm_cloud.model.checkpoint import load_checkpoint

        checkpoint = load_checkpoint(self.model.url, storage_options=self.model.storage_options)
        if checkpoint.sha256 != self.sha256:
            raise CheckpointError(
                f"{self.model.url}: weights changed since the fill was planned (sha256 "
                f"{checkpoint.sha256[:12]}... instead of {self.sha256[:12]}...); restart the fill"
            )
        self.predictor = Predictor.from_checkpoint(
            checkpoint,
            "cuda" if self.gpu else "cpu",
            self.batch_size,
            threads=threads,
            lock=threading.Lock(),
            bfloat16=self.bfloat16,
        )

    def stores(self, job: FillJob) -> TileStores:
        """The stores of ``job``, opened on first use by this worker."""
        if self._stores is None or self._stores.job != job:
            self._stores = TileStores(job)
        return self._stores

    def teardown(self, worker: Any) -> None:
        self.predictor = None
        self._stores = None


_local: FillPlugin | None = None  # the plugin of a run in this process (no cluster)


@contextmanager
def in_this_process(plugin: FillPlugin) -> Iterator[None]:
    """Run tasks in this process with ``plugin``'s model, as a worker would."""
    global _local
    plugin.load()
    _local = plugin
    try:
        yield
    finally:
        _local = None
        plugin.teardown(None)


def worker_plugin() -> FillPlugin:
    """The plugin of the worker running the current task (or of a run in this process),
    with its model loaded."""
    from distributed import get_worker

    try:
        plugin = get_worker().plugins.get(PLUGIN_NAME)
    except ValueError:  # not on a dask worker
        plugin = _local
    if not isinstance(plugin, FillPlugin) or plugin.predictor is None:
        raise CheckpointError(
            f"this worker has no model loaded; register {PLUGIN_NAME} before submitting tiles"
        )
    return plugin
