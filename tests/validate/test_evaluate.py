import numpy as np
import pytest

from sgdsm_cloud.validate.evaluate import Case, evaluate
from sgdsm_cloud.validate.product import Crop


def make_case(seed: int = 0) -> Case:
    rng = np.random.default_rng(seed)
    reference = 0.2 + 0.05 * rng.random((12, 12))
    values = np.repeat(reference[None], 3, axis=0).astype("float32")
    removed = np.zeros((12, 12), dtype=bool)
    removed[4:8, 4:8] = True
    values[1][removed] = np.nan
    return Case(
        "case", 5, Crop.whole((12, 12)), values, np.ones((12, 12), bool), 1, removed, reference
    )


def test_every_method_is_scored_on_the_removed_cells_only():
    cases = [make_case(0), make_case(1)]
    methods = {
        "perfect": lambda c: np.where(c.removed, c.reference, c.values[c.centre]),
        "offset": lambda c: np.where(c.removed, c.reference + 0.1, c.values[c.centre]),
        "half": lambda c: np.where(c.removed & (np.arange(12) < 6)[None, :], c.reference, np.nan),
    }
    result = evaluate(cases, methods, unavailable={"climatology": "too short"}, keep_fills=1)
    table = result.table.set_index("method")
    assert (
        table.loc["perfect", "RMSE"] == pytest.approx(0, abs=1e-7)
        and table.loc["perfect", "N"] == 32
    )
    assert table.loc["perfect", "continuity"] == pytest.approx(1.0)
    assert table.loc["offset", "bias"] == pytest.approx(0.1) and table.loc[
        "offset", "ubRMSE"
    ] == pytest.approx(0, abs=1e-6)
    assert table.loc["offset", "continuity"] > 1.5
    assert table.loc["half", "coverage"] == pytest.approx(0.5) and table.loc["half", "N"] == 16
    assert (
        table.loc["climatology", "note"] == "unavailable: too short"
        and table.loc["climatology", "N"] == 0
    )
    assert len(result.fills) == 1 and set(result.fills[0]) == set(methods)
    pred, ref = result.pairs["perfect"]
    assert pred.size == ref.size == 32
