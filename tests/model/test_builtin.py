"""The checkpoint shipped in the package: found by name, verified, documented, and it fills real
LPRM days inside the product's range."""

from __future__ import annotations

import numpy as np
import pytest

from sgdsm_cloud import cube
from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.model.builtin import CARD, DEFAULT, available, checkpoints_dir, resolve_model
from sgdsm_cloud.model.checkpoint import WEIGHTS_FILE, load_checkpoint

NAME = "lprm-x-d-025"  # the first shipped model, still loadable
SHIPPED = {  # name: (training period, days its error model was fitted on)
    NAME: (["2015-04-01", "2015-04-10"], "2015-04-05 .. 2015-04-10"),
    "lprm-x-d-025-v2": (["2015-04-01", "2015-04-15"], "2015-04-05 .. 2015-04-15"),
}


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_each_lprm_x_band_model_ships_with_its_card_and_loads_by_name(name):
    assert name in available()
    folder = checkpoints_dir() / name
    assert (folder / WEIGHTS_FILE).stat().st_size < 5 * 2**20
    checkpoint = load_checkpoint(f"builtin:{name}")  # safetensors, SHA-256 checked
    assert checkpoint.config.variant == "anomaly"
    period, calibration_days = SHIPPED[name]
    assert checkpoint.provenance["train_period"] == period
    card = (folder / CARD).read_text()
    for fact in ("X band", "descending", "0.25", period[0], period[1], "RMSE", "out of domain"):
        assert fact in card, fact
    # its error model: JSON numbers, calibrated on days of its own training period
    assert checkpoint.uncertainty is not None
    calibration = checkpoint.uncertainty.calibration
    assert calibration["days"] == calibration_days
    assert calibration["model_sha256"] == checkpoint.sha256
    for fact in ("standard error", "coverage", "sm_uncertainty"):
        assert fact in card, fact


def test_the_default_is_the_model_trained_on_every_shipped_day_with_context():
    checkpoint = load_checkpoint(DEFAULT)
    assert DEFAULT == "builtin:lprm-x-d-025-v2"
    assert checkpoint.train_config is not None
    assert (
        checkpoint.train_config.context == 24 and checkpoint.train_config.validation_fraction == 0
    )
    first = load_checkpoint(f"builtin:{NAME}")
    assert first.config == checkpoint.config  # the same network: the same inference cost
    assert first.train_config is not None
    assert first.train_config.context == 0  # written before the option existed: its default
    assert first.sha256 != checkpoint.sha256


def test_an_unknown_name_lists_the_shipped_models():
    with pytest.raises(ConfigError, match=f"no built-in model 'nope'.*{NAME}"):
        resolve_model("builtin:nope")
    assert resolve_model("s3://bucket/model") == "s3://bucket/model"


def test_the_shipped_model_fills_real_days_inside_the_lprm_range(real_lprm_dir, tmp_path):
    from sgdsm_cloud import cli
    from sgdsm_cloud.fill.api import fill_dataset
    from sgdsm_cloud.fill.config import FillConfig
    from sgdsm_cloud.product import FLAG_FILLED, FLAG_OBSERVED

    store = tmp_path / "raw.zarr"
    files = sorted(real_lprm_dir.glob("*.nc4"))[:5]
    assert (
        cli.main(["-q", "ingest", "--store", str(store), "--variable", "x", *map(str, files)]) == 0
    )
    raw = cube.open_cube(str(store)).isel(lat=slice(400, 480), lon=slice(1160, 1280))  # Australia
    filled = fill_dataset(
        raw, DEFAULT, config=FillConfig(tile_days=5, tile_cells=120, batch_size=5)
    ).compute(scheduler="synchronous")
    flag, sm = filled.flag.values, filled.sm.values
    assert (flag == FLAG_FILLED).sum() > 1000
    observed = flag == FLAG_OBSERVED
    np.testing.assert_array_equal(sm[observed], raw.sm.values[observed])
    assert 0.0 <= np.nanmin(sm[flag == FLAG_FILLED]) and np.nanmax(sm[flag == FLAG_FILLED]) <= 0.99
    assert filled.sm.attrs["valid_max"] == 0.99
    sigma = filled.sm_uncertainty.values[flag == FLAG_FILLED]
    assert np.isfinite(sigma).all() and 0.001 <= sigma.min() and np.median(sigma) < 0.2
