"""The model benchmark's FLOP count, dense stack and inputs, and one tiny measurement."""

from __future__ import annotations

import pytest
import torch

from benchmarks.bench_model import (
    DenseStack,
    Workload,
    build_model,
    flops_per_pixel_day,
    make_inputs,
    measure,
)
from sgdsm_cloud.model.config import ModelConfig
from sgdsm_cloud.model.network import SGDSMNet


@pytest.fixture(autouse=True)
def one_torch_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def test_paper_flops_follow_the_depth_trimming():
    # Layers 1-7 compute all 9 days, layers 8-11 compute 7, 5, 3 and 1 of them.
    macs = 1 * 90 * 27 * 9 + 90 * 90 * 27 * (9 * 6 + 7 + 5 + 3) + 90 * 1 * 27 * 1
    count = flops_per_pixel_day(SGDSMNet(ModelConfig.preset("paper")), window=9)
    assert macs == 15_114_600
    assert count.conv == 2 * macs and count.mask == 27 * (9 * 7 + 7 + 5 + 3 + 1)
    assert count.total == count.conv + count.mask


def test_dense_stack_equals_the_model_where_every_input_is_observed():
    # With no padding in time (every layer trims) and a full mask, interior cells see ratio 1.
    torch.manual_seed(0)
    model = SGDSMNet(ModelConfig(layers=3, features=4, window=7)).eval()
    data = torch.rand(1, 1, 7, 12, 12)
    with torch.inference_mode():
        out, _ = model(data, torch.ones_like(data))
        dense = DenseStack(model)(data)
    assert dense.shape == out.shape
    torch.testing.assert_close(dense[..., 3:-3, 3:-3], out[..., 3:-3, 3:-3])


def test_inputs_have_the_requested_share_of_valid_cells_and_zero_gaps():
    data, mask = make_inputs(Workload("small", 2, 32, valid=0.3), window=9)
    assert data.shape == mask.shape == (2, 1, 9, 32, 32)
    assert abs(mask.mean().item() - 0.3) < 0.01
    assert torch.all(data[mask == 0] == 0) and torch.all(data[mask == 1] >= 0.05)


def test_measure_reports_every_comparison():
    rows = measure(Workload("small", 1, 8), threads=1, warmup=0, repeats=1)
    assert all(row["name"].startswith("small 1x8x8, 1 thread: ") for row in rows)
    names = {row["name"].split(": ", 1)[1] for row in rows}
    assert {
        "SGD-SM forward",
        "SGD-SM / dense conv3d stack",
        "SGD-SM / reference partial conv",
        "SGD-SM channels_last_3d / SGD-SM",
        "SGD-SM time / FLOP-floor time",
        "fraction of the FLOP floor",
    } <= names
    assert all(row["value"] > 0 for row in rows)
    flops = flops_per_pixel_day(build_model("small"), 9).total
    assert next(r for r in rows if r["unit"] == "FLOP")["value"] == flops
