"""Deterministic random fields keyed by (seed, stream, key) and indexed by global grid cell.

Every random number the synthesiser draws is a function of the seed, a stream id (one per
physical quantity), a key (the day's ordinal, or 0 for static fields) and the *global* cell
index, never of the requested region or period. A regional archive is therefore an exact crop
of the global one, and a day's value does not depend on the first day asked for. The work
still scales with the region: only the rows needed (plus the filter's halo) are computed.

* :func:`gaussian_rows` -- rows of a spatially correlated, unit-variance Gaussian field: white
  noise from a counter-based hash (splitmix64, Box-Muller) smoothed by :class:`GaussianFilter`.
* :func:`cell_uniform` -- an independent U(0, 1) number per cell.
* :class:`Resampler` -- bilinear interpolation from a coarse global grid onto fine cell
  centres, element-wise, so results are bitwise identical for any crop.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np

from sgdsm_cloud.grid import global_lat

KM_PER_DEGREE = 111.2
_MIN_COS_LAT = 0.02  # caps the east-west kernel width at the poles
_TRUNCATE_SIGMAS = 4.0

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_LOW32 = np.uint64(0xFFFFFFFF)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def _cell_bits(
    seed: int, stream: int, key: int, rows: np.ndarray, cols: np.ndarray, ncols: int
) -> np.ndarray:
    """64 random bits per (row, col) of a global grid with ``ncols`` columns."""
    base: np.uint64 | np.ndarray = np.uint64(0)
    for part in (seed, int(stream), key):
        base = _splitmix64(np.asarray(base ^ np.uint64(part), dtype="uint64"))
    index = (
        np.asarray(rows, dtype="uint64")[:, None] * np.uint64(ncols)
        + np.asarray(cols, dtype="uint64")[None, :]
    )
    return _splitmix64(index ^ base)


def cell_uniform(
    seed: int, stream: int, key: int, rows: slice, cols: slice, res: float
) -> np.ndarray:
    """U(0, 1) float32 per cell of the global grid's ``rows`` x ``cols`` block at ``res``."""
    bits = _cell_bits(
        seed,
        stream,
        key,
        np.arange(rows.start, rows.stop),
        np.arange(cols.start, cols.stop),
        round(360 / res),
    )
    return ((bits >> np.uint64(40)).astype("float32") * np.float32(2.0**-24)).astype("float32")


def gaussian_rows(
    seed: int, stream: int, key: int, res: float, scale_km: float, rows: np.ndarray
) -> np.ndarray:
    """Global rows ``rows`` (all columns) of a ~N(0, 1) field correlated over ``scale_km``, float32."""
    ncols = round(360 / res)
    cols = np.arange(ncols)

    def white(r: np.ndarray) -> np.ndarray:
        bits = _cell_bits(seed, stream, key, r, cols, ncols)
        u1 = ((bits >> np.uint64(32)).astype("float64") + 1.0) * 2.0**-32
        u2 = (bits & _LOW32).astype("float64") * 2.0**-32
        return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)

    return GaussianFilter.of(res, scale_km).apply(rows, white, unit_variance=True).astype("float32")


class GaussianFilter:
    """Gaussian smoothing with ``scale_km`` sigma on a global lat/lon grid at ``res``.

    East-west: an FFT along each (periodic) row whose kernel widens as 1/cos(lat), so features
    keep their size in km. North-south: a truncated kernel (4 sigma) over rows mirrored at the
    poles, applied row by row so any subset of rows gives the same values.
    """

    def __init__(self, res: float, scale_km: float) -> None:
        self.nlat, self.nlon = round(180 / res), round(360 / res)
        cos_lat = np.maximum(np.cos(np.radians(global_lat(res))), _MIN_COS_LAT)
        sigma_lon = scale_km / (KM_PER_DEGREE * res * cos_lat)  # cells, per row
        self.lon_gain = np.exp(
            -2 * (np.pi * sigma_lon[:, None] * np.fft.rfftfreq(self.nlon)[None, :]) ** 2
        )
        # Variance of filtered unit white noise = mean squared gain over the full spectrum.
        full = np.concatenate(
            [self.lon_gain, self.lon_gain[:, 1 : (self.nlon + 1) // 2][:, ::-1]], axis=1
        )
        self.row_unit_variance = 1 / np.sqrt((full**2).mean(axis=1))
        sigma_lat = scale_km / (KM_PER_DEGREE * res)
        self.halo = max(1, int(np.ceil(_TRUNCATE_SIGMAS * sigma_lat)))
        taps = np.exp(-0.5 * (np.arange(-self.halo, self.halo + 1) / sigma_lat) ** 2)
        self.lat_taps = taps / taps.sum()
        self.lat_unit_variance = float(1 / np.sqrt((self.lat_taps**2).sum()))

    @staticmethod
    @lru_cache(maxsize=16)
    def of(res: float, scale_km: float) -> GaussianFilter:
        return GaussianFilter(res, scale_km)

    def apply(
        self,
        rows: np.ndarray,
        source: Callable[[np.ndarray], np.ndarray],
        *,
        unit_variance: bool = False,
    ) -> np.ndarray:
        """Smoothed values of global ``rows`` (all columns); ``source(r)`` gives raw rows ``r``.

        With ``unit_variance`` the output is rescaled as if ``source`` were unit white noise.
        """
        rows = np.asarray(rows, dtype="int64")
        offsets = np.arange(-self.halo, self.halo + 1)
        needed = self._mirror(rows[:, None] + offsets[None, :])
        unique, position = np.unique(needed, return_inverse=True)
        position = position.reshape(needed.shape)
        smoothed = np.fft.irfft(
            np.fft.rfft(source(unique), axis=1) * self.lon_gain[unique], n=self.nlon, axis=1
        )
        if unit_variance:
            smoothed *= self.row_unit_variance[unique][:, None]
        out = np.zeros((rows.size, self.nlon))
        for k, weight in enumerate(self.lat_taps):
            out += weight * smoothed[position[:, k]]
        return out * self.lat_unit_variance if unit_variance else out

    def _mirror(self, r: np.ndarray) -> np.ndarray:
        r = np.where(r < 0, -r - 1, r)
        return np.where(r >= self.nlat, 2 * self.nlat - r - 1, r)


class Resampler:
    """Bilinear interpolation from a coarse global grid to the fine cell centres ``lat`` x ``lon``.

    Only the coarse ``rows`` x ``cols`` window around the fine grid is read; :meth:`__call__`
    takes that window (see :meth:`window_rows`).
    """

    def __init__(self, coarse_res: float, lat: np.ndarray, lon: np.ndarray) -> None:
        self.coarse_res = coarse_res
        nlat, nlon = round(180 / coarse_res), round(360 / coarse_res)
        y = (90.0 - coarse_res / 2 - np.asarray(lat, dtype="float64")) / coarse_res
        row0 = np.clip(np.floor(y).astype("int64"), 0, nlat - 2)
        self._wy = np.clip(y - row0, 0.0, 1.0).astype("float32")[:, None]
        x = (np.asarray(lon, dtype="float64") + 180.0 - coarse_res / 2) / coarse_res
        col0 = np.floor(x).astype("int64")
        self._wx = (x - col0).astype("float32")[None, :]
        col0 %= nlon
        col1 = (col0 + 1) % nlon
        self.rows = np.unique(np.concatenate([row0, row0 + 1]))
        self.cols = np.unique(np.concatenate([col0, col1]))
        self._index = (
            np.searchsorted(self.rows, row0),
            np.searchsorted(self.rows, row0 + 1),
            np.searchsorted(self.cols, col0),
            np.searchsorted(self.cols, col1),
        )

    def window_rows(self, full_rows: np.ndarray) -> np.ndarray:
        """The window from an array of the global rows ``self.rows`` with all columns."""
        return full_rows[:, self.cols]

    def window(self, global_field: np.ndarray) -> np.ndarray:
        """The window of a whole global coarse field."""
        return global_field[np.ix_(self.rows, self.cols)]

    def __call__(self, window: np.ndarray) -> np.ndarray:
        """Interpolate a coarse window onto the fine grid (float32)."""
        r0, r1, c0, c1 = self._index
        along_lon = window[:, c0] * (1 - self._wx) + window[:, c1] * self._wx
        return (along_lon[r0] * (1 - self._wy) + along_lon[r1] * self._wy).astype("float32")
