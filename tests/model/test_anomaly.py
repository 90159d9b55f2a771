"""The anomaly variant: its priors against the validation baselines, its reach, its learning."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from sgdsm_cloud.model.anomaly import gaussian_kernels, other_pass_features, window_priors
from sgdsm_cloud.model.config import ModelConfig
from sgdsm_cloud.model.network import SGDSMNet
from sgdsm_cloud.validate import baselines

TINY = ModelConfig(layers=2, features=6, variant="anomaly", scales=(1.0, 2.0))


def window(shape=(9, 30, 34), density=0.5, seed=0):
    """A window with NaN gaps, and the network's (data, mask) tensors for it."""
    rng = np.random.default_rng(seed)
    values = rng.uniform(0.05, 0.5, shape).astype("float32")
    values[rng.random(shape) > density] = np.nan
    mask = np.isfinite(values)
    data = torch.from_numpy(np.where(mask, values, 0.0)[None, None].astype("float32"))
    return values, data, torch.from_numpy(mask[None, None].astype("float32"))


def test_untrained_network_is_the_window_anomaly_baseline():
    """The CNN starts at zero, so the output is its base: two implementations must agree."""
    values, data, mask = window()
    net = SGDSMNet(TINY)
    with torch.no_grad():
        out, reached = net(data, mask)
    expected = baselines.window_anomaly(values, 4, sigma=TINY.scales[1])
    others_observe = np.isfinite(np.delete(values, 4, axis=0)).any(axis=0)
    gaps = ~np.isfinite(values[4]) & others_observe
    assert gaps.sum() > 100
    np.testing.assert_allclose(out[0, 0].numpy()[gaps], expected[gaps], atol=2e-6)
    assert reached[0, 0].numpy()[others_observe].all()


def test_linear_prior_is_temporal_linear_interpolation():
    values, data, mask = window(density=0.3, seed=1)
    features, _, _ = window_priors(data[:, 0], mask[:, 0])
    linear = features[0, 2].numpy() * 0.2 + 0.25  # undo the standardisation
    expected = baselines.linear_interpolation(values, 4)
    gaps = ~np.isfinite(values[4]) & np.isfinite(expected)
    np.testing.assert_allclose(linear[gaps], expected[gaps], atol=1e-6)


def test_gaussian_kernels_end_at_three_sigma_and_sum_to_one():
    kernels = gaussian_kernels((1.0, 2.0), radius=6)
    assert torch.allclose(kernels.sum(dim=1), torch.ones(2))
    assert kernels[0, :3].eq(0).all() and kernels[0, 3] > 0  # radius 3 for sigma 1
    assert kernels[1, 0] > 0  # radius 6 for sigma 2


def random_weights(net: SGDSMNet, seed: int = 0) -> SGDSMNet:
    torch.manual_seed(seed)
    for p in net.parameters():
        torch.nn.init.normal_(p, std=0.3)
    return net


def test_a_crop_with_the_receptive_radius_equals_the_whole_grid():
    net = random_weights(SGDSMNet(TINY))
    _, data, mask = window((9, 40, 44), seed=2)
    r = TINY.receptive_radius
    core = (slice(15, 25), slice(18, 26))
    crop = (slice(15 - r, 25 + r), slice(18 - r, 26 + r))
    short = (slice(15 - r + 1, 25 + r - 1), slice(18 - r + 1, 26 + r - 1))
    with torch.no_grad():
        whole, _ = net(data, mask)
        part, _ = net(data[..., crop[0], crop[1]], mask[..., crop[0], crop[1]])
        too_small, _ = net(data[..., short[0], short[1]], mask[..., short[0], short[1]])
    expected = whole[0, 0][core]
    torch.testing.assert_close(part[0, 0, r:-r, r:-r], expected, rtol=0, atol=1e-5)
    cut = too_small[0, 0, r - 1 : -(r - 1), r - 1 : -(r - 1)]
    assert (cut - expected).abs().max() > 1e-4  # ten times the tolerance above


def test_values_under_mask_zero_do_not_change_the_output():
    net = random_weights(SGDSMNet(TINY))
    _, data, mask = window(seed=3)
    noisy = torch.where(mask.bool(), data, torch.randn_like(data) * 10)
    with torch.no_grad():
        assert torch.equal(net(data, mask)[0], net(noisy, mask)[0])


def test_cells_out_of_reach_are_not_reached_and_zero():
    net = random_weights(SGDSMNet(TINY))
    data, mask = torch.zeros(1, 1, 9, 30, 30), torch.zeros(1, 1, 9, 30, 30)
    mask[0, 0, 2, 3, 3], data[0, 0, 2, 3, 3] = 1.0, 0.3
    with torch.no_grad():
        out, reached = net(data, mask)
    assert reached[0, 0, 3, 3] == 1 and reached[0, 0, 29, 29] == 0
    assert torch.all(out[reached == 0] == 0)


@pytest.mark.parametrize("size", [(1, 1), (5, 40)])
def test_any_grid_size_works(size):
    _, data, mask = window((9,) + size, seed=4)
    out, reached = SGDSMNet(TINY)(data, mask)
    assert out.shape == reached.shape == (1, 1) + size and torch.isfinite(out).all()


def test_training_improves_on_the_base_prediction():
    """A correction the priors cannot express (a constant offset of the truth) is learnt."""
    torch.manual_seed(0)
    net = SGDSMNet(TINY)
    _, data, mask = window((9, 16, 16), density=0.6, seed=5)
    data, mask = data.repeat(4, 1, 1, 1, 1), mask.repeat(4, 1, 1, 1, 1)
    target = torch.rand(4, 1, 16, 16) * 0.05 + 0.4
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    losses = []
    for _ in range(100):
        out, _ = net(data, mask)
        loss = (out - target).abs().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]


TWO_PASS = dataclasses.replace(TINY, passes=2)


def two_pass_window(shape=(9, 30, 34), seed=0):
    """Both passes' windows (independent gaps) as the network's ``(1, 2, ...)`` tensors."""
    _, data, mask = window(shape, seed=seed)
    _, other_data, other_mask = window(shape, seed=seed + 100)
    return torch.cat([data, other_data], dim=1), torch.cat([mask, other_mask], dim=1)


def test_other_pass_features_cancel_the_offset_between_the_passes():
    """Day and night retrievals differ by an offset: only the other pass's anomaly is read."""
    _, data, mask = window(seed=6)
    kernels = gaussian_kernels(TINY.scales, 6)
    shifted = torch.where(mask.bool(), data + 0.07, data)
    torch.testing.assert_close(
        other_pass_features(shifted[:, 0], mask[:, 0], kernels),
        other_pass_features(data[:, 0], mask[:, 0], kernels),
        rtol=0,
        atol=1e-5,
    )


def test_an_untrained_two_pass_network_is_the_one_pass_base_and_the_other_pass_steers_the_cnn():
    data, mask = two_pass_window(seed=7)
    with torch.no_grad():
        torch.manual_seed(0)
        one, _ = SGDSMNet(TINY)(data[:, :1], mask[:, :1])
        torch.manual_seed(0)
        two, _ = SGDSMNet(TWO_PASS)(data, mask)  # the CNN's last layer starts at zero
        torch.testing.assert_close(two, one, rtol=0, atol=1e-6)
        net = random_weights(SGDSMNet(TWO_PASS))
        out, _ = net(data, mask)
        moved = data.clone()
        moved[:, 1, 4] = torch.where(mask[:, 1, 4].bool(), data[:, 1, 4] + 0.1, 0.0)
        assert (net(moved, mask)[0] - out).abs().max() > 1e-3  # the other pass's day counts
        noisy = torch.where(mask.bool(), data, torch.randn_like(data) * 10)
        assert torch.equal(net(noisy, mask)[0], out)  # values under mask 0 count nowhere


def test_a_two_pass_crop_with_the_receptive_radius_equals_the_whole_grid():
    net = random_weights(SGDSMNet(TWO_PASS))
    data, mask = two_pass_window((9, 40, 44), seed=8)
    r = TWO_PASS.receptive_radius
    crop = (slice(15 - r, 25 + r), slice(18 - r, 26 + r))
    with torch.no_grad():
        whole, _ = net(data, mask)
        part, _ = net(data[..., crop[0], crop[1]], mask[..., crop[0], crop[1]])
    torch.testing.assert_close(part[0, 0, r:-r, r:-r], whole[0, 0, 15:25, 18:26], atol=1e-5, rtol=0)


def test_a_two_pass_network_refuses_one_pass_input_naming_the_shape():
    _, data, mask = window(seed=9)
    with pytest.raises(ValueError, match=r"\(N, 2, 9, H, W\)"):
        SGDSMNet(TWO_PASS)(data, mask)
