"""One ingest at a time per store: a lock beside the store, taken with a create-if-absent write.

Two ingests writing one store would interleave their metadata updates (template, time axis,
quarantine list, consolidation) and corrupt it, so a run holds a lock for its whole length.
The lock lives under the sibling prefix ``<store>.lock/``, where zarr never looks (a zarr
attribute would be a racy read-modify-write of the store's own metadata):

* ``<generation>.json`` (``00000000.json``, ``00000001.json``, ...): who holds or held the lock
  (token, pid, host, since, last heartbeat, released).

Only the latest generation counts. A run takes the lock by creating the next generation with an
atomic create-if-absent write: ``If-None-Match: *`` on S3 (s3fs ``mode="create"``), a hard
link on a local disk. Of two runs racing for the same generation exactly one succeeds; the
other sees a live holder and stops with :class:`StoreLocked`. The winner reads its record back
and checks its token, which also catches a backend that ignores conditional writes when the
race is not too tight. Older generations are deleted; the latest is kept when released, so
generation numbers only grow and a run that listed the prefix long ago cannot take a number
that is already used.

A holder rewrites its record every ``heartbeat_s`` seconds. A record that is not released is
stale, and a new run takes over, when its heartbeat is older than ``stale_after_s`` (the holder
hung or died on another machine) or when its host is this host and its process is gone (a
killed run re-run on the same machine resumes at once). Heartbeats compare clocks of different
machines: ``stale_after_s`` must exceed their skew.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

from sgdsm_cloud.errors import ConfigError, SgdsmError
from sgdsm_cloud.outputs import OutputKind
from sgdsm_cloud.storage import Location, create_exclusive, safe_join, write_atomic

log = logging.getLogger("sgdsm_cloud.ingest")

LOCK_SUFFIX = ".lock"
HEARTBEAT_S = 60.0
STALE_AFTER_S = 600.0
_ATTEMPTS = 5  # rounds of list-read-create before giving up on a lock others keep taking
_HELD_TOKENS: set[str] = set()  # tokens held by this process (two runs in one process)


_RECORD_NAME = re.compile(r"^\d{8}\.json(\.[0-9a-f]{32}\.tmp)?$")
# The lock folder beside a raw cube: its generation records and nothing else
INGEST_LOCK = OutputKind(
    "ingest lock",
    "sgdsm ingest",
    lambda folder: all(_RECORD_NAME.match(n) for n in folder.names),
    lambda name: bool(_RECORD_NAME.match(name)),
)


class StoreLocked(SgdsmError):
    """Another ingest holds the store's lock (or took it over from this run)."""


@dataclass(frozen=True)
class LockRecord:
    """One generation of the lock: who took it, when, and whether it was released."""

    token: str
    pid: int
    host: str
    since: str
    heartbeat: str
    released: bool = False

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> LockRecord:
        fields = json.loads(data)
        return cls(
            token=str(fields["token"]),
            pid=int(fields["pid"]),
            host=str(fields["host"]),
            since=str(fields["since"]),
            heartbeat=str(fields["heartbeat"]),
            released=bool(fields.get("released", False)),
        )


def is_stale(
    record: LockRecord,
    now: dt.datetime,
    stale_after_s: float,
    host: str,
    process_alive: Callable[[int], bool],
) -> bool:
    """Whether a new run may take over ``record`` (pure: the caller passes the clock and probes)."""
    if record.released:
        return True
    if (now - parse_time(record.heartbeat)).total_seconds() > stale_after_s:
        return True
    if record.host != host:
        return False
    if record.pid == os.getpid():  # this process: alive only if it holds that token now
        return record.token not in _HELD_TOKENS
    return not process_alive(record.pid)


def process_alive(pid: int) -> bool:
    """Whether a process with ``pid`` exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def lock_location(store: Location) -> Location:
    """``<store>.lock``: the lock prefix of ``store``."""
    path = store.path.rstrip("/")
    if store.protocol != "file" and "/" not in path:
        raise ConfigError(
            f"--store {store.url} is a bucket root; give the cube a prefix (e.g. "
            f"{store.url.rstrip('/')}/raw.zarr) so that its lock can live beside it"
        )
    return Location(f"{store.url.rstrip('/')}{LOCK_SUFFIX}", dict(store.storage_options))


class StoreLock:
    """The lock of one store; use as a context manager around a whole ingest run."""

    def __init__(
        self,
        store: Location,
        *,
        heartbeat_s: float = HEARTBEAT_S,
        stale_after_s: float = STALE_AFTER_S,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        if not 0 < heartbeat_s < stale_after_s:
            raise ValueError("heartbeat_s must be positive and shorter than stale_after_s")
        self.store = store
        self.location = lock_location(store)
        self.heartbeat_s = heartbeat_s
        self.stale_after_s = stale_after_s
        self.lost: str | None = None  # why the lock was lost while held
        self._clock = clock
        self._fs = self.location.filesystem()
        self._root = self.location.path.rstrip("/")
        self._record: LockRecord | None = None
        self._generation = -1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> StoreLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def acquire(self) -> None:
        """Take the lock, or raise StoreLocked naming the holder and how to remove a stale lock."""
        host = socket.gethostname()
        for _ in range(_ATTEMPTS):
            generations = self._generations()
            candidate = 0
            if generations:
                latest = self._read(generations[-1])
                if latest is None:  # removed since the listing: look again
                    continue
                if not is_stale(latest, self._clock(), self.stale_after_s, host, process_alive):
                    raise StoreLocked(self._held_message(latest))
                if not latest.released:
                    log.warning(
                        "%s: taking over a stale lock of pid %d on %s (last heartbeat %s)",
                        self.store,
                        latest.pid,
                        latest.host,
                        latest.heartbeat,
                    )
                candidate = generations[-1] + 1
            now = format_time(self._clock())
            mine = LockRecord(uuid.uuid4().hex, os.getpid(), host, now, now)
            _HELD_TOKENS.add(mine.token)  # before it is visible: this process is alive
            if self._create(candidate, mine):
                self._hold(candidate, mine, generations)
                return
            _HELD_TOKENS.discard(mine.token)
        raise StoreLocked(
            f"could not take the lock on {self.store} in {_ATTEMPTS} attempts: other ingests keep "
            f"taking it ({self.location.url}); wait for them to finish"
        )

    def release(self) -> None:
        """Stop the heartbeat and mark the record released (only if this run still holds it);
        when the run made no store, remove the lock folder instead."""
        if self._record is None:
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        _HELD_TOKENS.discard(self._record.token)
        try:
            if self._still_mine() and self._store_exists():
                self._write(self._generation, replace(self._record, released=True))
            elif self._still_mine():  # a run that made no store (it failed early) leaves no lock
                self._fs.rm(self._root, recursive=True)
        except Exception as err:  # the record stays; it turns stale when this process ends
            log.warning("%s: could not release the lock (%s)", self.store, type(err).__name__)
        self._record = None

    def _store_exists(self) -> bool:
        store = self.store.path.rstrip("/")
        self._fs.invalidate_cache(store)
        return bool(self._fs.exists(f"{store}/zarr.json"))

    def ensure_held(self) -> None:
        """Raise StoreLocked if another run took the lock over while this one held it."""
        if self.lost:
            raise StoreLocked(self.lost)

    def _hold(self, generation: int, record: LockRecord, older: list[int]) -> None:
        self._generation, self._record = generation, record
        for old in older:
            try:
                self._fs.rm(self._path(old))
            except OSError:  # another run cleaned up first, or no delete permission: harmless
                log.debug("%s: lock generation %d left in place", self.store, old)
        self._thread = threading.Thread(target=self._beat, name="ingest-lock", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat_s):
            try:
                if not self._still_mine():
                    self.lost = (
                        f"this ingest lost its lock on {self.store}: another run took it over, "
                        f"probably after more than {self.stale_after_s:g} s without a heartbeat; "
                        "check the store, then re-run to complete it"
                    )
                    log.error("%s", self.lost)
                    return
                self._record = replace(self._held, heartbeat=format_time(self._clock()))
                self._write(self._generation, self._record)
            except Exception as err:  # a missed heartbeat only matters after stale_after_s
                log.warning(
                    "%s: lock heartbeat failed (%s); trying again", self.store, type(err).__name__
                )

    def _still_mine(self) -> bool:
        current = self._read(self._generation)
        newer = [g for g in self._generations() if g > self._generation]
        return current is not None and current.token == self._held.token and not newer

    @property
    def _held(self) -> LockRecord:
        """The record of the held lock: the heartbeat runs only while one is (release joins it)."""
        assert self._record is not None, "the lock is not held"
        return self._record

    def _held_message(self, record: LockRecord) -> str:
        path = self.location.path
        removal = {
            "file": f"rm -r {path}",
            "s3": f"aws s3 rm --recursive {self.location.url}/",
        }.get(self.location.protocol, f"delete everything under {self.location.url}/")
        return (
            f"another ingest holds the lock on {self.store} since {record.since} (pid {record.pid} "
            f"on {record.host}, last heartbeat {record.heartbeat}); wait for it to finish, or, if "
            f"that process is gone, remove the stale lock with: {removal} (a lock also expires "
            f"{self.stale_after_s / 60:g} min after its last heartbeat)"
        )

    def _path(self, generation: int) -> str:
        return safe_join(self._root, f"{generation:08d}.json")

    def _generations(self) -> list[int]:
        self._fs.invalidate_cache(self._root)
        try:
            names = self._fs.ls(self._root, detail=False)
        except FileNotFoundError:
            return []
        stems = (name.rstrip("/").rsplit("/", 1)[-1].removesuffix(".json") for name in names)
        return sorted(int(stem) for stem in stems if stem.isdigit())

    def _read(self, generation: int) -> LockRecord | None:
        try:
            return LockRecord.from_bytes(self._fs.cat_file(self._path(generation)))
        except FileNotFoundError:
            return None

    def _create(self, generation: int, record: LockRecord) -> bool:
        """Create ``generation`` if absent; True when the stored record is ``record``."""
        try:
            create_exclusive(self._record_at(generation), record.to_bytes())
        except FileExistsError:
            pass  # someone else's, or our own write that a retried request found in place
        stored = self._read(generation)
        return stored is not None and stored.token == record.token

    def _write(self, generation: int, record: LockRecord) -> None:
        write_atomic(self._record_at(generation), record.to_bytes())

    def _record_at(self, generation: int) -> Location:
        return self.location.child(f"{generation:08d}.json")


def format_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)
