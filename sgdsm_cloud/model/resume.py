"""Resumable training state, without pickle: safetensors for tensors, JSON for the rest.

After every epoch the trainer writes, under ``MODEL_DIR/resume/``:

1. ``epoch-NNNNN.safetensors``: the model weights (``model.*``) and the Adam state
   (``optim.<param>.<key>``);
2. ``state.json``: the epoch count, the history, both configs, Adam's hyper-parameters and the
   SHA-256 of that file; then the previous epoch's file is deleted.

``state.json`` is written last, so an interruption at any point leaves it pointing at a complete
file. Random streams are derived from ``(seed, epoch)``, so the epoch count is all the random
state a resumed run needs to repeat the uninterrupted one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import torch

from sgdsm_cloud.errors import CheckpointError, ConfigError
from sgdsm_cloud.model.checkpoint import (
    RESUME_DIR,
    bytes_to_tensors,
    json_bytes,
    read_bytes,
    tensors_to_bytes,
    write_bytes,
)
from sgdsm_cloud.model.config import ModelConfig, TrainConfig
from sgdsm_cloud.storage import Location

STATE_FILE = "state.json"
_MODEL, _OPTIM = "model.", "optim."


@dataclass(frozen=True)
class TrainingState:
    """What a resumed run continues from.

    Attributes:
        epochs_done: completed epochs.
        history: one dict of scores per completed epoch.
        finished: True once the stop rule fired (re-running only re-exports the checkpoint).
        model_config, train_config: the configs of the interrupted run.
        model_state: weights by name.
        optimizer_state: a ``torch.optim`` state dict.
    """

    epochs_done: int
    history: list[dict[str, Any]]
    finished: bool
    model_config: ModelConfig
    train_config: TrainConfig
    model_state: dict[str, torch.Tensor]
    optimizer_state: dict[str, Any]


def save_state(
    out: Location,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    history: list[dict[str, Any]],
    finished: bool,
    model_config: ModelConfig,
    train_config: TrainConfig,
) -> None:
    """Write the state after ``len(history)`` epochs (see the module docstring for the order)."""
    folder = out.child(RESUME_DIR)
    optim = optimizer.state_dict()
    tensors = {_MODEL + k: v for k, v in model.state_dict().items()}
    for param, values in optim["state"].items():
        tensors.update({f"{_OPTIM}{param}.{key}": v for key, v in values.items()})
    data = tensors_to_bytes(tensors)
    name = f"epoch-{len(history):05d}.safetensors"
    write_bytes(folder.child(name), data)
    document = {
        "epochs_done": len(history),
        "finished": finished,
        "file": name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "history": history,
        "model": model_config.to_dict(),
        "train": train_config.to_dict(),
        "optimizer_param_groups": optim["param_groups"],
    }
    previous = _read_document(folder)
    write_bytes(folder.child(STATE_FILE), json_bytes(document))
    if previous and previous.get("file") != name:
        folder.filesystem().rm(folder.child(previous["file"]).path)


def load_state(out: Location) -> TrainingState | None:
    """The saved state, or None when ``out`` holds no resumable run."""
    folder = out.child(RESUME_DIR)
    document = _read_document(folder)
    if document is None:
        return None
    source = folder.child(document["file"])
    tensors = bytes_to_tensors(read_bytes(source), document["sha256"], source.url)
    model_state = {k[len(_MODEL) :]: v for k, v in tensors.items() if k.startswith(_MODEL)}
    optim_state: dict[int, dict[str, torch.Tensor]] = {}
    for name, value in tensors.items():
        if name.startswith(_OPTIM):
            param, key = name[len(_OPTIM) :].split(".", 1)
            optim_state.setdefault(int(param), {})[key] = value
    groups = [
        {**g, "betas": tuple(g["betas"])} if "betas" in g else g
        for g in document["optimizer_param_groups"]
    ]
    try:
        model_config = ModelConfig.from_dict(document["model"])
        train_config = TrainConfig.from_dict(document["train"])
    except ConfigError as err:
        raise CheckpointError(f"{folder.child(STATE_FILE).url}: {err}") from None
    return TrainingState(
        epochs_done=int(document["epochs_done"]),
        history=[
            {k: float("nan") if v is None else v for k, v in h.items()} for h in document["history"]
        ],
        finished=bool(document["finished"]),
        model_config=model_config,
        train_config=train_config,
        model_state=model_state,
        optimizer_state={"state": optim_state, "param_groups": groups},
    )


def _read_document(folder: Location) -> dict[str, Any] | None:
    location = folder.child(STATE_FILE)
    if not folder.filesystem().exists(location.path):
        return None
    try:
        document = json.loads(read_bytes(location))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(
            f"{location.url} is not valid JSON ({err}); delete {folder.url} to start over"
        ) from None
    required = {
        "epochs_done",
        "finished",
        "file",
        "sha256",
        "history",
        "model",
        "train",
        "optimizer_param_groups",
    }
    if not isinstance(document, dict) or not required <= set(document):
        raise CheckpointError(f"{location.url} is incomplete; delete {folder.url} to start over")
    return document
