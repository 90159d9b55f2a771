"""Two-pass models in a fill: the other overpass travels with every tile, block-exact."""

from __future__ import annotations

import numpy as np
import pytest

from sgdsm_cloud.errors import ConfigError, StoreContractError
from sgdsm_cloud.fill.api import fill_dataset
from sgdsm_cloud.fill.config import FillConfig
from sgdsm_cloud.fill.executor import prepare_fill, run_fill
from sgdsm_cloud.product import FLAG_FILLED, compose, fill_land_mask, open_seamless
from sgdsm_cloud.storage import Location
from sgdsm_cloud.versioned.repository import Repository

from .conftest import make_raw, write_raw
from .test_api import assert_same_fill

TILES = FillConfig(tile_days=5, tile_cells=20, chunk_days=5, chunk_cells=20, batch_size=32)


@pytest.fixture(scope="module")
def passes():
    """The descending cube to fill and its ascending twin (other gaps, other values)."""
    descending, ascending = make_raw(days=12), make_raw(days=12, seed=1)
    descending.attrs["source_pass"], ascending.attrs["source_pass"] = "D", "A"
    return descending, ascending


@pytest.fixture(scope="module")
def two_pass_dir(tmp_path_factory):
    """A two-pass anomaly network with random weights everywhere."""
    import torch

    from sgdsm_cloud.model.checkpoint import save_checkpoint
    from sgdsm_cloud.model.config import ModelConfig
    from sgdsm_cloud.model.network import SGDSMNet

    torch.manual_seed(2)
    config = ModelConfig(layers=2, features=4, variant="anomaly", scales=(1.0, 2.0), passes=2)
    net = SGDSMNet(config)
    for param in net.parameters():
        torch.nn.init.normal_(param, std=0.3)
    path = tmp_path_factory.mktemp("two_pass_model")
    save_checkpoint(path, net, config, {"trained_on": "nothing: random weights for tests"})
    return path


def one_piece_two_pass(descending, ascending, model, halo):
    """Both passes in one model call on the whole globe (padded across the dateline)."""
    from sgdsm_cloud.model.infer import predict_days

    wrap = ((0, 0), (0, 0), (halo, halo))
    both = np.stack([np.pad(ds.sm.values, wrap, mode="wrap") for ds in (descending, ascending)])
    land = descending.land.values.astype(bool)
    padded_land = np.pad(land, ((0, 0), (halo, halo)), mode="wrap")
    pred, reached = predict_days(model, both, padded_land, range(both.shape[1]), batch_size=8)
    keep = slice(halo, halo + land.shape[1])
    fill_land = fill_land_mask(land, descending.lat.values, descending.lon.values)
    return compose(descending.sm.values, fill_land, pred[..., keep], reached[..., keep])


def test_a_two_pass_fill_is_block_exact_and_reads_the_other_pass(passes, two_pass_dir):
    from sgdsm_cloud.model.checkpoint import load_checkpoint

    descending, ascending = passes
    checkpoint = load_checkpoint(two_pass_dir)
    reference = one_piece_two_pass(
        descending, ascending, checkpoint.model, checkpoint.config.receptive_radius
    )
    filled = fill_dataset(descending, checkpoint, config=TILES, other_pass=ascending)
    filled = filled.compute(scheduler="synchronous")
    assert_same_fill(filled.sm.values, filled.flag.values, reference)
    blind = ascending.copy(deep=True)
    blind["sm"][:] = np.nan
    without = fill_dataset(descending, checkpoint, config=TILES, other_pass=blind)
    filled_cells = filled.flag.values == FLAG_FILLED
    moved = np.abs(without.sm.values - filled.sm.values)[filled_cells]
    assert filled_cells.sum() > 1000 and np.median(moved) > 1e-3


def test_the_distributed_two_pass_fill_equals_the_notebook_s(
    client, passes, two_pass_dir, tmp_path
):
    descending, ascending = passes
    source = Location(write_raw(descending, str(tmp_path / "descending.zarr")))
    other = Location(write_raw(ascending, str(tmp_path / "ascending.zarr")))
    out = Location(str(tmp_path / "out.zarr"))
    run_fill(source, out, Location(str(two_pass_dir)), TILES, client, other_pass=other)
    product = open_seamless(out.url)
    notebook = fill_dataset(descending, two_pass_dir, config=TILES, other_pass=ascending)
    np.testing.assert_array_equal(product.flag.values, notebook.flag.values)
    np.testing.assert_allclose(product.sm.values, notebook.sm.values, rtol=0, atol=1e-6)
    repository = Repository(out)
    record = repository.load(repository.head()).meta
    assert record["fingerprint"]["other_pass"] == other.url
    assert "reading the other overpass of the same days too" in product.attrs["summary"]


def test_a_fill_refuses_a_missing_mismatched_or_same_pass_other_cube(
    passes, two_pass_dir, model_dir, tmp_path
):
    descending, ascending = passes
    source = Location(write_raw(descending, str(tmp_path / "descending.zarr")))
    other = Location(write_raw(ascending, str(tmp_path / "ascending.zarr")))
    same = Location(write_raw(descending, str(tmp_path / "descending_again.zarr")))
    shorter = Location(write_raw(ascending.isel(time=slice(0, 10)), str(tmp_path / "short.zarr")))
    two_pass, one_pass = Location(str(two_pass_dir)), Location(str(model_dir))

    def prepare(model: Location, other_pass: Location | None) -> None:
        out = Location(str(tmp_path / "out.zarr"))
        prepare_fill(source, out, model, TILES, other_pass=other_pass)

    with pytest.raises(ConfigError, match="give the raw cube of the other pass"):
        prepare(two_pass, None)
    with pytest.raises(ConfigError, match="--other-pass was given"):
        prepare(one_pass, other)
    with pytest.raises(StoreContractError, match="short.zarr: its time axis differs"):
        prepare(two_pass, shorter)
    with pytest.raises(StoreContractError, match="holds the same pass"):
        prepare(two_pass, same)
    assert not (tmp_path / "out.zarr").exists()  # nothing written on refusal
