"""The report from the checks' results: prose, tables (``report``) and figures (``figures``).

Each ``*_section`` function turns one result of :mod:`sgdsm_cloud.validate.checks` (or of the
sweep) into a :class:`~.report.Section`, drawing its figures under ``<folder>/figures``;
:func:`render_report` writes them all as ``report.md``, ``report.html`` and ``tables/``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sgdsm_cloud.validate import figures
from sgdsm_cloud.validate.checks import (
    Calibration,
    DayMap,
    Overview,
    SimulatedGaps,
    Truth,
    Validation,
)
from sgdsm_cloud.validate.report import FIGURES, FigureRef, Section, Table, write_report
from sgdsm_cloud.validate.stations import InSitu, TimeSeries
from sgdsm_cloud.validate.sweep import SweepResult

TITLE = "SGD-SM validation report"
PAPER_SIMULATED = "R 0.963-0.974, RMSE 0.065-0.073, MAE 0.044-0.052 m3 m-3 (default configuration 0.968 / 0.068 / 0.047)"
PAPER_INSITU = (
    "all days R 0.685, RMSE 0.097, MAE 0.079 m3 m-3; observed days R 0.689, RMSE 0.093, MAE 0.077"
)
UNITS = "All values are volumetric soil moisture on the fraction scale (m3 m-3)."
SERIES_INTRO = (
    "Observed days (filled dots) and filled days (open circles) of the seamless series at each "
    "point."
)
TRUTH_INTRO = (
    "Scores inside the real gaps of fillable land against the complete field the archive was "
    "drawn from."
)


def render_report(folder: Path, validation: Validation) -> Path:
    """Draw the figures and write the report folder; returns the Markdown file's path."""
    folder = Path(folder)
    figs = folder / FIGURES
    figs.mkdir(parents=True, exist_ok=True)
    v = validation
    sections = [
        overview_section(v.overview),
        map_section(v.product_map, figs),
        simulated_section(v.simulated, figs),
    ]
    if v.calibration is not None:
        sections.append(calibration_section(v.calibration, figs))
    if v.insitu is not None:
        sections.append(insitu_section(v.insitu, figs))
    sections.append(timeseries_section(v.timeseries, figs))
    if v.truth is not None:
        sections.append(truth_section(v.truth, figs))
    if v.sweep is not None:
        sections.append(sweep_section(v.sweep, v.sweep_same_gaps))
    return write_report(folder, TITLE, sections)


def overview_section(result: Overview) -> Section:
    section = Section("Run", [UNITS])
    section.tables.append(Table("run", "What was validated", result.table))
    return section


def map_section(result: DayMap, figs: Path) -> Section:
    section = Section("Filled product")
    if result.fields is None:
        section.paragraphs.append(
            f"Map skipped: the grid has {result.grid_cells} cells (limit {result.max_grid_cells} "
            "for a whole-grid model run here); pass --filled with the product from 'sgdsm fill' "
            "to map it."
        )
        return section
    label = f"{result.date:%Y-%m-%d}"
    f = result.fields
    path = figures.day_map(
        figs / f"map_{label}.png",
        f["lat"].values,
        f["lon"].values,
        f["original"].values,
        f["sm"].values,
        f["flag"].values,
        f"{label}: original, filled, flag",
    )
    counts = ", ".join(f"{n} {name} cells" for name, n in result.counts.items())
    section.paragraphs.append(f"{label}: {counts}.")
    section.figures.append(FigureRef(path, f"Original, filled and flag maps on {label}"))
    return section


DISTANCE_CAPTION = (
    "RMSE (m3 m-3) on the same cells by distance to the day's nearest observation: deep inside "
    "a gap the day itself says least, and the neighbouring days and the model must carry the fill"
)


def distance_tables(name: str, table: pd.DataFrame | None) -> list[Table]:
    """The by-distance table of a programme, when it has one."""
    return [] if table is None else [Table(name, DISTANCE_CAPTION, table)]


def simulated_section(result: SimulatedGaps, figs: Path) -> Section:
    g = result.gaps
    section = Section(
        "Simulated missing regions",
        [
            f"Blocks of {g.size} x {g.size} cells of observed land ({g.mode} mode, seed {g.seed}) "
            "are hidden on each validated day; every method fills the same hidden cells from the "
            f"same window of {result.window_days} days and is scored on them only. "
            f"Paper (C1 band): {PAPER_SIMULATED}."
        ],
    )
    if result.table is None:
        section.paragraphs.append(
            f"No block of {g.size} x {g.size} observed land cells exists on the validated days: "
            "choose other --days or a smaller --gap-size."
        )
        return section
    section.tables += [
        Table(
            "simulated_gaps",
            "Scores on the hidden cells (continuity: border jump relative to the original "
            "field, 1 = seamless)",
            result.table,
        ),
        Table("simulated_blocks", "The hidden blocks", result.blocks),
    ]
    section.tables += distance_tables("simulated_by_distance", result.by_distance)
    patches = [
        figures.Patch(
            case.label,
            case.reference,
            case.values[case.centre],
            case.removed,
            {name: np.where(case.land, fill, np.nan) for name, fill in fills.items()},
        )
        for case, fills in result.shown
    ]
    section.figures += [
        FigureRef(
            figures.patches(figs / "simulated_patches.png", patches),
            "Enlarged simulated gaps: original, masked input and each method's fill (gap outlined)",
        ),
        FigureRef(
            figures.scatter_density(
                figs / "simulated_scatter.png",
                result.pairs,
                "Simulated gaps",
                "original (m3 m-3)",
                "filled (m3 m-3)",
            ),
            "Filled against original values on the hidden cells",
        ),
    ]
    return section


CALIBRATION_INTRO = (
    "The standard error (sigma, the product's sm_uncertainty) the model gives each filled value, "
    "against the value's error on the hidden cells of the simulated missing regions (the same "
    "blocks as above). Calibrated, +-1 sigma covers 68.3 % and +-2 sigma 95.4 % of the errors, "
    "the reliability curve follows the diagonal, and the RMSE grows with sigma across its deciles."
)


def calibration_section(result: Calibration, figs: Path) -> Section:
    section = Section("Uncertainty calibration", [CALIBRATION_INTRO])
    if result.summary is None or result.deciles is None or result.reliability is None:
        section.paragraphs.append(result.skipped or "Nothing to score.")
        return section
    section.tables += [
        Table("calibration", "Coverage and spread-skill of sigma on the hidden cells", result.summary),
        Table("calibration_deciles", "RMSE per decile of sigma (spread-skill)", result.deciles),
        Table("calibration_reliability", "Reliability: coverage of central intervals", result.reliability),
    ]  # fmt: skip
    path = figures.calibration(
        figs / "calibration.png",
        list(result.reliability.itertuples(index=False, name=None)),
        list(zip(result.deciles["sigma"], result.deciles["rmse"], strict=True)),
        "Standard error of filled values, simulated gaps",
    )
    section.figures.append(
        FigureRef(path, "Reliability diagram and RMSE per decile of sigma (1:1 dashed)")
    )
    return section


def insitu_section(result: InSitu, figs: Path) -> Section:
    opts, pass_ = result.options, result.pass_
    section = Section(
        "In situ (ISMN)",
        [
            f"Sensors at {opts.depth_from:.2f}-{opts.depth_to:.2f} m, ISMN flags "
            f"{', '.join(opts.flags)}; each day is matched to the record nearest the {pass_} "
            f"overpass (local solar time {'01:30' if pass_ == 'D' else '13:30'}, within "
            f"{opts.tolerance_hours:g} h). Paper: {PAPER_INSITU}."
        ],
    )
    if result.scores is not None:
        section.tables += [
            Table("insitu", "Product against in-situ soil moisture", result.scores),
            Table("insitu_stations", "Stations used", result.stations),
        ]
        section.figures.append(
            FigureRef(
                figures.scatter_density(
                    figs / "insitu_scatter.png",
                    result.pairs,
                    "In situ",
                    "in situ (m3 m-3)",
                    "product (m3 m-3)",
                ),
                "Product against in-situ values",
            )
        )
        for s in result.series:
            name = "".join(ch if ch.isalnum() else "_" for ch in s.station.label)
            path = figures.time_series(
                figs / f"insitu_{name}.png",
                np.asarray(s.times),
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
    if len(result.skipped):
        section.tables.append(Table("insitu_skipped", "Files or stations left out", result.skipped))
    return section


def timeseries_section(result: TimeSeries, figs: Path) -> Section:
    section = Section("Time series", [SERIES_INTRO])
    for lat, lon in result.skipped:
        section.paragraphs.append(
            f"Point {lat}, {lon} skipped: outside the cube or not fillable land."
        )
    series = result.series
    if series is None:
        section.paragraphs.append("No point to show.")
        return section
    section.tables.append(
        Table("timeseries", "Observed and filled days at each point", result.table)
    )
    times = series["time"].values
    for k in range(series.sizes["point"]):
        point = series.isel(point=k)
        lat, lon = float(point["lat"]), float(point["lon"])
        path = figures.time_series(
            figs / f"timeseries_{int(point['row'])}_{int(point['col'])}.png",
            times,
            point["sm"].values,
            point["flag"].values,
            f"{lat:.3f} N, {lon:.3f} E",
        )
        section.figures.append(FigureRef(path, f"Series at {lat:.3f}, {lon:.3f}"))
    return section


def truth_section(result: Truth, figs: Path) -> Section:
    section = Section("Synthetic truth", [TRUTH_INTRO])
    if result.table is None:
        section.paragraphs.append(result.skipped or "Nothing to score.")
        return section
    section.tables.append(
        Table("truth", "Scores against the synthetic truth in real gaps", result.table)
    )
    section.tables += distance_tables("truth_by_distance", result.by_distance)
    section.figures.append(
        FigureRef(
            figures.scatter_density(
                figs / "truth_scatter.png",
                result.pairs,
                "Synthetic truth",
                "truth (m3 m-3)",
                "filled (m3 m-3)",
            ),
            "Filled against true values in the real gaps",
        )
    )
    return section


def sweep_section(result: SweepResult, same_gaps: bool = True) -> Section:
    """The sweep's table; ``same_gaps``: scored on the gaps of the report's main table."""
    where = (
        "the simulated gaps of the main table"
        if same_gaps
        else f"its own simulated gaps ({result.gaps['size']} x {result.gaps['size']} cells, "
        f"{result.gaps['mode']} mode, seed {result.gaps['seed']}, on {', '.join(result.days)}), "
        "not those of the main table"
    )
    section = Section(
        f"Sensitivity sweep ({result.preset})",
        [
            f"One factor at a time around {result.base}; each configuration trained with "
            f"{result.epochs} epoch(s) at most and scored by SGD-SM on {where}."
        ],
    )
    if result.table.empty:
        section.paragraphs.append(
            "No simulated gap to score (see the simulated missing regions section)."
        )
        return section
    section.tables.append(
        Table(
            f"sweep_{result.preset}",
            "Sensitivity to kernel size, depth and width (cf. paper Tables S1-S3)",
            result.table,
        )
    )
    return section
