"""The reference partial convolution computes what ours does, so comparing their speed is fair."""

from __future__ import annotations

import pytest
import torch

from benchmarks.reference_partialconv import ReferencePartialConv3d, reference_like
from sgdsm_cloud.model.config import ModelConfig
from sgdsm_cloud.model.network import SGDSMNet
from sgdsm_cloud.model.partialconv import PartialConv3d


@pytest.fixture(autouse=True)
def one_torch_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def masked_input(channels: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Data and a one-channel mask (N=2, D=5, 12 x 12) with a fully unobserved 6 x 6 hole."""
    generator = torch.Generator().manual_seed(seed)
    mask = (torch.rand(2, 1, 5, 12, 12, generator=generator) < 0.4).float()
    mask[..., 3:9, 3:9] = 0.0
    data = torch.rand(2, channels, 5, 12, 12, generator=generator) * mask
    return data, mask


def shared_layers(
    in_channels: int, out_channels: int
) -> tuple[PartialConv3d, ReferencePartialConv3d]:
    torch.manual_seed(1)
    ours = PartialConv3d(in_channels, out_channels, 3)
    reference = ReferencePartialConv3d(in_channels, out_channels, 3)
    reference.load_state_dict(ours.state_dict(), strict=False)
    return ours, reference


@pytest.mark.parametrize("in_channels", [1, 6])
def test_reference_layer_equals_partialconv3d(in_channels):
    ours, reference = shared_layers(in_channels, 4)
    data, mask = masked_input(in_channels)
    with torch.no_grad():
        out, new_mask = ours(data, mask)
        ref_out, ref_mask = reference(data, mask.expand(-1, in_channels, -1, -1, -1))
    assert ref_mask.shape[1] == 4 and torch.equal(ref_mask, new_mask.expand_as(ref_mask))
    torch.testing.assert_close(ref_out, out, rtol=1e-5, atol=1e-6)
    hole = (new_mask == 0).expand_as(out)
    assert hole.any() and (out[hole] == 0).all()


def test_reference_network_equals_sgdsm_net_with_its_depth_trimming():
    torch.manual_seed(2)
    model = SGDSMNet(ModelConfig(layers=6, features=8)).eval()
    reference = reference_like(model)
    generator = torch.Generator().manual_seed(3)
    mask = (torch.rand(2, 1, 9, 20, 20, generator=generator) < 0.35).float()
    mask[0, :, :, :, :] = 0.0  # a window with nothing observed: output 0, mask 0
    data = torch.rand(mask.shape, generator=generator) * mask
    with torch.inference_mode():
        out, out_mask = model(data, mask)
        ref_out, ref_mask = reference(data, mask)
    assert torch.equal(ref_mask, out_mask)
    torch.testing.assert_close(ref_out, out, rtol=1e-4, atol=1e-6)
    assert torch.equal(out[0], torch.zeros_like(out[0])) and out_mask[1].sum() > 0


def test_reference_shares_the_model_parameters():
    model = SGDSMNet(ModelConfig.preset("small"))
    reference = reference_like(model)
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv3d)]
    assert len(reference.layers) == len(convs) == model.config.layers
    pairs = zip(reference.layers, convs, strict=True)
    assert all(r.weight is c.weight and r.bias is c.bias for r, c in pairs)


def test_reference_refuses_the_released_variant():
    with pytest.raises(ValueError, match="paper"):
        reference_like(SGDSMNet(ModelConfig.preset("released")))
