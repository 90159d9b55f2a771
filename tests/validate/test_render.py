"""The report's sections from hand-made results: what each says, tabulates and draws, what it
says instead when its programme was skipped, and which sections the report holds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from matplotlib.image import imread

from sgdsm_cloud.validate import figures, render
from sgdsm_cloud.validate.checks import (
    Calibration,
    DayMap,
    Overview,
    SimulatedGaps,
    Truth,
    Validation,
)
from sgdsm_cloud.validate.evaluate import COLUMNS, Case
from sgdsm_cloud.validate.insitu import InsituConfig, Station, StationSeries
from sgdsm_cloud.validate.masks import GapConfig
from sgdsm_cloud.validate.product import Crop
from sgdsm_cloud.validate.stations import STATION_COLUMNS, InSitu, TimeSeries
from sgdsm_cloud.validate.sweep import COLUMNS as SWEEP_COLUMNS
from sgdsm_cloud.validate.sweep import SweepResult

DATE = pd.Timestamp("2017-08-14")
TIMES = pd.date_range("2017-08-10", periods=10, freq="D")
LAT = 36.875 - 0.25 * np.arange(8)
LON = -97.625 + 0.25 * np.arange(8)
RNG = np.random.default_rng(0)


def assert_png(path) -> None:
    assert path.is_file() and path.stat().st_size > 5000
    image = imread(path)
    assert image.ndim == 3 and min(image.shape[:2]) > 100


def tables(section) -> dict[str, pd.DataFrame]:
    return {t.name: t.frame for t in section.tables}


def scores(*names: str) -> pd.DataFrame:
    return pd.DataFrame([(n, 0.9, 0.05, 0.04, 0.05, 0.0, 16, 1.0, 1.1, "") for n in names],
                        columns=list(COLUMNS))  # fmt: skip


def pairs(*names: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    ref = RNG.uniform(0.1, 0.4, 16)
    return {n: (ref + RNG.normal(0, 0.02, 16), ref) for n in names}


def skipped_map() -> DayMap:
    return DayMap(DATE, None, pd.Series(dtype="int64"), 3072, 1000)


def no_points() -> TimeSeries:
    return TimeSeries(pd.DataFrame(), None, [])


def test_overview_states_the_units_and_tabulates_the_run():
    frame = pd.DataFrame([("raw cube", "raw.zarr")], columns=["item", "value"])
    section = render.overview_section(Overview(frame))
    assert section.title == "Run" and section.paragraphs == [render.UNITS]
    assert tables(section) == {"run": frame} and not section.figures


def test_a_skipped_map_says_why_and_draws_nothing(tmp_path):
    section = render.map_section(skipped_map(), tmp_path)
    (text,) = section.paragraphs
    assert "3072 cells (limit 1000" in text and "--filled" in text
    assert not section.figures and not list(tmp_path.iterdir())


def test_a_day_map_counts_the_cells_of_each_flag_and_draws_the_day(tmp_path):
    flag = np.ones((8, 8), dtype="uint8")
    flag[2:5, 2:7] = 2
    flag[0, :3] = 3
    original = np.where(flag == 1, 0.2, np.nan)
    fields = xr.Dataset(
        {
            "original": (("lat", "lon"), original),
            "sm": (("lat", "lon"), np.where(flag == 3, np.nan, 0.2)),
            "flag": (("lat", "lon"), flag),
        },
        coords={"lat": LAT, "lon": LON},
    )
    counts = pd.Series({"observed": 46, "filled": 15, "not filled": 3})
    section = render.map_section(DayMap(DATE, fields, counts, 64, 1000), tmp_path)
    assert section.paragraphs == [
        "2017-08-14: 46 observed cells, 15 filled cells, 3 not filled cells."
    ]
    (figure,) = section.figures
    assert figure.path == tmp_path / "map_2017-08-14.png" and "2017-08-14" in figure.caption
    assert_png(figure.path)


def block_case() -> Case:
    """An 8 x 8 crop, sea in its first row, a 4 x 4 block hidden on the centre day."""
    land = np.ones((8, 8), dtype=bool)
    land[0] = False
    values = np.where(land, np.linspace(0.1, 0.4, 64).reshape(8, 8), np.nan)
    values = np.repeat(values[None], 3, axis=0).astype("float32")
    removed = np.zeros((8, 8), dtype=bool)
    removed[2:6, 2:6] = True
    reference = values[1].copy()
    values[1][removed] = np.nan
    return Case("2017-08-14 row 2 col 2", 4, Crop.whole((8, 8)), values, land, 1, removed,
                reference)  # fmt: skip


def test_simulated_section_tabulates_scores_and_blocks_and_shows_fills_on_land_only(
    tmp_path, monkeypatch
):
    shown = []
    draw = figures.patches

    def patches(path, items):
        shown.extend(items)
        return draw(path, items)

    monkeypatch.setattr(figures, "patches", patches)
    case = block_case()
    fill = np.full((8, 8), 0.3, dtype="float32")  # a method that also "fills" the sea
    gaps = GapConfig(mode="pattern", size=4, per_day=2, margin=1, seed=3)
    blocks = pd.DataFrame([("2017-08-14", 2, 2, 36.4, -97.1, 16, "2017-08-12")])
    result = SimulatedGaps(gaps, 9, scores("SGD-SM", "window mean"), blocks,
                           pairs("SGD-SM", "window mean"), [(case, {"SGD-SM": fill})])  # fmt: skip
    section = render.simulated_section(result, tmp_path)
    assert "Blocks of 4 x 4 cells of observed land (pattern mode, seed 3)" in section.paragraphs[0]
    assert "same window of 9 days" in section.paragraphs[0]
    assert list(tables(section)) == ["simulated_gaps", "simulated_blocks"]
    assert tables(section)["simulated_blocks"] is blocks
    names = [f.path.name for f in section.figures]
    assert names == ["simulated_patches.png", "simulated_scatter.png"]
    for figure in section.figures:
        assert_png(figure.path)
    (patch,) = shown
    assert patch.label == case.label and patch.removed is case.removed
    np.testing.assert_array_equal(patch.original, case.reference)
    assert np.isnan(patch.masked[case.removed]).all()  # the input the methods saw
    assert np.isnan(patch.fills["SGD-SM"][0]).all() and (patch.fills["SGD-SM"][1:] == 0.3).all()


def test_skipped_calibration_and_truth_give_their_reason_instead_of_tables(tmp_path):
    no_sigma = Calibration(pd.DataFrame(), None, None, skipped="no sigma")  # a part is missing
    sections = [
        (render.calibration_section(Calibration(None, None, None), tmp_path), "Nothing to score."),
        (render.calibration_section(no_sigma, tmp_path), "no sigma"),
        (render.truth_section(Truth(None, {}, "covers none"), tmp_path), "covers none"),
        (render.truth_section(Truth(None, {}), tmp_path), "Nothing to score."),
    ]
    for section, reason in sections:
        assert len(section.paragraphs) == 2 and section.paragraphs[-1] == reason
        assert not section.tables and not section.figures
    assert not list(tmp_path.iterdir())


def test_truth_section_tabulates_the_methods_and_draws_their_scatter(tmp_path):
    table = scores("SGD-SM", "linear interpolation")
    section = render.truth_section(Truth(table, pairs("SGD-SM", "linear interpolation")), tmp_path)
    assert section.paragraphs == [render.TRUTH_INTRO] and tables(section) == {"truth": table}
    (figure,) = section.figures
    assert figure.path == tmp_path / "truth_scatter.png"
    assert_png(figure.path)


def station_series() -> StationSeries:
    values = pd.Series(np.linspace(0.2, 0.3, 10), index=TIMES + pd.Timedelta(hours=19))
    station = Station("COSMOS", "ARM-1", 36.6054, -97.4878, 0.0, 0.2, "Cosmic-ray-Probe",
                      "cosmos.stm", values)  # fmt: skip
    flags = np.array([1, 2, 2, 1, 3, 1, 2, 1, 1, 2], dtype="uint8")
    product = np.where(flags == 3, np.nan, np.linspace(0.22, 0.31, 10)).astype("float32")
    return StationSeries(station, (1, 0), TIMES, values.to_numpy(), product, flags)


def insitu_result(scored: bool, skipped: list[tuple[str, str]]) -> InSitu:
    """One station scored (or none), with ``skipped`` files; ascending pass, two flags."""
    options = InsituConfig(depth_from=0.0, depth_to=0.25, flags=("G", "M"), tolerance_hours=2.0)
    if not scored:
        no_station = pd.DataFrame(columns=STATION_COLUMNS)
        return InSitu(
            options,
            "A",
            None,
            no_station,
            pd.DataFrame(skipped, columns=["file", "reason"]),
            [],
            {},
        )
    station = ("COSMOS/ARM-1", 36.6, -97.5, "0.00-0.20", "probe", 36.625, -97.375, 10)
    return InSitu(
        options,
        "A",
        pd.DataFrame({"station": ["COSMOS/ARM-1"], "days": ["all days"], "N": [9]}),
        pd.DataFrame([station], columns=STATION_COLUMNS),
        pd.DataFrame(skipped, columns=["file", "reason"]),
        [station_series()],
        pairs("observed days", "filled days"),
    )


def test_insitu_section_describes_the_matching_and_draws_each_station(tmp_path):
    result = insitu_result(True, [("barrow.stm", "outside the cube's grid")])
    section = render.insitu_section(result, tmp_path)
    (text,) = section.paragraphs
    assert "Sensors at 0.00-0.25 m, ISMN flags G, M;" in text
    assert "nearest the A overpass (local solar time 13:30, within 2 h)" in text
    assert list(tables(section)) == ["insitu", "insitu_stations", "insitu_skipped"]
    names = [f.path.name for f in section.figures]
    assert names == ["insitu_scatter.png", "insitu_COSMOS_ARM_1.png"]  # a file-safe station name
    assert section.figures[1].caption == "COSMOS/ARM-1: product and in-situ series"
    for figure in section.figures:
        assert_png(figure.path)


@pytest.mark.parametrize("skipped", [[("barrow.stm", "outside the cube's grid")], []])
def test_insitu_section_without_a_scored_station_says_so(tmp_path, skipped):
    section = render.insitu_section(insitu_result(False, skipped), tmp_path)
    assert section.paragraphs[-1].startswith("No station could be scored")
    assert list(tables(section)) == (["insitu_skipped"] if skipped else [])
    assert not section.figures


def test_timeseries_section_draws_each_point_and_names_the_skipped_ones(tmp_path):
    flags = np.tile(np.array([[1, 2]], dtype="uint8"), (10, 1))
    series = xr.Dataset(
        {"sm": (("time", "point"), np.full((10, 2), 0.25)), "flag": (("time", "point"), flags)},
        coords={"time": TIMES.values, "lat": ("point", [36.625, 35.875]),
                "lon": ("point", [-97.375, -96.125]), "row": ("point", [21, 24]),
                "col": ("point", [26, 31])},
    )  # fmt: skip
    table = pd.DataFrame({"point": ["36.625, -97.375", "35.875, -96.125"]})
    result = TimeSeries(table, series, [(10.0, 20.0)])
    section = render.timeseries_section(result, tmp_path)
    assert section.paragraphs == [
        render.SERIES_INTRO,
        "Point 10.0, 20.0 skipped: outside the cube or not fillable land.",
    ]
    assert tables(section) == {"timeseries": table}
    names = [f.path.name for f in section.figures]
    assert names == ["timeseries_21_26.png", "timeseries_24_31.png"]
    assert section.figures[1].caption == "Series at 35.875, -96.125"
    for figure in section.figures:
        assert_png(figure.path)


def test_timeseries_section_without_points_shows_nothing(tmp_path):
    section = render.timeseries_section(TimeSeries(pd.DataFrame(), None, [(1.0, 2.0)]), tmp_path)
    assert section.paragraphs[1].startswith("Point 1.0, 2.0 skipped")
    assert section.paragraphs[-1] == "No point to show." and not section.tables


def empty_sweep() -> SweepResult:
    gaps = {"size": 9, "mode": "squares", "seed": 0}
    return SweepResult("small", {"layers": 2}, 1, ("2017-08-10", "2017-08-24"), ("2017-08-14",),
                       gaps, pd.DataFrame(columns=SWEEP_COLUMNS))  # fmt: skip


def test_a_sweep_without_gaps_says_so():
    section = render.sweep_section(empty_sweep())
    assert section.paragraphs[-1].startswith("No simulated gap to score") and not section.tables


def test_the_report_holds_only_the_programmes_that_ran(tmp_path):
    frame = pd.DataFrame([("raw cube", "raw.zarr")], columns=["item", "value"])
    simulated = SimulatedGaps(GapConfig(size=40), 9, None, pd.DataFrame())
    base = Validation({}, Overview(frame), skipped_map(), simulated, None, no_points(), None)
    path = render.render_report(tmp_path / "bare", base)
    headings = [line[3:] for line in path.read_text().splitlines() if line.startswith("## ")]
    assert headings == ["Run", "Filled product", "Simulated missing regions", "Time series"]
    assert (path.parent / "report.html").is_file() and (path.parent / "figures").is_dir()
    assert sorted(p.name for p in (path.parent / "tables").iterdir()) == ["run.csv", "run.md"]

    full = Validation(
        {}, Overview(frame), skipped_map(), simulated, insitu_result(False, []), no_points(),
        Truth(None, {}, "no truth day"), empty_sweep(), sweep_same_gaps=False,
        calibration=Calibration(None, None, None, skipped="no sigma"),
    )  # fmt: skip
    path = render.render_report(tmp_path / "full", full)
    text = path.read_text()
    headings = [line[3:] for line in text.splitlines() if line.startswith("## ")]
    assert headings == ["Run", "Filled product", "Simulated missing regions",
                        "Uncertainty calibration", "In situ (ISMN)", "Time series",
                        "Synthetic truth", "Sensitivity sweep (small)"]  # fmt: skip
    assert "its own simulated gaps (9 x 9 cells, squares mode, seed 0" in text  # sweep_same_gaps
