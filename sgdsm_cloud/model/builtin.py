"""Pretrained checkpoints shipped in the package, named ``builtin:NAME``.

A name resolves to a folder of ``sgdsm_cloud/checkpoints`` holding ``model.safetensors``,
``config.json`` and ``MODEL_CARD.md`` (training data, period, band, scores and limits). They
load like any checkpoint: safetensors and JSON only, the weights checked by SHA-256. Nothing
is downloaded. The path is resolved where the model is loaded, inside the installed package.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from sgdsm_cloud.errors import ConfigError

PREFIX = "builtin:"
CARD = "MODEL_CARD.md"
# The model a user's first fill should get: the newest recipe, trained on every real day
# shipped. Older checkpoints stay loadable by their own names (each has its card).
DEFAULT = PREFIX + "lprm-x-d-025-v2"


def checkpoints_dir() -> Path:
    return Path(str(resources.files("sgdsm_cloud") / "checkpoints"))


def available() -> list[str]:
    """Names of the shipped checkpoints."""
    root = checkpoints_dir()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "config.json").is_file())


def resolve_model(ref: str) -> str:
    """The folder of ``builtin:NAME``; any other reference is returned unchanged."""
    if not ref.startswith(PREFIX):
        return ref
    name = ref[len(PREFIX) :]
    if name not in available():
        raise ConfigError(
            f"no built-in model {name!r}; the package ships {available() or 'none'} "
            f"(use --model {PREFIX}NAME, or a checkpoint folder from 'sgdsm train')"
        )
    return str(checkpoints_dir() / name)
