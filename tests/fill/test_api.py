"""The lazy notebook API: block-by-block equals one piece, whatever the tiling."""

from __future__ import annotations

import numpy as np
import pytest

from sgdsm_cloud.fill.api import fill_dataset
from sgdsm_cloud.fill.config import FillConfig
from sgdsm_cloud.product import FLAG_FILLED, FLAG_NOT_FILLED, FLAG_NOT_LAND, FLAG_OBSERVED

from .conftest import make_raw, one_piece_fill

BATCH = 32  # one model call per tile: the tiny test network's cost is per call, not per day


def assert_same_fill(sm, flag, reference) -> None:
    ref_sm, ref_flag = reference
    np.testing.assert_array_equal(flag, ref_flag)
    np.testing.assert_array_equal(np.isnan(sm), np.isnan(ref_sm))
    assert np.nanmax(np.abs(sm - ref_sm)) <= 1e-5


@pytest.fixture(scope="module")
def global_raw():
    return make_raw(days=24)


@pytest.fixture(scope="module")
def global_reference(global_raw, checkpoint):
    return one_piece_fill(global_raw, checkpoint.model, checkpoint.config.receptive_radius)


@pytest.mark.parametrize(
    ("tile_days", "tile_cells"),
    [
        (24, 96),  # one tile: its halo wraps the whole globe onto itself
        (10, 20),  # remainders on every axis; dateline tiles read both sides
        (5, 32),
    ],
)
def test_block_by_block_equals_one_piece_on_a_global_grid(
    global_raw, global_reference, checkpoint, tile_days, tile_cells
):
    config = FillConfig(tile_days=tile_days, tile_cells=tile_cells, batch_size=BATCH)
    filled = fill_dataset(global_raw, checkpoint, config=config).compute(scheduler="synchronous")
    assert_same_fill(filled.sm.values, filled.flag.values, global_reference)


def test_block_by_block_equals_one_piece_on_a_regional_grid_with_tiles_near_the_halo_size(
    checkpoint, model_dir
):
    raw = make_raw(days=6, lon_cells=slice(14, 38))  # 24 columns: longitude is not periodic
    reference = one_piece_fill(raw, checkpoint.model, checkpoint.config.receptive_radius)
    config = FillConfig(tile_days=6, tile_cells=4, batch_size=BATCH)  # tiles of 4 cells, halo of 3
    filled = fill_dataset(raw, model_dir, config=config).compute(scheduler="synchronous")
    assert_same_fill(filled.sm.values, filled.flag.values, reference)


def test_the_reference_cube_exercises_every_flag(global_reference):
    _, flag = global_reference
    assert set(np.unique(flag)) == {FLAG_NOT_LAND, FLAG_OBSERVED, FLAG_FILLED, FLAG_NOT_FILLED}


def test_result_is_lazy_chunked_by_tile_and_cut_to_the_requested_days(global_raw, checkpoint):
    filled = fill_dataset(
        global_raw,
        checkpoint,
        start="2015-03-05",
        end="2015-03-14",
        config=FillConfig(tile_days=4, tile_cells=24),
    )
    assert filled.sm.chunks == ((4, 4, 2), (24, 24), (24, 24, 24, 24))
    assert str(filled.time.values[0])[:10] == "2015-03-05" and filled.sizes["time"] == 10
    assert filled.attrs["time_coverage_start"] == "2015-03-05"
    assert filled.attrs["model_sha256"] == checkpoint.sha256
    whole = fill_dataset(global_raw, checkpoint, config=FillConfig(tile_days=4, tile_cells=24))
    np.testing.assert_array_equal(filled.flag.values, whole.flag.isel(time=slice(4, 14)).values)


@pytest.fixture(scope="module")
def anomaly_model_dir(tmp_path_factory):
    """The anomaly variant with random weights everywhere (its CNN starts at zero otherwise)."""
    import torch

    from sgdsm_cloud.model.checkpoint import save_checkpoint
    from sgdsm_cloud.model.config import ModelConfig
    from sgdsm_cloud.model.network import SGDSMNet

    torch.manual_seed(1)
    config = ModelConfig(layers=2, features=4, variant="anomaly", scales=(1.0, 2.0))
    net = SGDSMNet(config)
    for param in net.parameters():
        torch.nn.init.normal_(param, std=0.3)
    path = tmp_path_factory.mktemp("anomaly_model")
    save_checkpoint(
        path,
        net,
        config,
        {"trained_on": "nothing: random weights for tests"},
        uncertainty=test_error_model(),
    )
    return path


@pytest.fixture(scope="module")
def anomaly_checkpoint(anomaly_model_dir):
    from sgdsm_cloud.model.checkpoint import load_checkpoint

    return load_checkpoint(anomaly_model_dir)


def test_error_model():
    """An error model whose sigma grows with the distance to the day's observations."""
    from sgdsm_cloud.model.uncertainty import FEATURES, ErrorModel

    k = len(FEATURES)
    linear = [0.0] * k
    linear[FEATURES.index("density_large")] = -2.0
    linear[FEATURES.index("spread")] = 0.5
    return ErrorModel(FEATURES, (0.0,) * k, (5.0,) * k, -3.0, tuple(linear), (0.0,) * k, 0.9)


test_error_model.__test__ = False  # a helper, not a test


def one_piece_sigma(raw, model, halo_cells):
    """The network's sigma of every day in one call (a global grid padded periodically)."""
    from sgdsm_cloud.model.infer import run_days

    sm = np.pad(raw.sm.values, ((0, 0), (0, 0), (halo_cells, halo_cells)), mode="wrap")
    land = np.pad(raw.land.values.astype(bool), ((0, 0), (halo_cells, halo_cells)), mode="wrap")
    sigma = run_days(model, sm, land, range(sm.shape[0]), batch_size=8).sigma
    return sigma[..., halo_cells : halo_cells + raw.sizes["lon"]]


@pytest.mark.parametrize(("tile_days", "tile_cells"), [(10, 20), (24, 96)])
def test_the_anomaly_variant_is_block_exact_across_the_dateline(
    global_raw, anomaly_checkpoint, tile_days, tile_cells
):
    halo = anomaly_checkpoint.config.receptive_radius
    assert halo == 8  # 6 cells of Gaussian context, then 2 layers
    reference = one_piece_fill(global_raw, anomaly_checkpoint.model, halo)
    config = FillConfig(tile_days=tile_days, tile_cells=tile_cells, batch_size=BATCH)
    filled = fill_dataset(global_raw, anomaly_checkpoint, config=config)
    filled = filled.compute(scheduler="synchronous")
    assert_same_fill(filled.sm.values, filled.flag.values, reference)
    assert (filled.flag.values == FLAG_FILLED).sum() > 1000
    # the standard errors are block-exact too: the tiles' equal the one-piece run's
    sigma = one_piece_sigma(global_raw, anomaly_checkpoint.model, halo)
    flag, unc = filled.flag.values, filled.sm_uncertainty.values
    np.testing.assert_allclose(unc[flag == FLAG_FILLED], sigma[flag == FLAG_FILLED], rtol=1e-5)
    assert (unc[flag == FLAG_FILLED] > 0).all() and np.isnan(unc[flag != FLAG_FILLED]).all()
    assert "standard error predicted" in filled.sm_uncertainty.attrs["comment"]


def test_observed_values_take_the_raw_cubes_error_estimate(anomaly_checkpoint):
    raw = make_raw(days=6, lon_cells=slice(14, 38))
    error = np.random.default_rng(3).uniform(0.01, 0.05, raw.sm.shape).astype("float32")
    raw["sm_error"] = raw.sm.copy(data=error)
    config = FillConfig(tile_days=3, tile_cells=12, batch_size=BATCH)
    filled = fill_dataset(raw, anomaly_checkpoint, start="2015-03-02", config=config)
    filled = filled.compute(scheduler="synchronous")
    flag, unc = filled.flag.values, filled.sm_uncertainty.values
    observed = flag == FLAG_OBSERVED
    np.testing.assert_array_equal(unc[observed], error[1:][observed])
    assert (unc[flag == FLAG_FILLED] > 0).all()
    assert "source product's own error estimate" in filled.sm_uncertainty.attrs["comment"]
    assert filled.sm.attrs["ancillary_variables"] == "flag sm_uncertainty"


def test_without_an_error_model_filled_values_have_no_uncertainty(global_raw, checkpoint):
    config = FillConfig(tile_days=24, tile_cells=48, batch_size=BATCH)
    filled = fill_dataset(global_raw, checkpoint, config=config).compute(scheduler="synchronous")
    assert np.isnan(filled.sm_uncertainty.values).all()  # no error model, no sm_error
    assert filled.sm_uncertainty.chunks == filled.sm.chunks
    comment = filled.sm_uncertainty.attrs["comment"]
    assert "no error model" in comment and "no error estimate" in comment
    assert filled.sm_uncertainty.attrs["standard_name"] == (
        "volume_fraction_of_condensed_water_in_soil standard_error"
    )
