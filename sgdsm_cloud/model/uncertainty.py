"""A standard error for every filled value: a calibrated error model of the ``anomaly`` variant.

The ``anomaly`` network already computes what says how hard a gap is: how much of the same day
surrounds the cell (the weight of its Gaussian windows), how far the nearest observed day of
the cell is, how much the cell's window varies, how far the CNN moved the prediction from its
base. :func:`error_features` collects these per cell (``FEATURES``) and :class:`ErrorModel`
turns them into a standard error

    sigma = scale * exp(c0 + sum_k (a_k x_k + b_k x_k^2)),  at least ``floor``

(``x_k`` a feature clipped to its calibration range): a model of a few dozen numbers fitted by
maximum likelihood (Gaussian, heteroscedastic)
on held-back simulated gaps (:func:`fit_error_model`), then one factor ``scale`` chosen so that
the intervals +-1 sigma and +-2 sigma cover 68.3 % and 95.4 % of the held-back errors as
closely as possible. The numbers live in the checkpoint's ``config.json`` (JSON, no weights),
so adding or re-calibrating the error model never changes the network or its SHA-256.

How well a sigma describes errors is scored by :mod:`sgdsm_cloud.model.sigma_scores`, shared by
the fit, validation and the benchmarks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor

from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.model.sigma_scores import calibration_scores, coverage_scale

FEATURES = (
    "density_small",  # share of the Gaussian weight (smallest scale) the day observes
    "density_mid",
    "density_large",
    "observed_days",  # share of the window's other days that observe the cell
    "nearest_day",  # days to the nearest other observed day / half window (more: none)
    "one_sided",  # observed only before or only after the centre day
    "spread",  # std of the cell's other observed days, in units of 0.05 m3 m-3
    "correction",  # |CNN correction| in units of 0.05 m3 m-3
    "level",  # the prediction, (value - 0.25) / 0.2
    "floor_share",  # share of the cell's other days at exactly 0
    "saturated_share",  # share at saturation (>= 0.985)
    "anomaly_contrast",  # |anomaly at the small scale - at the large scale| / 0.05
    "roughness",  # spread of the day's anomaly around the cell (middle scale) / 0.05
)
FORMAT = "log-quadratic-v1"


@dataclass(frozen=True)
class ErrorModel:
    """``sigma = max(scale * exp(intercept + sum_k (a_k x_k + b_k x_k^2)), floor)`` (m3 m-3),
    ``x_k`` the feature clipped to ``[lower_k, upper_k]`` (its range on the calibration set,
    so that the model never extrapolates).

    Attributes:
        features: names of the features used, a subset of ``FEATURES`` in that order.
        lower, upper: the clipping range of each feature.
        intercept, linear, quadratic: the log-quadratic model (natural log of m3 m-3).
        scale: the coverage factor chosen after the fit.
        floor: the smallest sigma given (m3 m-3).
        calibration: what it was fitted on and how well it covered there (JSON).
    """

    features: tuple[str, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    intercept: float
    linear: tuple[float, ...]
    quadratic: tuple[float, ...]
    scale: float = 1.0
    floor: float = 1e-3
    calibration: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        for name in ("features", "lower", "upper", "linear", "quadratic"):
            values = getattr(self, name)
            object.__setattr__(
                self, name, tuple(values if name == "features" else (float(v) for v in values))
            )
        unknown = [f for f in self.features if f not in FEATURES]
        sizes = {len(getattr(self, n)) for n in ("lower", "upper", "linear", "quadratic")}
        if unknown or sizes != {len(self.features)}:
            raise ConfigError(
                f"error model: unknown features {unknown}, or lower/upper/linear/quadratic do "
                f"not each have one number per feature ({len(self.features)}); known features: "
                f"{list(FEATURES)}"
            )
        numbers = (self.intercept, self.scale, self.floor, *self.lower, *self.upper)
        numbers += (*self.linear, *self.quadratic)
        if not all(math.isfinite(v) for v in numbers) or self.scale <= 0 or self.floor <= 0:
            raise ConfigError("error model: numbers must be finite, scale and floor positive")

    @property
    def columns(self) -> list[int]:
        """Indices of the used features in ``FEATURES``."""
        return [FEATURES.index(f) for f in self.features]

    def sigma(self, features: Tensor) -> Tensor:
        """Sigma from ``features (N, len(FEATURES), H, W)``: ``(N, H, W)`` float32."""
        x = features[:, self.columns].float()
        shape = (1, -1, 1, 1)

        def vector(values: tuple[float, ...]) -> Tensor:
            return torch.tensor(values, dtype=x.dtype, device=x.device).view(shape)

        x = torch.minimum(torch.maximum(x, vector(self.lower)), vector(self.upper))
        terms = x * vector(self.linear) + x * x * vector(self.quadratic)
        log_sigma = self.intercept + terms.sum(dim=1)
        return (self.scale * torch.exp(log_sigma)).clamp(min=self.floor)

    def sigma_numpy(self, features: np.ndarray) -> np.ndarray:
        """Sigma from a table ``(n, len(FEATURES))``: ``(n,)`` float64."""
        x = np.asarray(features, dtype="float64")[:, self.columns]
        x = np.clip(x, self.lower, self.upper)
        log_sigma = (
            self.intercept + x @ np.asarray(self.linear) + (x * x) @ np.asarray(self.quadratic)
        )
        return np.maximum(self.scale * np.exp(log_sigma), self.floor)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "features": list(self.features),
            "lower": list(self.lower),
            "upper": list(self.upper),
            "intercept": self.intercept,
            "linear": list(self.linear),
            "quadratic": list(self.quadratic),
            "scale": self.scale,
            "floor": self.floor,
            "calibration": self.calibration,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ErrorModel:
        if data.get("format") != FORMAT:
            raise ConfigError(
                f"error model format {data.get('format')!r} is not {FORMAT!r}; upgrade "
                "sgdsm_cloud or re-calibrate"
            )
        try:
            return cls(
                tuple(data["features"]),
                tuple(data["lower"]),
                tuple(data["upper"]),
                float(data["intercept"]),
                tuple(data["linear"]),
                tuple(data["quadratic"]),
                float(data.get("scale", 1.0)),
                float(data.get("floor", 1e-3)),
                dict(data.get("calibration") or {}),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise ConfigError(f"error model: malformed entry ({err})") from None


def error_features(
    data: Tensor,
    mask: Tensor,
    out: Tensor,
    base: Tensor,
    priors: Tensor,
    density: Tensor,
    smooth: Tensor,
    roughness: Tensor,
    anomaly_spread: float,
    value_centre: float,
    value_spread: float,
) -> Tensor:
    """``(N, len(FEATURES), H, W)`` from the ``anomaly`` variant's intermediate tensors.

    ``data, mask (N, window, H, W)``; ``out, base (N, H, W)`` the prediction and its base;
    ``priors`` the window priors (``anomaly.FEATURE_NAMES``); ``density, smooth`` the
    normalised convolution's weight and anomaly per scale; ``roughness`` the Gaussian-weighted
    standard deviation of the day's anomaly around each cell.
    """
    window = data.shape[1]
    centre = window // 2
    others = [d for d in range(window) if d != centre]
    o_data, o_mask = data[:, others], mask[:, others]
    count = o_mask.sum(dim=1)
    mean = (o_data * o_mask).sum(dim=1) / count.clamp(min=1.0)
    var = ((o_data - mean[:, None]) ** 2 * o_mask).sum(dim=1) / (count - 1).clamp(min=1.0)
    half = float(max(centre, 1))
    before, after = priors[:, 3] * half, priors[:, 4] * half  # 0 where none
    big = half + 1.0
    nearest = torch.minimum(
        torch.where(before > 0, before, torch.full_like(before, big)),
        torch.where(after > 0, after, torch.full_like(after, big)),
    )
    one_sided = ((before > 0) != (after > 0)).float()
    last = density.shape[1] - 1
    mid = min(1, last)
    return torch.stack(
        [
            density[:, 0],
            density[:, mid],
            density[:, last],
            priors[:, 1],
            nearest / half,
            one_sided,
            var.sqrt() / anomaly_spread,
            (out - base).abs() / anomaly_spread,
            (out - value_centre) / value_spread,
            priors[:, 5],
            priors[:, 6],
            (smooth[:, 0] - smooth[:, last]).abs() / anomaly_spread,
            roughness / anomaly_spread,
        ],
        dim=1,
    )


# ---- fitting ------------------------------------------------------------------------------


def fit_error_model(
    features: np.ndarray,
    errors: np.ndarray,
    *,
    names: tuple[str, ...] = FEATURES,
    clip: float = 0.005,
    quadratic: bool = True,
    ridge: float = 1e-3,
    floor: float = 1e-3,
    calibration: dict[str, Any] | None = None,
) -> ErrorModel:
    """Fit ``log sigma``, quadratic in each feature, by Gaussian maximum likelihood; then the scale.

    Args:
        features: ``(n, len(FEATURES))`` table of the held-back gap cells.
        errors: ``(n,)`` prediction minus reference (m3 m-3).
        names: the features to use.
        clip: features are clipped to their ``clip`` and ``1 - clip`` quantiles.
        quadratic: fit the squares too (else their coefficients are 0: log-linear).
        ridge: L2 penalty on the standardised coefficients.

    The negative log-likelihood ``sum(log sigma + e^2 / (2 sigma^2))`` is convex in the
    coefficients of ``log sigma``; damped Newton steps find its minimum. The ``scale`` then
    makes +-1 and +-2 sigma cover the held-back errors as close to 68.3 % and 95.4 % as one
    factor can (the larger of the two misses is minimised): the errors have heavier tails than
    a Gaussian, so the likelihood's own sigma covers more than 68.3 % and less than 95.4 %.
    """
    cols = [FEATURES.index(n) for n in names]
    table = np.asarray(features, dtype="float64")
    e = np.asarray(errors, dtype="float64")
    keep = np.isfinite(e) & np.isfinite(table).all(axis=1)
    table, e = table[keep], e[keep]
    if e.size < 20 * (2 * len(cols) + 1):
        raise ValueError(f"too few held-back cells ({e.size}) to fit {len(cols)} features")
    x = table[:, cols]
    lower, upper = np.quantile(x, clip, axis=0), np.quantile(x, 1 - clip, axis=0)
    x = np.clip(x, lower, upper)
    design = np.column_stack([x, x * x]) if quadratic else x
    mu, sd = design.mean(axis=0), design.std(axis=0)
    sd = np.where(sd > 1e-9, sd, 1.0)
    z = np.column_stack([np.ones(e.size), (design - mu) / sd])
    r2 = np.maximum(e**2, (0.1 * floor) ** 2)
    w = np.zeros(z.shape[1])
    w[0] = 0.5 * math.log(float(np.mean(r2)))
    penalty = np.full(w.size, ridge * e.size)
    penalty[0] = 0.0

    def nll(w: np.ndarray) -> float:
        s = z @ w
        return float(np.sum(s + 0.5 * r2 * np.exp(-2 * s)) + 0.5 * np.sum(penalty * w**2))

    current = nll(w)
    for _ in range(200):
        s = z @ w
        q = r2 * np.exp(-2 * s)
        grad = z.T @ (1 - q) + penalty * w
        hess = (z * (2 * q)[:, None]).T @ z + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hess, grad)
        t, trial, value = 1.0, w, current
        while t > 1e-8:
            trial = w - t * step
            value = nll(trial)
            if value <= current:
                break
            t /= 2
        converged = current - value <= 1e-10 * abs(current)
        w, current = trial, value
        if converged:
            break
    coef = w[1:] / sd
    intercept = float(w[0] - np.sum(coef * mu))
    k = len(cols)
    if not quadratic:
        coef = np.concatenate([coef, np.zeros(k)])

    def model(scale: float, extra: dict[str, Any] | None = None) -> ErrorModel:
        return ErrorModel(
            tuple(names),
            tuple(lower),
            tuple(upper),
            intercept,
            tuple(coef[:k]),
            tuple(coef[k:]),
            scale,
            floor,
            extra or {},
        )

    scale = coverage_scale(np.abs(e) / model(1.0).sigma_numpy(table))
    scores = calibration_scores(e, model(scale).sigma_numpy(table))
    summary = {
        "cells": int(e.size),
        "coverage_1sigma": scores.coverage[0],
        "coverage_2sigma": scores.coverage[1],
        "spread_skill_r": scores.spread_skill_r,
        "rmse": scores.rmse,
        "rms_sigma": scores.mean_sigma,
    }
    return model(scale, {**(calibration or {}), "fit": summary})
