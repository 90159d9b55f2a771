"""The uncertainty calibration: fitted on held-back days, scored by validation, rendered."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.model.checkpoint import load_checkpoint, save_checkpoint
from sgdsm_cloud.model.config import ModelConfig
from sgdsm_cloud.model.network import SGDSMNet
from sgdsm_cloud.storage import Location
from sgdsm_cloud.validate import checks
from sgdsm_cloud.validate.calibration import calibrate_checkpoint, held_back_cases, held_back_days
from sgdsm_cloud.validate.context import ValidateConfig
from sgdsm_cloud.validate.masks import GapConfig
from sgdsm_cloud.validate.render import calibration_section
from sgdsm_cloud.validate.run import open_context
from tests.validate.conftest import make_raw, smooth_field, swath_gaps

ANOMALY = ModelConfig(layers=1, features=2, variant="anomaly", scales=(1.0, 2.0))
GAPS = GapConfig(size=9, per_day=6, margin=2, seed=3)


@pytest.fixture(scope="module")
def noisy_store(tmp_path_factory, tiny_land) -> Path:
    """The tiny cube with retrieval noise whose spread grows from west to east."""
    truth = smooth_field()
    rng = np.random.default_rng(0)
    spread = np.linspace(0.005, 0.04, truth.shape[2])[None, None, :]
    noisy = (truth + rng.normal(0, 1, truth.shape) * spread).astype("float32")
    path = tmp_path_factory.mktemp("noisy") / "raw.zarr"
    make_raw(noisy, swath_gaps(), tiny_land).to_zarr(path, mode="w")
    return path


@pytest.fixture(scope="module")
def anomaly_model(tmp_path_factory, noisy_store) -> Path:
    """An untrained anomaly model (its output is the window mean + smoothed anomaly), calibrated
    on the held-back days 4-9 of the noisy cube."""
    path = tmp_path_factory.mktemp("anomaly") / "model"
    save_checkpoint(path, SGDSMNet(ANOMALY), ANOMALY, {"note": "untrained test model"})
    calibrate_checkpoint(Location(str(noisy_store)), Location(str(path)), list(range(4, 10)),
                         gaps=GAPS)  # fmt: skip
    return path


def test_calibration_is_stored_in_the_checkpoint_and_describes_its_data(anomaly_model):
    checkpoint = load_checkpoint(anomaly_model)
    assert checkpoint.uncertainty is not None
    described = checkpoint.uncertainty.calibration
    assert described["days"][0] == "2017-08-14" and described["days"][-1] == "2017-08-19"
    assert described["reference"] == "hidden observations"
    assert described["fit"]["cells"] > 1000
    document = json.loads((anomaly_model / "config.json").read_text())
    assert document["uncertainty"]["format"] == "log-quadratic-v1"


def test_held_back_days_see_no_later_day(noisy_store):
    cases = held_back_cases(Location(str(noisy_store)), ANOMALY, [4, 5], gaps=GAPS)
    assert cases and all(case.day in (4, 5) for case in cases)
    last = [case for case in cases if case.day == 5][0]
    assert np.isnan(last.values[last.centre + 1 :]).all()  # days 6.. count as unobserved


def validate_config(store, model, report) -> ValidateConfig:
    return ValidateConfig(
        store=Location(str(store)), model=Location(str(model)), report=report, gap_size=9,
        gaps_per_day=6, gap_margin=2, context=6, crosscheck=False, device="cpu",
        days=("2017-08-20", "2017-08-21", "2017-08-22"), n_points=1,
    )  # fmt: skip


def test_validation_scores_the_calibration_on_other_days_and_renders_it(
    anomaly_model, noisy_store, tmp_path
):
    ctx = open_context(validate_config(noisy_store, anomaly_model, tmp_path / "report"))
    result = checks.calibration(ctx)
    assert result.skipped is None and result.summary is not None
    values = dict(zip(result.summary["item"], result.summary["value"], strict=True))
    assert abs(values["coverage of +-1 sigma (nominal 0.683)"] - 0.683) < 0.1
    assert abs(values["coverage of +-2 sigma (nominal 0.954)"] - 0.954) < 0.06
    assert values["r(decile sigma, decile RMSE)"] > 0.8  # the noise grows eastwards: sigma knows
    assert result.deciles is not None and len(result.deciles) == 10
    assert result.deciles["n"].sum() == values["filled cells scored"] == result.errors.size
    assert result.reliability is not None and result.reliability["observed"].is_monotonic_increasing
    section = calibration_section(result, tmp_path / "figures")
    assert [t.name for t in section.tables] == [
        "calibration", "calibration_deciles", "calibration_reliability",
    ]  # fmt: skip
    assert section.figures[0].path.is_file() and section.figures[0].path.stat().st_size > 5000


def test_a_model_without_an_error_model_is_reported_as_such(noisy_store, tiny_model_dir, tmp_path):
    ctx = open_context(validate_config(noisy_store, tiny_model_dir, tmp_path / "report"))
    result = checks.calibration(ctx)
    assert result.summary is None and "no error model" in (result.skipped or "")
    section = calibration_section(result, tmp_path / "figures")
    assert section.tables == [] and "'anomaly' variant" in section.paragraphs[-1]


def test_a_long_record_calibrates_on_at_most_32_evenly_spaced_held_back_days():
    time = pd.date_range("2013-01-01", periods=2556).values
    provenance = {
        "train_centre_days": ["2013-01-01", "2019-04-21"],
        "train_period": ["2013-01-01", "2019-12-31"],
    }
    days = held_back_days(time, provenance)
    assert len(days) == 32 and days[0] == 2302 and days[-1] == 2555
    assert len(held_back_days(time, provenance, at_most=None)) == 2555 - 2301
    assert held_back_days(time, {}) == []


def test_a_two_pass_model_is_calibrated_and_validated_with_the_other_pass(
    noisy_store, tiny_land, tmp_path
):
    ascending = make_raw(smooth_field() + 0.02, np.roll(swath_gaps(), 5, axis=2), tiny_land)
    ascending.attrs["source_pass"] = "A"
    other = tmp_path / "ascending.zarr"
    ascending.to_zarr(other, mode="w")
    store, other_pass = Location(str(noisy_store)), Location(str(other))
    config = dataclasses.replace(ANOMALY, passes=2)
    cases = held_back_cases(store, config, [4, 5], gaps=GAPS, other_pass=other_pass)
    case = cases[0]
    assert case.other is not None and case.other.shape == case.values.shape
    days = np.arange(case.day - case.centre, case.day + case.centre + 1)
    rows, cols = case.crop.rows, case.crop.cols
    seen = (days >= 0) & (days <= 5)  # in the record, and no later than the last held-back day
    expected = ascending.sm.values[days[seen]][:, rows][:, :, cols]
    np.testing.assert_array_equal(case.other[seen], expected)
    assert np.isnan(case.other[~seen]).all()
    model = tmp_path / "model"
    save_checkpoint(model, SGDSMNet(config), config, {"note": "untrained test model"})
    calibrate_checkpoint(store, Location(str(model)), list(range(4, 10)), gaps=GAPS,
                         other_pass=other_pass)  # fmt: skip
    assert load_checkpoint(model).uncertainty is not None
    settings = validate_config(noisy_store, model, tmp_path / "report")
    result = checks.calibration(open_context(dataclasses.replace(settings, other_pass=other_pass)))
    assert result.summary is not None and result.errors.size > 100
    with pytest.raises(ConfigError, match="sgdsm validate: .*--other-pass"):
        open_context(settings)
