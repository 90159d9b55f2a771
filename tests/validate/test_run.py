"""End to end: a report from a tiny cube, an untrained tiny model, real ISMN files and a truth store."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from matplotlib.image import imread

from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.storage import Location
from sgdsm_cloud.validate.context import ValidateConfig
from sgdsm_cloud.validate.run import open_context, run_validation
from tests.conftest import REAL_ISMN

COSMOS = REAL_ISMN / "Data_seperate_files_header_20170810_20180809"
METHODS = ("SGD-SM", "linear interpolation", "window mean", "DCT-PLS", "climatology")


def config(tmp_path, tiny_store, tiny_model_dir, **kw) -> ValidateConfig:
    base = {
        "store": Location(str(tiny_store)),
        "model": Location(str(tiny_model_dir)),
        "report": tmp_path / "report",
        "gap_size": 9,
        "gaps_per_day": 3,
        "gap_margin": 2,
        "context": 6,
        "crosscheck": False,
    }
    return ValidateConfig(**{**base, **kw})


@pytest.fixture(scope="module")
def report(tmp_path_factory, tiny_store, tiny_model_dir, truth_store):
    tmp = tmp_path_factory.mktemp("run")
    cfg = config(
        tmp,
        tiny_store,
        tiny_model_dir,
        insitu=COSMOS,
        insitu_depth="0,0.25",
        truth=Location(str(truth_store)),
    )
    return run_validation(cfg)


def test_report_folder_has_documents_tables_and_valid_figures(report):
    folder = report.parent
    assert report.name == "report.md" and (folder / "report.html").stat().st_size > 0
    for name in (
        "run",
        "simulated_gaps",
        "simulated_blocks",
        "insitu",
        "insitu_stations",
        "timeseries",
        "truth",
    ):
        assert (folder / "tables" / f"{name}.csv").exists() and (
            folder / "tables" / f"{name}.md"
        ).exists()
    pngs = sorted((folder / "figures").glob("*.png"))
    names = {p.name for p in pngs}
    assert {
        "simulated_patches.png",
        "simulated_scatter.png",
        "insitu_scatter.png",
        "truth_scatter.png",
    } <= names
    assert any(n.startswith("map_") for n in names) and any(
        n.startswith("timeseries_") for n in names
    )
    for png in pngs:
        image = imread(png)
        assert png.stat().st_size > 0 and image.ndim == 3 and min(image.shape[:2]) > 50
        assert f"figures/{png.name}" in report.read_text()


def test_simulated_table_lists_every_method_on_the_same_cells(report):
    text = report.read_text()
    for method in METHODS:
        assert f"| {method} |" in text
    table = pd.read_csv(report.parent / "tables" / "simulated_gaps.csv").set_index("method")
    run = table.drop("climatology")
    assert (run["N"] == 12 * 81).all()  # 4 days x 3 blocks x 81 cells, the same for every method
    assert "unavailable" in table.loc["climatology", "note"]
    # On a smooth synthetic field the simple baselines are near perfect: the references line up.
    assert (
        table.loc["linear interpolation", "RMSE"] < 0.005
        and table.loc["linear interpolation", "R"] > 0.99
    )


def test_insitu_and_truth_programmes_score_something(report):
    insitu = pd.read_csv(report.parent / "tables" / "insitu.csv")
    assert set(insitu["station"]) == {"COSMOS/ARM-1"}
    assert insitu.set_index("days").loc["all days", "N"] == 15
    skipped = pd.read_csv(report.parent / "tables" / "insitu_skipped.csv")
    assert "outside" in skipped["reason"].iloc[0]  # Barrow is far from the tiny cube
    truth = pd.read_csv(report.parent / "tables" / "truth.csv").set_index("method")
    assert truth.loc["linear interpolation", "RMSE"] < 0.005
    assert truth.loc["SGD-SM", "N"] == truth.loc["window mean", "N"] > 0


def test_run_record_names_the_inputs_without_options(report):
    record = json.loads((report.parent / "run.json").read_text())
    assert record["validated_days"] == ["2017-08-14", "2017-08-16", "2017-08-18", "2017-08-20"]
    assert len(record["model_sha256"]) == 64 and record["model_config"]["layers"] == 2
    assert "storage_options" not in json.dumps(record)


def test_filled_store_gives_the_same_product_as_the_model_on_crops(
    tmp_path, tiny_store, tiny_model_dir
):
    from sgdsm_cloud.cube import open_cube
    from sgdsm_cloud.fill.api import fill_dataset

    filled_path = tmp_path / "filled.zarr"
    fill_dataset(open_cube(str(tiny_store)), str(tiny_model_dir), device="cpu").to_zarr(filled_path)
    from_model = open_context(config(tmp_path, tiny_store, tiny_model_dir))
    from_store = open_context(
        config(tmp_path, tiny_store, tiny_model_dir, filled=Location(str(filled_path)))
    )
    cells = [(21, 26), (3, 40), (47, 0)]
    values_m, flags_m = from_model.product.at_cells(cells, from_model.period)
    values_s, flags_s = from_store.product.at_cells(cells, from_store.period)
    np.testing.assert_array_equal(flags_m, flags_s)
    np.testing.assert_allclose(values_m, values_s, rtol=1e-5, atol=1e-6, equal_nan=True)


def test_days_outside_the_period_are_rejected(tmp_path, tiny_store, tiny_model_dir):
    with pytest.raises(ConfigError, match="not in the validated period"):
        open_context(config(tmp_path, tiny_store, tiny_model_dir, days=("2017-09-01",)))
    with pytest.raises(ConfigError, match="must be an ordered range inside"):
        open_context(config(tmp_path, tiny_store, tiny_model_dir, start="2020-01-01"))
    with pytest.raises(ConfigError, match="must be an ordered range inside"):  # no silent clipping
        open_context(config(tmp_path, tiny_store, tiny_model_dir, start="2017-08-01"))


def test_too_large_gaps_are_reported_not_fatal(tmp_path, tiny_store, tiny_model_dir):
    from sgdsm_cloud.validate.checks import simulated
    from sgdsm_cloud.validate.render import simulated_section

    result = simulated(open_context(config(tmp_path, tiny_store, tiny_model_dir, gap_size=40)))
    assert result.table is None and result.blocks.empty
    section = simulated_section(result, tmp_path / "figures")
    assert (
        not section.tables and "No block of 40 x 40 observed land cells" in section.paragraphs[-1]
    )
