"""Model checkpoints as safetensors + JSON: weights that cannot run code when loaded.

A checkpoint is a directory (local path or fsspec URL, e.g. ``s3://models/sgdsm``) holding:

* ``model.safetensors``: the weights;
* ``config.json``: the model config, the training config, provenance (training store, periods,
  epochs, final metrics, code version), the SHA-256 of the weights file and, for the
  ``anomaly`` variant, optionally ``uncertainty``: the error model's few numbers
  (:class:`~sgdsm_cloud.model.uncertainty.ErrorModel`), which give each output a standard error.

Loading never unpickles. It refuses, with :class:`~sgdsm_cloud.errors.CheckpointError`, a
directory holding only pickled weights (``.pth``, ``.pt``, ...), a weights file that is a pickle
or whose SHA-256 differs from the recorded one, and weights whose names or shapes do not match
the recorded model config.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from typing import Any

import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from sgdsm_cloud.errors import CheckpointError, ConfigError
from sgdsm_cloud.model.builtin import resolve_model
from sgdsm_cloud.model.config import ModelConfig, TrainConfig
from sgdsm_cloud.model.network import SGDSMNet
from sgdsm_cloud.model.uncertainty import ErrorModel
from sgdsm_cloud.outputs import Folder, OutputKind
from sgdsm_cloud.storage import Location

WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
RESUME_DIR = "resume"  # the training state (model.resume)
MODEL_CARD = "MODEL_CARD.md"
FORMAT = "sgdsm-checkpoint"
FORMAT_VERSION = 1
PICKLE_SUFFIXES = (".pth", ".pt", ".pkl", ".pickle", ".ckpt", ".bin", ".tar")
ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")  # torch.save writes a zip archive

PathLike = str | os.PathLike[str] | Location
log = logging.getLogger(__name__)


def _is_checkpoint(folder: Folder) -> bool:
    """A folder 'sgdsm train' wrote: an sgdsm config.json, or the resume state of a first
    epoch that has not ended yet."""
    config = folder.read_json(CONFIG_FILE)
    if isinstance(config, dict) and config.get("format") == FORMAT:
        return True
    return folder.names == {RESUME_DIR}


CHECKPOINT = OutputKind(
    "checkpoint",
    "sgdsm train",
    _is_checkpoint,
    {WEIGHTS_FILE, CONFIG_FILE, RESUME_DIR, MODEL_CARD}.__contains__,
)


@dataclass(frozen=True)
class Checkpoint:
    """A loaded checkpoint.

    Attributes:
        model: the network in eval mode on the requested device.
        config: its :class:`ModelConfig`.
        provenance: what the model was trained on and how well it did.
        sha256: SHA-256 of ``model.safetensors`` (for product provenance attributes).
        train_config: the :class:`TrainConfig` it was trained with, when recorded.
        uncertainty: the error model (also attached to ``model``), when calibrated.
    """

    model: SGDSMNet
    config: ModelConfig
    provenance: dict[str, Any]
    sha256: str
    train_config: TrainConfig | None = field(default=None)
    uncertainty: ErrorModel | None = field(default=None)


def save_checkpoint(
    model_dir: PathLike,
    model: torch.nn.Module,
    config: ModelConfig,
    provenance: dict[str, Any],
    *,
    train_config: TrainConfig | None = None,
    storage_options: dict[str, Any] | None = None,
    uncertainty: ErrorModel | None = None,
) -> str:
    """Write ``model.safetensors`` then ``config.json``; returns the weights' SHA-256."""
    location = as_location(model_dir, storage_options)
    weights = tensors_to_bytes(model.state_dict())
    sha256 = hashlib.sha256(weights).hexdigest()
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "weights": {"file": WEIGHTS_FILE, "sha256": sha256},
        "model": config.to_dict(),
        "train": train_config.to_dict() if train_config else None,
        "provenance": provenance,
    }
    if uncertainty is not None:
        document["uncertainty"] = uncertainty.to_dict()
    write_bytes(location.child(WEIGHTS_FILE), weights)
    write_bytes(location.child(CONFIG_FILE), json_bytes(document))
    return sha256


def save_uncertainty(
    model_dir: PathLike,
    error_model: ErrorModel | None,
    *,
    storage_options: dict[str, Any] | None = None,
) -> None:
    """Write (or with None remove) the error model in ``config.json``; the weights, their
    SHA-256 and everything else stay as they are."""
    location = as_location(model_dir, storage_options)
    document = _read_config(location)
    if error_model is not None and document["model"].get("variant") != "anomaly":
        raise CheckpointError(
            f"{location.url}: an error model needs the 'anomaly' variant, this checkpoint is "
            f"{document['model'].get('variant', 'paper')!r}"
        )
    document.pop("uncertainty", None)
    if error_model is not None:
        document["uncertainty"] = error_model.to_dict()
    write_bytes(location.child(CONFIG_FILE), json_bytes(document))


def load_checkpoint(
    model_dir: PathLike,
    device: str | torch.device = "cpu",
    *,
    storage_options: dict[str, Any] | None = None,
) -> Checkpoint:
    """Load and verify a checkpoint directory (see the module docstring for what is refused)."""
    location = as_location(model_dir, storage_options)
    document = _read_config(location)
    try:
        config = ModelConfig.from_dict(document["model"])
        train_config = TrainConfig.from_dict(document["train"]) if document.get("train") else None
    except ConfigError as err:
        raise CheckpointError(f"{location.child(CONFIG_FILE)}: {err}") from None
    weights_location = location.child(WEIGHTS_FILE)
    state = bytes_to_tensors(
        read_bytes(weights_location), document["weights"]["sha256"], str(weights_location)
    )
    try:
        uncertainty = (
            ErrorModel.from_dict(document["uncertainty"]) if document.get("uncertainty") else None
        )
        model = SGDSMNet(config, uncertainty)
    except ConfigError as err:
        raise CheckpointError(f"{location.child(CONFIG_FILE)}: {err}") from None
    check_state_matches(model, state, str(weights_location))
    model.load_state_dict(state)
    model.to(device).eval()
    return Checkpoint(
        model,
        config,
        document.get("provenance", {}),
        document["weights"]["sha256"],
        train_config,
        uncertainty,
    )


# What a model was trained on, from the raw cube's attributes: a model fills a store of
# another band, pass or grid without error, but its values are then out of its domain.
SOURCE_ATTRS = {
    "product": "source_product",
    "variable": "source_variable",
    "pass": "source_pass",
    "resolution": "grid_resolution",
}


def trained_on(cube_attrs: dict[str, Any]) -> dict[str, Any]:
    """The source identity of a raw cube (its product, variable, pass and grid) as a
    checkpoint's provenance records it."""
    return {key: cube_attrs[attr] for key, attr in SOURCE_ATTRS.items() if attr in cube_attrs}


def warn_if_out_of_domain(checkpoint: Checkpoint, cube_attrs: dict[str, Any], model: str) -> None:
    """Log a warning when the store's band, pass or grid differs from the model's training."""
    mismatch = source_mismatch(checkpoint.provenance, cube_attrs)
    if mismatch:
        log.warning("model %s: %s", model, mismatch)


def source_mismatch(provenance: dict[str, Any], cube_attrs: dict[str, Any]) -> str | None:
    """One line saying how the store differs from what the model was trained on (its band,
    pass or grid), or None when they agree or the checkpoint does not record it."""
    recorded = provenance.get("source")
    if not isinstance(recorded, dict):
        return None
    store = trained_on(cube_attrs)
    differs = [
        f"{key} {store[key]} (trained on {recorded[key]})"
        for key in SOURCE_ATTRS
        if key in recorded and key in store and str(recorded[key]) != str(store[key])
    ]
    if not differs:
        return None
    return (
        f"the store differs from what the model was trained on: {', '.join(differs)}; its "
        "filled values are out of its domain (train a model on this store with 'sgdsm train')"
    )


def as_location(model_dir: PathLike, storage_options: dict[str, Any] | None = None) -> Location:
    """A :class:`Location` for a path, URL, ``builtin:NAME`` or Location (explicit options win)."""
    if isinstance(model_dir, Location):
        return Location(model_dir.url, {**model_dir.storage_options, **(storage_options or {})})
    url = resolve_model(os.fspath(model_dir))
    return Location(url if "://" in url else os.path.abspath(url), dict(storage_options or {}))


def tensors_to_bytes(tensors: dict[str, torch.Tensor]) -> bytes:
    """safetensors bytes of CPU copies of ``tensors``."""
    return save_tensors(
        {k: v.detach().cpu().contiguous() for k, v in tensors.items()}, metadata={"format": "pt"}
    )


def weights_format(data: bytes) -> str:
    """What a weights file is, by its structure: ``"safetensors"``, ``"zip"`` (torch.save),
    ``"pickle"`` or ``"unknown"``. Pure.

    A safetensors file is an 8-byte little-endian header length N, then N bytes of a JSON
    object. Its first byte is the low byte of N, so it can be any value, 0x80 (a pickle's
    PROTO opcode) included: the whole structure decides, never one byte.
    """
    if len(data) >= 10:
        length = int.from_bytes(data[:8], "little")
        if 2 <= length <= len(data) - 8 and data[8:9] == b"{":
            try:
                header = json.loads(data[8 : 8 + length])
            except (UnicodeDecodeError, json.JSONDecodeError):
                header = None
            if isinstance(header, dict):
                return "safetensors"
    if data.startswith(ZIP_SIGNATURES):
        return "zip"
    if len(data) >= 3 and data[0] == 0x80 and 2 <= data[1] <= 5 and data.rstrip().endswith(b"."):
        return "pickle"  # PROTO 2-5 ... STOP
    return "unknown"


def bytes_to_tensors(data: bytes, sha256: str, source: str) -> dict[str, torch.Tensor]:
    """Verify and parse safetensors bytes; refuse pickles and files that differ from ``sha256``."""
    kind = weights_format(data)
    if kind in ("zip", "pickle"):
        what = "a torch.save zip archive" if kind == "zip" else "pickle protocol >= 2"
        raise CheckpointError(
            f"{source} is a pickled file ({what}), not safetensors; pickles are never loaded because "
            "they can run code. Re-save the weights with safetensors (as 'sgdsm train' does)."
        )
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise CheckpointError(
            f"{source}: SHA-256 {actual[:12]}... differs from the recorded "
            f"{str(sha256)[:12]}...; the weights were modified or belong to another config.json. "
            "Use the directory as written by "
            "'sgdsm train'."
        )
    if kind != "safetensors":
        raise CheckpointError(f"{source} is not a valid safetensors file (no JSON header)")
    try:
        return load_tensors(data)
    except Exception as err:  # safetensors raises its own error types
        raise CheckpointError(f"{source} is not a valid safetensors file ({err})") from None


def check_state_matches(
    model: torch.nn.Module, state: dict[str, torch.Tensor], source: str
) -> None:
    """Raise CheckpointError when ``state``'s tensor names or shapes differ from ``model``'s."""
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in state.items()}
    if expected == found:
        return
    missing = sorted(set(expected) - set(found))
    extra = sorted(set(found) - set(expected))
    wrong = sorted(k for k in set(expected) & set(found) if expected[k] != found[k])
    details = "; ".join(
        text
        for text in (
            f"missing {missing[:3]}" if missing else "",
            f"unexpected {extra[:3]}" if extra else "",
            ", ".join(
                f"{k} has shape {found[k]} but the config needs {expected[k]}" for k in wrong[:3]
            ),
        )
        if text
    )
    raise CheckpointError(f"{source} does not match its model config: {details}")


def json_bytes(document: Any) -> bytes:
    """Strict JSON (NaN written as null) so that any JSON reader can parse the file."""
    return json.dumps(_nan_to_none(document), indent=2, default=str, allow_nan=False).encode()


def _nan_to_none(value: Any) -> Any:
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_nan_to_none(v) for v in value]
    return value


def write_bytes(location: Location, data: bytes) -> None:
    fs = location.filesystem()
    parent = location.path.rsplit("/", 1)[0]
    if location.protocol == "file":
        fs.makedirs(parent, exist_ok=True)
    fs.pipe_file(location.path, data)


def read_bytes(location: Location) -> bytes:
    try:
        return location.filesystem().cat_file(location.path)
    except FileNotFoundError:
        raise CheckpointError(
            f"{location.url} does not exist; train a model with 'sgdsm train'"
        ) from None


def _read_config(location: Location) -> dict[str, Any]:
    fs = location.filesystem()
    config_location = location.child(CONFIG_FILE)
    if not fs.exists(config_location.path):
        pickled = _pickled_files(location)
        if pickled:
            raise CheckpointError(
                f"{location.url} holds pickled weights ({', '.join(pickled)}) and no "
                f"{CONFIG_FILE}; pickles are never loaded because they can run code. Use a "
                "checkpoint written by 'sgdsm train' "
                f"({WEIGHTS_FILE} + {CONFIG_FILE})."
            )
        raise CheckpointError(
            f"{location.url} has no {CONFIG_FILE}; is it a directory written by 'sgdsm train'?"
        )
    try:
        document = json.loads(read_bytes(config_location))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{config_location.url} is not valid JSON ({err})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CheckpointError(
            f'{config_location.url} is not an sgdsm checkpoint config (no "format": "{FORMAT}")'
        )
    if document.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{config_location.url} has format_version {document.get('format_version')}; this "
            f"version reads {FORMAT_VERSION}. Upgrade sgdsm_cloud or retrain."
        )
    if (
        not isinstance(document.get("weights"), dict)
        or "sha256" not in document["weights"]
        or "model" not in document
    ):
        raise CheckpointError(
            f"{config_location.url} lacks the 'weights.sha256' or 'model' entries"
        )
    return document


def _pickled_files(location: Location) -> list[str]:
    fs = location.filesystem()
    try:
        names = [p.rsplit("/", 1)[-1] for p in fs.ls(location.path, detail=False)]
    except FileNotFoundError:
        return []
    return sorted(n for n in names if n.endswith(PICKLE_SUFFIXES))
