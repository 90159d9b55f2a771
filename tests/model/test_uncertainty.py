"""The error model: its fit, its JSON, its place in checkpoints and in the runner."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import torch

from sgdsm_cloud.errors import CheckpointError, ConfigError
from sgdsm_cloud.model.checkpoint import (
    CONFIG_FILE,
    WEIGHTS_FILE,
    load_checkpoint,
    save_checkpoint,
    save_uncertainty,
)
from sgdsm_cloud.model.config import ModelConfig
from sgdsm_cloud.model.infer import predict_days, run_days
from sgdsm_cloud.model.network import SGDSMNet
from sgdsm_cloud.model.runner import Predictor
from sgdsm_cloud.model.sigma_scores import calibration_scores
from sgdsm_cloud.model.uncertainty import (
    FEATURES,
    ErrorModel,
    fit_error_model,
)

TINY = ModelConfig(layers=2, features=6, variant="anomaly", scales=(1.0, 2.0))


def heteroscedastic(n=20_000, seed=0):
    """Features and Gaussian errors whose sigma depends on two of the features."""
    rng = np.random.default_rng(seed)
    features = rng.uniform(0, 1, (n, len(FEATURES)))
    sigma = 0.01 * np.exp(1.5 * features[:, 0] - 1.0 * features[:, 6] ** 2)
    return features, rng.normal(0, sigma), sigma


def error_model(scale=1.0):
    k = len(FEATURES)
    linear = [0.0] * k
    linear[0] = -1.0  # denser day, smaller error
    return ErrorModel(FEATURES, (0.0,) * k, (1.0,) * k, -3.0, tuple(linear), (0.0,) * k, scale)


def test_fit_recovers_a_known_sigma_and_covers_as_a_gaussian():
    features, errors, sigma = heteroscedastic()
    model = fit_error_model(features, errors)
    fitted = model.sigma_numpy(features)
    assert np.corrcoef(np.log(fitted), np.log(sigma))[0, 1] > 0.97
    scores = calibration_scores(errors, fitted)
    assert abs(scores.coverage[0] - 0.683) < 0.02 and abs(scores.coverage[1] - 0.954) < 0.02
    assert scores.spread_skill_r > 0.95
    assert model.calibration["fit"]["cells"] == errors.size


def test_features_are_clipped_to_the_calibration_range():
    model = error_model()
    inside = np.zeros((1, len(FEATURES)))
    far = inside.copy()
    far[0, 0] = -50.0  # clipped to 0
    assert model.sigma_numpy(far)[0] == pytest.approx(model.sigma_numpy(inside)[0])


def test_json_round_trip_and_torch_equals_numpy():
    model = error_model(scale=0.9)
    again = ErrorModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert again == model
    table = np.random.default_rng(2).uniform(0, 1, (3 * 4 * 5, len(FEATURES)))
    maps = torch.from_numpy(table.T.reshape(1, len(FEATURES), 3 * 4, 5).astype("float32"))
    np.testing.assert_allclose(
        model.sigma(maps).numpy().ravel(), model.sigma_numpy(table), rtol=1e-5
    )


def test_malformed_error_models_are_refused():
    with pytest.raises(ConfigError, match="format"):
        ErrorModel.from_dict({"format": "v0"})
    with pytest.raises(ConfigError, match="one number per feature"):
        ErrorModel(("spread",), (0.0,), (1.0,), 0.0, (1.0, 2.0), (0.0,))
    with pytest.raises(ConfigError, match="unknown features"):
        ErrorModel(("colour",), (0.0,), (1.0,), 0.0, (1.0,), (0.0,))


def window_input(seed=0, shape=(12, 30, 34)):
    rng = np.random.default_rng(seed)
    sm = rng.uniform(0.05, 0.5, shape).astype("float32")
    sm[rng.random(shape) > 0.5] = np.nan
    land = np.ones(shape[1:], dtype=bool)
    land[:, :4] = False
    return sm, land


def test_runner_gives_sigma_where_the_network_reaches_and_the_same_prediction():
    torch.manual_seed(0)
    plain = SGDSMNet(TINY)
    with_sigma = SGDSMNet(TINY, error_model())
    with_sigma.load_state_dict(plain.state_dict())
    sm, land = window_input()
    days = [0, 5, 11]
    pred, reached = predict_days(plain, sm, land, days)
    result = Predictor(with_sigma, batch_size=4).run(sm, land, days)
    np.testing.assert_array_equal(result.pred, pred)  # the mean path does not move
    np.testing.assert_array_equal(result.reached, reached)
    assert result.sigma is not None
    assert (result.sigma[reached] > 0).all() and np.isnan(result.sigma[~reached]).all()
    assert Predictor(plain).run(sm, land, days).sigma is None
    assert Predictor(with_sigma).has_uncertainty and not Predictor(plain).has_uncertainty


def test_sigma_does_not_depend_on_the_batch():
    model = SGDSMNet(TINY, error_model())
    sm, land = window_input(seed=3)
    one = run_days(model, sm, land, [2, 6, 9], batch_size=1).sigma
    three = run_days(model, sm, land, [2, 6, 9], batch_size=3).sigma
    np.testing.assert_allclose(one, three, rtol=1e-6)


def test_features_track_the_distance_to_the_days_observations():
    """Deep inside a hole of the centre day, the density features fall to 0."""
    sm, land = window_input(seed=4)
    sm[4, 5:25, 10:30] = np.nan
    result = run_days(SGDSMNet(TINY), sm, land, [4], extra="features")
    assert result.features is not None and result.features.shape[1] == len(FEATURES)
    density = result.features[0, FEATURES.index("density_large")]
    assert density[15, 20] < 0.05 < 0.3 < density[2, 20]


def test_error_model_needs_the_anomaly_variant():
    with pytest.raises(ConfigError, match="anomaly"):
        SGDSMNet(ModelConfig(layers=2, features=4), error_model())


def test_checkpoint_carries_the_error_model_without_touching_the_weights(tmp_path):
    torch.manual_seed(0)
    model = SGDSMNet(TINY)
    sha = save_checkpoint(tmp_path / "m", model, TINY, {"epochs": 1})
    assert load_checkpoint(tmp_path / "m").uncertainty is None
    save_uncertainty(tmp_path / "m", error_model(0.8))
    loaded = load_checkpoint(tmp_path / "m")
    assert loaded.sha256 == sha
    assert hashlib.sha256((tmp_path / "m" / WEIGHTS_FILE).read_bytes()).hexdigest() == sha
    assert loaded.uncertainty == error_model(0.8) and loaded.model.uncertainty == loaded.uncertainty
    document = json.loads((tmp_path / "m" / CONFIG_FILE).read_text())
    assert document["uncertainty"]["scale"] == 0.8
    save_uncertainty(tmp_path / "m", None)
    assert load_checkpoint(tmp_path / "m").uncertainty is None


def test_error_model_on_a_paper_checkpoint_is_refused(tmp_path):
    config = ModelConfig(layers=2, features=4)
    save_checkpoint(tmp_path / "p", SGDSMNet(config), config, {})
    with pytest.raises(CheckpointError, match="anomaly"):
        save_uncertainty(tmp_path / "p", error_model())
    document = json.loads((tmp_path / "p" / CONFIG_FILE).read_text())
    document["uncertainty"] = error_model().to_dict()
    (tmp_path / "p" / CONFIG_FILE).write_text(json.dumps(document))
    with pytest.raises(CheckpointError, match="anomaly"):
        load_checkpoint(tmp_path / "p")
