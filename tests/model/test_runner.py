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


def test_bfloat16_on_the_cpu_runs_the_anomaly_cnn_in_bf16_and_keeps_the_priors_in_float32():
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    torch.manual_seed(0)
    config = ModelConfig.preset("anomaly")
    net = SGDSMNet(config)
    for conv in net.core.convs:  # a correction that is not zero, as after training
        torch.nn.init.normal_(conv.weight, std=0.05)
    checkpoint = Checkpoint(net, config, {}, "0" * 64)
    rng = np.random.default_rng(0)
    block = rng.uniform(0.05, 0.45, size=(9, 40, 40)).astype("float32")
    block[rng.random(block.shape) < 0.4] = NAN
    land = np.ones((40, 40), dtype=bool)
    exact = Predictor.from_checkpoint(checkpoint, "cpu", 1)
    fast = Predictor.from_checkpoint(checkpoint, "cpu", 1, bfloat16=True)
    assert (exact.amp, fast.amp) == (False, True)
    pred, reached = exact(block, land, np.array([4]))
    pred_bf16, reached_bf16 = fast(block, land, np.array([4]))
    np.testing.assert_array_equal(reached, reached_bf16)
    gap = reached & np.isnan(block[4])
    difference = np.abs(pred_bf16 - pred)[gap]
    assert 0 < difference.max() < 2e-3  # bf16 ran, and changed the values only in the noise
