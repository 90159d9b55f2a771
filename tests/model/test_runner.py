"""The model runner: device choice, thread count per calling thread, micro-batches."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch

from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.model.checkpoint import Checkpoint
from sgdsm_cloud.model.config import ModelConfig
from sgdsm_cloud.model.network import SGDSMNet
from sgdsm_cloud.model.runner import Predictor, resolve_device

NAN = np.nan


@pytest.fixture
def checkpoint():
    torch.manual_seed(0)
    config = ModelConfig(layers=3, features=4)
    return Checkpoint(SGDSMNet(config), config, {}, "0" * 64)


def test_auto_is_cpu_without_a_gpu_and_cuda_is_refused_without_one():
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert resolve_device("auto").type == "cpu" and resolve_device(None).type == "cpu"
    with pytest.raises(ConfigError, match="no CUDA device"):
        resolve_device("cuda")


def test_from_checkpoint_runs_on_the_cpu_without_autocast_and_keeps_threads(checkpoint):
    predictor = Predictor.from_checkpoint(checkpoint, "auto", 3, threads=2)
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert (predictor.device, predictor.amp, predictor.batch_size, predictor.threads) == (
        "cpu",
        False,
        3,
        2,
    )
    block = np.full((9, 6, 6), NAN, dtype="float32")
    block[4, 2, 2] = 0.3
    pred, reached = predictor(block, np.ones((6, 6), dtype=bool), np.array([4]))
    assert pred.shape == reached.shape == (1, 6, 6) and reached[0, 2, 2]


def test_predictor_sets_torch_threads_in_the_thread_that_runs_it(checkpoint):
    block = np.full((9, 6, 6), NAN, dtype="float32")
    block[3, 2, 2] = 0.3
    predictor = Predictor(checkpoint.model, threads=1, lock=threading.Lock())
    seen = []

    def task():
        torch.set_num_threads(2)  # what this thread had before the call
        _, reached = predictor(block, np.ones((6, 6), dtype=bool), np.array([4]))
        seen.append((torch.get_num_threads(), bool(reached[0, 2, 2])))

    thread = threading.Thread(target=task)
    thread.start()
    thread.join()
    assert seen == [(1, True)]
