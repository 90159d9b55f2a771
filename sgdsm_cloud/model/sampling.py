"""Self-supervised training samples streamed from a raw cube.

A sample is a ``window``-day stack of one ``patch`` x ``patch`` square centred on day T. The
centre day's real observations are the label; a simulated gap, cut from the real gap pattern of
another day, hides part of them from the input, and the network learns to restore them.

:func:`scan` reads the period once, slab by slab, and returns the accepted patches
(:class:`SampleIndex`: land fraction, centre-day observed fraction and neighbour-day coverage
above the thresholds of :class:`TrainConfig`) and the :class:`~sgdsm_cloud.model.gaps.GapLibrary`
of real day masks. :mod:`sgdsm_cloud.model.batches` then streams the epochs.

Only one slab (``slab_days + window - 1`` days of the grid) is in memory at a time; a
multi-year cube never is. Days outside the training period count as unobserved.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from sgdsm_cloud.cube import select_days
from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.model.config import TrainConfig
from sgdsm_cloud.model.gaps import GapLibrary, Reservoir, offer_day
from sgdsm_cloud.progress import progress


@dataclass(frozen=True)
class Period:
    """Days ``first .. first + count - 1`` of the store's time axis."""

    first: int
    count: int


def resolve_period(
    time: pd.DatetimeIndex, start: str | None, end: str | None, source: str = "the store"
) -> Period:
    """The store days inside ``[start, end]`` (inclusive), by :func:`cube.select_days`."""
    days = select_days(time, start, end, source)
    return Period(days.start, days.stop - days.start)


class DayReader:
    """Reads day ranges of ``sm`` from a (lazily opened) raw cube; days outside the period are NaN.

    Day numbers are relative to the period start. ``land`` is loaded once (it is 2-D).
    ``other`` is the other overpass's ``sm`` on the same days and grid, for two-pass models.
    """

    def __init__(self, ds: xr.Dataset, period: Period, other: xr.Dataset | None = None) -> None:
        self.sm = ds["sm"]
        self.other = other["sm"] if other is not None else None
        self.period = period
        self.land = np.asarray(ds["land"].values).astype(bool)

    def read(self, start: int, stop: int, sm: xr.DataArray | None = None) -> np.ndarray:
        """Days ``start .. stop - 1`` of ``sm`` (default: the pass to fill) as ``(days, H, W)``
        float32, NaN outside the period."""
        source = self.sm if sm is None else sm
        out = np.full((stop - start,) + self.land.shape, np.nan, dtype="float32")
        lo, hi = max(start, 0), min(stop, self.period.count)
        if lo < hi:
            days = source.isel(time=slice(self.period.first + lo, self.period.first + hi))
            out[lo - start : hi - start] = np.asarray(days.values, dtype="float32")
        return out


def window_sums(values: np.ndarray, size: int) -> np.ndarray:
    """Sum over every ``size`` x ``size`` window: shape ``(H - size + 1, W - size + 1)``."""
    integral = np.zeros((values.shape[0] + 1, values.shape[1] + 1), dtype=np.int64)
    integral[1:, 1:] = values.cumsum(0, dtype=np.int64).cumsum(1)
    return (
        integral[size:, size:]
        - integral[:-size, size:]
        - integral[size:, :-size]
        + integral[:-size, :-size]
    )


@dataclass(frozen=True)
class SampleIndex:
    """Accepted samples: centre day (period-relative) and patch top-left row and column."""

    day: np.ndarray
    row: np.ndarray
    col: np.ndarray

    def __len__(self) -> int:
        return len(self.day)

    def subset(self, selection: np.ndarray) -> SampleIndex:
        return SampleIndex(self.day[selection], self.row[selection], self.col[selection])


def scan(
    reader: DayReader, config: TrainConfig, half_window: int, rng: np.random.Generator
) -> tuple[SampleIndex, GapLibrary]:
    """Accepted samples and the simulated gap library of the whole period (one streaming pass)."""
    p, stride, land = config.patch, config.stride, reader.land
    if land.shape[0] < p or land.shape[1] < p:
        raise ConfigError(
            f"the store's grid {land.shape} is smaller than the training patch ({p} cells); "
            "lower --patch"
        )
    rows = np.arange(0, land.shape[0] - p + 1, stride)
    cols = np.arange(0, land.shape[1] - p + 1, stride)
    land_count = window_sums(land, p)[np.ix_(rows, cols)]
    usable = (land_count >= config.min_land_fraction * p * p) & (land_count > 0)
    all_land = land_count == p * p
    edges = np.asarray(config.gap_bins)
    reservoir = Reservoir(
        edges.size - 1, max(config.gap_library_size // (edges.size - 1), 1), p, rng
    )
    found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    slabs = range(0, reader.period.count, config.slab_days)
    for slab in progress(slabs, desc="scan", unit="slab"):
        stop = min(slab + config.slab_days, reader.period.count)
        observed = np.isfinite(reader.read(slab - half_window, stop + half_window)) & land
        for day in range(slab, stop):
            local = day - slab + half_window
            today = observed[local]
            neighbours = np.delete(
                observed[local - half_window : local + half_window + 1], half_window, axis=0
            ).any(0)
            label = window_sums(today, p)[np.ix_(rows, cols)]
            covered = window_sums(neighbours & land, p)[np.ix_(rows, cols)]
            accept = (
                usable
                & (label >= config.min_label_fraction * land_count)
                & (covered >= config.min_neighbour_coverage * land_count)
            )
            r, c = np.nonzero(accept)
            found.append((np.full(r.size, day), rows[r], cols[c]))
            offer_day(reservoir, today, day, rows, cols, all_land, label, edges, p)
    day_, row_, col_ = (
        (np.concatenate(parts).astype(np.int64) for parts in zip(*found))
        if found
        else (np.zeros(0, np.int64),) * 3
    )
    return SampleIndex(day_, row_, col_), reservoir.library()


def epoch_samples(index: SampleIndex, config: TrainConfig, rng: np.random.Generator) -> SampleIndex:
    """The samples one epoch draws: those of ``slabs_per_epoch`` random slabs (all by
    default), then ``samples_per_epoch`` of them at random (all by default), in day order.

    An epoch reads every slab it draws from whole, so on a long global record drawing from a
    few slabs bounds its reads; different epochs draw different slabs.
    """
    if config.slabs_per_epoch is not None:
        slab_of = index.day // config.slab_days
        slabs = np.unique(slab_of)
        if config.slabs_per_epoch < slabs.size:
            kept = rng.choice(slabs, config.slabs_per_epoch, replace=False)
            index = index.subset(np.isin(slab_of, kept))
    if config.samples_per_epoch is not None and config.samples_per_epoch < len(index):
        chosen = rng.choice(len(index), config.samples_per_epoch, replace=False)
        index = index.subset(np.sort(chosen))
    return index


LAT_BANDS = (-90, -60, -30, 0, 30, 60, 90)  # degrees: the coverage's latitude bands


def coverage(
    index: SampleIndex, dates: pd.DatetimeIndex, lat: np.ndarray, land: np.ndarray, patch: int
) -> dict[str, dict[str, float]]:
    """Where the samples lie: their share per year and per latitude band (by the patch's
    centre), beside the share of ``land`` (the land the product fills) in each band, which a
    sampling in proportion to land matches. Pure."""
    years = pd.Series(dates[index.day].year).value_counts(normalize=True).sort_index()
    centre_lat = np.asarray(lat)[index.row + patch // 2]
    labels = [f"{a}..{b}" for a, b in zip(LAT_BANDS, LAT_BANDS[1:], strict=False)]
    band_of = np.digitize(centre_lat, LAT_BANDS[1:-1])
    land_rows = np.asarray(land).sum(axis=1)
    land_band = np.bincount(np.digitize(np.asarray(lat), LAT_BANDS[1:-1]), weights=land_rows,
                            minlength=len(labels))  # fmt: skip
    samples_band = np.bincount(band_of, minlength=len(labels))
    return {
        "samples_by_year": {str(y): round(float(v), 4) for y, v in years.items()},
        "samples_by_lat_band": {
            k: round(float(v), 4)
            for k, v in zip(labels, samples_band / max(len(index), 1), strict=True)
        },
        "land_by_lat_band": {
            k: round(float(v), 4)
            for k, v in zip(labels, land_band / max(land_band.sum(), 1), strict=True)
        },
    }


@dataclass(frozen=True)
class DaySplit:
    """Centre days ``[0, train_end)`` train and ``[validation_start, count)`` validate.

    The days between are a buffer of ``half_window`` days: a training window reads the days
    around its centre as input, so without it the days the validation score is taken on would
    be seen in training, and the score that stops training would be optimistic.
    """

    train_end: int
    validation_start: int

    @property
    def held_out(self) -> bool:
        return self.validation_start > self.train_end


def split_days(count: int, validation_fraction: float, buffer: int) -> DaySplit:
    """The last ``validation_fraction`` of the period validates, ``buffer`` days before it idle."""
    held_out = min(int(round(count * validation_fraction)), count - 1)
    if held_out == 0:
        return DaySplit(count, count)
    train_end = count - held_out - buffer
    if train_end < 1:
        raise ConfigError(
            f"a period of {count} days is too short to hold out {held_out} validation day(s) "
            f"behind a buffer of {buffer} days (the half window) and still train; train on a "
            "longer period or set validation_fraction 0"
        )
    return DaySplit(train_end, count - held_out)
