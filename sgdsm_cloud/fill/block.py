"""One tile of a fill: read its haloed input, run the network on its gap days, compose, pack.

A tile makes three arrays: ``sm``, ``flag`` and ``sm_uncertainty`` (the standard error of the
network where it filled, the raw cube's ``sm_error`` where it observed). Gaps on days the raw
cube's ``frozen`` says are frozen get flag ``frozen`` and no value (``product.frozen_gaps``).

:func:`fill_block` is the array core (numpy in, numpy out; no zarr, no dask) shared by the
distributed path and the notebook API. :func:`fill_tile` is the I/O shell around it for one
task: read from the raw cube, encode the tile's chunks into one pack object of the run, then
record the pack's references as done (``versioned.repository.Run``). A refill (a daily update)
recomputes only some days and keeps the others' values from the version it builds on. Each
task is a pure function of its BlockSpec and job: rerunning it writes the same pack with the
same bytes, which makes retries and rescheduling after a worker's death safe.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from sgdsm_cloud import cube, schema
from sgdsm_cloud.fill.geometry import BlockSpec, needed_windows
from sgdsm_cloud.model.runner import Predictor
from sgdsm_cloud.product import (
    FLAG,
    FLAG_FILLED,
    FLAG_FROZEN,
    FLAG_NOT_FILLED,
    FLAG_OBSERVED,
    FROZEN_WINDOW_DAYS,
    SM,
    SM_UNCERTAINTY,
    compose,
    compose_uncertainty,
    fill_land_mask,
    frozen_gaps,
)
from sgdsm_cloud.schema import SM_ERROR
from sgdsm_cloud.storage import Location
from sgdsm_cloud.versioned.chunks import encode_region
from sgdsm_cloud.versioned.packs import write_pack
from sgdsm_cloud.versioned.reader import open_refs
from sgdsm_cloud.versioned.repository import Run

OTHER_SM = "other_pass/sm"  # what tile_input's ``take`` is asked for the other overpass's sm


@dataclass(frozen=True)
class FillJob:
    """What every task of one run needs besides its BlockSpec (small; travels with each task).

    Attributes:
        source: the raw cube.
        run: where the run's packs and finished-task records go.
        metadata: the ``zarr.json`` of ``sm``, ``flag`` and ``sm_uncertainty`` (name, text).
        chunk_days: the product's days per chunk (forward passes never straddle one).
        base: the references (a version file) of the version a refill builds on.
        refill: the product days a refill recomputes; None: every day of each tile.
        other_pass: the raw cube of the other overpass, which a two-pass model reads.
    """

    source: Location
    run: Run
    metadata: tuple[tuple[str, str], ...]
    chunk_days: int
    base: Location | None = None
    refill: tuple[int, ...] | None = None
    other_pass: Location | None = None


def fill_block(
    block: np.ndarray,
    land: np.ndarray,
    fill_land: np.ndarray,
    spec: BlockSpec,
    predict: Predictor | None,
    valid_range: tuple[float, float] = schema.DEFAULT_RANGE,
    observed_error: np.ndarray | None = None,
    frozen: np.ndarray | None = None,
    *,
    chunk_days: int = 0,
    refill: np.ndarray | None = None,
    windows: bool = True,
    other: np.ndarray | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], dict[str, Any]]:
    """Fill the tile of ``spec`` from its haloed input ``block``.

    Args:
        block: the raw ``sm`` input, ``spec.read_shape``, NaN where missing.
        land: the raw land mask over the input block (y, x), the network's input mask.
        fill_land: cells of the tile (y, x) the product fills (land, not excluded).
        predict: the network; may be None when the tile needs none (no land gaps).
        valid_range: the source product's physical range; filled values are clamped to it.
        observed_error: the raw cube's ``sm_error`` on the tile (its core, no halo), or None
            when the raw cube has none.
        frozen: the tile's days (t, y, x) that count as frozen (``product.frozen_gaps``), or
            None when the raw cube has no ``frozen``; gaps there get flag ``frozen``.
        chunk_days: the product's days per chunk: forward passes never mix days of two
            chunks (:func:`aligned_batches`), so a day gets the same bits in any run that
            computes its pass; 0 splits the gap days in order.
        refill: the tile's days (bool, one per core day) whose values are wanted; the network
            runs on the passes that hold them only (None: every day). The others come back
            unfilled, for the caller to take from the product it refills.
        windows: run the network on the windows of the block that its gaps need
            (``geometry.needed_windows``); False: on the whole block (the same values, for
            benchmarks and debugging).
        other: the other overpass's ``sm`` over the same block, which a two-pass model reads
            beside ``block`` (None for one-pass models).

    The network runs only on the tile's days that have a gap on ``fill_land``, and on each
    such pass only over the parts of the block those gaps need: an all-ocean tile or a
    gap-free one never touches it. Returns ``((sm, flag, sm_uncertainty), counts)``;
    ``sm_uncertainty`` is the network's standard error where it filled (NaN when it has no
    error model) and ``observed_error`` where observed.
    """
    t, y, x = spec.core_slices
    observed = block[t, y, x]
    gaps = ~np.isfinite(observed) & fill_land
    gap_days = np.flatnonzero(gaps.any(axis=(1, 2)))
    pred = np.full(observed.shape, np.nan, dtype="float32")
    reached = np.zeros(observed.shape, dtype=bool)
    sigma: np.ndarray | None = None
    first = spec.write[0][0]  # the tile's first day on the product's time axis
    batch_size = predict.batch_size if predict is not None else 1
    passes = aligned_batches(gap_days, first, batch_size, chunk_days)
    if refill is not None:
        if not chunk_days:
            raise ValueError("a refill needs the product's chunk_days to align its passes")
        wanted = np.flatnonzero(refill)
        keep = {_pass_key(first + int(d), batch_size, chunk_days) for d in wanted}
        passes = [p for p in passes if _pass_key(first + int(p[0]), batch_size, chunk_days) in keep]
    if passes and predict is None:
        raise ValueError(f"tile {spec.id} has land gaps but no model was given")
    radius = predict.model.config.receptive_radius if predict is not None and windows else None
    inputs = block if other is None else np.stack([block, other])
    computed, network_seconds = 0, 0.0
    for days in passes:  # each pass sees only the windows its needed cells need
        assert predict is not None
        needed = gaps[days].any(axis=0)
        for window in needed_windows(needed, (y.start, x.start), land.shape, radius):
            rows, cols = window.rows, window.cols
            started = time.perf_counter()
            result = predict.run(
                inputs[..., rows, cols], land[rows, cols], days + t.start, batches=[days + t.start]
            )
            network_seconds += time.perf_counter() - started
            (tile_rows, tile_cols), (out_rows, out_cols) = window.placement((y.start, x.start))
            pred[days, tile_rows, tile_cols] = result.pred[:, out_rows, out_cols]
            reached[days, tile_rows, tile_cols] = result.reached[:, out_rows, out_cols]
            if result.sigma is not None:
                if sigma is None:
                    sigma = np.full(observed.shape, np.nan, dtype="float32")
                sigma[days, tile_rows, tile_cols] = result.sigma[:, out_rows, out_cols]
            computed += days.size * window.cells
    sm, flag = compose(observed, fill_land, pred, reached, valid_range, frozen)
    uncertainty = compose_uncertainty(flag, sigma, observed_error)
    model_days = sum(p.size for p in passes)
    return (sm, flag, uncertainty), {
        "model_days": model_days,
        "model_cells": computed,
        "network_seconds": round(network_seconds, 4),
        **flag_counts(flag),
    }


def flag_counts(flag: np.ndarray) -> dict[str, int]:
    """Cells by origin: observed, filled, not filled, frozen."""
    return {
        "observed": int((flag == FLAG_OBSERVED).sum()),
        "filled": int((flag == FLAG_FILLED).sum()),
        "not_filled": int((flag == FLAG_NOT_FILLED).sum()),
        "frozen": int((flag == FLAG_FROZEN).sum()),
    }


def aligned_batches(
    days: np.ndarray, first: int, batch_size: int, chunk_days: int
) -> list[np.ndarray]:
    """``days`` (a tile's day indices, the tile starting at product day ``first``) as forward
    passes of at most ``batch_size`` days that never straddle a product chunk: the pass of a
    day depends on the day alone, not on the run. ``chunk_days`` 0: in order. Pure."""
    days = np.asarray(days, dtype=int)
    if not chunk_days:
        step = max(batch_size, 1)
        return [days[i : i + step] for i in range(0, days.size, step)]
    keys = [_pass_key(first + int(d), batch_size, chunk_days) for d in days]
    return [days[[k == key for k in keys]] for key in dict.fromkeys(keys)]


def _pass_key(day: int, batch_size: int, chunk_days: int) -> tuple[int, int]:
    """Which forward pass a product day belongs to: its chunk, then its slot in the chunk."""
    return (day // chunk_days, (day % chunk_days) // max(batch_size, 1))


class TileStores:
    """The raw cube (and the version a refill builds on) of one run, opened once per worker
    process: reopening them per tile would cost every tile their metadata reads."""

    def __init__(self, job: FillJob) -> None:
        self.job = job
        self.source = cube.open_cube(job.source.url, job.source.storage_options, chunks=None)
        self.land = self.source[cube.LAND].values.astype(bool)
        self.valid_range = schema.physical_range(self.source.attrs)
        self.lat, self.lon = self.source["lat"].values, self.source["lon"].values
        self.has_error = SM_ERROR in self.source.variables
        self.has_frozen = cube.FROZEN in self.source.variables
        self.ntime = self.source.sizes["time"]
        self.other = None
        if job.other_pass is not None:
            self.other = cube.open_other_pass(
                job.other_pass.url, job.other_pass.storage_options, self.source, job.source.url,
                chunks=None,
            )  # fmt: skip
        self.base = None
        if job.base is not None:
            self.base = open_refs(job.base.url, job.base.storage_options, chunks=None)


@dataclass(frozen=True)
class TileInput:
    """What a tile's fill reads (``fill_block``'s arguments), as numpy or dask arrays.

    Attributes:
        block: the raw ``sm`` with the halo, ``spec.read_shape``.
        land: the raw land mask under it; fill_land: the tile's cells the product fills.
        error: the raw ``sm_error`` on the tile's own days and cells (None without one).
        frozen: the raw ``frozen`` state on the tile's cells over its days and
            ``FROZEN_WINDOW_DAYS`` on either side, and where the tile's days start in it
            (``product.frozen_gaps`` turns it into the tile's frozen days); None without one.
        other: the other overpass's ``sm`` over the same block (two-pass models), or None.
    """

    block: Any
    land: np.ndarray
    fill_land: np.ndarray
    error: Any = None
    frozen: tuple[Any, int] | None = None
    other: Any = None

    def frozen_days(self, days: int) -> np.ndarray | None:
        """The tile's ``days`` (t, y, x) that count as frozen, or None without ``frozen``."""
        if self.frozen is None:
            return None
        state, first = self.frozen
        return frozen_gaps(np.asarray(state), first, days)


def tile_input(
    take: Callable[[str, tuple[slice, ...]], Any],
    land: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    spec: BlockSpec,
    ntime: int,
    *,
    has_error: bool,
    has_frozen: bool,
    other_pass: bool = False,
) -> TileInput:
    """The reads of ``spec``'s tile, through ``take(variable, (time, lat, lon) slices)``: the
    one place that knows which parts of the raw cube a tile needs, for the distributed fill
    (numpy, read at once) and the notebook's (dask, read when computed).

    Longitude runs are read one by one and concatenated, so a halo across the dateline costs
    two small reads, never the whole row. With ``other_pass``, ``take(OTHER_SM, ...)`` reads
    the other overpass's ``sm``.
    """
    t, y = slice(*spec.read_time), slice(*spec.read_lat)
    runs = [slice(*run) for run in spec.read_lon]
    block = np.concatenate([take(cube.SM, (t, y, run)) for run in runs], axis=2)
    other = None
    if other_pass:
        other = np.concatenate([take(OTHER_SM, (t, y, run)) for run in runs], axis=2)
    block_land = np.concatenate([land[y, run] for run in runs], axis=1)
    write, (_, cy, cx) = spec.write_slices, spec.core_slices
    fill_land = fill_land_mask(block_land[cy, cx], lat[write["lat"]], lon[write["lon"]])
    days = tile_days(spec)
    cells = (write["lat"], write["lon"])
    error = take(SM_ERROR, (days, *cells)) if has_error else None
    frozen = None
    if has_frozen:
        span, first = frozen_span(days, ntime)
        frozen = (take(cube.FROZEN, (span, *cells)), first)
    return TileInput(block, block_land, fill_land, error, frozen, other)


def read_input(stores: TileStores, spec: BlockSpec) -> TileInput:
    """``spec``'s :class:`TileInput`, read from the raw cube now (float32 values)."""
    source, other = stores.source, stores.other

    def take(name: str, key: tuple[slice, ...]) -> np.ndarray:
        array = other[cube.SM] if name == OTHER_SM and other is not None else source[name]
        values = np.asarray(array[key].values)
        return values.astype("float32", copy=False) if values.dtype.kind == "f" else values

    return tile_input(
        take, stores.land, stores.lat, stores.lon, spec, stores.ntime,
        has_error=stores.has_error, has_frozen=stores.has_frozen, other_pass=other is not None,
    )  # fmt: skip


def tile_days(spec: BlockSpec) -> slice:
    """The tile's own days on the raw cube's time axis."""
    start = spec.read_time[0] + spec.core[0][0]
    return slice(start, start + spec.core[0][1] - spec.core[0][0])


def frozen_span(days: slice, ntime: int) -> tuple[slice, int]:
    """The raw days the frozen rule reads for ``days`` (they and ``FROZEN_WINDOW_DAYS`` on
    either side, within the record) and where ``days`` start inside them."""
    start = max(days.start - FROZEN_WINDOW_DAYS, 0)
    return slice(start, min(days.stop + FROZEN_WINDOW_DAYS, ntime)), days.start - start


def read_previous(stores: TileStores, spec: BlockSpec) -> dict[str, np.ndarray]:
    """The tile's ``sm``, ``flag`` and ``sm_uncertainty`` in the version a refill builds on;
    days beyond that version's end read as the fill values (a new day has none yet)."""
    assert stores.base is not None, "a refill reads the version it builds on"
    (t0, t1), y, x = spec.write
    known = min(t1, stores.base.sizes["time"])
    out = {}
    for name, fill in ((SM, np.nan), (FLAG, 0), (SM_UNCERTAINTY, np.nan)):
        array = stores.base[name]
        values = np.full((t1 - t0, y[1] - y[0], x[1] - x[0]), fill, dtype=array.dtype)
        if known > t0:
            values[: known - t0] = array[t0:known, y[0] : y[1], x[0] : x[1]].values
        out[name] = values
    return out


def encode_tile(job: FillJob, spec: BlockSpec, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """Every chunk of the tile for each array: its bytes, or None where it equals the fill
    value (the version then holds no reference for it)."""
    region = tuple(spec.write_slices.values())
    chunks: dict[str, Any] = {}
    for name, metadata in job.metadata:
        chunks.update(encode_region(metadata.encode(), name, region, arrays[name]))
    return chunks


def fill_tile(spec: BlockSpec, stores: TileStores, predict: Predictor | None) -> dict[str, Any]:
    """Read, fill, pack and record one tile; returns a small status for the driver."""
    job = stores.job
    started = time.perf_counter()
    read = read_input(stores, spec)
    refill = None
    if job.refill is not None:
        days = np.arange(*spec.write[0])
        refill = np.isin(days, np.asarray(job.refill))
    read_done = time.perf_counter()
    (sm, flag, uncertainty), counts = fill_block(
        read.block, read.land, read.fill_land, spec, predict, stores.valid_range, read.error,
        read.frozen_days(spec.shape[0]), chunk_days=job.chunk_days, refill=refill,
        other=read.other,
    )  # fmt: skip
    arrays = {SM: sm, FLAG: flag, SM_UNCERTAINTY: uncertainty}
    if refill is not None:  # the days not refilled keep the values of the version before
        previous = read_previous(stores, spec)
        for name, values in arrays.items():
            values[~refill] = previous[name][~refill]
        counts.update(flag_counts(flag))
    fill_done = time.perf_counter()
    chunks = encode_tile(job, spec, arrays)
    refs = write_pack(job.run.pack(spec.id), {k: v for k, v in chunks.items() if v is not None})
    network = counts.pop("network_seconds")
    status = {
        "id": spec.id,
        **counts,
        "kind": "ocean"
        if not read.fill_land.any()
        else ("gap_free" if counts["model_days"] == 0 else "filled"),
        "seconds": {
            "read": round(read_done - started, 4),
            "network": network,
            "compose": round(fill_done - read_done - network, 4),
            "write": round(time.perf_counter() - fill_done, 4),
        },
    }
    empty = sorted(k for k, v in chunks.items() if v is None)
    job.run.mark_done(spec.id, {"refs": refs, "empty": empty, "status": status})
    return status
