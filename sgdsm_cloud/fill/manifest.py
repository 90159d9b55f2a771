"""Completion manifest of a fill: which tiles are finished, so a re-run resumes where one stopped.

The manifest lives beside the output, under the sibling prefix ``<out>.manifest/``:

* ``plan.json``: the run's fingerprint (source, model, time range, layout, halo), written
  once the output's template is complete;
* ``done/<tile id>.json``: one small object per finished tile, written by the tile's task after
  its region write succeeded.

Why not the zarr store: zarr attributes are one shared object per node, so concurrent tasks
updating them race (last writer wins), and extra objects or groups inside the store show up to
zarr (warnings when listing members, entries in the consolidated metadata). A sibling prefix is
invisible to readers of the product, and one object per tile means tasks never share a key: a
PUT is atomic on object stores, and a retried tile just rewrites its own marker.

The output itself cannot tell what is done: zarr omits (and deletes) chunks equal to the fill
value, so an all-ocean shard is absent whether or not its tile ran.
"""

from __future__ import annotations

import json
from typing import Any

from sgdsm_cloud.outputs import OutputKind
from sgdsm_cloud.storage import Location, safe_join

PLAN = "plan.json"
DONE = "done"
# The manifest folder beside a seamless cube: the plan and the finished tiles, nothing else
FILL_MANIFEST = OutputKind(
    "fill manifest",
    "sgdsm fill",
    lambda folder: folder.names <= {PLAN, DONE},
    {PLAN, DONE}.__contains__,
)


def manifest_location(out: Location) -> Location:
    """``<out>.manifest``: the manifest prefix of output ``out``."""
    return Location(f"{out.url.rstrip('/')}.manifest", dict(out.storage_options))


class Manifest:
    """Reads and writes the manifest objects under one prefix."""

    def __init__(self, location: Location) -> None:
        self.location = location
        self._fs = location.filesystem()
        self._root = location.path.rstrip("/")

    def read_plan(self) -> dict[str, Any] | None:
        """The recorded fingerprint, or None when no run has completed its template here."""
        path = f"{self._root}/{PLAN}"
        self._fs.invalidate_cache(self._root)
        if not self._fs.exists(path):
            return None
        return json.loads(self._fs.cat_file(path))

    def write_plan(self, fingerprint: dict[str, Any]) -> None:
        self._put(f"{self._root}/{PLAN}", fingerprint)

    def mark_done(self, block_id: str, status: dict[str, Any]) -> None:
        """Record tile ``block_id`` as finished (after its data is written).

        The id arrives from a task's arguments, so it is checked not to escape ``done/``.
        """
        self._put(safe_join(f"{self._root}/{DONE}", f"{block_id}.json"), status)

    def done_ids(self) -> set[str]:
        """Ids of the finished tiles."""
        prefix = f"{self._root}/{DONE}"
        self._fs.invalidate_cache(prefix)
        if not self._fs.exists(prefix):
            return set()
        names = self._fs.ls(prefix, detail=False, refresh=True)
        return {
            name.rsplit("/", 1)[-1].removesuffix(".json")
            for name in names
            if name.endswith(".json")
        }

    def clear(self) -> None:
        """Forget every record (a fresh run into the same output)."""
        self._fs.invalidate_cache(self._root)
        if self._fs.exists(self._root):
            self._fs.rm(self._root, recursive=True)

    def _put(self, path: str, record: dict[str, Any]) -> None:
        parent = path.rsplit("/", 1)[0]
        if self.location.protocol == "file":
            self._fs.makedirs(parent, exist_ok=True)
        self._fs.pipe_file(path, json.dumps(record, sort_keys=True).encode())
