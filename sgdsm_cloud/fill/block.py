"""One tile of a fill: read its haloed input, run the network on its gap days, compose, write.

A tile writes three arrays: ``sm``, ``flag`` and ``sm_uncertainty`` (the standard error of the
network where it filled, the raw cube's ``sm_error`` where it observed). Gaps on days the raw
cube's ``frozen`` says are frozen get flag ``frozen`` and no value (``product.frozen_gaps``).

:func:`fill_block` is the array core (numpy in, numpy out; no zarr, no dask) shared by the
distributed path and the notebook API. :func:`fill_tile` is the I/O shell around it for one
task: read from the raw store, write the tile's whole shards, then record it in the manifest.
Each task is a pure function of its BlockSpec: rerunning it rewrites the same shards with the
same values, which makes retries and rescheduling after a worker's death safe.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from sgdsm_cloud import cube
from sgdsm_cloud.fill.geometry import BlockSpec
from sgdsm_cloud.fill.manifest import Manifest
from sgdsm_cloud.model.runner import Predictor
from sgdsm_cloud.product import (
    FLAG,
    FLAG_FILLED,
    FLAG_FROZEN,
    FLAG_NOT_FILLED,
    FLAG_OBSERVED,
    FROZEN_WINDOW_DAYS,
    SM,
    SM_ERROR,
    SM_UNCERTAINTY,
    compose,
    compose_uncertainty,
    fill_land_mask,
    frozen_gaps,
)
from sgdsm_cloud.storage import Location


@dataclass(frozen=True)
class FillJob:
    """What every task of one run needs besides its BlockSpec (small; travels with each task).

    Attributes:
        source: the raw cube.
        out: the seamless cube (its template already written).
        manifest: the completion manifest's prefix.
    """

    source: Location
    out: Location
    manifest: Location


def fill_block(
    block: np.ndarray,
    land: np.ndarray,
    fill_land: np.ndarray,
    spec: BlockSpec,
    predict: Predictor | None,
    valid_range: tuple[float, float] = cube.DEFAULT_RANGE,
    observed_error: np.ndarray | None = None,
    frozen: np.ndarray | None = None,
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

    The network runs only on the tile's days that have a gap on ``fill_land``: an all-ocean
    tile or a gap-free one never touches it. Returns ``((sm, flag, sm_uncertainty), counts)``;
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
    if gap_days.size:
        if predict is None:
            raise ValueError(f"tile {spec.id} has land gaps but no model was given")
        result = predict.run(block, land, gap_days + t.start)
        pred[gap_days] = result.pred[:, y, x]
        reached[gap_days] = result.reached[:, y, x]
        if result.sigma is not None:
            sigma = np.full(observed.shape, np.nan, dtype="float32")
            sigma[gap_days] = result.sigma[:, y, x]
    sm, flag = compose(observed, fill_land, pred, reached, valid_range, frozen)
    uncertainty = compose_uncertainty(flag, sigma, observed_error)
    counts = {
        "model_days": int(gap_days.size),
        "observed": int((flag == FLAG_OBSERVED).sum()),
        "filled": int((flag == FLAG_FILLED).sum()),
        "not_filled": int((flag == FLAG_NOT_FILLED).sum()),
        "frozen": int((flag == FLAG_FROZEN).sum()),
    }
    return (sm, flag, uncertainty), counts


class TileStores:
    """The raw cube and the output arrays of one run, opened once per worker process.

    Reopening them per tile would cost every tile the metadata reads of both stores. Tiles
    write straight to the output's zarr arrays: the template declares no CF scaling, so values
    are stored as they are, and each write covers whole shards (``plan.check_aligned``).
    """

    def __init__(self, job: FillJob) -> None:
        import zarr

        self.job = job
        self.source = cube.open_cube(job.source.url, job.source.storage_options, chunks=None)
        self.land = self.source[cube.LAND].values.astype(bool)
        self.valid_range = cube.physical_range(self.source.attrs)
        self.lat, self.lon = self.source["lat"].values, self.source["lon"].values
        self.has_error = SM_ERROR in self.source.variables
        self.has_frozen = cube.FROZEN in self.source.variables
        self.ntime = self.source.sizes["time"]
        group = zarr.open_group(
            job.out.url, mode="r+", storage_options=job.out.storage_options or None
        )
        sm, flag, uncertainty = group[SM], group[FLAG], group[SM_UNCERTAINTY]
        assert isinstance(sm, zarr.Array) and isinstance(flag, zarr.Array)  # the template's arrays
        assert isinstance(uncertainty, zarr.Array)
        self.sm, self.flag, self.uncertainty = sm, flag, uncertainty
        self.manifest = Manifest(job.manifest)


def read_input(
    stores: TileStores, spec: BlockSpec
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """``(block, land, fill_land, observed_error)`` of ``spec``: its haloed input, the land
    under it, what to fill, and the raw cube's ``sm_error`` on the tile (None without one).

    Longitude runs are read one by one and concatenated, so a halo across the dateline costs
    two small reads, never the whole row.
    """
    t, y = slice(*spec.read_time), slice(*spec.read_lat)
    runs = [slice(*run) for run in spec.read_lon]
    block = np.concatenate([stores.source[cube.SM][t, y, run].values for run in runs], axis=2)
    land = np.concatenate([stores.land[y, run] for run in runs], axis=1)
    write, (ct, cy, cx) = spec.write_slices, spec.core_slices
    fill_land = fill_land_mask(land[cy, cx], stores.lat[write["lat"]], stores.lon[write["lon"]])
    error = None
    if stores.has_error:  # the tile's days on the raw cube's time axis, the same cells
        days = slice(t.start + ct.start, t.start + ct.stop)
        error = stores.source[SM_ERROR][days, write["lat"], write["lon"]].values
        error = error.astype("float32", copy=False)
    return block.astype("float32", copy=False), land, fill_land, error


def tile_days(spec: BlockSpec) -> slice:
    """The tile's own days on the raw cube's time axis."""
    start = spec.read_time[0] + spec.core[0][0]
    return slice(start, start + spec.core[0][1] - spec.core[0][0])


def frozen_span(days: slice, ntime: int) -> tuple[slice, int]:
    """The raw days the frozen rule reads for ``days`` (they and ``FROZEN_WINDOW_DAYS`` on
    either side, within the record) and where ``days`` start inside them."""
    start = max(days.start - FROZEN_WINDOW_DAYS, 0)
    return slice(start, min(days.stop + FROZEN_WINDOW_DAYS, ntime)), days.start - start


def read_frozen(stores: TileStores, spec: BlockSpec) -> np.ndarray | None:
    """The tile's frozen days (t, y, x) from the raw cube's ``frozen``; None without one."""
    if not stores.has_frozen:
        return None
    days = tile_days(spec)
    span, first = frozen_span(days, stores.ntime)
    write = spec.write_slices
    state = stores.source[cube.FROZEN][span, write["lat"], write["lon"]].values
    return frozen_gaps(state, first, days.stop - days.start)


def write_tile(
    stores: TileStores,
    spec: BlockSpec,
    sm: np.ndarray,
    flag: np.ndarray,
    uncertainty: np.ndarray,
) -> None:
    """Write the tile's ``sm``, ``flag`` and ``sm_uncertainty``: whole shards, no coordinates,
    no static variables."""
    region = tuple(spec.write_slices.values())
    stores.sm[region] = sm
    stores.flag[region] = flag
    stores.uncertainty[region] = uncertainty


def fill_tile(spec: BlockSpec, stores: TileStores, predict: Predictor | None) -> dict[str, Any]:
    """Read, fill, write and record one tile; returns a small status for the driver."""
    started = time.perf_counter()
    block, land, fill_land, error = read_input(stores, spec)
    frozen = read_frozen(stores, spec)
    read_done = time.perf_counter()
    (sm, flag, uncertainty), counts = fill_block(
        block, land, fill_land, spec, predict, stores.valid_range, error, frozen
    )
    fill_done = time.perf_counter()
    write_tile(stores, spec, sm, flag, uncertainty)
    status = {
        "id": spec.id,
        **counts,
        "kind": "ocean"
        if not fill_land.any()
        else ("gap_free" if counts["model_days"] == 0 else "filled"),
        "seconds": {
            "read": round(read_done - started, 4),
            "fill": round(fill_done - read_done, 4),
            "write": round(time.perf_counter() - fill_done, 4),
        },
    }
    stores.manifest.mark_done(spec.id, status)
    return status
