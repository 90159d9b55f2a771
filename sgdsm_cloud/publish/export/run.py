"""Plan an export (check, read the record, group the days), then run its tasks."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from sgdsm_cloud import cube
from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.grid import BBox
from sgdsm_cloud.outputs import claim
from sgdsm_cloud.product import FLAG, SM, SM_UNCERTAINTY, open_seamless
from sgdsm_cloud.publish.export.config import ExportConfig, Names
from sgdsm_cloud.publish.export.metadata import (
    band_of,
    global_attrs,
    refuse_secrets,
    variable_attrs,
)
from sgdsm_cloud.publish.export.record import (
    EXPORT_FOLDER,
    complete_files,
    record_of,
    resumed_record,
    write_record,
)
from sgdsm_cloud.publish.export.write import DayGroup, ExportJob, export_group, file_name
from sgdsm_cloud.schema import half_cells
from sgdsm_cloud.storage import Location
from sgdsm_cloud.versioned.repository import Repository

logger = logging.getLogger("sgdsm_cloud.publish.export")


@dataclass(frozen=True)
class ExportSummary:
    """What a run did: ``written`` now, ``skipped`` (complete from an earlier run), ``days``."""

    out: str
    days: int
    written: tuple[str, ...]
    skipped: int


def export_netcdf(
    ds_or_url: xr.Dataset | str,
    out: str,
    *,
    storage_options: dict[str, Any] | None = None,
    out_storage_options: dict[str, Any] | None = None,
    client: Any = None,
    **config: Any,
) -> list[str]:
    """Write daily SGD-SM NetCDF files of a seamless cube to ``out``; return those written now.

    Args:
        ds_or_url: a seamless cube's URL (local path, ``s3://``...), or a dataset holding one
            (``open_seamless``, ``fill_dataset``: lazy datasets are computed by the tasks).
        out: directory or URL of the files.
        storage_options: fsspec options of the cube's URL.
        out_storage_options: fsspec options of ``out`` (default: ``storage_options`` when both
            use the same protocol).
        client: a ``distributed.Client``; default: the current client if there is one, else
            the tasks run in this process.
        config: :class:`ExportConfig` fields (``bbox``, ``start``, ``end``, ``overwrite``, ...).

    Days whose file already exists are skipped (a re-run resumes) unless ``overwrite=True``.
    """
    if client is None:
        client = _current_client()
    from sgdsm_cloud.storage import protocol_of

    if isinstance(ds_or_url, str):
        source: xr.Dataset | Location = Location(ds_or_url, dict(storage_options or {}))
        same = protocol_of(ds_or_url) == protocol_of(out)
    else:
        source, same = ds_or_url, False
    if out_storage_options is None:
        out_storage_options = dict(storage_options or {}) if same else {}
    target = Location(out if "://" in out else os.path.abspath(out), dict(out_storage_options))
    summary = run_export(source, target, ExportConfig(**config), client)
    return list(summary.written)


@dataclass(frozen=True)
class PreparedExport:
    """An export checked and planned, nothing written yet: what :func:`execute_export` runs."""

    out: Location
    job: ExportJob
    groups: tuple[DayGroup, ...]
    record: dict[str, Any]
    days: int
    skipped: int


def prepare_export(
    source: xr.Dataset | Location, out: Location, config: ExportConfig
) -> PreparedExport:
    """Check the output folder and the cube and plan the groups of days: everything that can
    refuse an export happens here, before a cluster starts or anything is written."""
    try:
        import netCDF4  # noqa: F401  (the tasks write with it; say so before any work)
    except ImportError:
        raise ConfigError(
            "sgdsm export writes NetCDF with the netCDF4 package: pip install 'sgdsm_cloud[export]'"
        ) from None
    claim(out, EXPORT_FOLDER, inputs=[source] if isinstance(source, Location) else [])
    if isinstance(source, Location):
        version = _newest(source)  # every task reads this version, whatever is published meanwhile
        ds = open_seamless(source.url, source.storage_options, version=version)
        label = source.url
    else:
        version = None
        ds = _check_dataset(source)
        label = "the dataset"
    positions = cube.select_days(ds["time"].values, config.start, config.end, label)
    rows, cols = _bbox_slices(ds, config.bbox)
    names = Names(band=band_of(ds.attrs), uncertainty=SM_UNCERTAINTY in ds.variables)
    lat = np.asarray(ds["lat"].values[rows], dtype="float64")
    lon = np.asarray(ds["lon"].values[cols], dtype="float64")
    half = half_cells(ds["lat"].values, ds["lon"].values)  # of the grid, whatever the cut
    attrs = global_attrs(ds, source, lat, lon, half)
    var_attrs = variable_attrs(ds, names)
    refuse_secrets({"attrs": attrs, "vars": var_attrs}, source, out)

    record = resumed_record(out, record_of(ds, source, lat, lon, names, config.prefix), config)
    complete = complete_files(out, record)
    dates = [pd.Timestamp(t).strftime("%Y-%m-%d") for t in ds["time"].values]
    todo = [
        i
        for i in range(positions.start, positions.stop)
        if file_name(config.prefix, dates[i]) not in complete
    ]
    total = positions.stop - positions.start
    per_task = config.days_per_task or _time_chunk(ds)
    job = ExportJob(
        version=version,
        out=out,
        source=source if isinstance(source, Location) else None,
        rows=rows,
        cols=cols,
        lat=lat,
        lon=lon,
        half_cells=half,
        names=names,
        var_attrs=var_attrs,
        attrs=attrs,
        prefix=config.prefix,
        complevel=int(config.complevel),
    )
    groups = plan_groups(todo, per_task, dates)
    if not isinstance(source, Location):
        variables = [SM, FLAG] + ([SM_UNCERTAINTY] if names.uncertainty else [])
        groups = [
            DayGroup(g.start, g.stop, g.days, g.dates, _subset(ds, variables, g, rows, cols))
            for g in groups
        ]
    return PreparedExport(out, job, tuple(groups), record, total, total - len(todo))


def execute_export(export: PreparedExport, client: Any = None) -> ExportSummary:
    """Write the record, then the files, one task per group of days on ``client`` (None: in
    this process); each finished group's files enter the record."""
    from sgdsm_cloud.cluster import TaskKind, run_tasks

    out, record = export.out, export.record
    logger.info(
        "%s: %d days, %d already exported, %d to write",
        out.url,
        export.days,
        export.skipped,
        export.days - export.skipped,
    )
    out.filesystem().makedirs(out.path, exist_ok=True)
    write_record(out, record)
    written: list[str] = []

    def record_files(files: list[dict[str, Any]]) -> None:
        """Record a finished group's files (name, size, SHA-256); only these count as done."""
        for entry in files:
            record["files"][entry["name"]] = {"size": entry["size"], "sha256": entry["sha256"]}
            written.append(out.child(entry["name"]).url)
        write_record(out, record)

    run_tasks(
        export_group,
        export.groups,
        record_files,
        kind=TaskKind("export", "group", out.url, memory_hint="with a smaller --days-per-task"),
        ids=[g.id for g in export.groups],
        client=client,
        kwargs={"job": export.job},
    )
    return ExportSummary(out.url, export.days, tuple(sorted(written)), export.skipped)


def run_export(
    source: xr.Dataset | Location, out: Location, config: ExportConfig, client: Any = None
) -> ExportSummary:
    """Export the seamless cube ``source`` (a store's Location or a dataset) to ``out``
    (:func:`prepare_export`, then :func:`execute_export`)."""
    return execute_export(prepare_export(source, out, config), client)


def plan_groups(todo: Sequence[int], per_task: int, dates: Sequence[str]) -> list[DayGroup]:
    """The days to write, grouped by aligned blocks of ``per_task`` cube positions."""
    blocks: dict[int, list[int]] = {}
    for i in todo:
        blocks.setdefault(i // per_task, []).append(i)
    return [
        DayGroup(days[0], days[-1] + 1, tuple(days), tuple(dates[i] for i in days))
        for _, days in sorted(blocks.items())
    ]


def _check_dataset(ds: Any) -> xr.Dataset:
    from sgdsm_cloud.product import check_seamless

    if not isinstance(ds, xr.Dataset):
        raise ConfigError(
            f"export_netcdf takes a seamless cube's URL or an xarray Dataset, got {type(ds).__name__}"
        )
    return check_seamless(ds, "the dataset")


def _bbox_slices(ds: xr.Dataset, bbox: BBox | None) -> tuple[slice, slice]:
    lat, lon = np.asarray(ds["lat"].values), np.asarray(ds["lon"].values)
    if bbox is None:
        return slice(0, lat.size), slice(0, lon.size)
    rows = np.flatnonzero((lat >= bbox.south) & (lat <= bbox.north))
    cols = np.flatnonzero((lon >= bbox.west) & (lon <= bbox.east))
    if rows.size == 0 or cols.size == 0:
        raise ConfigError(
            f"--bbox {bbox.as_list()} holds no cell centre of the cube (latitudes "
            f"{lat.min()}..{lat.max()}, longitudes {lon.min()}..{lon.max()}); fix --bbox"
        )
    return slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)


def _time_chunk(ds: xr.Dataset) -> int:
    """Days per time chunk of the cube's ``sm``: its inner chunks as stored, else its dask
    chunks (an open dataset such as ``fill_dataset``'s), else 32."""
    stored = ds[SM].encoding.get("chunks") or ds[SM].encoding.get("preferred_chunks")
    if isinstance(stored, dict) and "time" in stored:
        return int(stored["time"])
    if stored and not isinstance(stored, dict):
        return int(stored[0])
    dask_chunks = ds[SM].chunks
    return int(dask_chunks[0][0]) if dask_chunks else 32


def _subset(
    ds: xr.Dataset, variables: list[str], group: DayGroup, rows: slice, cols: slice
) -> xr.Dataset:
    sub = ds[variables].isel(time=slice(group.start, group.stop), lat=rows, lon=cols)
    return sub.drop_vars([c for c in sub.coords if c not in ("time", "lat", "lon")])


def _newest(source: Location) -> int | None:
    """The newest version of a versioned product (None: a plain zarr seamless cube)."""
    repository = Repository(source)
    return repository.resolve() if repository.exists() else None


def _current_client() -> Any:
    """The current distributed client, or None (run in this process)."""
    try:
        from distributed import default_client
    except ImportError:
        return None
    try:
        return default_client()
    except ValueError:
        return None
