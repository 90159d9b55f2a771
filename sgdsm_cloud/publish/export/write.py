"""The task: read a group of days once, write one NetCDF file per day, atomically."""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from sgdsm_cloud.errors import SgdsmError
from sgdsm_cloud.failures import task_failed
from sgdsm_cloud.product import FLAG, FLAG_OBSERVED, SM, SM_UNCERTAINTY, open_seamless
from sgdsm_cloud.publish.export.config import (
    FILL_VALUE,
    PERCENT_TOLERANCE,
    UNCERTAINTY_SCALE,
    Names,
)
from sgdsm_cloud.publish.export.metadata import (
    BOUNDS,
    BOUNDS_DIM,
    LATITUDE,
    LONGITUDE,
    TIME,
    day_attrs,
)
from sgdsm_cloud.schema import cell_bounds
from sgdsm_cloud.storage import Location


@dataclass(frozen=True)
class ExportJob:
    """What every task needs besides its days (sent once per task; small)."""

    out: Location
    source: Location | None  # the cube's store; None when the tasks carry their data
    rows: slice
    cols: slice
    lat: np.ndarray
    lon: np.ndarray
    half_cells: tuple[float, float]  # half the grid's steps: the cells' bounds
    names: Names
    var_attrs: dict[str, dict[str, Any]]
    attrs: dict[str, Any]
    prefix: str
    complevel: int
    version: int | None = None  # the product's version the export reads (every task the same)


@dataclass(frozen=True)
class DayGroup:
    """One task: consecutive cube positions ``start..stop`` and the days among them to write."""

    start: int
    stop: int
    days: tuple[int, ...]
    dates: tuple[str, ...]  # YYYY-MM-DD of ``days``
    data: xr.Dataset | None = field(default=None, repr=False)

    @property
    def id(self) -> str:
        return f"days-{self.dates[0]}-{len(self.days)}"


def file_name(prefix: str, date: str) -> str:
    """``SGD-SM_20150401.nc`` for ``2015-04-01``."""
    return f"{prefix}_{date.replace('-', '')}.nc"


def to_percent(sm: np.ndarray) -> np.ndarray:
    """Integer percent of fractions ``sm`` as the SGD-SM files hold them: floored, NaN -> -32767."""
    values = np.asarray(sm, dtype="float64") * 100.0 + PERCENT_TOLERANCE
    finite = np.isfinite(values)
    out = np.full(values.shape, FILL_VALUE, dtype="int16")
    out[finite] = np.clip(np.floor(values[finite]), -32766, 32767).astype("int16")
    return out


def to_packed_uncertainty(unc: np.ndarray) -> np.ndarray:
    """Standard errors (fractions) as int16 hundredths of a percent, rounded; NaN -> -32767."""
    values = np.asarray(unc, dtype="float64") * (100.0 / UNCERTAINTY_SCALE)
    finite = np.isfinite(values)
    out = np.full(values.shape, FILL_VALUE, dtype="int16")
    out[finite] = np.clip(np.rint(values[finite]), 0, 32767).astype("int16")
    return out


def export_group(group: DayGroup, job: ExportJob) -> list[dict[str, Any]]:
    """The task: read the group's days once, then write one file per day; for each file its
    name, size and SHA-256, which the driver records."""
    try:
        arrays = read_group(group, job)
        written = []
        for day, date in zip(group.days, group.dates, strict=True):
            j = day - group.start
            sm = arrays[SM][j]
            flag = arrays[FLAG][j]
            data = {
                job.names.original: to_percent(np.where(flag == FLAG_OBSERVED, sm, np.nan)),
                job.names.reconstructed: to_percent(sm),
                FLAG: flag.astype("uint8"),
            }
            if job.names.uncertainty_name:
                data[job.names.uncertainty_name] = to_packed_uncertainty(arrays[SM_UNCERTAINTY][j])
            written.append(publish_day(job, date, data))
        return written
    except SgdsmError:
        raise
    except Exception as err:  # any cause; the traceback goes to the worker's log, redacted
        options = {**job.out.storage_options, **(job.source.storage_options if job.source else {})}
        reason = task_failed(f"export of the days from {group.dates[0]}", err, options)
        raise ExportFailed(f"{job.out.url}: days from {group.dates[0]}: {reason}") from None


class ExportFailed(SgdsmError):
    """A group of days could not be exported; the message names the days and the cause."""


def write_day(path: str, date: str, data: dict[str, np.ndarray], job: ExportJob) -> None:
    """One day's NetCDF4 file at the local ``path``."""
    import netCDF4

    day = pd.Timestamp(date)
    ny, nx = job.lat.size, job.lon.size
    days = float((day - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1))
    half_lat, half_lon = job.half_cells
    nc: Any  # the stubs' overloads do not cover a dtype chosen at run time
    with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
        nc.setncatts(day_attrs(job.attrs, day))
        nc.createDimension(LATITUDE, ny)
        nc.createDimension(LONGITUDE, nx)
        nc.createDimension(BOUNDS_DIM, 2)
        coordinates = (
            (LATITUDE, (LATITUDE,), job.lat, "f4"),
            (LONGITUDE, (LONGITUDE,), job.lon, "f4"),
            (TIME, (), np.float64(days), "f8"),
            (BOUNDS[LATITUDE], (LATITUDE, BOUNDS_DIM), cell_bounds(job.lat, half_lat), "f4"),
            (BOUNDS[LONGITUDE], (LONGITUDE, BOUNDS_DIM), cell_bounds(job.lon, half_lon), "f4"),
        )
        for name, dims, values, dtype in coordinates:
            var = nc.createVariable(name, dtype, dims)
            if job.var_attrs[name]:
                var.setncatts(job.var_attrs[name])
            var[...] = np.asarray(values).astype(dtype)
        compress = {"zlib": job.complevel > 0, "complevel": max(job.complevel, 1)}
        for name, values in data.items():
            attrs = dict(job.var_attrs[name])
            fill = attrs.pop("_FillValue", None)
            var = nc.createVariable(
                name,
                values.dtype,
                ("Latitude", "Longitude"),
                fill_value=fill if fill is not None else False,
                shuffle=True,
                chunksizes=(ny, nx),
                **compress,
            )
            var.set_auto_maskandscale(False)  # the values are packed already
            var.setncatts(attrs)
            var[:] = values


def read_group(group: DayGroup, job: ExportJob) -> dict[str, np.ndarray]:
    """The group's arrays (days start..stop, the job's rows and columns), as numpy."""
    import dask

    variables = [SM, FLAG] + ([SM_UNCERTAINTY] if job.names.uncertainty else [])
    if group.data is not None:
        ds = group.data
    else:
        assert job.source is not None
        opened = open_seamless(
            job.source.url, job.source.storage_options, version=job.version, chunks=None
        )
        ds = opened[variables].isel(time=slice(group.start, group.stop), lat=job.rows, lon=job.cols)
    with dask.config.set(scheduler="synchronous"):  # a lazy dataset computes inside the task
        return {name: np.asarray(ds[name].values) for name in variables}


def publish_day(job: ExportJob, date: str, data: dict[str, np.ndarray]) -> dict[str, Any]:
    """Write ``date``'s file so that it appears under its final name only once complete;
    its name, size and SHA-256."""
    name = file_name(job.prefix, date)
    final = job.out.child(name)
    part = f".{name}.part-{uuid.uuid4().hex[:12]}"
    with tempfile.TemporaryDirectory(prefix="sgdsm-export-") as scratch:
        local = job.out.protocol == "file"
        tmp = os.path.join(job.out.path if local else scratch, part)
        try:
            write_day(tmp, date, data, job)
            entry = {"name": name, **size_and_sha256(tmp)}
            if local:
                os.replace(tmp, final.path)  # atomic on one file system
            else:
                # An object store shows an object only once its upload completes, so the final
                # name never holds a partial file.
                job.out.filesystem().put_file(tmp, final.path)
        finally:
            if local and os.path.exists(tmp):
                os.remove(tmp)
    return entry


def size_and_sha256(path: str) -> dict[str, Any]:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(2**20), b""):
            digest.update(block)
    return {"size": os.path.getsize(path), "sha256": digest.hexdigest()}
