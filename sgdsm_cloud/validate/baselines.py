"""Reference gap fillers that SGD-SM has to beat (pure numpy / scipy).

Every filler takes a window ``values`` of shape ``(days, lat, lon)`` with NaN where nothing was
observed (simulated gaps included) and the index ``centre`` of the day to fill, and returns that
day's field: observed cells unchanged, gaps predicted where the method can, NaN elsewhere.

* :func:`linear_interpolation`: per cell, linear in time between the nearest observed days
  before and after the centre; the nearest one alone when only one side is observed.
* :func:`window_mean`: per cell, the mean of the observed values in the window.
* :func:`dct_pls`: Garcia's (2010) penalised least squares smoother on the discrete cosine
  basis, applied to the whole 3-D window with the smoothing parameter chosen by generalised
  cross-validation; the gap filler behind the ESA CCI SM GAPFILLED product (Wang et al. 2012).
* :func:`window_anomaly`: the window mean of the other days plus the centre day's own anomaly
  (observation minus that mean) averaged over the observed cells around each gap with
  Gaussian weights (a normalised convolution). It uses the same day's field around the gap,
  which the purely temporal fillers ignore, and learns nothing.
* :func:`climatology`: per cell, the mean of the same season (day of year +- ``half_width``) in
  the other years of the record; only meaningful for long records (:func:`climatology_unavailable`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import fft, ndimage, optimize


def keep_observed(pred: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """``observed`` where finite, else ``pred`` (the product rule: observations are never replaced)."""
    return np.where(np.isfinite(observed), observed, pred).astype("float32")


def linear_interpolation(values: np.ndarray, centre: int) -> np.ndarray:
    """Linear interpolation in time between the nearest observed days on each side of ``centre``."""
    values = np.asarray(values, dtype="float64")
    before_v, before_d = _nearest_observed(values, centre, -1)
    after_v, after_d = _nearest_observed(values, centre, +1)
    with np.errstate(invalid="ignore", divide="ignore"):
        weight = before_d / (before_d + after_d)
        both = before_v + weight * (after_v - before_v)
    pred = np.where(np.isfinite(both), both, np.where(np.isfinite(before_v), before_v, after_v))
    return keep_observed(pred, values[centre])


def _nearest_observed(values: np.ndarray, centre: int, step: int) -> tuple[np.ndarray, np.ndarray]:
    """Value and distance in days of the nearest finite value from ``centre`` in direction ``step``."""
    found_v = np.full(values.shape[1:], np.nan)
    found_d = np.full(values.shape[1:], np.nan)
    day = centre + step
    while 0 <= day < values.shape[0]:
        new = np.isnan(found_v) & np.isfinite(values[day])
        found_v[new] = values[day][new]
        found_d[new] = abs(day - centre)
        day += step
    return found_v, found_d


def window_mean(values: np.ndarray, centre: int) -> np.ndarray:
    """Mean of each cell's observed values in the window (NaN where none)."""
    values = np.asarray(values, dtype="float64")
    count = np.isfinite(values).sum(axis=0)
    total = np.nansum(values, axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        pred = np.where(count > 0, total / count, np.nan)
    return keep_observed(pred, values[centre])


ANOMALY_SIGMA = 4.0  # cells; the best of 4, 8 and 16 on the real LPRM days 2015-04-11..15
ANOMALY_TRUNCATE = 3.0  # the Gaussian weights end at 3 sigma


def anomaly_reach(sigma: float = ANOMALY_SIGMA) -> int:
    """Cells on each side that :func:`window_anomaly` reads (its crops need this halo)."""
    return int(np.ceil(ANOMALY_TRUNCATE * sigma))


def window_anomaly(values: np.ndarray, centre: int, sigma: float = ANOMALY_SIGMA) -> np.ndarray:
    """Window mean of the other days plus the Gaussian-smoothed same-day anomaly.

    Where the centre day observes nothing within ``anomaly_reach(sigma)`` cells, this is the
    window mean of the other days; where no other day observes a cell, NaN.
    """
    values = np.asarray(values, dtype="float64")
    others = np.delete(values, centre, axis=0)
    count = np.isfinite(others).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, np.nansum(others, axis=0) / count, np.nan)
    today = values[centre]
    usable = np.isfinite(today) & np.isfinite(mean)
    anomaly = np.where(usable, today - mean, 0.0)
    smooth = _gaussian(anomaly, sigma)
    weight = _gaussian(usable.astype("float64"), sigma)
    with np.errstate(invalid="ignore", divide="ignore"):
        correction = np.where(weight > 1e-6, smooth / weight, 0.0)
    return keep_observed(mean + correction, today)


def _gaussian(field: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur with zero beyond the edges (unobserved), ending at ``ANOMALY_TRUNCATE`` sigma."""
    return ndimage.gaussian_filter(
        field, sigma, mode="constant", cval=0.0, truncate=ANOMALY_TRUNCATE
    )


def dct_pls(values: np.ndarray, centre: int, smoothing: float | None = None) -> np.ndarray:
    """DCT-PLS fill of the 3-D window (Garcia 2010), centre day returned."""
    z, _ = smoothn(np.asarray(values, dtype="float64"), smoothing=smoothing)
    return keep_observed(z[centre], np.asarray(values)[centre])


def smoothn(
    y: np.ndarray, smoothing: float | None = None, tol: float = 1e-3, max_iter: int = 100
) -> tuple[np.ndarray, float]:
    """Penalised least squares smoothing of an N-D array with missing (NaN) values.

    Garcia (2010), doi:10.1016/j.csda.2009.09.020: the smoother ``z`` minimises
    ``||W^(1/2) (z - y)||^2 + s ||D z||^2`` (``D`` the second-difference operator), which the DCT
    diagonalises: ``z = IDCT(Gamma * DCT(W (y - z) + z))`` with ``Gamma = 1 / (1 + s Lambda^2)``,
    iterated from a nearest-neighbour guess with Garcia's over-relaxation 1.75. With
    ``smoothing=None`` the parameter ``s`` minimises the GCV score, re-chosen at iterations
    1, 2, 4, 8, ... Returns ``(z, s)``; ``z`` is all NaN when ``y`` has no finite value.
    """
    finite = np.isfinite(y)
    n_finite, n_total = int(finite.sum()), y.size
    if n_finite == 0:
        return np.full(y.shape, np.nan), float("nan")
    weights = finite.astype("float64")
    y0 = np.where(finite, y, 0.0)
    lam = _eigenvalues(y.shape)
    s_min, s_max = _smoothing_bounds(y.shape)
    weighted = n_finite < n_total
    relax = 1.75 if weighted else 1.0
    s = smoothing if smoothing is not None else float(np.sqrt(s_min * s_max))
    z = _initial_guess(y, finite) if weighted else np.zeros(y.shape)
    for it in range(1, max_iter + 1):
        dct_y = fft.dctn(weights * (y0 - z) + z, norm="ortho")
        if smoothing is None and (it & (it - 1)) == 0:  # it is a power of two
            s = 10 ** _gcv_minimum(dct_y, lam, y0, weights, finite, n_finite, n_total, s_min, s_max)
        z_new = relax * fft.idctn(dct_y / (1.0 + s * lam**2), norm="ortho") + (1 - relax) * z
        change = float(np.linalg.norm(z_new - z)) / max(float(np.linalg.norm(z_new)), 1e-12)
        z = z_new
        if not weighted or change < tol:
            break
    return z, float(s)


def _eigenvalues(shape: tuple[int, ...]) -> np.ndarray:
    """Eigenvalues of the N-D second-difference operator on the DCT basis (Garcia's Lambda)."""
    lam = np.zeros(shape)
    for axis, n in enumerate(shape):
        along = np.cos(np.pi * np.arange(n) / n).reshape(
            [n if a == axis else 1 for a in range(len(shape))]
        )
        lam = lam + along
    return 2.0 * (len(shape) - lam)


def _smoothing_bounds(shape: tuple[int, ...]) -> tuple[float, float]:
    """Range of ``s`` whose average leverage lies in [1e-6, 0.99] (Garcia's ``sMinBnd``/``sMaxBnd``)."""
    rank = max(sum(n != 1 for n in shape), 1)

    def s_for(h: float) -> float:
        hr = h ** (2.0 / rank)
        return (((1 + np.sqrt(1 + 8 * hr)) / 4.0 / hr) ** 2 - 1) / 16.0

    return s_for(0.99), s_for(1e-6)


def _gcv_minimum(dct_y, lam, y0, weights, finite, n_finite, n_total, s_min, s_max) -> float:
    """log10 of the ``s`` minimising the generalised cross-validation score."""
    mostly_weighted = n_finite / n_total > 0.9

    def gcv(p: float) -> float:
        gamma = 1.0 / (1.0 + 10**p * lam**2)
        if mostly_weighted:  # cheap form, no inverse transform
            rss = float(np.sum((dct_y * (gamma - 1.0)) ** 2))
        else:
            y_hat = fft.idctn(gamma * dct_y, norm="ortho")
            rss = float(np.sum(weights[finite] * (y0[finite] - y_hat[finite]) ** 2))
        trace = float(gamma.sum())
        return rss / n_finite / (1.0 - trace / n_total) ** 2

    result = optimize.minimize_scalar(
        gcv, bounds=(np.log10(s_min), np.log10(s_max)), method="bounded", options={"xatol": 0.1}
    )
    return float(result.x)


def _initial_guess(y: np.ndarray, finite: np.ndarray) -> np.ndarray:
    """Nearest-neighbour fill, then only the lowest 10 % of DCT frequencies (Garcia's start)."""
    nearest = ndimage.distance_transform_edt(~finite, return_distances=False, return_indices=True)
    z = y[tuple(nearest)]
    coeffs = fft.dctn(z, norm="ortho")
    keep = tuple(slice(0, int(np.ceil(n / 10))) for n in y.shape)
    low = np.zeros_like(coeffs)
    low[keep] = coeffs[keep]
    return fft.idctn(low, norm="ortho")


def climatology_unavailable(dates: pd.DatetimeIndex, min_years: int = 3) -> str | None:
    """Why a day-of-year climatology cannot be built from ``dates`` (None when it can)."""
    span = (dates[-1] - dates[0]).days + 1 if len(dates) else 0
    if span < 365 * min_years:
        return f"the record spans {span} days; a day-of-year climatology needs at least {min_years} years"
    return None


def climatology(
    record: np.ndarray,
    dates: pd.DatetimeIndex,
    day: int,
    observed: np.ndarray,
    half_width: int = 15,
) -> np.ndarray:
    """Mean of the same season in the other years, for day index ``day``.

    ``record`` is ``(time, lat, lon)`` on ``dates``; values of the target's own year are left
    out so that the hidden cells never inform their own estimate. ``observed`` is the day's
    field with the simulated gaps (kept where finite).
    """
    target = dates[day]
    doy = dates.day_of_year.to_numpy()
    gap = np.abs(doy - target.day_of_year)
    distance = np.minimum(gap, 365 - gap)
    use = (distance <= half_width) & (dates.year.to_numpy() != target.year)
    if not use.any():
        return keep_observed(np.full(record.shape[1:], np.nan), observed)
    selected = np.asarray(record[use], dtype="float64")
    count = np.isfinite(selected).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        pred = np.where(count > 0, np.nansum(selected, axis=0) / count, np.nan)
    return keep_observed(pred, observed)
