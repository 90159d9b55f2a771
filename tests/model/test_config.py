"""ModelConfig and TrainConfig: the paper's defaults, presets, checks, JSON round trips."""

from __future__ import annotations

import dataclasses

import pytest

from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.model.config import ModelConfig, TrainConfig, check_passes


def test_defaults_are_the_paper_configuration():
    config = ModelConfig()
    assert (config.layers, config.features, config.kernel, config.window, config.variant) == (
        11,
        90,
        3,
        9,
        "paper",
    )
    assert config.receptive_radius == 11
    assert config.half_window == 4
    assert ModelConfig.preset("paper") == config


def test_presets():
    small, released = ModelConfig.preset("small"), ModelConfig.preset("released")
    assert small.layers * small.features < 11 * 90 and small.receptive_radius == small.layers
    assert (released.variant, released.features, released.layers) == ("released", 64, 11)
    assert released.receptive_radius == 10  # two parallel first layers: 10 sequential ones
    anomaly = ModelConfig.preset("anomaly")
    assert (anomaly.variant, anomaly.layers, anomaly.features) == ("anomaly", 6, 32)
    assert anomaly.scales == (2.0, 4.0, 8.0)
    assert anomaly.receptive_radius == 24 + 6  # 3 sigma of the widest Gaussian, then 6 layers
    assert ModelConfig.preset("paper").scales == ()  # the paper's configuration is unchanged
    with pytest.raises(ConfigError, match="unknown model preset 'huge'"):
        ModelConfig.preset("huge")


@pytest.mark.parametrize(
    "kwargs, key",
    [
        ({"layers": 0}, "layers"),
        ({"features": 0}, "features"),
        ({"kernel": 4}, "kernel"),
        ({"window": 8}, "window"),
        ({"variant": "unet"}, "variant"),
        ({"variant": "released", "layers": 2}, "layers"),
        ({"variant": "released", "features": 63}, "features"),
        ({"variant": "anomaly"}, "scales"),
        ({"variant": "anomaly", "scales": (0.0,)}, "scales"),
        ({"variant": "paper", "scales": (2.0,)}, "scales"),
        ({"variant": "anomaly", "scales": (2.0,), "passes": 3}, "passes"),
        ({"passes": 2}, "passes"),  # only the anomaly variant reads the other overpass
    ],
)
def test_invalid_model_configs_name_the_key(kwargs, key):
    with pytest.raises(ConfigError, match=key):
        ModelConfig(**kwargs)


@pytest.mark.parametrize(
    "kwargs, key",
    [
        ({"patch": 0}, "patch"),
        ({"min_label_fraction": 0.0}, "min_label_fraction"),
        ({"min_neighbour_coverage": 1.5}, "min_neighbour_coverage"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"gap_bins": (0.5, 0.2)}, "gap_bins"),
        ({"samples_per_epoch": 0}, "samples_per_epoch"),
        ({"loss_weighted_term": "both"}, "loss_weighted_term"),
        ({"loss_norm": "huber"}, "loss_norm"),
        ({"batch_size": 0}, "batch_size"),
        ({"truncate_probability": 1.5}, "truncate_probability"),
    ],
)
def test_invalid_train_configs_name_the_key(kwargs, key):
    with pytest.raises(ConfigError, match=key):
        TrainConfig(**kwargs)


def test_train_defaults_follow_the_paper_where_it_is_explicit():
    config = TrainConfig()
    assert (config.patch, config.stride, config.batch_size, config.learning_rate) == (
        40,
        10,
        128,
        1e-3,
    )
    assert (config.loss_lambda, config.loss_weighted_term, config.loss_norm) == (
        0.1,
        "global",
        "l2",
    )


def test_configs_round_trip_through_dicts_and_reject_unknown_keys():
    model = ModelConfig.preset("released")
    train = TrainConfig(start="2019-01-01", gap_bins=[0.1, 0.5, 1.0], samples_per_epoch=256)
    assert ModelConfig.from_dict(model.to_dict()) == model
    assert TrainConfig.from_dict(train.to_dict()) == train
    with pytest.raises(ConfigError, match="unknown key"):
        ModelConfig.from_dict({**model.to_dict(), "depth": 3})


def test_the_two_pass_preset_is_anomaly_reading_the_other_overpass_and_one_pass_keeps_its_bytes():
    anomaly, two = ModelConfig.preset("anomaly"), ModelConfig.preset("anomaly-2pass")
    assert dataclasses.replace(two, passes=1) == anomaly and two.passes == 2
    assert two.receptive_radius == anomaly.receptive_radius  # the same halo in a fill
    # a one-pass config writes no 'passes' key: checkpoints saved before it keep their bytes
    assert "passes" not in anomaly.to_dict() and two.to_dict()["passes"] == 2
    assert ModelConfig.from_dict(two.to_dict()) == two
    assert ModelConfig.from_dict(anomaly.to_dict()) == anomaly


def test_a_two_pass_model_needs_the_other_pass_and_only_it_takes_one():
    check_passes(ModelConfig.preset("anomaly-2pass"), "ascending.zarr", "sgdsm fill")
    check_passes(ModelConfig.preset("anomaly"), None, "sgdsm fill")
    with pytest.raises(ConfigError, match="sgdsm fill: .*--other-pass"):
        check_passes(ModelConfig.preset("anomaly-2pass"), None, "sgdsm fill")
    with pytest.raises(ConfigError, match="--preset anomaly-2pass"):
        check_passes(ModelConfig.preset("anomaly"), "ascending.zarr", "sgdsm train")


def test_same_run_ignores_only_the_epoch_limit():
    config = TrainConfig(epochs=5)
    assert config.same_run_as(dataclasses.replace(config, epochs=50))
    assert not config.same_run_as(dataclasses.replace(config, seed=1))
