"""Self-supervised training end to end on small synthetic stores: learning, resume, stop rule."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from sgdsm_cloud.errors import ConfigError, StoreContractError
from sgdsm_cloud.metrics import score
from sgdsm_cloud.model.checkpoint import CONFIG_FILE, load_checkpoint
from sgdsm_cloud.model.config import ModelConfig, TrainConfig
from sgdsm_cloud.model.infer import predict_days
from sgdsm_cloud.model.network import SGDSMNet
from sgdsm_cloud.model.train import train
from sgdsm_cloud.storage import Location

from .cubes import smooth_cube, write_cube

TINY = ModelConfig(layers=2, features=4)
FAST = TrainConfig(
    patch=16, stride=4, min_label_fraction=0.7, batch_size=16, epochs=2, learning_rate=3e-3
)


def removed_squares(observed: np.ndarray, days: range, size: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    removed = np.zeros(observed.shape, dtype=bool)
    for day in days:
        for _ in range(3):
            r, c = (
                rng.integers(0, observed.shape[1] - size),
                rng.integers(3, observed.shape[2] - size - 6),
            )
            removed[day, r : r + size, c : c + size] = np.isfinite(
                observed[day, r : r + size, c : c + size]
            )
    return removed


def gap_r(model: SGDSMNet, truth, observed, land, removed, days) -> float:
    hidden = np.where(removed, np.nan, observed)
    pred, reached = predict_days(model, hidden, land, days)
    cells = removed[days] & reached
    return score(pred[cells], truth[days][cells]).r


def test_training_improves_gap_r_over_the_untrained_model(synthetic_store, tmp_path):
    url, truth, observed, land = synthetic_store
    model_config = ModelConfig(layers=3, features=8)
    result = train(
        Location(url),
        Location(str(tmp_path)),
        model_config,
        dataclasses.replace(FAST, epochs=8),
        device="cpu",
    )
    days = list(range(12, 16))  # the held-out validation days
    removed = removed_squares(observed, range(12, 16), 10, seed=5)
    torch.manual_seed(FAST.seed)
    untrained = gap_r(SGDSMNet(model_config), truth, observed, land, removed, days)
    trained = gap_r(load_checkpoint(tmp_path).model, truth, observed, land, removed, days)
    assert trained > 0.5 and trained > untrained + 0.3
    assert result.epochs == 8 and result.history[-1].val_rmse < result.history[0].val_rmse


def test_checkpoint_records_the_training_provenance(synthetic_store, tmp_path):
    url = synthetic_store[0]
    train(
        Location(url),
        Location(str(tmp_path)),
        TINY,
        dataclasses.replace(FAST, epochs=1),
        device="cpu",
    )
    checkpoint = load_checkpoint(tmp_path)
    provenance = checkpoint.provenance
    assert provenance["store"] == url
    assert provenance["train_period"] == ["2019-01-01", "2019-01-16"]
    assert provenance["validation_centre_days"] == ["2019-01-14", "2019-01-16"]
    assert provenance["epochs"] == 1 and provenance["code_version"]
    assert set(provenance["final_metrics"]) >= {"loss", "val_r", "val_rmse", "val_mae"}
    assert checkpoint.train_config == dataclasses.replace(FAST, epochs=1)


def test_a_resumed_run_equals_an_uninterrupted_one(synthetic_store, tmp_path):
    store = Location(synthetic_store[0])
    config = dataclasses.replace(FAST, epochs=3, samples_per_epoch=24)
    straight = train(store, Location(str(tmp_path / "a")), TINY, config, device="cpu")
    train(
        store,
        Location(str(tmp_path / "b")),
        TINY,
        dataclasses.replace(config, epochs=2),
        device="cpu",
    )
    resumed = train(store, Location(str(tmp_path / "b")), TINY, config, device="cpu")
    a, b = load_checkpoint(tmp_path / "a"), load_checkpoint(tmp_path / "b")
    for name, value in a.model.state_dict().items():
        torch.testing.assert_close(b.model.state_dict()[name], value, rtol=0, atol=0)
    assert [h.loss for h in resumed.history] == [h.loss for h in straight.history]
    assert sorted(p.name for p in (tmp_path / "b" / "resume").iterdir()) == [
        "epoch-00003.safetensors",
        "state.json",
    ]


def test_a_converged_run_stops_early_and_is_not_trained_again(synthetic_store, tmp_path):
    store, out = Location(synthetic_store[0]), Location(str(tmp_path))
    # tolerance 1: every epoch after the first improvement counts as a plateau
    config = dataclasses.replace(FAST, epochs=12, patience=1, tolerance=1.0, lr_drops=2)
    first = train(store, out, TINY, config, device="cpu")
    assert first.converged and first.epochs < 12
    lrs = [h.lr for h in first.history]
    assert lrs[0] == FAST.learning_rate and lrs[-1] == pytest.approx(FAST.learning_rate * 0.2**2)
    assert lrs == sorted(lrs, reverse=True)  # the learning rate only ever drops
    sha = load_checkpoint(tmp_path).sha256
    again = train(store, out, TINY, config, device="cpu")
    assert again.epochs == first.epochs and load_checkpoint(tmp_path).sha256 == sha


def test_resuming_with_other_settings_is_refused(synthetic_store, tmp_path):
    store, out = Location(synthetic_store[0]), Location(str(tmp_path))
    train(store, out, TINY, dataclasses.replace(FAST, epochs=1), device="cpu")
    with pytest.raises(ConfigError, match="other settings"):
        train(
            store, out, TINY, dataclasses.replace(FAST, epochs=2, learning_rate=0.1), device="cpu"
        )


def test_thresholds_that_leave_no_patch_say_what_to_lower(tmp_path):
    _, observed, land = smooth_cube(days=6, ny=20, nx=20)
    url = write_cube(tmp_path / "raw.zarr", observed, land)
    config = dataclasses.replace(FAST, min_label_fraction=1.0, min_land_fraction=1.0)
    with pytest.raises(ConfigError, match="no training patch.*lower them"):
        train(Location(url), Location(str(tmp_path / "m")), TINY, config, device="cpu")


@pytest.mark.s3
def test_trains_from_and_to_s3(s3, tmp_path):
    _, observed, land = smooth_cube(days=10, ny=24, nx=32)
    local = write_cube(tmp_path / "raw.zarr", observed, land)
    s3.filesystem().put(local, f"{s3.bucket}/cubes/", recursive=True)
    store = Location(s3.url("cubes/raw.zarr"), s3.storage_options)
    out = Location(s3.url("models/tiny"), s3.storage_options)
    result = train(store, out, TINY, dataclasses.replace(FAST, epochs=1), device="cpu")
    checkpoint = load_checkpoint(out)
    assert result.epochs == 1 and checkpoint.provenance["store"] == s3.url("cubes/raw.zarr")
    state = json.loads(s3.filesystem().cat_file(f"{s3.bucket}/models/tiny/resume/state.json"))
    assert state["epochs_done"] == 1
    assert s3.filesystem().exists(f"{s3.bucket}/models/tiny/{CONFIG_FILE}")


@pytest.mark.gpu
def test_trains_and_predicts_on_cuda_with_bf16_autocast(synthetic_store, tmp_path):
    url, _, observed, land = synthetic_store
    result = train(Location(url), Location(str(tmp_path)), TINY, FAST, device="cuda")
    assert all(np.isfinite(h.loss) for h in result.history)
    checkpoint = load_checkpoint(tmp_path, device="cuda")
    on_gpu, reached_gpu = predict_days(
        checkpoint.model, observed, land, [8], device="cuda", amp=True
    )
    on_cpu, reached_cpu = predict_days(load_checkpoint(tmp_path).model, observed, land, [8])
    np.testing.assert_array_equal(reached_gpu, reached_cpu)
    np.testing.assert_allclose(on_gpu[reached_cpu], on_cpu[reached_cpu], atol=0.02)


def test_a_two_pass_model_learns_to_read_the_other_overpass(synthetic_store, tmp_path):
    """The other pass's swaths lie elsewhere (and it reads 0.03 wetter): once trained, the
    two-pass network fills the descending gaps better with it than without it."""
    url, truth, observed, land = synthetic_store
    elsewhere = np.roll(np.isfinite(observed), 12, axis=2)
    ascending = np.where(elsewhere & land, truth + 0.03, np.nan).astype("float32")
    other = write_cube(tmp_path / "ascending.zarr", ascending, land)
    config = ModelConfig(layers=3, features=8, variant="anomaly", scales=(1.0, 2.0), passes=2)
    train(
        Location(url),
        Location(str(tmp_path / "m")),
        config,
        dataclasses.replace(FAST, epochs=6),
        device="cpu",
        other_pass=Location(other),
    )
    checkpoint = load_checkpoint(tmp_path / "m")
    assert checkpoint.config.passes == 2 and checkpoint.provenance["other_pass"]["store"] == other
    days = list(range(12, 16))
    removed = removed_squares(observed, range(12, 16), 10, seed=5)
    hidden = np.where(removed, np.nan, observed)
    rmse = {}
    for name, seen in (("with", ascending), ("without", np.full_like(ascending, np.nan))):
        pred, reached = predict_days(checkpoint.model, np.stack([hidden, seen]), land, days)
        cells = removed[days] & reached
        rmse[name] = score(pred[cells], truth[days][cells]).rmse
    assert rmse["with"] < 0.8 * rmse["without"]  # 0.69 x when written


def test_the_other_pass_must_match_the_days_and_a_one_pass_model_refuses_it(
    synthetic_store, tmp_path
):
    url, _, observed, land = synthetic_store
    shifted = write_cube(tmp_path / "later.zarr", observed, land, start="2019-01-02")
    two_pass = ModelConfig(variant="anomaly", layers=2, features=4, scales=(1.0,), passes=2)
    with pytest.raises(StoreContractError, match="later.zarr: its time axis differs"):
        train(
            Location(url), Location(str(tmp_path / "a")), two_pass, FAST, device="cpu",
            other_pass=Location(shifted),
        )  # fmt: skip
    with pytest.raises(ConfigError, match="--other-pass was given"):
        train(
            Location(url), Location(str(tmp_path / "b")), TINY, FAST, device="cpu",
            other_pass=Location(url),
        )  # fmt: skip
    with pytest.raises(ConfigError, match="give the raw cube of the other pass"):
        train(Location(url), Location(str(tmp_path / "c")), two_pass, FAST, device="cpu")
