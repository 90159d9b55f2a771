"""Pure planning: which file goes to which day, what is skipped, and which time slabs need work.

Nothing here touches storage. The inputs are the listed files, what the store already holds
(its :class:`Ledger`) and what the cube is (its :class:`Identity`); the output is an
:class:`IngestPlan` of slab tasks, each one whole time chunk of the store, so parallel tasks
never share a chunk.

Per day, the files are tried in a fixed order, so a run and its resumption after a crash
decide the same way:

* a file already ingested for that day (same name and size, and same SHA-256 when the run
  read it again to check) is skipped;
* a file with the stored file's name but a new size (or new bytes) replaces it when it
  decodes;
* otherwise, when the store holds the day, the store's file is kept and every other file
  for the day is checked and quarantined (as a duplicate, or for what is wrong with it);
* for a day the store lacks, the first file in sorted order that decodes is kept.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sgdsm_cloud.cube import daily_axis
from sgdsm_cloud.errors import BadInputFile, ChunkAlignmentError, ConfigError
from sgdsm_cloud.formats.names import ArchiveName, parse_name
from sgdsm_cloud.ingest.quarantine import QuarantineRecord
from sgdsm_cloud.ingest.sources import SourceFile
from sgdsm_cloud.schema import STATUS_INGESTED


@dataclass(frozen=True)
class Candidate:
    """A listed file whose name parsed: its day, pass and product are known."""

    source: SourceFile
    archive: ArchiveName

    @property
    def date(self) -> dt.date:
        return self.archive.date


@dataclass(frozen=True)
class Identity:
    """What one cube holds: one product, grid resolution, pass and variable."""

    product: str
    resolution: float
    pass_: str
    variable: str

    def describe(self) -> str:
        return f"{self.product} at {self.resolution} deg"


@dataclass(frozen=True, eq=False)
class Provenance:
    """Per-day records for a run of days: status, source file name, sha256, size."""

    status: np.ndarray
    file: np.ndarray
    sha256: np.ndarray
    size: np.ndarray

    @classmethod
    def empty(cls, n: int) -> Provenance:
        strings = np.dtypes.StringDType()
        return cls(
            np.zeros(n, "uint8"),
            np.full(n, "", dtype=strings),
            np.full(n, "", dtype=strings),
            np.zeros(n, "int64"),
        )

    def __len__(self) -> int:
        return self.status.size

    def window(self, start: int, stop: int) -> Provenance:
        """Records for ``[start, stop)``; days beyond the end are empty (an extension)."""
        part = Provenance(
            *(a[start:stop] for a in (self.status, self.file, self.sha256, self.size))
        )
        missing = stop - max(start, min(stop, len(self)))
        if missing <= 0:
            return part
        pad = Provenance.empty(missing)
        return Provenance(
            *(np.concatenate([a, b]) for a, b in zip(_arrays(part), _arrays(pad), strict=True))
        )

    def copy(self) -> Provenance:
        return Provenance(*(a.copy() for a in _arrays(self)))

    def equals(self, other: Provenance) -> bool:
        return all(np.array_equal(a, b) for a, b in zip(_arrays(self), _arrays(other), strict=True))


def _arrays(p: Provenance) -> tuple[np.ndarray, ...]:
    return p.status, p.file, p.sha256, p.size


@dataclass(frozen=True, eq=False)
class Ledger:
    """What the store already holds: its time axis, per-day provenance and time chunk."""

    time: pd.DatetimeIndex
    provenance: Provenance
    time_chunk: int

    @classmethod
    def new(cls, time_chunk: int) -> Ledger:
        return cls(pd.DatetimeIndex([]), Provenance.empty(0), time_chunk)

    def held(self) -> dict[str, int]:
        """The files the store holds, by name, with their sizes."""
        p = self.provenance
        return {str(p.file[i]): int(p.size[i]) for i in np.flatnonzero(p.status == STATUS_INGESTED)}


@dataclass(frozen=True)
class DayWork:
    """The files one day's task reads.

    Attributes:
        position: index of the day on the time axis.
        date: the day.
        replace: files that may become the day's data, first decodable one wins.
        check: files that cannot be kept (the store keeps its file); read only to say why.
        stored: name of the store's file when the day is already ingested, else None.
    """

    position: int
    date: dt.date
    replace: tuple[SourceFile, ...]
    check: tuple[SourceFile, ...]
    stored: str | None


@dataclass(frozen=True, eq=False)
class SlabTask:
    """One whole time chunk ``[start, stop)`` of the store with work in it.

    ``provenance`` is the store's records for these days before the run.
    """

    index: int
    start: int
    stop: int
    days: tuple[DayWork, ...]
    provenance: Provenance

    @property
    def key(self) -> str:
        return f"slab-{self.index:05d}"


@dataclass(frozen=True, eq=False)
class IngestPlan:
    """The whole run.

    Attributes:
        time: the store's full daily axis after this run.
        tasks: slabs with work, in time order.
        quarantine: files refused from their names or product alone.
        unchanged: files skipped because the store already holds them.
        filtered: files of the other pass or outside ``--start``/``--end``.
    """

    time: pd.DatetimeIndex
    tasks: tuple[SlabTask, ...]
    quarantine: tuple[QuarantineRecord, ...]
    unchanged: int
    filtered: int

    @property
    def files_to_read(self) -> int:
        return sum(len(d.replace) + len(d.check) for t in self.tasks for d in t.days)


def parse_candidates(
    sources: Iterable[SourceFile], today: dt.date | None = None
) -> tuple[list[Candidate], list[QuarantineRecord]]:
    """Split files into candidates and records for broken entries and unparseable, invalid or
    future-dated names."""
    candidates, records = [], []
    for source in sources:
        if source.problem:
            records.append(QuarantineRecord(source.url, source.problem))
            continue
        try:
            candidates.append(Candidate(source, parse_name(source.name, today=today)))
        except BadInputFile as err:
            records.append(QuarantineRecord(source.url, err.reason))
    return candidates, records


def choose_pass(
    candidates: Iterable[Candidate], requested: str | None, stored: str | None
) -> str | None:
    """The pass this run ingests: the store's, else the requested one, else the only one present."""
    if stored and requested and stored != requested:
        raise ConfigError(
            f"--pass {requested} differs from the store's pass {stored}; one cube holds one pass: "
            "use another --store for the other pass"
        )
    if stored or requested:
        return stored or requested
    present = sorted({c.archive.pass_ for c in candidates})
    if len(present) > 1:
        raise ConfigError(
            "the sources hold both ascending (A) and descending (D) files; one cube holds one pass: choose with --pass"
        )
    return present[0] if present else None


def select(
    candidates: Iterable[Candidate], pass_: str | None, start: dt.date | None, end: dt.date | None
) -> tuple[list[Candidate], int]:
    """Candidates of ``pass_`` within ``[start, end]``, and how many were filtered out."""
    kept, filtered = [], 0
    for c in candidates:
        if (
            (pass_ and c.archive.pass_ != pass_)
            or (start and c.date < start)
            or (end and c.date > end)
        ):
            filtered += 1
        else:
            kept.append(c)
    return kept, filtered


def split_identity(
    candidates: Iterable[Candidate], identity: Identity
) -> tuple[list[Candidate], list[QuarantineRecord]]:
    """Candidates of the cube's product and resolution; the others are quarantined."""
    matching, records = [], []
    for c in candidates:
        if (
            c.archive.product == identity.product
            and abs(c.archive.resolution - identity.resolution) < 1e-9
        ):
            matching.append(c)
        else:
            records.append(
                QuarantineRecord(
                    c.source.url,
                    f"product {c.archive.product} at {c.archive.resolution} deg differs from the store's "
                    f"{identity.describe()}; one cube holds one product and grid: ingest it into another --store",
                )
            )
    return matching, records


def time_axis(
    first_files: dict[dt.date, str], ledger: Ledger, start: dt.date | None, end: dt.date | None
) -> pd.DatetimeIndex:
    """The complete daily axis after the run: the store's days, extended to the last new day.

    ``first_files`` maps each day with files to its first file's name. A new store spans
    ``start``..``end`` when given, else the files' days. A store only grows forward: a file
    before its first day raises ConfigError with the fix.
    """
    dates = sorted(first_files)
    if len(ledger.time):
        first = ledger.time[0].date()
        early = [d for d in dates if d < first]
        if early:
            raise ConfigError(
                f"{len(early)} file(s) from {early[0]} ({first_files[early[0]]}) predate the store's first "
                f"day {first}; a store only grows forward in time: skip them with --start {first}, or "
                "ingest all sources into a new --store"
            )
        last = max([ledger.time[-1].date(), *dates, *([end] if end else [])])
        return daily_axis(first, last)
    lo = start or (dates[0] if dates else None)
    hi = end or (dates[-1] if dates else None)
    if lo is None or hi is None:
        raise ConfigError(
            "nothing to ingest: no usable archive file among the sources (and no --start/--end)"
        )
    return daily_axis(lo, hi)


def plan_days(
    candidates: Iterable[Candidate], time: pd.DatetimeIndex, ledger: Ledger
) -> tuple[list[DayWork], int]:
    """Per day with files, which to read and how; plus the count of unchanged (skipped) files."""
    by_date: dict[dt.date, list[SourceFile]] = defaultdict(list)
    for c in sorted(candidates, key=lambda c: (c.source.name, c.source.url)):
        group = by_date[c.date]
        if not any(s.name == c.source.name and s.size == c.source.size for s in group):
            group.append(c.source)  # the same file listed twice (two URLs) counts once
    origin = time[0] if len(time) else None
    days, unchanged = [], 0
    for date, group in sorted(by_date.items()):
        assert origin is not None  # the time axis covers the day of every candidate
        position = (pd.Timestamp(date) - origin).days
        stored = _stored(ledger, position)
        if stored is None:
            days.append(DayWork(position, date, tuple(group), (), None))
            continue
        name, size, sha256 = stored
        same = [s for s in group if s.name == name and _unchanged(s, size, sha256)]
        newer = [s for s in group if s.name == name and not _unchanged(s, size, sha256)]
        others = tuple(s for s in group if s.name != name)
        unchanged += len(same)
        replace = () if same else tuple(newer)
        check = tuple(newer if same else ()) + others
        if replace or check:
            days.append(DayWork(position, date, replace, check, name))
    return days, unchanged


def _stored(ledger: Ledger, position: int) -> tuple[str, int, str] | None:
    p = ledger.provenance
    if position < len(p) and p.status[position] == STATUS_INGESTED:
        return str(p.file[position]), int(p.size[position]), str(p.sha256[position])
    return None


def _unchanged(source: SourceFile, size: int, sha256: str) -> bool:
    """The listed file is the stored one: same size, and same bytes when they were read."""
    return source.size == size and (source.sha256 is None or source.sha256 == sha256)


def slab_bounds(ntime: int, time_chunk: int) -> list[tuple[int, int]]:
    """``[start, stop)`` of every time chunk: ``ceil(ntime / time_chunk)`` slabs, the last one short."""
    if time_chunk < 1:
        raise ChunkAlignmentError(f"the time chunk must be >= 1, got {time_chunk}")
    return [(start, min(start + time_chunk, ntime)) for start in range(0, ntime, time_chunk)]


def plan_slabs(
    days: Iterable[DayWork], time: pd.DatetimeIndex, ledger: Ledger
) -> tuple[SlabTask, ...]:
    """One task per time chunk that holds a day with work."""
    by_slab: dict[int, list[DayWork]] = defaultdict(list)
    for day in days:
        by_slab[day.position // ledger.time_chunk].append(day)
    bounds = slab_bounds(len(time), ledger.time_chunk)
    return tuple(
        SlabTask(
            i,
            *bounds[i],
            tuple(sorted(by_slab[i], key=lambda d: d.position)),
            ledger.provenance.window(*bounds[i]),
        )
        for i in sorted(by_slab)
    )


def make_plan(
    candidates: list[Candidate],
    identity: Identity,
    ledger: Ledger,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> IngestPlan:
    """The plan for ``candidates`` (parsed names) against a store holding ``ledger``."""
    selected, filtered = select(candidates, identity.pass_, start, end)
    matching, records = split_identity(selected, identity)
    first_files: dict[dt.date, str] = {}
    for c in sorted(matching, key=lambda c: c.source.name):
        first_files.setdefault(c.date, c.source.name)
    time = time_axis(first_files, ledger, start, end)
    days, unchanged = plan_days(matching, time, ledger)
    return IngestPlan(time, plan_slabs(days, time, ledger), tuple(records), unchanged, filtered)
