"""Per-cell properties of scored cells, and scores split by them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sgdsm_cloud.validate.breakdown import cell_properties, scores_by
from sgdsm_cloud.validate.evaluate import Case
from sgdsm_cloud.validate.product import Crop

NAN = np.nan


def a_case() -> Case:
    """A 3-day window on a 1 x 6 strip: cells 2..4 hidden on the centre day."""
    values = np.array(
        [
            [[0.1, 0.1, 0.0, 0.2, NAN, 0.3]],
            [[0.1, 0.2, NAN, NAN, NAN, 0.3]],
            [[NAN, 0.1, NAN, NAN, NAN, 0.3]],
        ],
        dtype="float32",
    )
    removed = np.array([[False, False, True, True, True, False]])
    reference = np.array([[0.1, 0.2, 0.0, 0.99, 0.5, 0.3]], dtype="float32")
    land = np.ones((1, 6), dtype=bool)
    crop = Crop(np.array([7]), np.arange(6), (slice(0, 1), slice(0, 6)))
    return Case("strip", 1, crop, values, land, 1, removed, reference)


def test_properties_of_each_scored_cell():
    lat = np.linspace(80, -80, 10)
    props = cell_properties(a_case(), lat)
    assert list(props["gap_cells"]) == [3, 3, 3]
    assert list(props["edge_distance"]) == [1.0, 2.0, 1.0]
    assert list(props["days_to_observation"][:2]) == [1.0, 1.0]
    assert np.isnan(props["days_to_observation"].iloc[2])  # no other day observes cell 4
    assert list(props["value_class"]) == ["zero", "saturated", "ordinary"]
    assert np.allclose(props["lat"], lat[7])


def test_scores_by_bins_and_by_category_use_the_common_cells():
    props = pd.DataFrame({"d": [1.0, 1.0, 5.0, 5.0], "c": ["a", "a", "b", "b"]})
    ref = np.array([0.1, 0.2, 0.3, 0.4])
    pairs = {
        "good": (ref + np.array([0.0, 0.0, 0.1, NAN]), ref),
        "bad": (ref + 0.2, ref),
    }
    by_bin = scores_by(props, pairs, "d", [0, 2, 10])
    near = by_bin[(by_bin["d"] == "[0, 2)") & (by_bin["method"] == "good")].iloc[0]
    far = by_bin[(by_bin["d"] == "[2, 10)") & (by_bin["method"] == "good")].iloc[0]
    assert near.RMSE == 0.0 and near.N == 2
    assert far.N == 1 and np.isclose(far.MAE, 0.1)  # the cell "good" left unfilled is dropped
    assert list(by_bin["d"].astype(str).unique()) == ["[0, 2)", "[2, 10)"]
    by_class = scores_by(props, pairs, "c")
    assert set(by_class["c"]) == {"a", "b"}
    assert np.isclose(by_class[by_class["method"] == "bad"]["MAE"], 0.2).all()


def test_scores_by_keeps_the_methods_in_their_order_within_every_bin():
    """Figures and tables give each method one column and colour: the order must hold."""
    rng = np.random.default_rng(0)
    props = pd.DataFrame({"lat": rng.uniform(-90, 90, 400)})
    ref = rng.uniform(0.1, 0.4, 400)
    names = [f"method {k}" for k in range(7)]
    pairs = {name: (ref + 0.01 * k, ref) for k, name in enumerate(names)}
    table = scores_by(props, pairs, "lat", [-90, -30, 0, 30, 60, 90])
    for _, rows in table.groupby("lat", observed=True):
        assert list(rows["method"]) == names
        np.testing.assert_allclose(rows["RMSE"], 0.01 * np.arange(7), atol=1e-12)


def _far_case() -> Case:
    """A 1 x 40 strip observed only at its west end on the centre day: distances 1 to 39."""
    width = 40
    reference = np.linspace(0.1, 0.4, width, dtype="float32")[None, :]
    values = np.repeat(reference[None], 3, axis=0).copy()
    values[1, :, 1:] = np.nan
    removed = np.zeros((1, width), dtype=bool)
    removed[0, 1:] = True
    crop = Crop(np.array([0]), np.arange(width), (slice(0, 1), slice(0, width)))
    return Case("far", 1, crop, values, np.ones((1, width), dtype=bool), 1, removed, reference)


def test_distance_table_gives_one_row_per_bin_and_the_model_over_the_reference():
    from sgdsm_cloud.validate.breakdown import distance_table

    case = _far_case()
    n = int(case.removed.sum())
    ref = case.reference[case.removed]
    pairs = {"model": (ref + 0.01, ref), "linear": (ref - 0.02, ref)}
    table = distance_table([case], np.zeros(1), pairs, "model", "linear")
    assert table is not None
    bins = list(table["cells from the day's nearest observation"])
    assert bins == ["1-2", "3-5", "6-9", "10 or more"]
    assert list(table["N"]) == [2, 3, 4, 30]
    assert table["N"].sum() == n
    assert np.allclose(table["model / linear"], 0.5)  # half the error in every bin
    assert np.allclose(table["linear RMSE"], 0.02)
    assert distance_table([], np.zeros(1), pairs, "model", "linear") is None
