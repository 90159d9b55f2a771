"""The station programmes on their own: the product at an ISMN station and at time-series points."""

from __future__ import annotations

import numpy as np

from sgdsm_cloud.storage import Location
from sgdsm_cloud.validate import stations
from sgdsm_cloud.validate.context import ValidateConfig
from sgdsm_cloud.validate.run import open_context
from tests.conftest import REAL_ISMN

COSMOS = REAL_ISMN / "Data_seperate_files_header_20170810_20180809"


def config(store, model, report, **extra) -> ValidateConfig:
    return ValidateConfig(
        store=Location(str(store)), model=Location(str(model)), report=report, gap_size=9,
        gaps_per_day=3, gap_margin=2, context=6, crosscheck=False, device="cpu", **extra,
    )  # fmt: skip


def test_insitu_matches_the_station_inside_the_grid_and_names_the_one_outside(
    tiny_store, tiny_model_dir, tmp_path
):
    ctx = open_context(config(tiny_store, tiny_model_dir, tmp_path, insitu=COSMOS,
                              insitu_depth="0,0.25"))  # fmt: skip
    result = stations.insitu(ctx)
    assert result.pass_ == "D" and result.scores is not None
    n = result.scores.set_index("days")["N"]
    assert n["all days"] == 15 == n["observed days"] + n["filled days"]
    assert list(result.skipped["reason"]) == ["outside the cube's grid"]
    assert len(result.series) == len(result.stations) == 1
    for subset in ("observed days", "filled days"):  # each subset keeps only its own days
        product, reference = result.pairs[subset]
        assert product.shape == reference.shape == (15,)
        assert np.isfinite(product).sum() == n[subset]


def test_timeseries_at_given_points_counts_every_day_once(tiny_store, tiny_model_dir, tmp_path):
    ctx = open_context(
        config(tiny_store, tiny_model_dir, tmp_path, points="36.5,-97.5;38.0,-100.0")
    )
    result = stations.timeseries(ctx)
    days = (
        result.table["observed days"]
        + result.table["filled days"]
        + result.table["not filled days"]
    )
    assert days.tolist() == [15, 15]
    assert dict(result.series.sizes) == {"time": 15, "point": 2}
    assert np.allclose(result.series["lat"].values, [36.625, 38.125], atol=0.13)
