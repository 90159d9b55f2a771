"""The ``anomaly`` variant: per-cell temporal priors, the same day's smoothed anomaly, a learned correction.

Not in the paper. The paper's network predicts every gap from scratch out of raw values and
reaches 11 cells; its fills barely beat temporal linear interpolation on real LPRM days, and a
method without learning (the window mean plus the day's own anomaly, smoothed over the
observed cells around the gap) beats both (docs/model.md). This variant starts from that
method and learns what it misses:

1. **Priors per cell** from the other days of the window: their mean, the linear
   interpolation between the nearest observed days before and after, the distances to those
   days, how many days are observed and how often the value sits at the product's floor (0) or
   saturation (>= 0.985).
2. **The same day's anomaly** (centre-day observation minus the window mean of the other days)
   averaged over the observed cells around each cell with Gaussian weights at several widths
   (``scales``, cells): a normalised convolution, the fixed-kernel twin of a partial convolution
   (Knutsson and Westin 1993). The weight sum says how much of the day surrounds the cell.
3. **A base prediction**: the window mean (or, for cells no day of the window observes, the
   window mean of their neighbours) plus the anomaly at the second scale.
4. **A 2-D CNN** of ``layers`` 3 x 3 convolutions and ``features`` maps reads all of these and
   predicts the correction added to the base.
5. **The other overpass** (``passes=2``: ascending beside descending, channel 1 of the input):
   its own same-day anomaly against its own window mean (so the passes' day/night offset
   cancels), averaged at the same scales, and its weight sums, as more CNN inputs. AMSR2's two
   passes see different swaths, so deep inside one pass's swath gap the other often observes.

Every operation is local: a cell depends on cells at most ``context_radius(scales) + layers``
away, which is the ``receptive_radius`` the fill's halo uses, so a tile filled alone equals the
whole grid filled in one piece. The CNN is 2-D, so the cost per output day does not grow with
the window; only the cheap per-cell priors read all of its days.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.profiler import record_function

from sgdsm_cloud.model.config import context_radius
from sgdsm_cloud.model.uncertainty import error_features

# What torch's profiler calls the steps of a forward pass (benchmarks/bench_tile.py sums them)
PRIORS, NETWORK, ERROR_FEATURES = "sgdsm.priors", "sgdsm.network", "sgdsm.error_features"
SATURATION = 0.985  # LPRM saturates at 0.99; at or above this a value counts as saturated
# Fixed input scaling so that every CNN input is of order 1 (Adam moves weights by about the
# learning rate per step: inputs of order 0.05 would need weights 20 times larger than order-1
# inputs). Soil moisture values are centred on VALUE_CENTRE and divided by VALUE_SPREAD;
# anomalies and the output correction are in units of ANOMALY_SPREAD.
VALUE_CENTRE, VALUE_SPREAD, ANOMALY_SPREAD = 0.25, 0.2, 0.05
FEATURE_NAMES = (
    "window_mean",  # base for the correction; the spatial fallback where no day observes
    "observed_days",
    "linear",
    "days_before",
    "days_after",
    "floor_share",
    "saturated_share",
    "centre_value",
    "centre_observed",
)


def gaussian_kernels(scales: tuple[float, ...], radius: int) -> Tensor:
    """``(len(scales), 2 * radius + 1)`` 1-D Gaussian kernels, each summing to 1.

    Each kernel ends at ``context_radius((scale,))`` cells (3 standard deviations), zero
    beyond, as scipy's ``gaussian_filter(truncate=3)`` does.
    """
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float64)
    kernels = torch.stack(
        [
            torch.exp(-0.5 * (offsets / s) ** 2) * (offsets.abs() <= context_radius((s,)))
            for s in scales
        ]
    )
    return (kernels / kernels.sum(dim=1, keepdim=True)).float()


def gaussian_blur(x: Tensor, kernels: Tensor) -> Tensor:
    """Separable Gaussian blur of ``x (N, 1, H, W)`` at each scale: ``(N, scales, H, W)``.

    Zero padding: cells beyond the array count as unobserved, as everywhere in SGD-SM.
    """
    k, radius = kernels.shape[0], kernels.shape[1] // 2
    rows = F.conv2d(x, kernels.view(k, 1, -1, 1), padding=(radius, 0))
    return F.conv2d(rows, kernels.view(k, 1, 1, -1), padding=(0, radius), groups=k)


def normalized_convolution(
    values: Tensor, weights: Tensor, kernels: Tensor
) -> tuple[Tensor, Tensor]:
    """Gaussian-weighted mean of ``values`` over cells where ``weights`` is 1, per scale.

    Returns ``(mean, density)``, each ``(N, scales, H, W)``: ``density`` is the Gaussian weight
    of the observed cells (1 when all are observed) and ``mean`` is 0 where it is 0.
    """
    num = gaussian_blur(values * weights, kernels)
    den = gaussian_blur(weights, kernels)
    has = den > 1e-6
    return torch.where(has, num / den.clamp(min=1e-6), torch.zeros_like(num)), den * has


def nearest_observed(
    days: Tensor, masks: Tensor, order: list[int]
) -> tuple[Tensor, Tensor, Tensor]:
    """Value, 1-based distance and presence of the first observed day in ``order`` per cell.

    ``days, masks`` are ``(N, D, H, W)``; ``order`` lists day indices nearest first.
    """
    value = torch.zeros_like(days[:, 0])
    distance = torch.zeros_like(value)
    found = torch.zeros_like(value)
    for step, d in enumerate(order, start=1):
        new = masks[:, d] * (1.0 - found)
        value = value + new * days[:, d]
        distance = distance + new * step
        found = found + new
    return value, distance, found


def window_priors(data: Tensor, mask: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Per-cell priors of the centre day from the window's other days.

    ``data, mask``: ``(N, window, H, W)``, data 0 where unobserved. Returns
    ``(features, window_mean, observed_any)``: ``features (N, 9, H, W)`` in ``FEATURE_NAMES``
    order, values standardised and 0 where undefined; ``window_mean`` in m3 m-3, 0 where no
    other day observes.
    """
    window = data.shape[1]
    centre = window // 2
    others = [d for d in range(window) if d != centre]
    o_data, o_mask = data[:, others], mask[:, others]
    count = o_mask.sum(dim=1)
    any_obs = (count > 0).float()
    mean = (o_data * o_mask).sum(dim=1) / count.clamp(min=1.0)
    before_v, before_d, before_f = nearest_observed(data, mask, list(range(centre - 1, -1, -1)))
    after_v, after_d, after_f = nearest_observed(data, mask, list(range(centre + 1, window)))
    both = before_f * after_f
    weight = before_d / (before_d + after_d).clamp(min=1.0)
    linear = both * (before_v + weight * (after_v - before_v))
    linear = linear + (1 - both) * (before_f * before_v + after_f * after_v)
    floor = ((o_data <= 0.0).float() * o_mask).sum(dim=1) / count.clamp(min=1.0)
    saturated = ((o_data >= SATURATION).float() * o_mask).sum(dim=1) / count.clamp(min=1.0)
    scale = float(max(centre, 1))
    features = torch.stack(
        [
            standardise(mean) * any_obs,
            count / max(window - 1, 1),
            standardise(linear) * (before_f + after_f).clamp(max=1.0),
            before_d / scale,
            after_d / scale,
            floor,
            saturated,
            standardise(data[:, centre]) * mask[:, centre],
            mask[:, centre],
        ],
        dim=1,
    )
    return features, mean, any_obs


def window_mean_of_others(data: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    """``(mean, observed_any)`` of the window's days other than the centre, per cell."""
    centre = data.shape[1] // 2
    others = [d for d in range(data.shape[1]) if d != centre]
    count = mask[:, others].sum(dim=1)
    mean = (data[:, others] * mask[:, others]).sum(dim=1) / count.clamp(min=1.0)
    return mean, (count > 0).float()


def other_pass_features(data: Tensor, mask: Tensor, kernels: Tensor) -> Tensor:
    """The other overpass's inputs ``(N, 2 * scales + 2, H, W)`` from its window ``(N, window,
    H, W)``: its same-day anomaly (against its own window mean) averaged at each scale, the
    weight sums, and the anomaly and its presence on the cell itself."""
    centre = data.shape[1] // 2
    mean, any_obs = window_mean_of_others(data, mask)
    today = mask[:, centre] * any_obs
    anomaly = (data[:, centre] - mean) * today
    smooth, density = normalized_convolution(anomaly[:, None], today[:, None], kernels)
    on_cell = torch.stack([anomaly / ANOMALY_SPREAD, today], dim=1)
    return torch.cat([smooth / ANOMALY_SPREAD, density, on_cell], dim=1)


def standardise(values: Tensor) -> Tensor:
    """Soil moisture (m3 m-3) as a CNN input of order 1."""
    return (values - VALUE_CENTRE) / VALUE_SPREAD


class AnomalyCore(nn.Module):
    """Priors + smoothed same-day anomaly + a 2-D CNN correction (see the module docstring)."""

    def __init__(
        self, layers: int, features: int, kernel: int, scales: tuple[float, ...], passes: int = 1
    ) -> None:
        super().__init__()
        self.scales = tuple(float(s) for s in scales)
        self.passes = passes
        self.kernels: Tensor
        self.register_buffer(
            "kernels", gaussian_kernels(self.scales, context_radius(self.scales)), persistent=False
        )
        self.base_scale = min(1, len(self.scales) - 1)
        inputs = len(FEATURE_NAMES) + 2 * len(self.scales) + 2  # + spatial mean fallback, weight
        if passes == 2:
            inputs += 2 * len(self.scales) + 2
        widths = [inputs] + [features] * (layers - 1) + [1]
        convs = [
            nn.Conv2d(widths[i], widths[i + 1], kernel, padding=kernel // 2) for i in range(layers)
        ]
        for conv in convs[:-1]:  # He initialisation keeps ReLU activations of order 1
            nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
        nn.init.zeros_(convs[-1].weight)  # start as the base prediction
        for conv in convs:
            if conv.bias is not None:
                nn.init.zeros_(conv.bias)
        self.convs = nn.ModuleList(convs)
        self.memory_format = torch.channels_last  # of the CNN's activations (see correction)

    def inputs(self, data: Tensor, mask: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``(cnn_input, base, reached)`` for the network's input ``(N, passes, window, H, W)``,
        in float32."""
        stacked, base, reached, _ = self._inputs(data, mask)
        return stacked, base, reached

    def _inputs(
        self, windows: Tensor, masks: Tensor
    ) -> tuple[Tensor, Tensor, Tensor, tuple[Tensor, ...]]:
        """:meth:`inputs` and ``(priors, density, smooth, anomaly, today)`` for the error features."""
        data, mask = windows[:, 0].float(), masks[:, 0].float()
        centre = data.shape[1] // 2
        priors, mean, any_obs = window_priors(data, mask)
        # Cells no other day observes take the mean of their neighbours' window means.
        neighbour_mean, neighbour_weight = normalized_convolution(
            mean[:, None], any_obs[:, None], self.kernels[self.base_scale : self.base_scale + 1]
        )
        base_mean = any_obs * mean + (1 - any_obs) * neighbour_mean[:, 0]
        reached_mean = torch.maximum(any_obs, (neighbour_weight[:, 0] > 0).float())
        today = mask[:, centre] * any_obs
        anomaly = (data[:, centre] - mean) * today
        smooth, density = normalized_convolution(anomaly[:, None], today[:, None], self.kernels)
        base = base_mean + smooth[:, self.base_scale]
        observed_today = mask[:, centre]
        reached = torch.maximum(reached_mean, observed_today)
        base = torch.where(observed_today > 0, data[:, centre], base) * reached
        parts = [
            priors,
            smooth / ANOMALY_SPREAD,
            density,
            standardise(neighbour_mean) * (neighbour_weight > 0),
            neighbour_weight,
        ]
        if self.passes == 2:
            parts.append(
                other_pass_features(windows[:, 1].float(), masks[:, 1].float(), self.kernels)
            )
        stacked = torch.cat(parts, dim=1) * reached[:, None]
        return stacked, base, reached, (priors, density, smooth, anomaly, today)

    def forward(self, data: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        out, reached, _ = self.run(data, mask, features=False)
        return out, reached

    def correction(self, x: Tensor) -> Tensor:
        """The CNN on its inputs ``(N, C, H, W)``: the correction in units of ANOMALY_SPREAD.

        Channels-last layout: oneDNN's convolutions run about twice as fast in it on the CPU
        (``benchmarks/bench_variants.py``), and cuDNN's as fast or faster.
        """
        x = x.contiguous(memory_format=self.memory_format)
        last = len(self.convs) - 1
        for i, conv in enumerate(self.convs):
            x = conv(x)
            if i < last:
                x = F.relu(x, inplace=True)
        return x

    def run(
        self, data: Tensor, mask: Tensor, *, features: bool = True
    ) -> tuple[Tensor, Tensor, Tensor | None]:
        """``(out, reached, error_features)``: :meth:`forward` and, when ``features``, the
        ``(N, len(uncertainty.FEATURES), H, W)`` inputs of the error model (else None)."""
        with torch.autocast(data.device.type, enabled=False), record_function(PRIORS):
            x, base, reached, parts = self._inputs(data, mask)
        with record_function(NETWORK):
            x = self.correction(x)
        out = (base[:, None] + ANOMALY_SPREAD * x.float()) * reached[:, None]
        if not features:
            return out, reached[:, None], None
        priors, density, smooth, anomaly, today = parts
        with torch.autocast(data.device.type, enabled=False), record_function(ERROR_FEATURES):
            # the spread of the day's anomaly around the cell (its local roughness)
            square, _ = normalized_convolution(
                (anomaly**2)[:, None],
                today[:, None],
                self.kernels[self.base_scale : self.base_scale + 1],
            )
            roughness = (square[:, 0] - smooth[:, self.base_scale] ** 2).clamp(min=0).sqrt()
            table = error_features(
                data[:, 0].float(),
                mask[:, 0].float(),
                out[:, 0],
                base,
                priors,
                density,
                smooth,
                roughness,
                anomaly_spread=ANOMALY_SPREAD,
                value_centre=VALUE_CENTRE,
                value_spread=VALUE_SPREAD,
            )
        return out, reached[:, None], table * reached[:, None]
