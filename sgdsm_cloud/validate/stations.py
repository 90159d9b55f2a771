"""Programmes 2 and 3 as computations: the product at ISMN stations and as time series at points.

Like :mod:`sgdsm_cloud.validate.checks`, each takes the run's :class:`~.context.Context` and
returns numbers only; :mod:`sgdsm_cloud.validate.render` draws them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from sgdsm_cloud import cube
from sgdsm_cloud.product import FLAG_FILLED, FLAG_NOT_FILLED, FLAG_OBSERVED
from sgdsm_cloud.validate.cases import evenly
from sgdsm_cloud.validate.context import Context
from sgdsm_cloud.validate.evaluate import Pairs
from sgdsm_cloud.validate.insitu import (
    InsituConfig,
    StationSeries,
    nearest_records,
    overpass_times,
    read_stations,
    station_cell,
    station_table,
)
from sgdsm_cloud.validate.timeseries import pick_points

MAX_POINT_SAMPLE_DAYS = 32


@dataclass(frozen=True)
class InSitu:
    """Programme 2: the product against ISMN stations.

    Attributes:
        options: which in-situ records counted; pass_: the overpass (``D`` or ``A``).
        scores: per station and pooled, observed/filled/all days (None: no station scored).
        stations: the stations used and their cells.
        skipped: files or stations left out, with the reason.
        series: each scored station's reference and product series.
        pairs: ``observed days``/``filled days`` -> (product, in situ) over all stations.
    """

    options: InsituConfig
    pass_: str
    scores: pd.DataFrame | None
    stations: pd.DataFrame
    skipped: pd.DataFrame
    series: list[StationSeries]
    pairs: Pairs


STATION_COLUMNS = ["station", "lat", "lon", "depth (m)", "sensor", "cell lat", "cell lon",
                   "matched days"]  # fmt: skip


def insitu(ctx: Context) -> InSitu:
    """The product at ISMN stations, observed and filled days apart."""
    c = ctx.config
    if c.insitu is None:
        raise ValueError("the in-situ programme needs an ISMN download (ValidateConfig.insitu)")
    opts = c.insitu_options
    pass_ = str(ctx.raw.attrs.get("source_pass", "D"))
    archive = read_stations(c.insitu, opts)
    skipped = list(archive.skipped)
    matched = []
    for station in archive.stations:
        cell = station_cell(station.lat, station.lon, ctx.lat, ctx.lon)
        if cell is None:
            skipped.append((station.file, "outside the cube's grid"))
        elif not ctx.fill_land[cell]:
            skipped.append((station.file, "its grid cell is not fillable land"))
        else:
            matched.append((station, cell))
    times = ctx.dates[ctx.period]
    series = []
    if matched:
        values, flags = ctx.product.at_cells([cell for _, cell in matched], ctx.period)
        for k, (station, cell) in enumerate(matched):
            ref = nearest_records(
                station.values, overpass_times(times, station.lon, pass_), opts.tolerance_hours
            )
            if not np.isfinite(ref).any():
                skipped.append(
                    (station.file, "no accepted record near an overpass in the validated period")
                )
                continue
            series.append(StationSeries(station, cell, times, ref, values[:, k], flags[:, k]))
    rows = [
        (
            s.station.label,
            s.station.lat,
            s.station.lon,
            f"{s.station.depth_from:.2f}-{s.station.depth_to:.2f}",
            s.station.sensor,
            float(ctx.lat[s.cell[0]]),
            float(ctx.lon[s.cell[1]]),
            int(np.isfinite(s.insitu).sum()),
        )
        for s in series
    ]
    pairs = {}
    if series:
        for subset, flag in (("observed days", FLAG_OBSERVED), ("filled days", FLAG_FILLED)):
            pred = np.concatenate([np.where(s.flags == flag, s.product, np.nan) for s in series])
            pairs[subset] = (pred, np.concatenate([s.insitu for s in series]))
    return InSitu(
        opts,
        pass_,
        station_table(series) if series else None,
        pd.DataFrame(rows, columns=STATION_COLUMNS),
        pd.DataFrame(skipped, columns=["file", "reason"]),
        series,
        pairs,
    )


@dataclass(frozen=True)
class TimeSeries:
    """Programme 3: the seamless series at points.

    Attributes:
        table: per point, observed/filled/not filled days and the mean and spread of observed
            and filled values (empty when there is no point).
        series: ``sm`` and ``flag`` on (time, point), with the points' ``lat``, ``lon``,
            ``row`` and ``col``; None when there is no point.
        skipped: the requested points left out, as (lat, lon).
    """

    table: pd.DataFrame
    series: xr.Dataset | None
    skipped: list[tuple[float, float]]


SERIES_COLUMNS = ["point", "observed days", "filled days", "not filled days", "observed mean",
                  "filled mean", "observed std", "filled std"]  # fmt: skip


def timeseries(ctx: Context) -> TimeSeries:
    """Observed and filled days at points; filled days should look like observed ones."""
    c = ctx.config
    skipped: list[tuple[float, float]] = []
    requested = c.coordinates
    if requested:
        cells = []
        for lat, lon in requested:
            cell = station_cell(lat, lon, ctx.lat, ctx.lon)
            if cell is None or not ctx.fill_land[cell]:
                skipped.append((lat, lon))
            else:
                cells.append(cell)
    else:
        sample = evenly(ctx.period, MAX_POINT_SAMPLE_DAYS)
        fraction = np.isfinite(ctx.raw[cube.SM].isel(time=sample).values).mean(axis=0)
        separation = max(3, min(ctx.land.shape) // (2 * c.n_points))
        cells = pick_points(fraction, ctx.fill_land, c.n_points, separation, seed=c.seed)
    if not cells:
        return TimeSeries(pd.DataFrame(columns=SERIES_COLUMNS), None, skipped)
    values, flags = ctx.product.at_cells(cells, ctx.period)
    rows_, cols_ = np.array([r for r, _ in cells]), np.array([k for _, k in cells])
    series = xr.Dataset(
        {"sm": (("time", "point"), values), "flag": (("time", "point"), flags)},
        coords={
            "time": np.asarray(ctx.dates[ctx.period]),
            "lat": ("point", ctx.lat[rows_].astype(float)),
            "lon": ("point", ctx.lon[cols_].astype(float)),
            "row": ("point", rows_),
            "col": ("point", cols_),
        },
    )
    rows = []
    for k in range(len(cells)):
        lat, lon = float(series["lat"][k]), float(series["lon"][k])
        obs, fil = values[flags[:, k] == FLAG_OBSERVED, k], values[flags[:, k] == FLAG_FILLED, k]
        rows.append(
            (
                f"{lat:.3f}, {lon:.3f}",
                obs.size,
                fil.size,
                int((flags[:, k] == FLAG_NOT_FILLED).sum()),
                _stat(obs, np.mean),
                _stat(fil, np.mean),
                _stat(obs, np.std),
                _stat(fil, np.std),
            )
        )
    return TimeSeries(pd.DataFrame(rows, columns=SERIES_COLUMNS), series, skipped)


def _stat(values: np.ndarray, fn: Callable[[np.ndarray], Any]) -> float:
    values = values[np.isfinite(values)]
    return float(fn(values)) if values.size else float("nan")
