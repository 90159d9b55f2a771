"""Checkpoints: safetensors + JSON round trips (local and S3); pickles and tampering refused."""

from __future__ import annotations

import hashlib
import io
import json
import pickle

import pytest
import torch

from model.weights import header_ending_in_0x80, repad_weights
from sgdsm_cloud.errors import CheckpointError
from sgdsm_cloud.model.checkpoint import (
    CONFIG_FILE,
    WEIGHTS_FILE,
    load_checkpoint,
    save_checkpoint,
    tensors_to_bytes,
    weights_format,
)
from sgdsm_cloud.model.config import ModelConfig, TrainConfig
from sgdsm_cloud.model.network import SGDSMNet

CONFIG = ModelConfig(layers=3, features=4)
PROVENANCE = {
    "store": "s3://cubes/raw.zarr",
    "train_period": ["2019-01-01", "2019-12-31"],
    "epochs": 3,
}


def saved(tmp_path, config=CONFIG):
    torch.manual_seed(0)
    model = SGDSMNet(config)
    sha = save_checkpoint(
        tmp_path / "model", model, config, PROVENANCE, train_config=TrainConfig(epochs=3)
    )
    return tmp_path / "model", model, sha


def outputs(model):
    g = torch.Generator().manual_seed(1)
    mask = (torch.rand(1, 1, 9, 8, 8, generator=g) > 0.4).float()
    with torch.no_grad():
        return model(torch.rand(1, 1, 9, 8, 8, generator=g) * mask, mask)[0]


@pytest.mark.parametrize("config", [CONFIG, ModelConfig(layers=4, features=6, variant="released")])
def test_round_trip_gives_the_same_model_config_and_provenance(tmp_path, config):
    path, model, sha = saved(tmp_path, config)
    checkpoint = load_checkpoint(path)
    assert checkpoint.config == config
    assert checkpoint.train_config == TrainConfig(epochs=3)
    assert checkpoint.provenance == PROVENANCE
    assert (
        checkpoint.sha256 == sha == hashlib.sha256((path / WEIGHTS_FILE).read_bytes()).hexdigest()
    )
    assert not checkpoint.model.training
    assert torch.equal(outputs(checkpoint.model), outputs(model))


@pytest.mark.s3
def test_round_trip_through_s3(s3):
    torch.manual_seed(0)
    model = SGDSMNet(CONFIG)
    url = s3.url("models/tiny")
    save_checkpoint(url, model, CONFIG, PROVENANCE, storage_options=s3.storage_options)
    assert s3.filesystem().exists(f"{s3.bucket}/models/tiny/{WEIGHTS_FILE}")
    checkpoint = load_checkpoint(url, storage_options=s3.storage_options)
    assert torch.equal(outputs(checkpoint.model), outputs(model))


def test_a_directory_of_pickled_weights_is_refused(tmp_path):
    torch.save(SGDSMNet(CONFIG).state_dict(), tmp_path / "model_500.pth")
    with pytest.raises(CheckpointError, match=r"pickled weights \(model_500.pth\)"):
        load_checkpoint(tmp_path)


def test_a_pickle_behind_the_safetensors_name_is_refused(tmp_path):
    path, model, _ = saved(tmp_path)
    torch.save(model.state_dict(), path / WEIGHTS_FILE)
    with pytest.raises(CheckpointError, match="pickled file"):
        load_checkpoint(path)


def test_modified_weights_are_refused(tmp_path):
    path, _, _ = saved(tmp_path)
    data = bytearray((path / WEIGHTS_FILE).read_bytes())
    data[-5] ^= 0xFF  # one byte of a weight
    (path / WEIGHTS_FILE).write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="SHA-256"):
        load_checkpoint(path)


def test_a_config_whose_shapes_do_not_match_the_weights_is_refused(tmp_path):
    path, _, _ = saved(tmp_path)
    document = json.loads((path / CONFIG_FILE).read_text())
    document["model"]["features"] = 5
    (path / CONFIG_FILE).write_text(json.dumps(document))
    with pytest.raises(CheckpointError, match="does not match its model config.*config needs"):
        load_checkpoint(path)


@pytest.mark.parametrize(
    "text, message",
    [
        ("{not json", "not valid JSON"),
        ('{"format": "other"}', "not an sgdsm checkpoint"),
        ("[]", "not an sgdsm"),
    ],
)
def test_broken_configs_are_refused(tmp_path, text, message):
    path, _, _ = saved(tmp_path)
    (path / CONFIG_FILE).write_text(text)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path)


def test_missing_directory_says_how_to_make_one(tmp_path):
    with pytest.raises(CheckpointError, match="sgdsm train"):
        load_checkpoint(tmp_path / "nothing")


def test_config_json_is_strict_json_with_nan_as_null(tmp_path):
    save_checkpoint(tmp_path, SGDSMNet(CONFIG), CONFIG, {"final_metrics": {"val_r": float("nan")}})
    document = json.loads((tmp_path / CONFIG_FILE).read_text(), parse_constant=pytest.fail)
    assert document["provenance"]["final_metrics"]["val_r"] is None


def test_weights_are_told_apart_by_their_structure_not_a_byte():
    tensors = {"w": torch.arange(6.0).reshape(2, 3)}
    data = tensors_to_bytes(tensors)
    assert weights_format(data) == "safetensors"
    assert weights_format(header_ending_in_0x80(data)) == "safetensors"  # first byte 0x80
    buffer = io.BytesIO()
    torch.save(tensors, buffer)
    assert weights_format(buffer.getvalue()) == "zip"
    assert weights_format(pickle.dumps(tensors, protocol=4)) == "pickle"
    assert weights_format(b"\x80\x04 not json") in ("pickle", "unknown")
    assert weights_format(b"") == "unknown"


def test_a_safetensors_file_whose_header_length_ends_in_0x80_loads(tmp_path):
    path, model, _ = saved(tmp_path)
    repad_weights(path)
    assert torch.equal(outputs(load_checkpoint(path).model), outputs(model))


def test_a_store_of_another_band_pass_or_grid_is_named():
    from sgdsm_cloud.model.checkpoint import source_mismatch, trained_on

    store = {"source_product": "lprm", "source_variable": "soil_moisture_c1",
             "source_pass": "D", "grid_resolution": 0.25}  # fmt: skip
    provenance = {"source": trained_on({**store, "source_variable": "soil_moisture_x"})}
    message = source_mismatch(provenance, store)
    assert message and "variable soil_moisture_c1 (trained on soil_moisture_x)" in message
    assert source_mismatch({"source": trained_on(store)}, store) is None
    assert source_mismatch({}, store) is None  # a checkpoint that does not record it


def test_the_builtin_model_records_what_it_was_trained_on():
    checkpoint = load_checkpoint("builtin:lprm-x-d-025")
    assert checkpoint.provenance["source"] == {
        "product": "lprm", "variable": "soil_moisture_x", "pass": "D", "resolution": 0.25
    }  # fmt: skip
