"""The SGD-SM network: partial convolutions over a window of days, output for the centre day.

``SGDSMNet(config).forward(data, mask)`` takes ``data, mask`` of shape ``(N, passes, window, H,
W)`` (``data`` is 0 where ``mask`` is 0; ``passes`` is 1 but for ``anomaly-2pass``, whose
channel 1 is the other overpass) and returns ``(out, out_mask)``, each ``(N, 1, H, W)``: the
raw output for the centre day and where it is defined (some valid input within reach). The
network is fully convolutional: any ``H, W`` works; borders are zero-padded (unobserved).

Two variants:

* ``paper`` (default): ``layers`` 3-D partial convolutions with time as the depth axis, ReLU
  after all but the last, ``features`` maps, one output map. Only the depth slices that can
  still reach the centre day are computed: a layer followed by ``r`` more layers needs the days
  ``centre +- r``, so the last layers run on 7, 5, 3 and 1 slices. This trimming changes no
  value (zero padding applies only at the window's true ends).
* ``released`` (the released code variant, github.com/qzhang95/SGD-SM ``Main_Test_SGD-SM.py``):
  2-D partial convolutions with time as channels; a centre-day branch ``1 -> features/2`` and a
  window branch ``window -> features/2`` (per-day masks), concatenated; one shared
  ``features -> features`` layer applied ``layers - 3`` times; ``features -> 1``. The output is
  the residual in gaps added to the centre-day input, clamped to [0, 0.99].
* ``anomaly`` (not in the paper): per-cell priors from the window and the centre day's
  smoothed anomaly, corrected by a 2-D CNN (:mod:`sgdsm_cloud.model.anomaly`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.profiler import record_function

from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.model.anomaly import AnomalyCore
from sgdsm_cloud.model.config import ModelConfig
from sgdsm_cloud.model.partialconv import PartialConv2d, PartialConv3d
from sgdsm_cloud.model.uncertainty import ErrorModel

RELEASED_CLAMP = (0.0, 0.99)
SIGMA = "sgdsm.sigma"  # the profiler's name of the error model's step


class SGDSMNet(nn.Module):
    """The gap-filling CNN described by a :class:`ModelConfig`."""

    def __init__(self, config: ModelConfig, uncertainty: ErrorModel | None = None) -> None:
        super().__init__()
        self.config = config
        self.uncertainty: ErrorModel | None = None
        self.set_uncertainty(uncertainty)
        self.core: nn.Module
        if config.variant == "paper":
            self.core = PaperCore(config)
        elif config.variant == "released":
            self.core = ReleasedCore(config)
        else:
            self.core = AnomalyCore(
                config.layers, config.features, config.kernel, config.scales, config.passes
            )

    def forward(self, data: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        _check_shapes(self.config, data, mask)
        return self.core(data, mask)

    def set_uncertainty(self, error_model: ErrorModel | None) -> None:
        """Attach (or remove) the error model that gives each output its standard error.

        Only the ``anomaly`` variant computes the features an error model reads. The error
        model holds a few numbers, no weights: the state dict does not change.
        """
        if error_model is not None and self.config.variant != "anomaly":
            raise ConfigError(
                f"an error model needs the 'anomaly' variant; this network is "
                f"{self.config.variant!r}"
            )
        self.uncertainty = error_model

    def predict(self, data: Tensor, mask: Tensor) -> tuple[Tensor, Tensor, Tensor | None]:
        """``(out, out_mask, sigma)``: :meth:`forward` and the standard error of ``out``,
        ``(N, 1, H, W)`` float32 m3 m-3, where an error model is attached (else None)."""
        if self.uncertainty is None:
            out, reached = self(data, mask)
            return out, reached, None
        core = self.core
        assert isinstance(core, AnomalyCore)
        _check_shapes(self.config, data, mask)
        out, reached, features = core.run(data, mask)
        assert features is not None
        with record_function(SIGMA):
            sigma = self.uncertainty.sigma(features)[:, None] * reached
        return out, reached, sigma

    def error_features(self, data: Tensor, mask: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``(out, out_mask, features)``: the error model's inputs ``(N, F, H, W)`` per cell
        (``uncertainty.FEATURES``), for calibrating one. ``anomaly`` variant only."""
        core = self.core
        if not isinstance(core, AnomalyCore):
            raise ConfigError(
                f"error features need the 'anomaly' variant; this network is "
                f"{self.config.variant!r}"
            )
        _check_shapes(self.config, data, mask)
        out, reached, features = core.run(data, mask)
        assert features is not None
        return out, reached, features


def _check_shapes(config: ModelConfig, data: Tensor, mask: Tensor) -> None:
    expected = (config.passes, config.window)
    if data.dim() != 5 or tuple(data.shape[1:3]) != expected or data.shape != mask.shape:
        raise ValueError(
            f"data and mask must both have shape (N, {config.passes}, {config.window}, H, W); "
            f"got {tuple(data.shape)} and {tuple(mask.shape)}"
        )


class PaperCore(nn.Module):
    """The paper's stack of 3-D partial convolutions (see the module docstring)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        half, centre = config.kernel // 2, config.half_window
        reach = config.layers * half  # days that can reach the centre day
        self.days = slice(max(centre - reach, 0), centre + reach + 1)
        first_day = self.days.start  # window day held by depth slice 0 of the activations
        widths = [1] + [config.features] * (config.layers - 1) + [1]
        layers = []
        for i in range(config.layers):
            still_needed = (config.layers - i) * half  # days this layer's input must span
            # Drop the outer slices once they no longer touch the window's ends (no padding).
            depth_padding = half if still_needed > centre else 0
            first_day += half - depth_padding
            layers.append(PartialConv3d(widths[i], widths[i + 1], config.kernel, depth_padding))
        self.layers = nn.ModuleList(layers)
        self.centre_slice = centre - first_day

    def forward(self, data: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        m = mask[:, :, self.days]
        x = data[:, :, self.days] * m  # masked once: every layer's output is 0 where its mask is
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            x, m = layer(x, m, masked_input=True)
            if i < last:
                x = F.relu(x)
        return x[:, :, self.centre_slice], m[:, :, self.centre_slice]


class ReleasedCore(nn.Module):
    """The released code's two-branch network, made runnable (see the module docstring)."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        half = config.features // 2
        self.centre = config.half_window
        self.repeats = config.layers - 3
        self.current = PartialConv2d(1, half, config.kernel)
        self.stack = PartialConv2d(config.window, half, config.kernel)
        self.mid = PartialConv2d(config.features, config.features, config.kernel)
        self.last = PartialConv2d(config.features, 1, config.kernel)

    def forward(self, data: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        days, day_masks = data[:, 0], mask[:, 0]
        today_mask = day_masks[:, self.centre : self.centre + 1]
        today = days[:, self.centre : self.centre + 1] * today_mask
        f_today, _ = self.current(today, today_mask)
        f_stack, m = self.stack(days, day_masks)  # any valid day: covers the centre-day mask
        x = F.relu(torch.cat([f_today, f_stack], dim=1))
        for _ in range(self.repeats):
            x, m = self.mid(x, m)
            x = F.relu(x)
        residual, m = self.last(x, m)
        out = today + (1.0 - today_mask.to(residual.dtype)) * residual
        return out.clamp(*RELEASED_CLAMP), m
