"""The validation programmes as computations: each returns its numbers, none draws or writes.

Every check takes the run's :class:`~.context.Context` and returns a small result (pandas tables,
xarray fields, the value pairs behind the scatter plots). :mod:`sgdsm_cloud.validate.render`
turns the results into the report's prose, tables and figures; nothing here imports matplotlib.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from sgdsm_cloud import cube
from sgdsm_cloud.product import FLAG_FILLED, FLAG_NOT_FILLED, FLAG_OBSERVED
from sgdsm_cloud.storage import redact
from sgdsm_cloud.validate import gapfilled, methods
from sgdsm_cloud.validate.baselines import anomaly_reach, climatology_unavailable
from sgdsm_cloud.validate.breakdown import distance_table
from sgdsm_cloud.validate.calibration import collect, score_sigma
from sgdsm_cloud.validate.cases import (
    draw_gaps,
    simulated_cases,
    truth_cases,
    truth_field,
)
from sgdsm_cloud.validate.context import Context
from sgdsm_cloud.validate.evaluate import Case, Filler, Pairs, evaluate
from sgdsm_cloud.validate.masks import DayGaps, GapConfig
from sgdsm_cloud.validate.product import StoreProduct
from sgdsm_cloud.validate.stations import InSitu, TimeSeries
from sgdsm_cloud.validate.sweep import SweepResult

SHOWN_PATCHES = 3


@dataclass(frozen=True)
class Overview:
    """What was validated: one ``item``/``value`` row per input and setting."""

    table: pd.DataFrame


def overview(ctx: Context) -> Overview:
    c, mc = ctx.config, ctx.checkpoint.config
    source = (
        "the seamless store " + redact(c.filled.url)
        if c.filled
        else "the model, run on the cells each programme needs"
    )
    first, last = ctx.dates[ctx.period[0]], ctx.dates[ctx.period[-1]]
    rows = [
        ("raw cube", redact(c.store.url)),
        ("model", f"{redact(c.model.url)} (sha256 {ctx.checkpoint.sha256[:12]}...)"),
        ("model configuration", ", ".join(f"{k}={v}" for k, v in mc.to_dict().items())),
        ("filled product", source),
        ("validated period", f"{first:%Y-%m-%d} .. {last:%Y-%m-%d} ({ctx.period.size} days)"),
        (
            "days with simulated gaps",
            ", ".join(f"{ctx.dates[d]:%Y-%m-%d}" for d in ctx.days) or "none",
        ),
        (
            "grid",
            f"{ctx.land.shape[0]} x {ctx.land.shape[1]} cells, "
            f"{int(ctx.fill_land.sum())} fillable land cells",
        ),
        ("pass", str(ctx.raw.attrs.get("source_pass", "D (assumed)"))),
    ]
    return Overview(pd.DataFrame(rows, columns=["item", "value"]))


@dataclass(frozen=True)
class DayMap:
    """The product of one day on the whole grid.

    Attributes:
        date: the day.
        fields: ``original`` (the raw cube on fillable land), ``sm`` and ``flag`` on (lat, lon);
            None when the map was skipped.
        counts: cells per flag (observed, filled, not filled).
        grid_cells, max_grid_cells: the grid's size and the limit of a whole-grid model run.
    """

    date: pd.Timestamp
    fields: xr.Dataset | None
    counts: pd.Series
    grid_cells: int
    max_grid_cells: int


def product_map(ctx: Context) -> DayMap:
    """The first validated day's original, filled and flag maps (the product's own rule)."""
    day = ctx.days[0] if ctx.days else int(ctx.period[0])
    date = ctx.dates[day]
    limits = (ctx.grid_cells, ctx.config.max_grid_cells)
    if not ctx.whole_grid_ok:
        return DayMap(date, None, pd.Series(dtype="int64"), *limits)
    values, flags = ctx.product.day(day)
    original = np.where(ctx.fill_land, ctx.raw[cube.SM].isel(time=day).values, np.nan)
    dims = ("lat", "lon")
    fields = xr.Dataset(
        {"original": (dims, original), "sm": (dims, values), "flag": (dims, flags)},
        coords={"lat": ctx.lat, "lon": ctx.lon},
    )
    named = (("observed", FLAG_OBSERVED), ("filled", FLAG_FILLED), ("not filled", FLAG_NOT_FILLED))
    counts = pd.Series({name: int((flags == v).sum()) for name, v in named})
    return DayMap(date, fields, counts, *limits)


@dataclass(frozen=True)
class SimulatedGaps:
    """Programme 1's scores on hidden blocks.

    Attributes:
        gaps: how the blocks were drawn.
        window_days: days of the window every method sees.
        table: one row per method (``evaluate.COLUMNS``); None when no block could be placed.
        blocks: the hidden blocks (day, position, centre, hidden cells, pattern source).
        pairs: method -> (filled, original) values on the hidden cells.
        shown: the first cases and each method's fill of them (for the enlarged views).
        by_distance: RMSE of each method by cells from the day's nearest observation.
    """

    gaps: GapConfig
    window_days: int
    table: pd.DataFrame | None
    blocks: pd.DataFrame
    pairs: Pairs = field(default_factory=dict)
    shown: list[tuple[Case, dict[str, np.ndarray]]] = field(default_factory=list)
    by_distance: pd.DataFrame | None = None


BLOCK_COLUMNS = ["day", "row", "col", "centre lat", "centre lon", "hidden cells", "pattern from"]


def simulated(ctx: Context) -> SimulatedGaps:
    """Hide observed blocks, fill them with every method, score the hidden cells."""
    c = ctx.config
    window = 2 * ctx.filler.half_window + 1
    gaps, cases = _simulated_cases(ctx)
    if not cases:
        return SimulatedGaps(c.gaps, window, None, pd.DataFrame(columns=BLOCK_COLUMNS))
    fillers, unavailable = _gap_methods(ctx)
    result = evaluate(cases, fillers, unavailable, keep_fills=SHOWN_PATCHES, desc="simulated gaps")
    blocks = [
        (
            f"{ctx.dates[g.day]:%Y-%m-%d}",
            s.row,
            s.col,
            float(ctx.lat[s.row + s.size // 2]),
            float(ctx.lon[s.col + s.size // 2]),
            int(g.removed[s.slices].sum()),
            "" if s.source_day is None else f"{ctx.dates[s.source_day]:%Y-%m-%d}",
        )
        for g in gaps
        for s in g.squares
    ]
    shown = list(zip(cases, result.fills, strict=False))
    return SimulatedGaps(
        c.gaps,
        window,
        result.table,
        pd.DataFrame(blocks, columns=BLOCK_COLUMNS),
        result.pairs,
        shown,
        distance_table(cases, ctx.lat, result.pairs, methods.SGDSM, methods.LINEAR),
    )


def _simulated_cases(ctx: Context) -> tuple[list[DayGaps], list[Case]]:
    """The simulated gaps of the validated days and their cases (deterministic: every check
    that asks gets the same)."""
    sm = ctx.raw[cube.SM]
    gaps = draw_gaps(sm, ctx.fill_land, ctx.days, ctx.config.gaps, ctx.period)
    halo = max(ctx.config.context, ctx.filler.receptive_radius, anomaly_reach())
    cases = simulated_cases(
        sm, ctx.land, ctx.dates, gaps, halo, ctx.filler.half_window, ctx.periodic, ctx.fill_land,
        ctx.other,
    )  # fmt: skip
    return gaps, cases


@dataclass(frozen=True)
class Calibration:
    """The standard errors of filled values against their errors on the simulated gaps.

    Attributes:
        summary: one ``item``/``value`` row per score (cells, RMSE, RMS sigma, coverage of
            +-1 and +-2 sigma with their nominal values, spread-skill correlation, NLL).
        deciles: per decile of sigma: its RMS, the RMSE, the cells and both coverages.
        reliability: nominal central interval probability against the observed coverage.
        errors, sigma: the values behind them (for figures).
        skipped: why nothing was scored (None when something was).
    """

    summary: pd.DataFrame | None
    deciles: pd.DataFrame | None
    reliability: pd.DataFrame | None
    errors: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sigma: np.ndarray = field(default_factory=lambda: np.zeros(0))
    skipped: str | None = None


def calibration(ctx: Context) -> Calibration:
    """Coverage, reliability and spread-skill of the model's sigma on the simulated gaps.

    The model runs on the same cases as the simulated-gap programme (the product's rule:
    values clamped to the source's range); a checkpoint without an error model gives no sigma,
    and the result says so.
    """
    if not ctx.filler.predict.has_uncertainty:
        return Calibration(
            None,
            None,
            None,
            skipped=(
                f"The model ({ctx.checkpoint.config.variant} variant) has no error model, so "
                "filled values have no standard error; only the 'anomaly' variant, calibrated "
                "on held-back simulated gaps, has one (docs/model.md)."
            ),
        )
    _, cases = _simulated_cases(ctx)
    samples = collect(cases, ctx.filler, desc="calibration")
    if len(samples) == 0:
        return Calibration(None, None, None, skipped="No simulated gap to score.")
    scores = score_sigma(samples)
    summary = pd.DataFrame(
        [
            ("filled cells scored", scores.n),
            ("RMSE (m3 m-3)", round(scores.rmse, 4)),
            ("RMS of sigma (m3 m-3)", round(scores.mean_sigma, 4)),
            ("coverage of +-1 sigma (nominal 0.683)", round(scores.coverage[0], 3)),
            ("coverage of +-2 sigma (nominal 0.954)", round(scores.coverage[1], 3)),
            ("r(decile sigma, decile RMSE)", round(scores.spread_skill_r, 3)),
            ("Gaussian NLL (nats)", round(scores.nll, 3)),
        ],
        columns=["item", "value"],
    )
    deciles = pd.DataFrame(scores.deciles)
    deciles.insert(0, "decile", np.arange(1, len(deciles) + 1))
    reliability = pd.DataFrame(scores.reliability, columns=["nominal", "observed"])
    return Calibration(summary, deciles, reliability, samples.errors, samples.sigma)


def _gap_methods(ctx: Context) -> tuple[dict[str, Filler], dict[str, str]]:
    fillers = {methods.SGDSM: methods.model_method(ctx.filler), **methods.baseline_methods()}
    unavailable = {}
    reason = climatology_unavailable(ctx.dates)
    if reason:
        unavailable[methods.CLIMATOLOGY] = reason
    else:
        fillers[methods.CLIMATOLOGY] = methods.climatology_method(ctx.raw[cube.SM], ctx.dates)
    if ctx.config.crosscheck:
        _offer(fillers, unavailable, methods.DCT_PLS_PYTESMO, methods.pytesmo_method())
    if ctx.config.peer:
        peer = gapfilled.gapfilled_method(ctx.raw[cube.SM])
        _offer(fillers, unavailable, gapfilled.NAME, peer)
    return fillers, unavailable


def _offer(
    fillers: dict[str, Filler], unavailable: dict[str, str], name: str, filler: Filler | str
) -> None:
    """Add an optional method, or the reason it cannot run (a string) to ``unavailable``."""
    if isinstance(filler, str):
        unavailable[name] = filler
    else:
        fillers[name] = filler


@dataclass(frozen=True)
class Truth:
    """Every method against a synthetic archive's complete field inside the real gaps.

    Attributes:
        table: one row per method (None when skipped); pairs: method -> (filled, true).
        skipped: why nothing was scored (None when something was).
        by_distance: RMSE of each method by cells from the day's nearest observation.
    """

    table: pd.DataFrame | None
    pairs: Pairs
    skipped: str | None = None
    by_distance: pd.DataFrame | None = None


def truth(ctx: Context) -> Truth:
    """Synthetic archives: every method against the complete field inside the real gaps."""
    c = ctx.config
    if c.truth is None:
        raise ValueError("the truth comparison needs a truth store (ValidateConfig.truth)")
    field = truth_field(c.truth, ctx.lat, ctx.lon)
    truth_days = pd.DatetimeIndex(field["time"].values)
    days = [d for d in ctx.days if ctx.dates[d] in truth_days]
    if not days:
        return Truth(None, {}, "The truth store covers none of the validated days.")
    # Every method runs on whole days here; beyond the size limit only a stored product is read.
    small = ctx.grid_cells <= c.max_grid_cells
    too_large = f"whole-day runs on {ctx.grid_cells} cells exceed the limit of {c.max_grid_cells}"
    fillers: dict[str, Filler] = {}
    unavailable: dict[str, str] = {}
    if isinstance(ctx.product, StoreProduct):
        fillers[methods.SGDSM] = methods.store_method(ctx.product)
    elif small:
        fillers[methods.SGDSM] = methods.model_method(ctx.filler)
    else:
        unavailable[methods.SGDSM] = f"{too_large}; pass --filled"
    for name, method in methods.baseline_methods().items():
        if small:
            fillers[name] = method
        else:
            unavailable[name] = too_large
    if not fillers:
        return Truth(None, {}, f"Skipped: {too_large}; pass --filled.")
    halo = max(ctx.filler.receptive_radius, anomaly_reach())
    cases = truth_cases(
        ctx.raw[cube.SM], field, ctx.land, ctx.fill_land, ctx.dates, days,
        ctx.filler.half_window, halo, ctx.periodic, ctx.other,
    )  # fmt: skip
    result = evaluate(cases, fillers, unavailable, desc="truth")
    by_distance = distance_table(cases, ctx.lat, result.pairs, methods.SGDSM, methods.LINEAR)
    return Truth(result.table, result.pairs, by_distance=by_distance)


@dataclass(frozen=True)
class Validation:
    """Every result of one run, what the report is rendered from.

    Attributes:
        run: the run's settings and provenance (``run.json``).
        insitu, truth, sweep: None when not asked for.
        calibration: the standard errors on the simulated gaps (None: not computed).
        sweep_same_gaps: the sweep was scored on the main table's days and gaps.
    """

    run: dict[str, Any]
    overview: Overview
    product_map: DayMap
    simulated: SimulatedGaps
    insitu: InSitu | None
    timeseries: TimeSeries
    truth: Truth | None
    sweep: SweepResult | None = None
    sweep_same_gaps: bool = True
    calibration: Calibration | None = None
