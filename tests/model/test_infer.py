"""Inference on arrays: windows, batching independence, composition of the product."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sgdsm_cloud.model.config import ModelConfig
from sgdsm_cloud.model.infer import predict_days, window_arrays
from sgdsm_cloud.model.network import SGDSMNet


def field(days=6, ny=10, nx=12, seed=0):
    rng = np.random.default_rng(seed)
    sm = rng.uniform(0.05, 0.45, size=(days, ny, nx)).astype("float32")
    sm[rng.random(sm.shape) < 0.4] = np.nan
    land = np.ones((ny, nx), dtype=bool)
    land[:, :2] = False
    return sm, land


def test_windows_mark_days_outside_the_array_and_ocean_unobserved():
    sm, land = field()
    data, mask = window_arrays(sm, land, [0, 5], half_window=4)
    assert data.shape == mask.shape == (2, 1, 9, 10, 12)
    assert not mask[0, 0, :4].any() and not mask[1, 0, 5:].any()  # before day 0, after day 5
    np.testing.assert_array_equal(mask[0, 0, 4:], np.isfinite(sm[:5]) & land)
    np.testing.assert_array_equal(mask[1, 0, :5], np.isfinite(sm[1:6]) & land)  # days 1 .. 5
    assert not mask[..., :2].any()
    assert np.all(data[mask == 0] == 0)
    observed = mask[1, 0, :5] == 1
    np.testing.assert_array_equal(data[1, 0, :5][observed], sm[1:6][observed])


def test_prediction_does_not_depend_on_the_batch_size():
    torch.manual_seed(0)
    model = SGDSMNet(ModelConfig(layers=3, features=5))
    sm, land = field()
    days = [0, 2, 3, 5]
    one = predict_days(model, sm, land, days, batch_size=1)
    four = predict_days(model, sm, land, days, batch_size=4)
    np.testing.assert_allclose(one[0], four[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(one[1], four[1])
    assert one[0].dtype == np.float32 and one[1].dtype == bool


def test_prediction_is_the_network_output_on_the_windows():
    torch.manual_seed(0)
    model = SGDSMNet(ModelConfig(layers=2, features=3))
    sm, land = field(seed=1)
    pred, reached = predict_days(model, sm, land, [3])
    data, mask = window_arrays(sm, land, [3], half_window=4)
    with torch.no_grad():
        out, out_mask = model(torch.from_numpy(data), torch.from_numpy(mask))
    np.testing.assert_allclose(pred[0], out[0, 0].numpy(), rtol=1e-6)
    np.testing.assert_array_equal(reached[0], out_mask[0, 0].numpy() > 0.5)


def test_out_of_range_days_are_refused():
    sm, land = field()
    with pytest.raises(ValueError, match="outside"):
        predict_days(SGDSMNet(ModelConfig(layers=1, features=1)), sm, land, [6])
