"""The fill's worker plugin (sgdsm_cloud.fill.plugin) on a real LocalCluster: each worker loads
the planned checkpoint once, on its CPU with as many torch threads as it has, and its tasks reach
that one network through worker_plugin(); a worker that joins later loads it too; a task without
the plugin, other weights and --gpu without CUDA are refused; a run in this process holds the model
for its block only; a run's stores are opened once per job."""

from __future__ import annotations

import os
import pickle
import threading
from contextlib import suppress

import numpy as np
import pytest

from sgdsm_cloud.errors import CheckpointError, ConfigError
from sgdsm_cloud.fill.block import FillJob
from sgdsm_cloud.fill.plugin import PLUGIN_NAME, FillPlugin, in_this_process, worker_plugin
from sgdsm_cloud.model.runner import Predictor
from sgdsm_cloud.storage import Location
from sgdsm_cloud.versioned.repository import Repository

from .conftest import make_raw, write_raw

LOCK_TYPE = type(threading.Lock())


def tiny_block(seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Six days of 10 x 12 cells with gaps, all land."""
    rng = np.random.default_rng(seed)
    sm = rng.uniform(0.05, 0.45, (6, 10, 12)).astype("float32")
    sm[rng.random(sm.shape) < 0.4] = np.nan
    return sm, np.ones((10, 12), bool)


def on_worker(sm: np.ndarray, land: np.ndarray) -> dict:
    """A task: what its worker's plugin holds, how many tasks its network has served, and the
    network's output for ``sm``."""
    plugin = worker_plugin()
    predictor = plugin.predictor
    predictor.model.tasks_served = getattr(predictor.model, "tasks_served", 0) + 1
    pred, reached = predictor(sm, land, [2, 3])
    return {
        "pid": os.getpid(),
        "tasks_served": predictor.model.tasks_served,
        "sha256": plugin.sha256,
        "device": predictor.device,
        "amp": predictor.amp,
        "threads": predictor.threads,
        "batch_size": predictor.batch_size,
        "locked": isinstance(predictor.lock, LOCK_TYPE),
        "pred": pred,
        "reached": reached,
    }


@pytest.fixture
def plugin(model_dir, checkpoint) -> FillPlugin:
    return FillPlugin(Location(str(model_dir)), checkpoint.sha256, gpu=False, batch_size=2)


@pytest.fixture
def registered(client, plugin):
    """``plugin`` registered on the shared cluster's workers, unregistered afterwards."""
    client.register_plugin(plugin, name=PLUGIN_NAME)
    try:
        yield plugin
    finally:
        with suppress(Exception):
            client.unregister_worker_plugin(PLUGIN_NAME)


def test_each_worker_loads_the_planned_model_once_and_its_tasks_share_it(
    client, registered, checkpoint
):
    assert registered.predictor is None  # registering loads nothing in the driver
    sm, land = tiny_block()
    expected_pred, expected_reached = Predictor.from_checkpoint(checkpoint)(sm, land, [2, 3])
    pids = set()
    for address in sorted(client.scheduler_info()["workers"]):
        first, second = (
            client.submit(on_worker, sm, land, workers=[address], pure=False).result()
            for _ in range(2)
        )
        assert (first["tasks_served"], second["tasks_served"]) == (1, 2)  # one network per worker
        assert first["pid"] == second["pid"] != os.getpid()
        assert first["sha256"] == checkpoint.sha256
        assert (first["device"], first["amp"], first["batch_size"]) == ("cpu", False, 2)
        assert first["threads"] == 1 and first["locked"]  # the worker's one thread
        np.testing.assert_allclose(first["pred"], expected_pred, rtol=1e-6, atol=1e-7)
        np.testing.assert_array_equal(first["reached"], expected_reached)
        pids.add(first["pid"])
    assert len(pids) == 2


def test_a_worker_that_joins_later_loads_the_model_with_all_its_threads(client, registered):
    from distributed import Nanny

    async def start() -> Nanny:
        return await Nanny(client.scheduler.address, nthreads=2, dashboard_address=":0")

    nanny = client.sync(start)
    try:
        address = nanny.worker_address
        client.wait_for_workers(3)
        sm, land = tiny_block()
        found = client.submit(on_worker, sm, land, workers=[address], pure=False).result()
        assert found["threads"] == 2 and found["tasks_served"] == 1
        assert found["pid"] == nanny.process.pid
    finally:
        client.sync(nanny.close)


def test_a_task_on_a_worker_without_the_plugin_is_refused_with_the_fix(client, plugin):
    with pytest.raises(CheckpointError, match=f"no model loaded; register {PLUGIN_NAME}"):
        client.submit(worker_plugin, pure=False).result()
    client.register_plugin(plugin, name=PLUGIN_NAME)
    client.unregister_worker_plugin(PLUGIN_NAME)  # the workers' teardown drops the model
    for address in client.scheduler_info()["workers"]:
        with pytest.raises(CheckpointError, match="no model loaded"):
            client.submit(worker_plugin, workers=[address], pure=False).result()


@pytest.mark.skipif(
    __import__("torch").cuda.is_available(), reason="the refusal needs a machine without CUDA"
)
def test_gpu_without_a_cuda_device_is_refused_naming_the_worker(client, model_dir, checkpoint):
    plugin = FillPlugin(Location(str(model_dir)), checkpoint.sha256, gpu=True, batch_size=2)
    try:
        with pytest.raises(ConfigError, match=r"--gpu was given but worker tcp://127\.0\.0\.1:\d+"):
            client.register_plugin(plugin, name=PLUGIN_NAME)
        with pytest.raises(CheckpointError, match="no model loaded"):  # no tile runs there
            client.submit(worker_plugin, pure=False).result()
    finally:
        with suppress(Exception):
            client.unregister_worker_plugin(PLUGIN_NAME)


def test_other_weights_are_refused_before_any_network_is_built(model_dir, checkpoint):
    plugin = FillPlugin(Location(str(model_dir)), "0" * 64, gpu=False, batch_size=2)
    with pytest.raises(CheckpointError) as caught:
        plugin.load()
    message = str(caught.value)
    assert "weights changed since the fill was planned" in message
    assert f"sha256 {checkpoint.sha256[:12]}... instead of 000000000000..." in message
    assert plugin.predictor is None


def test_a_run_in_this_process_holds_the_model_only_inside_the_block(plugin):
    with pytest.raises(CheckpointError, match="no model loaded"):
        worker_plugin()
    with in_this_process(plugin):
        assert worker_plugin() is plugin
        predictor = plugin.predictor
        assert predictor.device == "cpu" and predictor.batch_size == 2
        assert predictor.threads is None  # the caller's torch threads are left as they are
        assert isinstance(predictor.lock, LOCK_TYPE)
    assert plugin.predictor is None
    plugin.load()  # loaded again after the run: not taken for a run in this process
    with pytest.raises(CheckpointError, match="no model loaded"):
        worker_plugin()

    with pytest.raises(RuntimeError, match="a tile failed"), in_this_process(plugin):
        raise RuntimeError("a tile failed")
    assert plugin.predictor is None
    with pytest.raises(CheckpointError, match="no model loaded"):
        worker_plugin()


def test_the_stores_of_a_job_are_opened_once_and_reopened_for_another_job(tmp_path, plugin):
    first_source = Location(write_raw(make_raw(days=8), str(tmp_path / "a.zarr")))
    other_source = Location(write_raw(make_raw(days=16), str(tmp_path / "b.zarr")))
    run = Repository(Location(str(tmp_path / "out"))).run("fill-test")
    job = FillJob(first_source, run, (), chunk_days=8)

    stores = plugin.stores(job)
    assert stores.job == job and stores.ntime == 8 and stores.land.shape == (48, 96)
    assert plugin.stores(pickle.loads(pickle.dumps(job))) is stores  # a task's copy of the job
    other = plugin.stores(FillJob(other_source, run, (), chunk_days=8))
    assert other is not stores and other.ntime == 16
    plugin.teardown(None)
    assert plugin.stores(job) is not stores
