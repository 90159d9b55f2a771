"""A straightforward partial convolution, the way it is usually written, to compare against.

This follows the widely used formulation of NVIDIA/partialconv ``models/partialconv3d.py``
(multi-channel masks), re-implemented from its description (Liu et al. 2018):

* the mask has one channel per input channel and is convolved with an all-ones weight of
  shape ``(out, in, k, k, k)``, so the mask update costs as much as the data convolution;
* ``ratio = (in * k^3) / (sum(M) + 1e-8)``, ``M' = clamp(sum(M), 0, 1)``,
  ``out = ((conv(X * M) - b) * ratio + b) * M'``;
* the new mask has ``out`` channels, each a copy of the others;
* every layer computes every day of the window (no depth trimming).

With a mask shared by all channels it computes the same values as
:class:`sgdsm_cloud.model.partialconv.PartialConv3d` (tests/benchmarks checks it), which makes
the speed comparison in bench_model.py a fair one. Float32 only: the ``1e-8`` epsilon rounds to
0 in fp16 (see sgdsm_cloud/model/partialconv.py), one reason the project does not use it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from sgdsm_cloud.model.network import SGDSMNet

EPSILON = 1e-8


class ReferencePartialConv3d(nn.Conv3d):
    """Partial convolution with a per-channel mask convolved by an all-ones kernel."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3) -> None:
        half = kernel_size // 2
        super().__init__(in_channels, out_channels, kernel_size, padding=half)
        self.register_buffer(
            "mask_kernel",
            torch.ones(out_channels, in_channels, kernel_size, kernel_size, kernel_size),
        )
        self.window = in_channels * kernel_size**3

    def forward(self, x: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:  # type: ignore[override]
        """``x, mask (N, in, D, H, W)`` -> ``(out, new_mask)``, both ``(N, out, D, H, W)``."""
        with torch.no_grad():
            counts = F.conv3d(mask, self.mask_kernel, padding=self.padding)
            ratio = self.window / (counts + EPSILON)
            new_mask = counts.clamp(0, 1)
            ratio = ratio * new_mask
        raw = super().forward(x * mask)
        bias = self.bias.view(1, -1, 1, 1, 1)
        out = ((raw - bias) * ratio + bias) * new_mask
        return out, new_mask


class ReferenceNet(nn.Module):
    """The paper network of :class:`ReferencePartialConv3d` layers, every day in every layer."""

    def __init__(self, layers: list[ReferencePartialConv3d], centre: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.centre = centre

    def forward(self, data: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        x, m = data, mask
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            x, m = layer(x, m)
            if i < last:
                x = F.relu(x)
        return x[:, :, self.centre], m[:, :1, self.centre]


def reference_like(model: SGDSMNet) -> ReferenceNet:
    """A :class:`ReferenceNet` sharing ``model``'s weights (the ``paper`` variant only)."""
    config = model.config
    if config.variant != "paper":
        raise ValueError(
            f"the reference network covers the 'paper' variant, not {config.variant!r}"
        )
    convs = [m for m in model.modules() if isinstance(m, nn.Conv3d)]
    layers = []
    for conv in convs:
        layer = ReferencePartialConv3d(conv.in_channels, conv.out_channels, config.kernel)
        layer.weight, layer.bias = conv.weight, conv.bias  # the same Parameters: no copy
        layers.append(layer.to(conv.weight.device))
    return ReferenceNet(layers, config.half_window)
