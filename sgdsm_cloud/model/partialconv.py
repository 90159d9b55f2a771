"""Partial convolution (Liu et al. 2018, arXiv:1804.07723) with an explicit validity mask.

For each output position, with input window X, mask window M, weights W and bias b::

    out = (W . (X * M)) * window / sum(M) + b    where sum(M) > 0
    out = 0                                      where sum(M) = 0
    new_mask = 1 where sum(M) > 0, else 0

``window`` is the number of mask elements under the kernel (``kernel volume x mask channels``).
The bias is added after the rescaling and is never rescaled. The mask has one channel shared by
all data channels (the SGD-SM layout) or one channel per input channel; either way the layer
box-sums a single summed mask channel, so the mask costs the same whatever the width.

Mask sums and ratios are computed in float32 even under autocast: in fp16, a ``1e-8`` epsilon
rounds to 0 and a fully masked window would give ``27 / 0 = inf`` and ``inf * 0 = NaN``. Here
the sum is clamped to >= 1 in float32 and the ratio zeroed where the mask is empty, so holes
are exactly 0 in every precision.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

BoxSum = Callable[[Tensor], Tensor]


def partial_forward(
    conv: nn.Conv2d | nn.Conv3d,
    x: Tensor,
    mask: Tensor,
    box_sum: BoxSum,
    masked_input: bool = False,
) -> tuple[Tensor, Tensor]:
    """One partial convolution with ``conv``'s weights; ``box_sum`` sums the mask per window.

    ``masked_input=True`` promises that ``x`` is already 0 where ``mask`` is 0 (true of every
    partial convolution's output, so a network masks its input once) and skips that product.
    """
    window = math.prod(conv.kernel_size) * mask.shape[1]
    new_mask, scale = mask_update(mask, box_sum, window)
    raw = conv._conv_forward(x if masked_input else x * mask.to(x.dtype), conv.weight, None)
    return rescale(raw, scale, conv.bias, new_mask), new_mask


def mask_update(mask: Tensor, box_sum: BoxSum, window: int) -> tuple[Tensor, Tensor]:
    """``(new_mask, scale)`` in float32, each with one channel.

    ``scale`` is ``window / sum(M)`` where the window holds a valid input and 0 elsewhere, so
    multiplying the raw convolution by it applies the rescaling and zeroes the holes at once.
    """
    with torch.autocast(mask.device.type, enabled=False), torch.no_grad():
        total = mask.float().sum(dim=1, keepdim=True) if mask.shape[1] > 1 else mask.float()
        counts = box_sum(total)
        new_mask = (counts > 0.5).float()  # counts are exact small integers
        scale = window / counts.clamp(min=1.0) * new_mask
    return new_mask, scale


def rescale(raw: Tensor, scale: Tensor, bias: Tensor | None, new_mask: Tensor) -> Tensor:
    """``raw * scale + bias * new_mask`` in the convolution's dtype (bias never rescaled).

    Computed as ``(bias + raw * scale) * new_mask``: two passes over the output, and no
    full-size ``bias * new_mask`` tensor (``scale`` is already 0 where ``new_mask`` is).
    """
    scale = scale.to(raw.dtype)
    if bias is None:
        return raw * scale
    shape = (1, -1) + (1,) * (raw.dim() - 2)
    return torch.addcmul(bias.to(raw.dtype).view(shape), raw, scale).mul_(new_mask.to(raw.dtype))


class _PartialConv:
    """What the 2-D and 3-D layers share: the partial forward over a zero-padded mask box sum."""

    kernel_size: tuple[int, ...]
    padding: tuple[int, ...] | str

    def forward(self, x: Tensor, mask: Tensor, masked_input: bool = False) -> tuple[Tensor, Tensor]:
        assert isinstance(self, nn.Conv2d | nn.Conv3d)
        return partial_forward(self, x, mask, self._box_sum, masked_input)

    def _box_sum(self, mask: Tensor) -> Tensor:
        """Valid mask elements under the kernel at every output position (zero padding)."""
        assert not isinstance(self.padding, str)  # __init__ gives sizes, never "same"/"valid"
        pads = [side for size in reversed(self.padding) for side in (size, size)]
        padded = F.pad(mask, pads)  # pooling refuses inputs smaller than the kernel
        pool = F.avg_pool3d if len(self.padding) == 3 else F.avg_pool2d
        return pool(padded, self.kernel_size, stride=1, divisor_override=1)


class PartialConv3d(_PartialConv, nn.Conv3d):  # type: ignore[misc]  # forward(x, mask) -> (x, mask)
    """3-D partial convolution, stride 1, zero ("unobserved") padding.

    Args:
        in_channels, out_channels: feature maps in and out.
        kernel_size: odd kernel side on every axis.
        depth_padding: padding along the depth (time) axis; ``kernel_size // 2`` keeps the
            depth, 0 trims ``kernel_size // 2`` slices on each side. Height and width are
            always padded to keep their size.

    ``forward(x, mask, masked_input=False)`` takes ``x (N, C, D, H, W)`` and
    ``mask (N, 1 or C, D, H, W)`` with 1 where the input is valid, and returns
    ``(out, new_mask)`` with a one-channel float32 mask (see :func:`partial_forward`).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        depth_padding: int | None = None,
    ) -> None:
        half = kernel_size // 2
        depth_padding = half if depth_padding is None else depth_padding
        super().__init__(
            in_channels, out_channels, kernel_size, padding=(depth_padding, half, half)
        )


class PartialConv2d(_PartialConv, nn.Conv2d):  # type: ignore[misc]  # forward(x, mask) -> (x, mask)
    """2-D partial convolution, stride 1, zero padding keeping the size (released code variant).

    ``forward(x, mask)`` takes ``x (N, C, H, W)`` and ``mask (N, 1 or C, H, W)``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3) -> None:
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
