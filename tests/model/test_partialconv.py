"""Partial convolution: Liu et al.'s rule, mask update, precision safety, gradients."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from sgdsm_cloud.model.partialconv import PartialConv2d, PartialConv3d


def reference_partial_conv3d(layer: PartialConv3d, x: torch.Tensor, mask: torch.Tensor):
    """Liu et al.'s formula written out per output position (slow, float64)."""
    x, mask = x.double(), mask.double().expand_as(x)
    weight, bias = layer.weight.double(), layer.bias.double()
    pd, ph, pw = layer.padding
    xp = F.pad(x * mask, (pw, pw, ph, ph, pd, pd))
    mp = F.pad(mask, (pw, pw, ph, ph, pd, pd))
    k = layer.kernel_size[0]
    n, _, d, h, w = xp.shape
    out_shape = (n, weight.shape[0], d - k + 1, h - k + 1, w - k + 1)
    out = torch.zeros(out_shape, dtype=torch.float64)
    new_mask = torch.zeros((n, 1) + out_shape[2:], dtype=torch.float64)
    window = k**3 * x.shape[1]
    for i in range(out_shape[2]):
        for j in range(out_shape[3]):
            for c in range(out_shape[4]):
                xs = xp[:, :, i : i + k, j : j + k, c : c + k]
                ms = mp[:, :, i : i + k, j : j + k, c : c + k]
                valid = ms.sum(dim=(1, 2, 3, 4))
                conv = torch.einsum("ncdhw,ocdhw->no", xs, weight)
                value = conv * (window / valid.clamp(min=1))[:, None] + bias
                out[:, :, i, j, c] = torch.where(valid[:, None] > 0, value, torch.zeros_like(value))
                new_mask[:, 0, i, j, c] = (valid > 0).double()
    return out, new_mask


def random_inputs(seed: int, shape=(2, 3, 5, 6, 7), density: float = 0.5):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=g)
    mask = (torch.rand((shape[0], 1) + shape[2:], generator=g) < density).float()
    return x, mask


@pytest.mark.parametrize("depth_padding", [1, 0])
def test_matches_the_written_out_formula(depth_padding):
    torch.manual_seed(0)
    layer = PartialConv3d(3, 4, 3, depth_padding=depth_padding)
    x, mask = random_inputs(1)
    out, new_mask = layer(x, mask)
    ref_out, ref_mask = reference_partial_conv3d(layer, x, mask)
    torch.testing.assert_close(out.double(), ref_out, rtol=1e-5, atol=1e-5)
    assert torch.equal(new_mask.double(), ref_mask)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), density=st.floats(0.0, 1.0))
def test_output_ignores_values_under_mask_zero(seed, density):
    torch.manual_seed(0)
    layer = PartialConv3d(3, 2)
    x, mask = random_inputs(seed, density=density)
    noise = torch.randn_like(x) * 100
    out_a, mask_a = layer(x, mask)
    out_b, mask_b = layer(torch.where(mask.bool(), x, noise), mask)
    assert torch.equal(out_a, out_b)
    assert torch.equal(mask_a, mask_b)


def test_rescaling_makes_a_constant_field_independent_of_mask_density():
    layer = PartialConv3d(1, 1)
    with torch.no_grad():
        layer.weight.fill_(1.0)
        layer.bias.zero_()
    x = torch.full((1, 1, 5, 8, 8), 0.3)
    for density in (0.1, 0.5, 1.0):
        _, mask = random_inputs(2, shape=(1, 1, 5, 8, 8), density=density)
        out, new_mask = layer(x * mask, mask)
        defined = new_mask.bool().expand_as(out)
        torch.testing.assert_close(out[defined], torch.full_like(out[defined], 0.3 * 27))
        assert torch.all(out[~defined] == 0)


def test_bias_is_added_unscaled_and_holes_are_exactly_zero():
    layer = PartialConv3d(1, 2)
    with torch.no_grad():
        layer.weight.zero_()
        layer.bias.copy_(torch.tensor([0.5, -2.0]))
    mask = torch.zeros(1, 1, 5, 9, 9)
    mask[0, 0, 2, 4, 4] = 1.0  # one valid cell: reaches a 3x3x3 neighbourhood
    out, new_mask = layer(torch.ones_like(mask), mask)
    assert torch.equal(out[0, :, 2, 4, 4], torch.tensor([0.5, -2.0]))
    assert int(new_mask.sum()) == 27
    assert torch.all(out[new_mask.expand_as(out) == 0] == 0)


def test_mask_update_is_a_dilation_by_the_kernel():
    layer = PartialConv3d(2, 2)
    _, mask = random_inputs(3, shape=(2, 2, 5, 10, 10), density=0.05)
    _, new_mask = layer(torch.randn(2, 2, 5, 10, 10), mask)
    dilated = F.max_pool3d(mask, 3, stride=1, padding=1)
    assert torch.equal(new_mask, dilated)


def test_equals_dense_conv3d_on_an_all_ones_mask_away_from_borders():
    torch.manual_seed(0)
    layer = PartialConv3d(3, 4)
    x = torch.randn(2, 3, 6, 9, 9)
    out, new_mask = layer(x, torch.ones(2, 1, 6, 9, 9))
    dense = F.conv3d(x, layer.weight, layer.bias, padding=1)
    torch.testing.assert_close(out[:, :, 1:-1, 1:-1, 1:-1], dense[:, :, 1:-1, 1:-1, 1:-1])
    assert torch.all(new_mask == 1)
    assert not torch.allclose(out[:, :, 0], dense[:, :, 0])  # borders are rescaled, not zero-biased


def test_values_masked_everywhere_stay_exactly_zero():
    layer = PartialConv3d(2, 3)
    out, new_mask = layer(torch.randn(1, 2, 3, 4, 4), torch.zeros(1, 1, 3, 4, 4))
    assert torch.all(out == 0) and torch.all(new_mask == 0)


def test_fully_masked_windows_give_zero_not_nan_under_bf16_autocast():
    torch.manual_seed(0)
    layer = PartialConv3d(2, 3)
    x = torch.randn(1, 2, 5, 8, 8) * 1e3
    mask = torch.zeros(1, 1, 5, 8, 8)
    mask[..., 0, 0, 0] = 1.0
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out, new_mask = layer(x, mask)
    assert out.dtype == torch.bfloat16 and new_mask.dtype == torch.float32
    assert torch.isfinite(out).all()
    assert torch.all(out[(new_mask == 0).expand_as(out)] == 0)


def test_fully_masked_windows_give_zero_not_nan_in_fp16_math():
    torch.manual_seed(0)
    layer = PartialConv3d(2, 3).half()
    x = (torch.randn(1, 2, 5, 8, 8) * 100).half()
    mask = torch.zeros(1, 1, 5, 8, 8, dtype=torch.float16)
    mask[..., 2, 3, 3] = 1.0
    out, new_mask = layer(x, mask)
    assert out.dtype == torch.float16
    assert torch.isfinite(out).all()
    assert torch.all(out[(new_mask == 0).expand_as(out)] == 0)
    assert int(new_mask.sum()) == 27


def test_gradients_reach_weights_and_bias_but_not_masked_inputs():
    torch.manual_seed(0)
    layer = PartialConv3d(2, 3)
    x, mask = random_inputs(4, shape=(1, 2, 5, 6, 6))
    x.requires_grad_(True)
    out, _ = layer(x, mask)
    out.square().sum().backward()
    assert layer.weight.grad is not None and layer.weight.grad.abs().sum() > 0
    assert layer.bias.grad is not None and layer.bias.grad.abs().sum() > 0
    assert torch.all(x.grad[(mask == 0).expand_as(x)] == 0)
    assert x.grad[(mask == 1).expand_as(x)].abs().sum() > 0


def test_per_channel_masks_count_every_channel_in_the_ratio():
    torch.manual_seed(0)
    layer = PartialConv2d(3, 1)
    with torch.no_grad():
        layer.weight.fill_(1.0)
        layer.bias.zero_()
    mask = torch.zeros(1, 3, 5, 5)
    mask[0, 0, 2, 2] = 1.0  # one valid element of 3 * 9 in the centre window
    mask[0, 2, 1, 1] = 1.0  # a second one, in another channel
    with torch.no_grad():
        out, new_mask = layer(torch.full((1, 3, 5, 5), 2.0), mask)
    assert float(out[0, 0, 2, 2]) == pytest.approx(2.0 * 27)  # (2 + 2) * 27 / 2
    assert new_mask.shape == (1, 1, 5, 5)
    assert float(new_mask[0, 0, 4, 4]) == 0.0 and float(new_mask[0, 0, 3, 3]) == 1.0
