"""Safetensors files whose first byte is 0x80, a pickle's first byte, as real ones can be."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


def with_header_length(data: bytes, length: int) -> bytes:
    """The same safetensors file with its JSON header padded by spaces to ``length`` bytes
    (the format allows trailing spaces in the header)."""
    old = int.from_bytes(data[:8], "little")
    header = data[8 : 8 + old].rstrip()
    assert len(header) <= length
    return length.to_bytes(8, "little") + header + b" " * (length - len(header)) + data[8 + old :]


def header_ending_in_0x80(data: bytes) -> bytes:
    """``data`` re-padded so that its header length's low byte is 0x80, a pickle's first byte."""
    length = int.from_bytes(data[:8], "little")
    length += (0x80 - length) % 256
    padded = with_header_length(data, length)
    assert padded[0] == 0x80
    return padded


def repad_weights(model_dir: Path) -> None:
    """Re-pad a checkpoint's weights to a header length ending in 0x80, and record their new
    SHA-256 in its config.json, as training would have written them."""
    path = model_dir / "model.safetensors"
    data = header_ending_in_0x80(path.read_bytes())
    path.write_bytes(data)
    config = model_dir / "config.json"
    document = json.loads(config.read_text())
    document["weights"]["sha256"] = hashlib.sha256(data).hexdigest()
    config.write_text(json.dumps(document))


def repad_resume_state(model_dir: Path) -> None:
    """The same for the training state under ``resume/``: its last epoch's file."""
    state_path = model_dir / "resume" / "state.json"
    state = json.loads(state_path.read_text())
    path = model_dir / "resume" / state["file"]
    data = header_ending_in_0x80(path.read_bytes())
    path.write_bytes(data)
    state["sha256"] = hashlib.sha256(data).hexdigest()
    state_path.write_text(json.dumps(state))
