"""One report section per validation programme (each runs its programme and draws its figures)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from sgdsm_cloud import cube
from sgdsm_cloud.errors import StoreContractError
from sgdsm_cloud.product import FLAG_FILLED, FLAG_NOT_FILLED, FLAG_OBSERVED
from sgdsm_cloud.storage import redact
from sgdsm_cloud.validate import figures, methods
from sgdsm_cloud.validate.baselines import anomaly_reach, climatology_unavailable
from sgdsm_cloud.validate.cases import draw_gaps, evenly, simulated_cases, truth_cases
from sgdsm_cloud.validate.context import Context
from sgdsm_cloud.validate.evaluate import evaluate
from sgdsm_cloud.validate.insitu import (
    StationSeries,
    nearest_records,
    overpass_times,
    read_stations,
    station_cell,
    station_table,
)
from sgdsm_cloud.validate.product import StoreProduct
from sgdsm_cloud.validate.report import FigureRef, Section, Table
from sgdsm_cloud.validate.timeseries import pick_points

PAPER_SIMULATED = "R 0.963-0.974, RMSE 0.065-0.073, MAE 0.044-0.052 m3 m-3 (default configuration 0.968 / 0.068 / 0.047)"
PAPER_INSITU = (
    "all days R 0.685, RMSE 0.097, MAE 0.079 m3 m-3; observed days R 0.689, RMSE 0.093, MAE 0.077"
)
SHOWN_PATCHES = 3
MAX_POINT_SAMPLE_DAYS = 32


def overview(ctx: Context) -> Section:
    c, mc = ctx.config, ctx.checkpoint.config
    source = (
        "the seamless store " + redact(c.filled.url)
        if c.filled
        else "the model, run on the cells each programme needs"
    )
    rows = [
        ("raw cube", redact(c.store.url)),
        ("model", f"{redact(c.model.url)} (sha256 {ctx.checkpoint.sha256[:12]}...)"),
        ("model configuration", ", ".join(f"{k}={v}" for k, v in mc.to_dict().items())),
        ("filled product", source),
        (
            "validated period",
            f"{ctx.dates[ctx.period[0]]:%Y-%m-%d} .. {ctx.dates[ctx.period[-1]]:%Y-%m-%d} ({ctx.period.size} days)",
        ),
        (
            "days with simulated gaps",
            ", ".join(f"{ctx.dates[d]:%Y-%m-%d}" for d in ctx.days) or "none",
        ),
        (
            "grid",
            f"{ctx.land.shape[0]} x {ctx.land.shape[1]} cells, {int(ctx.fill_land.sum())} fillable land cells",
        ),
        ("pass", str(ctx.raw.attrs.get("source_pass", "D (assumed)"))),
    ]
    return Section(
        "Run",
        ["All values are volumetric soil moisture on the fraction scale (m3 m-3)."],
        tables=[Table("run", "What was validated", pd.DataFrame(rows, columns=["item", "value"]))],
    )


def product_map(ctx: Context) -> Section:
    section = Section("Filled product")
    day = ctx.days[0] if ctx.days else int(ctx.period[0])
    if not ctx.whole_grid_ok:
        section.paragraphs.append(
            f"Map skipped: the grid has {ctx.grid_cells} cells (limit {ctx.config.max_grid_cells} for a "
            "whole-grid model run here); pass --filled with the product from 'sgdsm fill' to map it."
        )
        return section
    values, flags = ctx.product.day(day)
    original = np.where(ctx.fill_land, ctx.raw[cube.SM].isel(time=day).values, np.nan)
    label = f"{ctx.dates[day]:%Y-%m-%d}"
    path = figures.day_map(
        ctx.figures / f"map_{label}.png",
        ctx.lat,
        ctx.lon,
        original,
        values,
        flags,
        f"{label}: original, filled, flag",
    )
    counts = {
        name: int((flags == v).sum())
        for name, v in (
            ("observed", FLAG_OBSERVED),
            ("filled", FLAG_FILLED),
            ("not filled", FLAG_NOT_FILLED),
        )
    }
    section.paragraphs.append(
        f"{label}: " + ", ".join(f"{n} {k} cells" for k, n in counts.items()) + "."
    )
    section.figures.append(FigureRef(path, f"Original, filled and flag maps on {label}"))
    return section


def simulated(ctx: Context) -> Section:
    """Programme 3: hide observed blocks, fill them with every method, score the hidden cells."""
    c = ctx.config
    section = Section(
        "Simulated missing regions",
        [
            (
                f"Blocks of {c.gaps.size} x {c.gaps.size} cells of observed land ({c.gaps.mode} mode, seed {c.gaps.seed}) are "
                "hidden on each validated day; every method fills the same hidden cells from the same window of "
                f"{2 * ctx.filler.half_window + 1} days and is scored on them only. Paper (C1 band): {PAPER_SIMULATED}."
            )
        ],
    )
    sm = ctx.raw[cube.SM]
    gaps = draw_gaps(sm, ctx.fill_land, ctx.days, c.gaps, ctx.period)
    halo = max(c.context, ctx.filler.receptive_radius, anomaly_reach())
    cases = simulated_cases(
        sm, ctx.land, ctx.dates, gaps, halo, ctx.filler.half_window, ctx.periodic
    )
    if not cases:
        section.paragraphs.append(
            f"No block of {c.gaps.size} x {c.gaps.size} observed land cells exists on the validated days: "
            "choose other --days or a smaller --gap-size."
        )
        return section
    fillers, unavailable = _gap_methods(ctx)
    result = evaluate(cases, fillers, unavailable, keep_fills=SHOWN_PATCHES, desc="simulated gaps")
    section.tables.append(
        Table(
            "simulated_gaps",
            "Scores on the hidden cells (continuity: border jump relative to the original field, 1 = seamless)",
            result.table,
        )
    )
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
    section.tables.append(
        Table(
            "simulated_blocks",
            "The hidden blocks",
            pd.DataFrame(
                blocks,
                columns=[
                    "day",
                    "row",
                    "col",
                    "centre lat",
                    "centre lon",
                    "hidden cells",
                    "pattern from",
                ],
            ),
        )
    )
    patches = [
        figures.Patch(
            case.label,
            case.reference,
            case.values[case.centre],
            case.removed,
            {name: np.where(case.land, fill, np.nan) for name, fill in fills.items()},
        )
        for case, fills in zip(cases, result.fills, strict=False)
    ]
    section.figures.append(
        FigureRef(
            figures.patches(ctx.figures / "simulated_patches.png", patches),
            "Enlarged simulated gaps: original, masked input and each method's fill (gap outlined)",
        )
    )
    section.figures.append(
        FigureRef(
            figures.scatter_density(
                ctx.figures / "simulated_scatter.png",
                result.pairs,
                "Simulated gaps",
                "original (m3 m-3)",
                "filled (m3 m-3)",
            ),
            "Filled against original values on the hidden cells",
        )
    )
    return section


def _gap_methods(ctx: Context) -> tuple[dict, dict[str, str]]:
    fillers = {methods.SGDSM: methods.model_method(ctx.filler), **methods.baseline_methods()}
    unavailable = {}
    reason = climatology_unavailable(ctx.dates)
    if reason:
        unavailable[methods.CLIMATOLOGY] = reason
    else:
        fillers[methods.CLIMATOLOGY] = methods.climatology_method(ctx.raw[cube.SM], ctx.dates)
    if ctx.config.crosscheck:
        cross = methods.pytesmo_method()
        if isinstance(cross, str):
            unavailable[methods.DCT_PLS_PYTESMO] = cross
        else:
            fillers[methods.DCT_PLS_PYTESMO] = cross
    return fillers, unavailable


def insitu(ctx: Context) -> Section:
    """Programme 1: the product at ISMN stations, observed and filled days apart."""
    c = ctx.config
    opts = c.insitu_options
    pass_ = str(ctx.raw.attrs.get("source_pass", "D"))
    section = Section(
        "In situ (ISMN)",
        [
            (
                f"Sensors at {opts.depth_from:.2f}-{opts.depth_to:.2f} m, ISMN flags {', '.join(opts.flags)}; each day is "
                f"matched to the record nearest the {pass_} overpass (local solar time "
                f"{'01:30' if pass_ == 'D' else '13:30'}, within {opts.tolerance_hours:g} h). Paper: {PAPER_INSITU}."
            )
        ],
    )
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
    if series:
        section.tables.append(
            Table("insitu", "Product against in-situ soil moisture", station_table(series))
        )
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
        section.tables.append(
            Table(
                "insitu_stations",
                "Stations used",
                pd.DataFrame(
                    rows,
                    columns=[
                        "station",
                        "lat",
                        "lon",
                        "depth (m)",
                        "sensor",
                        "cell lat",
                        "cell lon",
                        "matched days",
                    ],
                ),
            )
        )
        pairs = {}
        for subset, flag in (("observed days", FLAG_OBSERVED), ("filled days", FLAG_FILLED)):
            pred = np.concatenate([np.where(s.flags == flag, s.product, np.nan) for s in series])
            pairs[subset] = (pred, np.concatenate([s.insitu for s in series]))
        section.figures.append(
            FigureRef(
                figures.scatter_density(
                    ctx.figures / "insitu_scatter.png",
                    pairs,
                    "In situ",
                    "in situ (m3 m-3)",
                    "product (m3 m-3)",
                ),
                "Product against in-situ values",
            )
        )
        for s in series:
            name = "".join(ch if ch.isalnum() else "_" for ch in s.station.label)
            path = figures.time_series(
                ctx.figures / f"insitu_{name}.png",
                np.asarray(times),
                s.product,
                s.flags,
                f"{s.station.label}",
                insitu=s.insitu,
            )
            section.figures.append(
                FigureRef(path, f"{s.station.label}: product and in-situ series")
            )
    else:
        section.paragraphs.append("No station could be scored (see the table of skipped files).")
    if skipped:
        section.tables.append(
            Table(
                "insitu_skipped",
                "Files or stations left out",
                pd.DataFrame(skipped, columns=["file", "reason"]),
            )
        )
    return section


def timeseries(ctx: Context) -> Section:
    """Programme 2: original and filled series at points; filled days should look like observed ones."""
    c = ctx.config
    section = Section(
        "Time series",
        [
            "Observed days (filled dots) and filled days (open circles) of the seamless series at each point."
        ],
    )
    sm = ctx.raw[cube.SM]
    if c.points:
        cells = []
        for lat, lon in c.points:
            cell = station_cell(lat, lon, ctx.lat, ctx.lon)
            if cell is None or not ctx.fill_land[cell]:
                section.paragraphs.append(
                    f"Point {lat}, {lon} skipped: outside the cube or not fillable land."
                )
            else:
                cells.append(cell)
    else:
        sample = evenly(ctx.period, MAX_POINT_SAMPLE_DAYS)
        fraction = np.isfinite(sm.isel(time=sample).values).mean(axis=0)
        separation = max(3, min(ctx.land.shape) // (2 * c.n_points))
        cells = pick_points(fraction, ctx.fill_land, c.n_points, separation, seed=c.gaps.seed)
    if not cells:
        section.paragraphs.append("No point to show.")
        return section
    values, flags = ctx.product.at_cells(cells, ctx.period)
    times = np.asarray(ctx.dates[ctx.period])
    rows = []
    for k, (row, col) in enumerate(cells):
        lat, lon = float(ctx.lat[row]), float(ctx.lon[col])
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
        path = figures.time_series(
            ctx.figures / f"timeseries_{row}_{col}.png",
            times,
            values[:, k],
            flags[:, k],
            f"{lat:.3f} N, {lon:.3f} E",
        )
        section.figures.append(FigureRef(path, f"Series at {lat:.3f}, {lon:.3f}"))
    columns = [
        "point",
        "observed days",
        "filled days",
        "not filled days",
        "observed mean",
        "filled mean",
        "observed std",
        "filled std",
    ]
    section.tables.insert(
        0,
        Table(
            "timeseries",
            "Observed and filled days at each point",
            pd.DataFrame(rows, columns=columns),
        ),
    )
    return section


def _stat(values: np.ndarray, fn) -> float:
    values = values[np.isfinite(values)]
    return float(fn(values)) if values.size else float("nan")


def truth(ctx: Context) -> Section:
    """Synthetic archives: every method against the complete field inside the real gaps."""
    c = ctx.config
    section = Section(
        "Synthetic truth",
        [
            "Scores inside the real gaps of fillable land against the complete field the archive was drawn from."
        ],
    )
    ds = xr.open_zarr(c.truth.url, storage_options=c.truth.storage_options or None)
    # truth.zarr from 'sgdsm synth' holds the field as 'sm'; an in-memory synthesis calls it 'truth'.
    name = "truth" if "truth" in ds.variables else "sm"
    if name not in ds.variables or ds[name].dims != ("time", "lat", "lon"):
        raise StoreContractError(
            f"{redact(c.truth.url)}: expected a 'sm(time, lat, lon)' truth variable (truth.zarr from 'sgdsm synth')"
        )
    # The truth may cover a region of the raw cube's grid (or the reverse): align on cell centres.
    half_cell = abs(float(ctx.lat[1] - ctx.lat[0])) / 2 if ctx.lat.size > 1 else 1e-6
    field = ds[name].reindex(lat=ctx.lat, lon=ctx.lon, method="nearest", tolerance=half_cell)
    days = [d for d in ctx.days if ctx.dates[d] in pd.DatetimeIndex(ds["time"].values)]
    if not days:
        section.paragraphs.append("The truth store covers none of the validated days.")
        return section
    # Every method runs on whole days here; beyond the size limit only a stored product is read.
    small = ctx.grid_cells <= c.max_grid_cells
    too_large = f"whole-day runs on {ctx.grid_cells} cells exceed the limit of {c.max_grid_cells}"
    fillers, unavailable = {}, {}
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
        section.paragraphs.append(f"Skipped: {too_large}; pass --filled.")
        return section
    halo = max(ctx.filler.receptive_radius, anomaly_reach())
    cases = truth_cases(
        ctx.raw[cube.SM], field, ctx.land, ctx.fill_land, ctx.dates, days,
        ctx.filler.half_window, halo, ctx.periodic,
    )  # fmt: skip
    result = evaluate(cases, fillers, unavailable, desc="truth")
    section.tables.append(
        Table("truth", "Scores against the synthetic truth in real gaps", result.table)
    )
    section.figures.append(
        FigureRef(
            figures.scatter_density(
                ctx.figures / "truth_scatter.png",
                result.pairs,
                "Synthetic truth",
                "truth (m3 m-3)",
                "filled (m3 m-3)",
            ),
            "Filled against true values in the real gaps",
        )
    )
    return section


def sweep(ctx: Context) -> Section:
    from sgdsm_cloud.validate.sweep import run_sweep

    return run_sweep(ctx)
