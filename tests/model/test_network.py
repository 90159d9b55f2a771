"""SGDSMNet: shapes, the depth trimming, receptive field, masks, the released variant, learning."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from sgdsm_cloud.model.config import ModelConfig
from sgdsm_cloud.model.network import SGDSMNet
from sgdsm_cloud.model.partialconv import PartialConv3d

TINY = ModelConfig(layers=3, features=6)
TINY_RELEASED = ModelConfig(layers=4, features=8, variant="released")


def inputs(shape=(2, 1, 9, 11, 13), density=0.6, seed=0):
    g = torch.Generator().manual_seed(seed)
    mask = (torch.rand(shape, generator=g) < density).float()
    return torch.rand(shape, generator=g) * 0.5 * mask, mask


def untrimmed_forward(net: SGDSMNet, data, mask):
    """The same weights with every layer keeping all window days; the centre day at the end."""
    x, m = data, mask
    layers = net.core.layers
    for i, layer in enumerate(layers):
        full = PartialConv3d(layer.in_channels, layer.out_channels, layer.kernel_size[0])
        full.load_state_dict(layer.state_dict())
        x, m = full(x, m)
        x = F.relu(x) if i < len(layers) - 1 else x
    return x[:, :, net.config.half_window], m[:, :, net.config.half_window]


@pytest.mark.parametrize(
    "config", [TINY, TINY_RELEASED, ModelConfig(layers=2, features=3, window=5)]
)
@pytest.mark.parametrize("size", [(11, 13), (1, 1), (16, 5)])
def test_any_grid_size_gives_one_map_for_the_centre_day(config, size):
    data, mask = inputs((2, 1, config.window) + size)
    out, out_mask = SGDSMNet(config)(data, mask)
    assert out.shape == out_mask.shape == (2, 1) + size
    assert torch.isfinite(out).all()


def test_wrong_input_shape_is_refused_with_the_expected_shape():
    with pytest.raises(ValueError, match=r"\(N, 1, 9, H, W\)"):
        SGDSMNet(TINY)(torch.zeros(1, 1, 7, 4, 4), torch.zeros(1, 1, 7, 4, 4))


@pytest.mark.parametrize("layers", [1, 3, 5, 6, 11])
def test_depth_trimming_changes_no_value(layers):
    torch.manual_seed(layers)
    net = SGDSMNet(ModelConfig(layers=layers, features=4))
    data, mask = inputs(density=0.4)
    with torch.no_grad():
        out, out_mask = net(data, mask)
        ref, ref_mask = untrimmed_forward(net, data, mask)
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-6)
    assert torch.equal(out_mask, ref_mask)


def test_paper_preset_is_eleven_layers_of_ninety_maps_with_3x3x3_kernels():
    net = SGDSMNet(ModelConfig.preset("paper"))
    shapes = [tuple(layer.weight.shape) for layer in net.core.layers]
    assert shapes == [(90, 1, 3, 3, 3)] + [(90, 90, 3, 3, 3)] * 9 + [(1, 90, 3, 3, 3)]


def test_receptive_radius_bounds_what_reaches_an_output_cell():
    torch.manual_seed(0)
    net = SGDSMNet(TINY)  # radius 3 in space and in time
    data, mask = inputs((1, 1, 9, 15, 15), density=1.0)
    centre, radius = 7, TINY.receptive_radius
    with torch.no_grad():
        base, _ = net(data, mask)

        def changed(day, row):
            poked = data.clone()
            poked[0, 0, day, row, centre] += 1.0
            return not torch.equal(
                net(poked, mask)[0][0, 0, centre, centre], base[0, 0, centre, centre]
            )

        assert changed(4, centre + radius)
        assert not changed(4, centre + radius + 1)
        assert changed(4 + radius, centre)
        assert not changed(8, centre)  # 4 days away: beyond 3 layers of temporal reach


def test_cells_without_valid_input_in_reach_are_not_reached_and_zero():
    net = SGDSMNet(TINY)
    data, mask = torch.zeros(1, 1, 9, 20, 20), torch.zeros(1, 1, 9, 20, 20)
    mask[0, 0, 4, 2, 2] = 1.0
    data[0, 0, 4, 2, 2] = 0.3
    with torch.no_grad():
        out, out_mask = net(data, mask)
    assert out_mask[0, 0, :6, :6].all() and out_mask.sum() == 36  # 2 +- 3 clipped at the border
    assert torch.all(out[out_mask == 0] == 0)


def test_values_under_mask_zero_do_not_change_the_output():
    for config in (TINY, TINY_RELEASED):
        net = SGDSMNet(config)
        data, mask = inputs()
        noisy = torch.where(mask.bool(), data, torch.randn_like(data) * 10)
        with torch.no_grad():
            assert torch.equal(net(data, mask)[0], net(noisy, mask)[0])


def test_released_variant_keeps_observed_centre_day_values_and_clamps():
    torch.manual_seed(0)
    net = SGDSMNet(TINY_RELEASED)
    data, mask = inputs(density=0.5)
    with torch.no_grad():
        out, out_mask = net(data, mask)
    observed = mask[:, :, 4].bool()
    torch.testing.assert_close(out[observed], data[:, :, 4][observed])
    assert out.min() >= 0.0 and out.max() <= 0.99
    assert out_mask[observed].all()
    assert TINY_RELEASED.receptive_radius == 3


def test_gradients_reach_every_parameter():
    for config in (TINY, TINY_RELEASED):
        net = SGDSMNet(config)
        data, mask = inputs()
        out, _ = net(data, mask)
        (out - 0.3).square().mean().backward()
        for name, param in net.named_parameters():
            assert param.grad is not None and torch.isfinite(param.grad).all(), name
            assert param.grad.abs().sum() > 0, name


def test_a_tiny_network_overfits_a_tiny_batch():
    torch.manual_seed(0)
    net = SGDSMNet(ModelConfig(layers=3, features=8))
    data, mask = inputs((4, 1, 9, 10, 10), density=0.7, seed=1)
    target = torch.rand(4, 1, 10, 10) * 0.4 + 0.1
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    losses = []
    for _ in range(150):
        out, _ = net(data, mask)
        loss = (out - target).square().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0]
