"""Where a command may write: one rule for every output path.

A command writes only into a path that is

* **new**: nothing is there yet;
* **empty**: an empty folder (or prefix);
* **its own**: it holds what the same command wrote before, recognised by that command's own
  marker or metadata, and nothing else.

Anything else is refused with one line naming the path, whatever ``--overwrite`` says:
``--overwrite`` replaces only an output of the same kind (:func:`replace`). No output may
equal, contain or lie inside one of the command's inputs. Every writer calls :func:`claim`
before it writes anything (its companions too, such as the lock beside a raw cube), so this
rule is written and tested once and holds for every command, the daily update included.

The kinds of output live beside the code that writes them (``cube.RAW_CUBE``,
``product.SEAMLESS_CUBE``, ``model.checkpoint.CHECKPOINT``, ...); each says which names it
may hold at its top level and how it recognises itself.
"""

from __future__ import annotations

import enum
import json
import os
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sgdsm_cloud.errors import SgdsmError, StorageError
from sgdsm_cloud.storage import Location, unreachable_reason

KIND_ATTR = "sgdsm_kind"  # root attribute of the zarr stores this project writes
# Its values: what each store is, and the command that writes it
STORE_KINDS = {
    "raw_cube": ("a raw cube", "sgdsm ingest"),
    "seamless_cube": ("a seamless cube", "sgdsm fill"),
    "synthetic_truth": ("the truth of a synthetic archive", "sgdsm synth"),
}
ZARR_JSON = "zarr.json"
# A versioned product's marker file and format (``versioned.repository``)
PRODUCT_FILE, PRODUCT_FORMAT = "product.json", "sgdsm-versioned-product"
_GLOB = set("*?[")
_MARKER_LIMIT = 64 * 2**20  # a marker or record is small; a larger file is not one of ours


class OutputRefused(SgdsmError):
    """An output path holds something the command did not write, or overlaps an input."""


class Found(enum.Enum):
    """What :func:`claim` found at an output path."""

    NEW = "new"
    EMPTY = "empty"
    OURS = "ours"


@dataclass(frozen=True)
class Folder:
    """An existing, non-empty output path: its top-level names, and small-file reads."""

    location: Location
    names: frozenset[str]

    def read_json(self, *parts: str) -> Any:
        """The JSON document at ``parts`` under the folder, or None when absent or not JSON."""
        return read_marker(self.location.child("/".join(parts)))

    def zarr_kind(self, *parts: str) -> str | None:
        """The ``sgdsm_kind`` attribute of the zarr group at ``parts`` (None: no such group)."""
        document = self.read_json(*parts, ZARR_JSON)
        if not isinstance(document, dict) or document.get("node_type") != "group":
            return None
        kind = (document.get("attributes") or {}).get(KIND_ATTR)
        return str(kind) if kind else ""


def read_marker(location: Location) -> Any:
    """The small JSON document at ``location`` (a marker or a record), or None when it is
    absent, not JSON, or too large to be one."""
    try:
        with location.filesystem().open(location.path, "rb") as f:
            data = f.read(_MARKER_LIMIT + 1)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
        return None
    if len(data) > _MARKER_LIMIT:
        return None
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


@dataclass(frozen=True)
class OutputKind:
    """One command's kind of output.

    Attributes:
        name: what it is, e.g. ``"seamless cube"``.
        command: the command that writes it, e.g. ``"sgdsm fill"``.
        recognise: True when an existing, non-empty folder is one this command wrote (its
            marker or metadata).
        holds: True for each top-level name such an output may hold.
    """

    name: str
    command: str
    recognise: Callable[[Folder], bool]
    holds: Callable[[str], bool] = field(default=lambda name: True)


def zarr_store_kind(
    name: str, command: str, marker: str, members: Iterable[str], legacy_member: str
) -> OutputKind:
    """The kind of a zarr group this project writes, marked by its ``sgdsm_kind`` attribute.

    ``members``: the arrays it may hold. Stores written before the marker existed are
    recognised by holding ``legacy_member``.
    """
    allowed = frozenset([ZARR_JSON, *members])

    def recognise(folder: Folder) -> bool:
        kind = folder.zarr_kind()
        if kind is None:
            return False
        return kind == marker if kind else legacy_member in folder.names

    return OutputKind(name, command, recognise, allowed.__contains__)


def claim(
    out: Location,
    kind: OutputKind,
    *,
    inputs: Iterable[Location] = (),
    option: str = "--out",
) -> Found:
    """Check that ``kind``'s command may write to ``out``; say what is there.

    Raises OutputRefused, naming the path and the fix, when ``out`` equals, contains or lies
    inside one of ``inputs``, is a file, or holds anything ``kind``'s command did not write.
    """
    for source in inputs:
        _check_apart(out, source, option)
    try:
        info = out.filesystem().info(out.path)
        if info.get("type") != "directory":
            raise OutputRefused(
                f"{option} {out.url} is a file, not a folder '{kind.command}' writes; choose a "
                "new path"
            )
        names = frozenset(_names(out))
    except FileNotFoundError:
        _check_creatable(out, option)
        return Found.NEW
    except NotADirectoryError:  # a parent of the path is a file
        raise OutputRefused(
            f"{option} {out.url}: a parent of this path is a file; choose another path"
        ) from None
    except PermissionError:
        raise OutputRefused(
            f"{option} {out.url}: permission denied; choose a folder you can write to"
        ) from None
    except SgdsmError:
        raise
    except Exception as err:  # botocore/aiohttp raise many unrelated types
        raise StorageError(unreachable_reason(out, err)) from None
    if not names:
        return Found.EMPTY
    folder = Folder(out, names)
    if not kind.recognise(folder):
        other = _known(folder)
        held = f"{other[0]} (written by '{other[1]}')" if other else f"files ({_listed(names)})"
        raise OutputRefused(
            f"{option} {out.url} already holds {held} that '{kind.command}' did not write; "
            "nothing was changed: choose a new or empty path"
        )
    foreign = sorted(name for name in names if not kind.holds(name))
    if foreign:
        raise OutputRefused(
            f"{option} {out.url} holds a {kind.name} but also {_listed(foreign)}, which "
            f"'{kind.command}' did not write; nothing was changed: move them away or choose "
            "another path"
        )
    return Found.OURS


def replace(out: Location, kind: OutputKind, *, option: str = "--out") -> None:
    """Delete the output at ``out`` (``--overwrite``), after :func:`claim` checks it is ours."""
    if claim(out, kind, option=option) is Found.OURS:
        out.filesystem().rm(out.path, recursive=True)


def _known(folder: Folder) -> tuple[str, str] | None:
    """What another of this project's commands wrote at ``folder``: (what, command)."""
    marker = folder.read_json(PRODUCT_FILE)
    if isinstance(marker, dict) and marker.get("format") == PRODUCT_FORMAT:
        return ("a seamless product", "sgdsm fill")
    return STORE_KINDS.get(folder.zarr_kind() or "")


def _check_creatable(out: Location, option: str) -> None:
    """Refuse a new local path that cannot be created (``/proc/x``, a read-only mount, a
    folder of another user), before any work is done: a folder is made and removed at once in
    its nearest existing parent."""
    if out.protocol != "file":
        return
    parent = os.path.dirname(os.path.abspath(out.path))
    while parent and not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise OutputRefused(f"{option} {out.url}: {parent} is a file; choose another path")
    probe = os.path.join(parent, f".sgdsm-probe-{uuid.uuid4().hex}")
    try:
        os.mkdir(probe)
        os.rmdir(probe)
    except OSError as err:
        raise OutputRefused(
            f"{option} {out.url} cannot be created in {parent} ({err.strerror}); choose a "
            "folder you can write to"
        ) from None


def _names(out: Location) -> list[str]:
    fs = out.filesystem()
    fs.invalidate_cache(out.path)
    root = out.path.rstrip("/")
    return [
        str(entry).rstrip("/").rsplit("/", 1)[-1]
        for entry in fs.ls(root, detail=False)
        if str(entry).rstrip("/") != root
    ]


def _listed(names: Iterable[str]) -> str:
    items = sorted(names)
    shown = ", ".join(repr(n) for n in items[:3])
    return shown + (f" and {len(items) - 3} more" if len(items) > 3 else "")


def _check_apart(out: Location, source: Location, option: str) -> None:
    """Refuse an output that is, contains or lies inside the input ``source``."""
    if out.protocol != source.protocol or source.protocol == "earthdata":
        return
    mine, theirs = _canonical(out), _canonical(source)
    if not mine or not theirs:
        return
    if mine == theirs:
        problem = "is also an input of this command"
    elif theirs.startswith(mine + "/"):
        problem = f"contains the input {source.url}"
    elif mine.startswith(theirs + "/"):
        problem = f"lies inside the input {source.url}"
    else:
        return
    raise OutputRefused(f"{option} {out.url} {problem}; nothing was changed: choose another path")


def _canonical(location: Location) -> str:
    """A comparable path: symbolic links resolved for local paths, globs cut to their folder."""
    path = location.path
    if any(c in _GLOB for c in path):
        path = path[: min(path.index(c) for c in _GLOB if c in path)].rsplit("/", 1)[0]
    if location.protocol == "file":
        return os.path.realpath(path) if path else ""
    if location.protocol in ("http", "https"):
        return ""  # sources on web servers never overlap a store
    return path.rstrip("/")
