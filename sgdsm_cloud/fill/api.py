"""The notebook API: a lazy, dask-backed seamless cube computed by the user's own scheduler.

``fill_dataset(raw, checkpoint)`` builds one dask task per tile of the same block plan the
distributed ``sgdsm fill`` runs, each calling the same array core (``block.fill_block``), so
both paths give the same values. Nothing is computed until the user asks::

    filled = fill_dataset(cube.open_cube(url), "s3://models/sgdsm")
    filled.sm.sel(lat=45.125, lon=10.125, method="nearest").plot()   # runs only the tiles needed
    filled.sm_uncertainty.sel(time="2019-06-01").plot()                # its standard error
    filled.to_zarr("s3://bucket/filled.zarr")                          # same layout as the CLI's
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Any

import numpy as np
import xarray as xr

from sgdsm_cloud import cube, schema
from sgdsm_cloud.fill.block import OTHER_SM, TileInput, fill_block, tile_input
from sgdsm_cloud.fill.config import FillConfig
from sgdsm_cloud.fill.geometry import BlockSpec, tile_starts
from sgdsm_cloud.fill.plan import FillPlan, halo_of, plan_fill
from sgdsm_cloud.fill.template import ModelInfo, encoding_for, template_for
from sgdsm_cloud.model.runner import Predictor
from sgdsm_cloud.product import FLAG, SM, SM_UNCERTAINTY
from sgdsm_cloud.schema import SM_ERROR
from sgdsm_cloud.storage import Location

# A checkpoint directory (path, URL or Location), or a loaded model.checkpoint.Checkpoint.
CheckpointLike = str | os.PathLike[str] | Location | Any


def fill_dataset(
    raw: xr.Dataset,
    checkpoint: CheckpointLike,
    *,
    start: Any = None,
    end: Any = None,
    config: FillConfig | None = None,
    storage_options: dict[str, Any] | None = None,
    device: str | None = None,
    other_pass: xr.Dataset | None = None,
) -> xr.Dataset:
    """The seamless cube of ``raw`` from ``start`` to ``end``, lazily: sm, flag,
    sm_uncertainty, land, attrs.

    ``sm_uncertainty`` holds the model's standard error of filled values (NaN when the
    checkpoint has no error model) and ``raw``'s ``sm_error`` at observed values (NaN when it
    has none); its ``comment`` attribute says which.

    Args:
        raw: a raw cube (``cube.open_cube``, or any Dataset following the cube contract).
        checkpoint: a checkpoint directory (path or URL) or a loaded ``Checkpoint``. A directory
            is loaded once per worker process; a loaded checkpoint travels in the graph once.
        config: tiling and layout (``FillConfig()`` by default); tiles are the result's chunks.
        storage_options: fsspec options to reach a checkpoint URL.
        device: ``"cuda"`` or ``"cpu"``; default CUDA where the computing process has it.
        other_pass: the other overpass's raw cube (same days and grid), which a two-pass
            model reads.
    """
    from sgdsm_cloud.model.checkpoint import (
        Checkpoint,
        as_location,
        load_checkpoint,
        warn_if_out_of_domain,
    )
    from sgdsm_cloud.model.config import check_passes

    config = config or FillConfig()
    cube.check_contract(raw, "raw dataset")
    model_ref: Checkpoint | Location
    if isinstance(checkpoint, Checkpoint):
        loaded, model_ref = checkpoint, checkpoint
    else:
        model_ref = as_location(checkpoint, storage_options)
        loaded = load_checkpoint(model_ref.url, "cpu", storage_options=model_ref.storage_options)
    warn_if_out_of_domain(loaded, raw.attrs, str(model_ref))
    check_passes(loaded.config, other_pass, "fill_dataset")
    source = str(raw.encoding.get("source", "in-memory dataset"))
    if other_pass is not None:
        other_source = str(other_pass.encoding.get("source", "the other pass's dataset"))
        cube.check_other_pass(other_pass, raw, other_source, source)
    plan = plan_fill(raw, halo_of(loaded.config), config, start, end)
    result = template_for(raw, plan, source, ModelInfo.from_checkpoint(loaded), other=other_pass)
    sm, flag, uncertainty = _lazy_tiles(
        raw, plan, model_ref, config.batch_size, device, schema.physical_range(raw.attrs),
        other_pass,
    )  # fmt: skip
    result[SM] = result[SM].copy(data=sm)
    result[FLAG] = result[FLAG].copy(data=flag)
    result[SM_UNCERTAINTY] = result[SM_UNCERTAINTY].copy(data=uncertainty)
    for name, encoding in encoding_for(result, plan.layout).items():
        result[name].encoding = encoding
    return result


def _lazy_tiles(
    raw: xr.Dataset,
    plan: FillPlan,
    model_ref: Any,
    batch_size: int,
    device: str | None,
    valid_range: tuple[float, float],
    other_pass: xr.Dataset | None = None,
) -> tuple[Any, Any, Any]:
    """``sm``, ``flag`` and ``sm_uncertainty`` as dask arrays of one delayed task per tile,
    assembled in tile order."""
    import dask
    import dask.array as da

    arrays = {
        name: da.asarray(raw[name].data)
        for name in (cube.SM, SM_ERROR, cube.FROZEN)
        if name in raw.variables
    }
    if other_pass is not None:
        arrays[OTHER_SM] = da.asarray(other_pass[cube.SM].data)
    land = np.asarray(raw[cube.LAND].values).astype(bool)
    lat, lon = raw["lat"].values, raw["lon"].values
    model = dask.delayed(model_ref, pure=True)  # one graph key shared by every tile
    sm_tiles, flag_tiles, unc_tiles = [], [], []
    for spec in plan.blocks:
        read = tile_input(  # the distributed fill's reads, here as dask arrays
            lambda name, key: arrays[name][key], land, lat, lon, spec, raw.sizes["time"],
            has_error=SM_ERROR in arrays, has_frozen=cube.FROZEN in arrays,
            other_pass=OTHER_SM in arrays,
        )  # fmt: skip
        tile = dask.delayed(_fill_tile, pure=True, nout=3)(
            read, spec.to_json(), model, batch_size, device, valid_range
        )
        sm_tiles.append(da.from_delayed(tile[0], spec.shape, dtype="float32"))
        flag_tiles.append(da.from_delayed(tile[1], spec.shape, dtype="uint8"))
        unc_tiles.append(da.from_delayed(tile[2], spec.shape, dtype="float32"))
    grid = [len(tile_starts(n, s)) for n, s in zip(plan.shape, plan.layout.shards, strict=True)]
    return (
        da.block(_nest(sm_tiles, grid)),
        da.block(_nest(flag_tiles, grid)),
        da.block(_nest(unc_tiles, grid)),
    )


def _nest(items: list[Any], grid: list[int]) -> list[Any]:
    """A flat time-major list of tiles as the nested lists ``da.block`` takes."""
    nt, ny, nx = grid
    return [
        [[items[(it * ny + iy) * nx + ix] for ix in range(nx)] for iy in range(ny)]
        for it in range(nt)
    ]


def _fill_tile(
    read: TileInput,
    spec_json: str,
    model_ref: Any,
    batch_size: int,
    device: str | None,
    valid_range: tuple[float, float],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One tile of the lazy cube (dask computed ``read``'s arrays before the call)."""
    spec = BlockSpec.from_json(spec_json)
    (sm, flag, uncertainty), _ = fill_block(
        np.asarray(read.block, dtype="float32"),
        read.land,
        read.fill_land,
        spec,
        _predictor(model_ref, batch_size, device),
        valid_range,
        None if read.error is None else np.asarray(read.error, dtype="float32"),
        read.frozen_days(spec.shape[0]),
        other=None if read.other is None else np.asarray(read.other, dtype="float32"),
    )
    return sm, flag, uncertainty


def _predictor(model_ref: Any, batch_size: int, device: str | None) -> Predictor:
    """The model runner of one process (``device`` None: CUDA when available)."""
    checkpoint = (
        _load(model_ref.url, json.dumps(model_ref.storage_options, sort_keys=True))
        if isinstance(model_ref, Location)
        else model_ref
    )
    return Predictor.from_checkpoint(checkpoint, device, batch_size)


@lru_cache(maxsize=2)
def _load(url: str, options_json: str) -> Any:
    """Each process loads a checkpoint directory once, whatever the number of tiles it runs."""
    from sgdsm_cloud.model.checkpoint import load_checkpoint

    return load_checkpoint(url, storage_options=json.loads(options_json))
