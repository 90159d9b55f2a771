"""The per-slab task: decode a time chunk's files, merge with what the store holds, region-write.

One task owns one whole time chunk of the store, so tasks never share a chunk and a retried
task rewrites exactly what it owns. Each file is read once: the same bytes are checksummed and
decoded. ``sm`` (with the source's quality layers ``sm_error`` and ``frozen`` when the store
has them) is written before the provenance variables, so an interruption never leaves a day
marked ingested whose data is not in the store. Memory is one slab of each written variable
(4 + 4 + 1 bytes a cell) plus one decoded day.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import xarray as xr
import zarr

from sgdsm_cloud.cube import (
    DAY_STATUS,
    FROZEN,
    FROZEN_UNKNOWN,
    QUALITY_VARS,
    SM,
    SM_ERROR,
    SOURCE_FILE,
    SOURCE_SHA256,
    SOURCE_SIZE,
    frozen_state,
)
from sgdsm_cloud.errors import BadInputFile, ChunkAlignmentError, StorageError
from sgdsm_cloud.formats import parse_name, read_day
from sgdsm_cloud.formats.quality import read_quality
from sgdsm_cloud.ingest.geometry import StoreGrid, window
from sgdsm_cloud.ingest.plan import DayWork, Identity, Provenance, SlabTask
from sgdsm_cloud.ingest.quarantine import QuarantineRecord
from sgdsm_cloud.ingest.retry import RetryPolicy, call_with_retries
from sgdsm_cloud.ingest.sources import SourceFile, read_bytes
from sgdsm_cloud.ingest.store import array_of, zarr_store
from sgdsm_cloud.schema import STATUS_INGESTED, STATUS_QUARANTINED
from sgdsm_cloud.storage import Location, redact


@dataclass(frozen=True, eq=False)
class SlabContext:
    """What every slab task needs besides its own :class:`SlabTask` (small, picklable).

    Attributes:
        store: the cube.
        grid: the store's grid; files are cropped to it.
        identity: product and variable to decode.
        ntime, time_chunk: the store's time length and chunk, to check alignment.
        retry: how a slab is re-run after a transient storage failure.
    """

    store: Location
    grid: StoreGrid
    identity: Identity
    ntime: int
    time_chunk: int
    retry: RetryPolicy = RetryPolicy()


@dataclass(frozen=True)
class SlabResult:
    """What a slab task did: the files now in the store, the refused ones, bytes read."""

    key: str
    ingested: tuple[str, ...] = ()
    quarantine: tuple[QuarantineRecord, ...] = ()
    files_read: int = 0
    bytes_read: int = 0
    written: bool = False


@dataclass(frozen=True, eq=False)
class DecodedDay:
    """One file's day on the store grid, with the checksum and size of the bytes decoded.

    ``quality``: the day's ``sm_error`` and ``frozen`` on the store grid, when asked for.
    """

    source: SourceFile
    values: np.ndarray
    sha256: str
    size: int
    quality: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class _Tally:
    records: list[QuarantineRecord] = field(default_factory=list)
    files: int = 0
    bytes: int = 0


def run_slab(task: SlabTask, context: SlabContext) -> SlabResult:
    """:func:`ingest_slab`, re-run after transient storage failures (``ingest.retry``)."""
    return call_with_retries(
        partial(ingest_slab, task, context),
        context.retry,
        f"{task.key} of {context.store}",
        context.store.storage_options,
    )


def ingest_slab(task: SlabTask, context: SlabContext) -> SlabResult:
    """Ingest one slab; bad files are quarantined, storage failures raise with the slab key."""
    _check_alignment(task, context)
    tally = _Tally()
    after = task.provenance.copy()
    quality = _quality_arrays(context)
    slab: dict[str, np.ndarray] | None = None
    ingested = []
    for day in task.days:
        kept = _resolve(day, context, tally, quality)
        offset = day.position - task.start
        if kept is not None:
            if slab is None:
                slab = _initial_slab(task, context, quality)
            slab[SM][offset] = kept.values
            for name in quality:
                slab[name][offset] = kept.quality[name]
            after.status[offset] = STATUS_INGESTED
            after.file[offset], after.sha256[offset], after.size[offset] = (
                kept.source.name,
                kept.sha256,
                kept.size,
            )
            ingested.append(kept.source.name)
        elif day.stored is None and day.replace:  # every file for a day the store lacks was refused
            after.status[offset] = STATUS_QUARANTINED
            after.file[offset], after.sha256[offset], after.size[offset] = (
                day.replace[0].name,
                "",
                0,
            )
    written = bool(ingested) or not after.equals(task.provenance)
    if written:
        _write(
            task,
            context,
            slab if slab is not None else _initial_slab(task, context, quality),
            after,
        )
    return SlabResult(
        task.key, tuple(ingested), tuple(tally.records), tally.files, tally.bytes, written
    )


def _check_alignment(task: SlabTask, context: SlabContext) -> None:
    whole = task.stop - task.start == context.time_chunk or task.stop == context.ntime
    if task.start % context.time_chunk or not whole or task.stop > context.ntime:
        raise ChunkAlignmentError(
            f"{task.key}: days [{task.start}, {task.stop}) are not whole time chunks of {context.time_chunk} "
            f"days in a store of {context.ntime} days"
        )


def _quality_arrays(context: SlabContext) -> tuple[str, ...]:
    """The quality layers the store holds (none in a cube created before they existed)."""
    group = zarr.open_group(
        zarr_store(context.store, read_only=True), mode="r", use_consolidated=False
    )
    return tuple(name for name in QUALITY_VARS if name in group)


def _resolve(
    day: DayWork, context: SlabContext, tally: _Tally, quality: tuple[str, ...] = ()
) -> DecodedDay | None:
    """The file that becomes the day's data (None: keep the store's), quarantining the rest.

    Every file is decoded, so a refused file's reason is the same whether or not an earlier
    (possibly interrupted) run already stored the day.
    """
    kept: DecodedDay | None = None
    for source in day.replace:
        decoded = _try_decode(source, context, tally, quality)
        if decoded is None:
            continue
        if kept is None:
            kept = decoded
        else:
            tally.records.append(_duplicate(source, day, kept.source.name))
    for source in day.check:
        if _try_decode(source, context, tally) is not None:
            tally.records.append(
                _duplicate(source, day, kept.source.name if kept is not None else str(day.stored))
            )
    return kept


def _duplicate(source: SourceFile, day: DayWork, kept: str) -> QuarantineRecord:
    return QuarantineRecord(source.url, f"duplicate: another file for {day.date} is kept: {kept}")


def _try_decode(
    source: SourceFile, context: SlabContext, tally: _Tally, quality: tuple[str, ...] = ()
) -> DecodedDay | None:
    try:
        data = read_bytes(source)
        tally.files += 1
        tally.bytes += len(data)
        return decode(source, data, context.grid, context.identity, quality)
    except BadInputFile as err:
        tally.records.append(QuarantineRecord(source.url, err.reason))
        return None


def decode(
    source: SourceFile,
    data: bytes,
    grid: StoreGrid,
    identity: Identity,
    quality: tuple[str, ...] = (),
) -> DecodedDay:
    """Checksum and decode one file's bytes, cropped to the store's grid.

    ``quality`` names the layers to decode too (``sm_error``, ``frozen``): the file's error
    estimate and its skin temperature against ``cube.FREEZING_K``; NaN and unknown (255) for
    a source without them.
    """
    if not data:
        raise BadInputFile(source.url, "empty file (0 bytes)")
    variable = identity.variable if identity.product == "lprm" else None
    day = read_day(data, source.name, variable=variable)
    resolution = parse_name(source.name).resolution
    found = window(grid, day.lat, day.lon, resolution)
    if found is None:
        covers = StoreGrid(day.lat, day.lon, resolution).describe()
        raise BadInputFile(
            source.url, f"wrong grid: the file covers {covers}; the store needs {grid.describe()}"
        )
    rows, cols = found
    values = np.ascontiguousarray(day.values[rows, cols], dtype="float32")
    layers: dict[str, np.ndarray] = {}
    if quality:
        read = read_quality(data, source.name, day.values, variable=variable)
        error, ts = read if read is not None else (None, None)
        layers[SM_ERROR] = (
            np.full(values.shape, np.nan, "float32")
            if error is None
            else np.ascontiguousarray(error[rows, cols], dtype="float32")
        )
        layers[FROZEN] = (
            np.full(values.shape, FROZEN_UNKNOWN, "uint8")
            if ts is None
            else frozen_state(ts[rows, cols])
        )
    layers = {name: layers[name] for name in quality}
    return DecodedDay(source, values, hashlib.sha256(data).hexdigest(), len(data), layers)


def _initial_slab(
    task: SlabTask, context: SlabContext, quality: tuple[str, ...] = ()
) -> dict[str, np.ndarray]:
    """The slab of ``sm`` and ``quality`` before new days land: stored data for ingested days,
    NaN (``frozen``: unknown) elsewhere."""
    shape = (task.stop - task.start, *context.grid.shape)
    empty = {SM: np.float32(np.nan), SM_ERROR: np.float32(np.nan), FROZEN: np.uint8(FROZEN_UNKNOWN)}
    names = (SM, *quality)
    keep = task.provenance.status == STATUS_INGESTED
    if not keep.any():
        return {name: np.full(shape, empty[name]) for name in names}
    group = zarr.open_group(
        zarr_store(context.store, read_only=True), mode="r", use_consolidated=False
    )
    slab = {}
    for name in names:
        stored = np.asarray(array_of(group, name)[task.start : task.stop])
        stored[~keep] = empty[name]  # clear data a crashed run wrote without recording it
        slab[name] = stored
    return slab


def _write(
    task: SlabTask, context: SlabContext, slab: dict[str, np.ndarray], provenance: Provenance
) -> None:
    region = {"time": slice(task.start, task.stop)}
    strings = np.dtypes.StringDType()
    data = xr.Dataset({name: (("time", "lat", "lon"), values) for name, values in slab.items()})
    records = xr.Dataset(
        {
            DAY_STATUS: ("time", provenance.status.astype("uint8")),
            SOURCE_FILE: ("time", provenance.file.astype(strings)),
            SOURCE_SHA256: ("time", provenance.sha256.astype(strings)),
            SOURCE_SIZE: ("time", provenance.size.astype("int64")),
        }
    )
    try:
        store = zarr_store(context.store)
        data.to_zarr(store, region=region, consolidated=False)  # data first, then the records
        records.to_zarr(store, region=region, consolidated=False)
    except Exception as err:
        message = redact(f"{type(err).__name__}: {err}", context.store.storage_options)
        raise StorageError(
            f"{task.key} (days {task.start}..{task.stop - 1}): writing to {context.store} failed: {message}"
        ) from err
