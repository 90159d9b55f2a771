"""A versioned product: its versions, what readers open, history, tags, rollback and expiry.

Layout under the product's URL::

    product.json            what this folder is (the marker 'sgdsm fill' recognises)
    latest.json             the references of the newest version: what readers open
    versions/v000007.json   every version's references (kerchunk) and its 'sgdsm' record
    log/v000007.json        the record alone, for a quick history
    tags/<name>.json        a name for a version (a release)
    data/<run>/<name>.pack  immutable chunk packs
    runs/<run>/...          what a running writer has finished (resume after a crash)

**Publishing.** A writer reads the newest version N when it starts and, once its packs are
written, creates ``versions/v{N+1}`` with a create-if-absent write (``If-None-Match: *`` on
S3, a hard link on a local disk). Only one writer can create it: a second one, which began on
the same N, gets :class:`VersionConflict` and publishes nothing. ``latest.json`` is then
replaced in one step; a writer killed in between leaves it one version behind, which the next
writer (or :meth:`Repository.repair_latest`) puts right. A reader sees a whole version or the
previous one, never part of one: every version's packs exist before the version does.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sgdsm_cloud.errors import SgdsmError
from sgdsm_cloud.outputs import PRODUCT_FILE, PRODUCT_FORMAT, Folder, OutputKind, read_marker
from sgdsm_cloud.storage import Location, create_exclusive, safe_join, write_atomic
from sgdsm_cloud.versioned.refs import Refs, document, pack_urls

LATEST = "latest.json"
VERSIONS, LOG, TAGS, DATA, RUNS = "versions", "log", "tags", "data", "runs"
FORMAT, FORMAT_VERSION = PRODUCT_FORMAT, 1
_VERSION_FILE = re.compile(r"^v(\d{6})\.json$")
_TAG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class VersionConflict(SgdsmError):
    """Another writer published a version while this one ran; nothing was published."""


def _is_product(folder: Folder) -> bool:
    marker = folder.read_json(PRODUCT_FILE)
    return isinstance(marker, dict) and marker.get("format") == FORMAT


def product_kind(name: str, command: str) -> OutputKind:
    """The output kind of a versioned product written by ``command``."""
    names = {PRODUCT_FILE, LATEST, VERSIONS, LOG, TAGS, DATA, RUNS}
    return OutputKind(name, command, _is_product, names.__contains__)


@dataclass(frozen=True)
class Version:
    """One published version: its number, references and record (``sgdsm`` block)."""

    number: int
    refs: Refs
    meta: dict[str, Any] = field(default_factory=dict)


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Repository:
    """The versions of the product at ``location``."""

    def __init__(self, location: Location) -> None:
        self.location = location
        self._fs = location.filesystem()

    # -- what is there -------------------------------------------------------------------
    def exists(self) -> bool:
        return isinstance(read_marker(self.location.child(PRODUCT_FILE)), dict)

    def create(self) -> None:
        """Write the marker of a new product (the folder was claimed by the caller)."""
        marker = {"format": FORMAT, "format_version": FORMAT_VERSION, "created": stamp(now())}
        write_atomic(self.location.child(PRODUCT_FILE), json.dumps(marker).encode())

    def numbers(self) -> list[int]:
        """Numbers of the published versions, oldest first."""
        folder = self.location.child(VERSIONS)
        self._fs.invalidate_cache(folder.path)
        try:
            names = [n.rstrip("/").rsplit("/", 1)[-1] for n in self._fs.ls(folder.path)]
        except FileNotFoundError:
            return []
        return sorted(int(m[1]) for n in names if (m := _VERSION_FILE.match(n)))

    def head(self) -> int | None:
        """The newest version's number (None: nothing published yet)."""
        numbers = self.numbers()
        return numbers[-1] if numbers else None

    def load(self, number: int) -> Version:
        """Version ``number``: its references and record."""
        document_ = read_marker(self._version_file(number))
        if not isinstance(document_, dict) or "refs" not in document_:
            raise SgdsmError(
                f"{self.location.url}: version {number} does not exist; 'sgdsm history' lists them"
            )
        return Version(number, document_["refs"], document_.get("sgdsm", {}))

    def version_url(self, number: int) -> str:
        """Where version ``number``'s references are (immutable: safe to cache)."""
        return self._version_file(number).url

    # -- publishing ----------------------------------------------------------------------
    def commit(self, refs: Mapping[str, Any], meta: Mapping[str, Any], parent: int | None) -> int:
        """Publish ``refs`` as the version after ``parent``; its number. Raise
        VersionConflict when another writer published after ``parent`` first."""
        number = (parent or 0) + 1
        record = {**meta, "version": number, "parent": parent, "created": stamp(now())}
        data = json.dumps(document(refs, record), separators=(",", ":")).encode()
        target = self._version_file(number)
        try:
            create_exclusive(target, data)
        except FileExistsError:
            if self._fs.cat_file(target.path) != data:  # not our own retried request
                raise VersionConflict(
                    f"{self.location.url}: version {number} was published by another writer "
                    f"while this one ran on version {parent}; nothing was published: re-run "
                    "the same command to build on the new version"
                ) from None
        write_atomic(
            self.location.child(LOG).child(f"v{number:06d}.json"), json.dumps(record).encode()
        )
        write_atomic(self.location.child(LATEST), data)
        return number

    def repair_latest(self) -> None:
        """Point ``latest.json`` at the newest version when a killed writer left it behind."""
        head = self.head()
        if head is None:
            return
        latest = read_marker(self.location.child(LATEST))
        if isinstance(latest, dict) and latest.get("sgdsm", {}).get("version") == head:
            return
        write_atomic(self.location.child(LATEST), self._fs.cat_file(self._version_file(head).path))

    # -- history, tags, rollback -----------------------------------------------------------
    def history(self) -> list[dict[str, Any]]:
        """The record of every version, oldest first."""
        out = []
        for number in self.numbers():
            record = read_marker(self.location.child(LOG).child(f"v{number:06d}.json"))
            out.append(record if isinstance(record, dict) else self.load(number).meta)
        return out

    def tags(self) -> dict[str, int]:
        folder = self.location.child(TAGS)
        try:
            names = [n.rstrip("/").rsplit("/", 1)[-1] for n in self._fs.ls(folder.path)]
        except FileNotFoundError:
            return {}
        out = {}
        for name in names:
            record = read_marker(folder.child(name))
            if name.endswith(".json") and isinstance(record, dict):
                out[name.removesuffix(".json")] = int(record["version"])
        return out

    def tag(self, name: str, number: int) -> None:
        """Name version ``number`` (a release); a tag is never moved or reused."""
        if not _TAG.match(name):
            raise SgdsmError(f"tag {name!r}: use letters, digits, '.', '_' and '-'")
        self.load(number)  # it must exist
        record = {"version": number, "created": stamp(now())}
        try:
            create_exclusive(
                self.location.child(TAGS).child(f"{name}.json"), json.dumps(record).encode()
            )
        except FileExistsError:
            raise SgdsmError(
                f"{self.location.url}: tag {name!r} already names version {self.tags()[name]}; "
                "tags are never moved: choose another name"
            ) from None

    def resolve(self, version: int | str | None = None) -> int:
        """A version number from a number, a tag or None (the newest)."""
        if version is None:
            head = self.head()
            if head is None:
                raise SgdsmError(f"{self.location.url} has no version yet; run 'sgdsm fill'")
            return head
        if isinstance(version, int) or str(version).isdigit():
            number = int(version)
            if number not in self.numbers():
                raise SgdsmError(
                    f"{self.location.url} has no version {number} (it has {self._span()})"
                )
            return number
        tags = self.tags()
        if str(version) not in tags:
            raise SgdsmError(
                f"{self.location.url} has no version or tag {version!r}; tags: "
                f"{sorted(tags) or 'none'}"
            )
        return tags[str(version)]

    def rollback(self, to: int | str, *, parent: int | None = None) -> int:
        """Publish version ``to``'s references again as the newest version (history is kept:
        the versions after it stay readable); the new number."""
        number = self.resolve(to)
        restored = self.load(number)
        head = self.head() if parent is None else parent
        meta = {**restored.meta, "operation": "rollback", "restores": number}
        return self.commit(restored.refs, meta, head)

    # -- expiry --------------------------------------------------------------------------
    def expire(self, older_than: dt.datetime, *, grace: dt.timedelta) -> dict[str, int]:
        """Delete versions created before ``older_than`` (never the newest or a tagged one),
        then the packs and run records no remaining version uses that are older than
        ``grace``: a writer running for less than ``grace`` keeps what it has written."""
        keep = set(self.tags().values())
        numbers = self.numbers()
        if numbers:
            keep.add(numbers[-1])
        expired = 0
        for record in self.history():
            number = int(record["version"])
            created = dt.datetime.fromisoformat(str(record["created"]).replace("Z", "+00:00"))
            if number not in keep and created < older_than:
                self._fs.rm(self._version_file(number).path)
                self._remove(self.location.child(LOG).child(f"v{number:06d}.json"))
                expired += 1
        used = set().union(*(pack_urls(self.load(n).refs) for n in self.numbers()))
        cutoff = now() - grace
        packs = runs = 0
        for kind in (DATA, RUNS):
            folder = self.location.child(kind)
            try:
                entries = self._fs.find(folder.path, detail=True)
            except FileNotFoundError:
                continue
            for path, info in entries.items():
                url = self._url_of(path)
                if kind == DATA and url in used:
                    continue
                if _modified(info) < cutoff:
                    self._fs.rm(path)
                    packs += kind == DATA
                    runs += kind == RUNS
        return {"versions": expired, "packs": packs, "run_records": runs}

    # -- resumable runs --------------------------------------------------------------------
    def run(self, run_id: str) -> Run:
        return Run(self.location.child(RUNS).child(run_id), self.location.child(DATA).child(run_id))

    # -- helpers ---------------------------------------------------------------------------
    def _version_file(self, number: int) -> Location:
        return self.location.child(VERSIONS).child(f"v{number:06d}.json")

    def _span(self) -> str:
        numbers = self.numbers()
        return f"{numbers[0]}..{numbers[-1]}" if numbers else "none"

    def _remove(self, location: Location) -> None:
        try:
            self._fs.rm(location.path)
        except FileNotFoundError:
            pass

    def _url_of(self, path: str) -> str:
        if self.location.protocol == "file":
            return path
        return f"{self.location.protocol}://{path}"


@dataclass(frozen=True)
class Run:
    """What one writer has finished: its plan and a record per finished task, and where its
    tasks put their packs. A re-run of the same writer (same run id) resumes from them."""

    records: Location
    packs: Location

    def plan(self) -> dict[str, Any] | None:
        plan = read_marker(self.records.child("plan.json"))
        return plan if isinstance(plan, dict) else None

    def write_plan(self, plan: Mapping[str, Any]) -> None:
        write_atomic(self.records.child("plan.json"), json.dumps(plan, sort_keys=True).encode())

    def done(self) -> dict[str, dict[str, Any]]:
        """Each finished task's record, by task id."""
        folder = self.records.child("done")
        fs = folder.filesystem()
        fs.invalidate_cache(folder.path)
        try:
            names = [n.rstrip("/").rsplit("/", 1)[-1] for n in fs.ls(folder.path)]
        except FileNotFoundError:
            return {}
        out = {}
        for name in names:
            record = read_marker(folder.child(name)) if name.endswith(".json") else None
            if isinstance(record, dict):
                out[name.removesuffix(".json")] = record
        return out

    def mark_done(self, task_id: str, record: Mapping[str, Any]) -> None:
        """Record task ``task_id`` as finished, after its pack is written (the id is checked
        not to leave the run's folder)."""
        location = Location(safe_join(self.records.child("done").url, f"{task_id}.json"),
                            dict(self.records.storage_options))  # fmt: skip
        write_atomic(location, json.dumps(record, sort_keys=True).encode())

    def pack(self, name: str) -> Location:
        """Where a task's pack goes."""
        return self.packs.child(f"{name}.pack")

    def clear(self) -> None:
        """Forget the records once their version is published (the packs stay)."""
        fs = self.records.filesystem()
        fs.invalidate_cache(self.records.path)
        if fs.exists(self.records.path):
            fs.rm(self.records.path, recursive=True)


def _modified(info: Mapping[str, Any]) -> dt.datetime:
    """When an object or file was last written (local ``mtime``, S3 ``LastModified``)."""
    value = info.get("LastModified") or info.get("mtime") or info.get("last_modified")
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.fromtimestamp(float(value or 0), dt.UTC)
