"""How well a standard error describes the errors it stands for.

Interval coverage of +-1 and +-2 sigma, the reliability curve, RMSE per decile of sigma
(spread-skill) and the Gaussian negative log-likelihood (:func:`calibration_scores`), and the
one factor that makes the coverages nominal (:func:`coverage_scale`). The error model's fit,
validation and the benchmarks all score with these.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

NOMINAL = (0.6827, 0.9545)  # Gaussian coverage of +-1 and +-2 sigma


def coverage_scale(z: np.ndarray) -> float:
    """The factor ``s`` for which ``|z| <= s`` and ``|z| <= 2 s`` come closest to the Gaussian
    68.3 % and 95.4 % (the larger of the two misses is smallest)."""
    z = np.sort(np.abs(z[np.isfinite(z)]))
    if z.size == 0:
        return 1.0
    candidates = np.exp(np.linspace(math.log(0.2), math.log(5.0), 801))
    cov1 = np.searchsorted(z, candidates, side="right") / z.size
    cov2 = np.searchsorted(z, 2 * candidates, side="right") / z.size
    miss = np.maximum(np.abs(cov1 - NOMINAL[0]), np.abs(cov2 - NOMINAL[1]))
    return float(candidates[int(np.argmin(miss))])


@dataclass(frozen=True)
class CalibrationScores:
    """How well sigma describes the errors.

    Attributes:
        n: cells scored.
        coverage: share of ``|error| <= sigma`` and ``|error| <= 2 sigma``.
        rmse: RMSE of the errors; mean_sigma: root mean square of sigma.
        deciles: per decile of sigma: ``sigma`` (its RMS), ``rmse``, ``n``, and the coverages.
        spread_skill_r: Pearson correlation of decile sigma and decile RMSE.
        reliability: nominal central interval probability -> observed coverage.
        nll: mean Gaussian negative log-likelihood (nats, with the constant).
    """

    n: int
    coverage: tuple[float, float]
    rmse: float
    mean_sigma: float
    deciles: list[dict[str, float]]
    spread_skill_r: float
    reliability: list[tuple[float, float]]
    nll: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "coverage_1sigma": self.coverage[0],
            "coverage_2sigma": self.coverage[1],
            "rmse": self.rmse,
            "mean_sigma": self.mean_sigma,
            "spread_skill_r": self.spread_skill_r,
            "nll": self.nll,
            "deciles": self.deciles,
            "reliability": [list(p) for p in self.reliability],
        }


RELIABILITY_LEVELS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.6827, 0.7, 0.8, 0.9, 0.9545, 0.99)


def calibration_scores(errors: np.ndarray, sigma: np.ndarray, bins: int = 10) -> CalibrationScores:
    """Coverage, reliability and spread-skill of ``sigma`` for ``errors`` (same shape)."""
    from scipy.stats import norm

    e = np.asarray(errors, dtype="float64").ravel()
    s = np.asarray(sigma, dtype="float64").ravel()
    keep = np.isfinite(e) & np.isfinite(s) & (s > 0)
    e, s = e[keep], s[keep]
    if e.size == 0:
        nan = float("nan")
        return CalibrationScores(0, (nan, nan), nan, nan, [], nan, [], nan)
    z = np.abs(e) / s
    order = np.argsort(s, kind="stable")
    deciles = []
    for part in np.array_split(order, min(bins, e.size)):
        deciles.append(
            {
                "sigma": float(np.sqrt(np.mean(s[part] ** 2))),
                "rmse": float(np.sqrt(np.mean(e[part] ** 2))),
                "n": int(part.size),
                "coverage_1sigma": float(np.mean(z[part] <= 1)),
                "coverage_2sigma": float(np.mean(z[part] <= 2)),
            }
        )
    ds = np.array([d["sigma"] for d in deciles])
    dr = np.array([d["rmse"] for d in deciles])
    r = float(np.corrcoef(ds, dr)[0, 1]) if len(deciles) > 1 and ds.std() > 0 else float("nan")
    reliability = [(p, float(np.mean(z <= norm.ppf(0.5 + p / 2)))) for p in RELIABILITY_LEVELS]
    nll = float(np.mean(np.log(s) + 0.5 * (e / s) ** 2 + 0.5 * math.log(2 * math.pi)))
    return CalibrationScores(
        int(e.size),
        (float(np.mean(z <= 1)), float(np.mean(z <= 2))),
        float(np.sqrt(np.mean(e**2))),
        float(np.sqrt(np.mean(s**2))),
        deciles,
        r,
        reliability,
        nll,
    )
