"""``ingest(config)``: list, plan, write the template, run the slabs, record, consolidate.

The driver reads nothing heavier than one probe file (to fix a new store's grid) and the
store's one-dimensional ledger; the slabs do the work. Exit codes are the CLI's business:
:class:`IngestReport` says what happened.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pandas as pd

from sgdsm_cloud import cube
from sgdsm_cloud.cluster import TaskKind, run_tasks
from sgdsm_cloud.errors import BadInputFile, ConfigError
from sgdsm_cloud.formats import jaxa, read_day
from sgdsm_cloud.formats.lprm import DEFAULT_VARIABLE
from sgdsm_cloud.formats.names import parse_name
from sgdsm_cloud.ingest import quarantine, store
from sgdsm_cloud.ingest.config import IngestConfig
from sgdsm_cloud.ingest.geometry import StoreGrid
from sgdsm_cloud.ingest.lock import INGEST_LOCK, StoreLock, lock_location
from sgdsm_cloud.ingest.plan import (
    Candidate,
    Identity,
    Ledger,
    SlabTask,
    choose_pass,
    make_plan,
    parse_candidates,
    select,
)
from sgdsm_cloud.ingest.quarantine import QuarantineRecord
from sgdsm_cloud.ingest.retry import RetryPolicy, call_with_retries
from sgdsm_cloud.ingest.slabs import SlabContext, SlabResult, run_slab
from sgdsm_cloud.ingest.sources import ListingHints, SourceFile, list_sources, read_bytes
from sgdsm_cloud.outputs import claim
from sgdsm_cloud.phases import Phases
from sgdsm_cloud.storage import check_reachable

log = logging.getLogger("sgdsm_cloud.ingest")


@dataclass(frozen=True)
class IngestReport:
    """What a run did.

    Attributes:
        store: the store's URL.
        files_listed: files found under the sources.
        ingested: files whose day was written in this run.
        unchanged: files skipped because the store already holds them.
        filtered: files of the other pass or outside ``--start``/``--end``.
        quarantined: files refused in this run (the store's list also keeps earlier ones).
        slabs: slab tasks run.
        bytes_read: bytes read from sources by the slab tasks.
        days: length of the store's time axis.
        seconds: wall time of the run's phases: list, plan, template, slabs, consolidate
            (the cluster's start and stop are in none of them).
    """

    store: str
    files_listed: int
    ingested: int
    unchanged: int
    filtered: int
    quarantined: tuple[QuarantineRecord, ...]
    slabs: int
    bytes_read: int
    days: int
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        return (
            f"{self.ingested} file(s) ingested, {self.unchanged} already in the store, "
            f"{len(self.quarantined)} quarantined, {self.filtered} filtered out of {self.files_listed} listed; "
            f"{self.days} days in the store"
        )


def ingest(config: IngestConfig, client: Any = None) -> IngestReport:
    """Ingest ``config.sources`` into ``config.store``.

    The slabs run on ``client`` (a ``distributed.Client``, e.g. of a LocalCluster of worker
    processes: h5py decodes under one global lock, so processes, not threads; docs/ingest.md),
    or in this process when None.

    The whole run holds the store's lock (``ingest.lock``): a second ingest of the same store
    stops with StoreLocked before it reads or writes anything.
    """
    if config.store.protocol != "file":
        check_reachable(config.store)
    claim(config.store, cube.RAW_CUBE, inputs=config.sources, option="--store")
    claim(lock_location(config.store), INGEST_LOCK, option="the lock beside --store")
    with StoreLock(config.store) as lock:
        return _ingest_locked(config, client, lock)


def _ingest_locked(config: IngestConfig, client: Any, lock: StoreLock) -> IngestReport:
    phases = Phases(f"ingest {config.store.url}")
    listed_at = dt.datetime.now(dt.UTC)
    with phases("list"):
        existing = _open(config)
        sources = list_sources(config.sources, _hints(config, existing))
        if existing:
            sources = _rechecked(sources, existing[0], config.recheck_days)
        candidates, records = parse_candidates(sources)
    _log_all(records)

    with phases("plan"):
        pass_ = choose_pass(candidates, config.pass_, existing[1].pass_ if existing else None)
        if existing:
            ledger, identity, grid, attrs = existing
            _check_compatible(config, identity, grid)
        else:
            identity, grid = _new_identity(candidates, pass_, config)
            ledger, attrs = Ledger.new(config.chunks.time), {}
        plan = make_plan(candidates, identity, ledger, config.start, config.end)
    _log_all(plan.quarantine)
    records += plan.quarantine
    memory_hint = "with more memory per worker thread" if client is not None else ""
    with phases("template"):
        if existing:
            store.extend(config.store, plan.time)
        else:
            store.create(
                config.store,
                plan.time,
                grid,
                identity,
                config.chunks,
                overwrite=store.exists(config.store),
            )
    context = SlabContext(config.store, grid, identity, len(plan.time), ledger.time_chunk)
    with phases("slabs"):
        results = _run(plan.tasks, context, config, client, memory_hint)
    for result in results:
        records += result.quarantine
    ingested = [name for r in results for name in r.ingested]
    report = IngestReport(
        config.store.url,
        len(sources),
        len(ingested),
        plan.unchanged,
        plan.filtered,
        tuple(sorted(records)),
        len(plan.tasks),
        sum(r.bytes_read for r in results),
        len(plan.time),
    )
    merged = quarantine.merge(quarantine.from_attr(attrs.get(quarantine.ATTR)), records, ingested)
    lock.ensure_held()
    with phases("consolidate"):
        store.finish(config.store, merged, report.summary(), plan.time, listed_at)
    return dataclasses.replace(report, seconds=phases.rounded())


def _hints(config: IngestConfig, existing: tuple | None) -> ListingHints:
    """What narrows a collection's listing: the days asked for, the granules the store holds
    (no HEAD for them) and when it last listed (granules revised since are checked again)."""
    if not existing:
        return ListingHints(config.start, config.end)
    ledger, _, _, attrs = existing
    return ListingHints(config.start, config.end, ledger.held(), attrs.get(store.LISTED_ATTR))


def _rechecked(sources: list[SourceFile], ledger: Ledger, days: int) -> list[SourceFile]:
    """``sources`` with the SHA-256 of the stored files to check again (read now, before
    planning): those a catalogue calls revised, and, where no catalogue says, those of the
    store's last ``days`` days. A file the store does not hold needs no check: it is new."""
    stored = ledger.held()
    since = None
    if days and len(ledger.time):
        since = (ledger.time[-1] - pd.Timedelta(days=days - 1)).date()
    out = []
    for source in sources:
        try:
            day = parse_name(source.name).date
        except BadInputFile:
            day = None
        recent = since is not None and day is not None and day >= since
        wanted = source.revised or (source.revised is None and recent)
        if source.problem is None and source.name in stored and wanted:
            try:
                digest = hashlib.sha256(read_bytes(source)).hexdigest()
            except BadInputFile:
                digest = None  # the slab reads it again and quarantines it with the reason
            source = dataclasses.replace(source, sha256=digest)
        out.append(source)
    return out


def _open(config: IngestConfig) -> tuple[Ledger, Identity, StoreGrid, dict] | None:
    if not store.exists(config.store):
        return None
    if store.is_incomplete(config.store):
        log.info("%s: recreating a template that an interrupted run left incomplete", config.store)
        return None
    return store.read(config.store)


def _check_compatible(config: IngestConfig, identity: Identity, grid: StoreGrid) -> None:
    """A store's product, variable and grid are fixed by its first run."""
    if config.variable and (
        identity.product != "lprm" or config.lprm_variable != identity.variable
    ):
        raise ConfigError(
            f"--variable {config.variable} differs from the store's {identity.variable}; one cube holds one "
            "variable: drop --variable or use another --store"
        )
    if config.bbox and not StoreGrid.from_bbox(identity.resolution, config.bbox).same_as(grid):
        raise ConfigError(
            f"--bbox {config.bbox.as_list()} differs from the store's grid ({grid.describe()}), which its "
            "first run fixed: drop --bbox or use another --store"
        )


def _new_identity(
    candidates: list[Candidate], pass_: str | None, config: IngestConfig
) -> tuple[Identity, StoreGrid]:
    """Fix a new store's product and grid.

    The product and resolution are those of most files (``--variable`` implies LPRM; ties go
    to sorted order), so a stray file of another product is quarantined instead of deciding
    the cube. The grid is ``--bbox`` snapped to that resolution, else the grid of the first
    such file that decodes.
    """
    selected, _ = select(candidates, pass_, config.start, config.end)
    if config.variable:
        selected = [c for c in selected if c.archive.product == "lprm"]
    if not selected:
        raise ConfigError(
            f"nothing to ingest: no archive file of pass {pass_ or 'A/D'} between {config.start or 'any'} "
            f"and {config.end or 'any'} among {len(candidates)} recognised file(s)"
        )
    ordered = _by_prevalence(selected)
    if config.bbox:
        first = ordered[0].archive
        return _identity(first.product, first.resolution, first.pass_, config), StoreGrid.from_bbox(
            first.resolution, config.bbox
        )
    reasons = []
    for candidate in ordered:
        archive = candidate.archive
        identity = _identity(archive.product, archive.resolution, archive.pass_, config)
        try:
            data = call_with_retries(
                partial(read_bytes, candidate.source),
                RetryPolicy(),
                f"reading {candidate.source.url}",
                candidate.source.location.storage_options,
            )
            variable = identity.variable if identity.product == "lprm" else None
            day = read_day(data, candidate.source.name, variable=variable)
        except BadInputFile as err:
            reasons.append(f"{candidate.source.name}: {err.reason}")
            continue
        return identity, StoreGrid(day.lat, day.lon, archive.resolution)
    raise ConfigError(
        f"no file could be decoded to fix the new store's grid ({len(reasons)} tried; first: {reasons[0]}); "
        "fix the files or give the grid with --bbox"
    )


def _by_prevalence(candidates: list[Candidate]) -> list[Candidate]:
    """Candidates grouped by (product, resolution), most common group first, sorted within."""
    groups: dict[tuple[str, float], list[Candidate]] = {}
    for c in sorted(candidates, key=lambda c: (c.source.name, c.source.url)):
        groups.setdefault((c.archive.product, c.archive.resolution), []).append(c)
    return [c for group in sorted(groups.values(), key=len, reverse=True) for c in group]


def _identity(product: str, resolution: float, pass_: str, config: IngestConfig) -> Identity:
    if product == "jaxa":
        if config.variable:
            raise ConfigError(
                "--variable selects an LPRM band; JAXA files hold one product: drop --variable"
            )
        return Identity(product, resolution, pass_, jaxa.DATASET)
    return Identity(product, resolution, pass_, config.lprm_variable or DEFAULT_VARIABLE)


def _run(
    tasks: tuple[SlabTask, ...],
    context: SlabContext,
    config: IngestConfig,
    client: Any,
    memory_hint: str,
) -> list[SlabResult]:
    """Run the slabs on ``client`` (None: in this process), logging quarantined files."""
    results: list[SlabResult] = []
    if not tasks:
        return results

    def on_result(result: SlabResult) -> None:
        results.append(result)
        _log_all(result.quarantine)

    run_tasks(
        run_slab,
        tasks,
        on_result,
        kind=TaskKind("ingest", "slab", config.store.url, memory_hint),
        ids=[task.key for task in tasks],
        client=client,
        kwargs={"context": context},
    )
    return results


def _log_all(records: tuple[QuarantineRecord, ...] | list[QuarantineRecord]) -> None:
    for record in records:
        record.log()
