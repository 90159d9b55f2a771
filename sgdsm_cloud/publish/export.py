"""Export a seamless cube as daily NetCDF4 files in the layout of the SGD-SM dataset.

The published SGD-SM dataset (doi:10.5281/zenodo.4417458) is one NetCDF4 file per day holding
the original and the reconstructed soil moisture in integer percent (int16, fill -32767) on
``Latitude`` x ``Longitude``. :func:`export_netcdf` writes the same layout from a seamless
cube, plus the cube's ``flag`` and, where the cube has one, its ``sm_uncertainty``::

    from sgdsm_cloud.publish.export import export_netcdf

    files = export_netcdf("s3://bucket/seamless.zarr", "daily/", bbox="115,-35,150,-15",
                          start="2015-01-01", end="2015-12-31")      # the files written now
    # or a dataset already open: export_netcdf(ds, "s3://bucket/daily", client=client)

One file per day, ``OUT/SGD-SM_YYYYMMDD.nc`` (``prefix`` changes ``SGD-SM``), with, for an
LPRM C1 cube (``_c2``/``_x`` for the other bands, no suffix for other products):

* ``original_sm_c1``: the observed values (flag ``observed``), else -32767;
* ``reconstructed_sm_c1``: the seamless ``sm``, -32767 where it is NaN;
* ``flag``: the cube's flag (uint8, CF ``flag_values``/``flag_meanings``);
* ``reconstructed_sm_c1_uncertainty`` (when the cube has ``sm_uncertainty``): the standard
  error in percent, int16 packed with ``scale_factor = 0.01``, rounded to the nearest 0.01;
* ``Latitude``/``Longitude`` (float32, north-up) and a scalar ``time`` coordinate.

Percent values are floored, as the dataset's files are (``floor(100 * sm)``), after adding
1e-3 percent so that an observed value such as 29 percent, stored as the float32 0.29, comes
back as 29 rather than 28. CF-1.8 and ACDD-1.3 attributes come from the cube (a whitelist: no
storage option ever reaches a file, and the attributes are checked against every secret).

The work runs on a dask cluster (:func:`sgdsm_cloud.cluster.run_tasks`), one task per group of
days aligned with the cube's time chunks. A file appears under its final name only once
complete (a local file is written under a hidden ``.NAME.part-*`` name and renamed; an object
store receives the whole object in one upload), so a re-run skips the days whose file exists
and a killed run never leaves a partial file that looks done. ``OUT/sgdsm-export.json``
records what the directory holds (cube, grid, variables); a re-run with another cube or region
is refused unless ``overwrite``. See docs/export.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from sgdsm_cloud import __version__, cube, grid
from sgdsm_cloud.errors import ConfigError, SgdsmError, StorageError
from sgdsm_cloud.grid import BBox
from sgdsm_cloud.options import Count, Day, option
from sgdsm_cloud.outputs import Folder, OutputKind, claim, read_marker
from sgdsm_cloud.product import FLAG, FLAG_ATTRS, FLAG_OBSERVED, SM, open_seamless
from sgdsm_cloud.storage import Location, public_url, redact, write_atomic

logger = logging.getLogger(__name__)

FORMATS = ("netcdf",)
UNCERTAINTY = "sm_uncertainty"  # the seamless cube's standard error of sm, m3 m-3, when present
FILL_VALUE = -32767  # the SGD-SM dataset's (and LPRM's) int16 fill value
PERCENT_TOLERANCE = 1e-3  # percent added before flooring: float32 fractions of whole percents
UNCERTAINTY_SCALE = 0.01  # percent per packed unit, as LPRM's soil_moisture_*_error
MANIFEST = "sgdsm-export.json"
LAYOUT = "sgdsm-netcdf-1"  # bumped when the file layout changes
DATASET_DOI = "10.5281/zenodo.4417458"
BAND_FREQUENCY = {"c1": "6.9 GHz", "c2": "7.3 GHz", "x": "10.7 GHz"}
LPRM_BAND = re.compile(r"^soil_moisture_(c1|c2|x)$")
PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
SM_STANDARD_NAME = "volume_fraction_of_condensed_water_in_soil"
CARRIED_ATTRS = (  # copied from the cube when present; nothing else is
    "title",
    "summary",
    "keywords",
    "keywords_vocabulary",
    "license",
    "institution",
    "project",
    "program",
    "creator_name",
    "creator_email",
    "creator_url",
    "creator_type",
    "creator_institution",
    "publisher_name",
    "publisher_email",
    "publisher_url",
    "contributor_name",
    "contributor_role",
    "acknowledgement",
    "references",
    "method_doi",
    "source",
    "source_product",
    "source_variable",
    "source_pass",
    "platform",
    "instrument",
    "product_version",
    "model_sha256",
    "model_config",
    "date_created",
)


_DAY_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*_\d{8}\.nc$")
_RECORD = re.compile(rf"^{re.escape(MANIFEST)}(\.[0-9a-f]{{32}}\.tmp)?$")
_PART_FILE = re.compile(r"^\.[A-Za-z0-9][A-Za-z0-9._-]*_\d{8}\.nc\.part-[0-9a-f]{12}$")


def _is_export(folder: Folder) -> bool:
    record = folder.read_json(MANIFEST)
    return isinstance(record, dict) and record.get("layout") == LAYOUT


# A folder of daily files: its record, the files, and a killed run's hidden partial files
EXPORT_FOLDER = OutputKind(
    "folder of daily files",
    "sgdsm export",
    _is_export,
    lambda name: bool(_RECORD.match(name) or _DAY_FILE.match(name) or _PART_FILE.match(name)),
)


@dataclass(frozen=True)
class ExportConfig:
    """What to export and how.

    Attributes:
        fmt: the file format; ``"netcdf"`` (the SGD-SM dataset's daily NetCDF4 layout).
        bbox: region; cells whose centres fall inside it (default: the whole cube).
        start, end: first and last day (inclusive, default: the cube's), by ``cube.select_days``.
        days_per_task: days one task writes (default: the cube's time chunk, so that every
            task reads whole chunks).
        prefix: file names are ``PREFIX_YYYYMMDD.nc``.
        complevel: zlib level of the data variables (0: uncompressed).
        overwrite: rewrite the period's files, and the directory's record, instead of resuming.
    """

    fmt: str = option("netcdf", "output format", flags=("--format",), choices=FORMATS)
    bbox: BBox | None = option(
        None, "region W,S,E,N in degrees (default: the whole cube)", metavar="W,S,E,N"
    )
    start: Any = option(None, "first day, YYYY-MM-DD (default: the cube's first)", kind=Day)
    end: Any = option(None, "last day, YYYY-MM-DD (default: the cube's last)", kind=Day)
    days_per_task: int | None = option(
        None, "days per task (default: the cube's time chunk)", kind=Count
    )
    prefix: str = option("SGD-SM", "file names are PREFIX_YYYYMMDD.nc")
    complevel: int = option(4, "zlib compression level of the variables, 0..9 (0: none)")
    overwrite: bool = option(False, "rewrite existing files instead of skipping them (resume)")

    def __post_init__(self) -> None:
        if self.fmt not in FORMATS:
            raise ConfigError(f"export format must be one of {FORMATS}, got {self.fmt!r}")
        if isinstance(self.bbox, str):
            object.__setattr__(self, "bbox", BBox.parse(self.bbox))
        if self.bbox is not None and not isinstance(self.bbox, BBox):
            raise ConfigError(f"export bbox must be a grid.BBox or 'W,S,E,N', got {self.bbox!r}")
        if self.days_per_task is not None and (
            isinstance(self.days_per_task, bool) or int(self.days_per_task) < 1
        ):
            raise ConfigError(f"--days-per-task must be 1 or more, got {self.days_per_task}")
        if not PREFIX.match(str(self.prefix)):
            raise ConfigError(
                f"--prefix {self.prefix!r}: use letters, digits, '.', '_' and '-' (no '/')"
            )
        if not 0 <= int(self.complevel) <= 9:
            raise ConfigError(f"--complevel must be 0..9, got {self.complevel}")


@dataclass(frozen=True)
class Names:
    """The variables of the files, from the cube's source band."""

    band: str  # "c1", "c2", "x" or "" (another product)
    uncertainty: bool  # the cube has sm_uncertainty

    @property
    def suffix(self) -> str:
        return f"_{self.band}" if self.band else ""

    @property
    def original(self) -> str:
        return f"original_sm{self.suffix}"

    @property
    def reconstructed(self) -> str:
        return f"reconstructed_sm{self.suffix}"

    @property
    def uncertainty_name(self) -> str | None:
        return f"{self.reconstructed}_uncertainty" if self.uncertainty else None

    def all(self) -> list[str]:
        names = [self.original, self.reconstructed, FLAG]
        return names + ([self.uncertainty_name] if self.uncertainty_name else [])


@dataclass(frozen=True)
class ExportJob:
    """What every task needs besides its days (sent once per task; small)."""

    out: Location
    source: Location | None  # the cube's store; None when the tasks carry their data
    rows: slice
    cols: slice
    lat: np.ndarray
    lon: np.ndarray
    names: Names
    var_attrs: dict[str, dict[str, Any]]
    attrs: dict[str, Any]
    prefix: str
    complevel: int


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


@dataclass(frozen=True)
class ExportSummary:
    """What a run did: ``written`` now, ``skipped`` (complete from an earlier run), ``days``."""

    out: str
    days: int
    written: tuple[str, ...]
    skipped: int


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
        ds = open_seamless(source.url, source.storage_options)
        label = source.url
    else:
        ds = _check_dataset(source)
        label = "the dataset"
    positions = cube.select_days(ds["time"].values, config.start, config.end, label)
    rows, cols = _bbox_slices(ds, config.bbox)
    names = Names(band=_band(ds.attrs), uncertainty=UNCERTAINTY in ds.variables)
    lat = np.asarray(ds["lat"].values[rows], dtype="float64")
    lon = np.asarray(ds["lon"].values[cols], dtype="float64")
    attrs = global_attrs(ds, source, lat, lon)
    var_attrs = variable_attrs(ds, names)
    _refuse_secrets({"attrs": attrs, "vars": var_attrs}, source, out)

    record = _resumed_record(out, _record(ds, source, lat, lon, names, config.prefix), config)
    complete = _complete(out, record)
    dates = [pd.Timestamp(t).strftime("%Y-%m-%d") for t in ds["time"].values]
    todo = [
        i
        for i in range(positions.start, positions.stop)
        if file_name(config.prefix, dates[i]) not in complete
    ]
    total = positions.stop - positions.start
    per_task = config.days_per_task or _time_chunk(ds)
    job = ExportJob(
        out=out,
        source=source if isinstance(source, Location) else None,
        rows=rows,
        cols=cols,
        lat=lat,
        lon=lon,
        names=names,
        var_attrs=var_attrs,
        attrs=attrs,
        prefix=config.prefix,
        complevel=int(config.complevel),
    )
    groups = plan_groups(todo, per_task, dates)
    if not isinstance(source, Location):
        variables = [SM, FLAG] + ([UNCERTAINTY] if names.uncertainty else [])
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
    _write_record(out, record)
    written: list[str] = []

    def record_files(files: list[dict[str, Any]]) -> None:
        """Record a finished group's files (name, size, SHA-256); only these count as done."""
        for entry in files:
            record["files"][entry["name"]] = {"size": entry["size"], "sha256": entry["sha256"]}
            written.append(out.child(entry["name"]).url)
        _write_record(out, record)

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


def export_group(group: DayGroup, job: ExportJob) -> list[dict[str, Any]]:
    """The task: read the group's days once, then write one file per day; for each file its
    name, size and SHA-256, which the driver records."""
    try:
        arrays = _read(group, job)
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
                data[job.names.uncertainty_name] = to_packed_uncertainty(arrays[UNCERTAINTY][j])
            written.append(_publish(job, date, data))
        return written
    except SgdsmError:
        raise
    except Exception as err:
        options = {**job.out.storage_options, **(job.source.storage_options if job.source else {})}
        reason = redact(f"{type(err).__name__}: {err}", options)
        raise ExportFailed(f"{job.out.url}: days from {group.dates[0]}: {reason}") from None


class ExportFailed(SgdsmError):
    """A group of days could not be exported; the message names the days and the cause."""


def write_day(path: str, date: str, data: dict[str, np.ndarray], job: ExportJob) -> None:
    """One day's NetCDF4 file at the local ``path``."""
    import netCDF4

    day = pd.Timestamp(date)
    ny, nx = job.lat.size, job.lon.size
    nc: Any  # the stubs' overloads do not cover a dtype chosen at run time
    with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
        nc.setncatts(day_attrs(job.attrs, day))
        nc.createDimension("Latitude", ny)
        nc.createDimension("Longitude", nx)
        for name, values, attrs in (
            ("Latitude", job.lat, job.var_attrs["Latitude"]),
            ("Longitude", job.lon, job.var_attrs["Longitude"]),
        ):
            var = nc.createVariable(name, "f4", (name,))
            var[:] = values.astype("float32")
            var.setncatts(attrs)
        time = nc.createVariable("time", "f8", ())
        time.setncatts(job.var_attrs["time"])
        time[...] = float((day - pd.Timestamp("1970-01-01")) / pd.Timedelta(days=1))
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


def day_attrs(attrs: dict[str, Any], day: pd.Timestamp) -> dict[str, Any]:
    """The global attributes of ``day``'s file."""
    return {
        **attrs,
        "date": day.strftime("%Y-%m-%d"),
        "time_coverage_start": day.strftime("%Y-%m-%dT00:00:00Z"),
        "time_coverage_end": (day + pd.Timedelta(days=1)).strftime("%Y-%m-%dT00:00:00Z"),
        "time_coverage_duration": "P1D",
        "time_coverage_resolution": "P1D",
    }


def global_attrs(
    ds: xr.Dataset, source: xr.Dataset | Location, lat: np.ndarray, lon: np.ndarray
) -> dict[str, Any]:
    """CF-1.8 / ACDD-1.3 attributes shared by every file (the per-day ones: :func:`day_attrs`)."""
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    where = public_url(source.url) if isinstance(source, Location) else "a seamless dataset"
    line = f"{now} sgdsm export {__version__}: daily NetCDF of {where}"
    previous = str(ds.attrs.get("history", "")).strip()
    res = grid.infer_resolution(lat) if lat.size > 1 else grid.infer_resolution(ds["lat"].values)
    attrs: dict[str, Any] = {"Conventions": "CF-1.8, ACDD-1.3"}
    attrs.update({k: _attr(ds.attrs[k]) for k in CARRIED_ATTRS if k in ds.attrs})
    attrs.update(
        {
            "Conventions": "CF-1.8, ACDD-1.3",
            "title": str(ds.attrs.get("title", "Seamless daily AMSR2 surface soil moisture")),
            "comment": (
                "Daily file in the layout of the SGD-SM dataset (doi:"
                f"{DATASET_DOI}): original and reconstructed soil moisture in integer percent "
                f"(floored), fill value {FILL_VALUE}; 'flag' says which values are observed, "
                "filled or not filled."
            ),
            "history": f"{previous}\n{line}" if previous else line,
            "date_created": str(ds.attrs.get("date_created", now)),
            "date_issued": now,
            "sgdsm_cloud_version": __version__,
            "cdm_data_type": "Grid",
            "geospatial_lat_min": float(lat.min() - res / 2),
            "geospatial_lat_max": float(lat.max() + res / 2),
            "geospatial_lon_min": float(lon.min() - res / 2),
            "geospatial_lon_max": float(lon.max() + res / 2),
            "geospatial_lat_units": "degrees_north",
            "geospatial_lon_units": "degrees_east",
            "geospatial_lat_resolution": res,
            "geospatial_lon_resolution": res,
        }
    )
    if isinstance(source, Location):
        attrs["source_store"] = public_url(source.url)
    return attrs


def variable_attrs(ds: xr.Dataset, names: Names) -> dict[str, dict[str, Any]]:
    """CF attributes of every variable of the files."""
    high = float(ds[SM].attrs.get("valid_max", 1.0))
    band = names.band.upper()
    freq = BAND_FREQUENCY.get(names.band)
    what = f"SM_{band} from {freq}" if freq else "surface soil moisture"
    coordinates = "time Latitude Longitude"
    percent = {
        "units": "percent",
        "standard_name": SM_STANDARD_NAME,
        "_FillValue": np.int16(FILL_VALUE),
        "scale_factor": np.float32(1.0),
        "add_offset": np.float32(0.0),
        "valid_min": np.int16(0),
        "valid_max": np.int16(np.floor(high * 100 + PERCENT_TOLERANCE)),
        "coordinates": coordinates,
        "ancillary_variables": FLAG,
    }
    attrs: dict[str, dict[str, Any]] = {
        "Latitude": {
            "standard_name": "latitude",
            "long_name": "latitude of the cell centre",
            "units": "degrees_north",
            "axis": "Y",
        },
        "Longitude": {
            "standard_name": "longitude",
            "long_name": "longitude of the cell centre",
            "units": "degrees_east",
            "axis": "X",
        },
        "time": {
            "standard_name": "time",
            "long_name": "day (UTC)",
            "units": "days since 1970-01-01 00:00:00",
            "calendar": "standard",
            "axis": "T",
        },
        names.original: {
            **percent,
            "long_name": f"Original {what} (observed values; {FILL_VALUE} elsewhere)",
            "coverage_content_type": "physicalMeasurement",
        },
        names.reconstructed: {
            **percent,
            "long_name": f"Reconstructed {what} (observed values kept, gaps filled by SGD-SM)",
            "coverage_content_type": "modelResult",
        },
        FLAG: {
            **{k: v for k, v in FLAG_ATTRS.items() if k != "flag_values"},
            "flag_values": np.asarray(FLAG_ATTRS["flag_values"], dtype="uint8"),
            "coordinates": coordinates,
        },
    }
    if names.uncertainty_name:
        cube_attrs = ds[UNCERTAINTY].attrs
        attrs[names.uncertainty_name] = {
            "units": "percent",
            "standard_name": f"{SM_STANDARD_NAME} standard_error",
            "long_name": str(
                cube_attrs.get("long_name", f"standard error of reconstructed {what}")
            ),
            "_FillValue": np.int16(FILL_VALUE),
            "scale_factor": np.float32(UNCERTAINTY_SCALE),
            "add_offset": np.float32(0.0),
            "valid_min": np.int16(0),
            "coordinates": coordinates,
            "coverage_content_type": "qualityInformation",
        }
        if "comment" in cube_attrs:
            attrs[names.uncertainty_name]["comment"] = str(cube_attrs["comment"])
    return attrs


def _attr(value: Any) -> Any:
    """An attribute value NetCDF can hold: text, a number or a numeric array."""
    if isinstance(value, (str, int, float, np.number)) and not isinstance(value, bool):
        return value
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf":
        return value
    return json.dumps(value, default=str) if not isinstance(value, str) else value


def _band(attrs: dict[str, Any]) -> str:
    match = LPRM_BAND.match(str(attrs.get("source_variable", "soil_moisture_c1")))
    return match.group(1) if match else ""


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
    """Days per time chunk of the cube's ``sm`` (its inner chunks as stored), else 32."""
    chunks = ds[SM].encoding.get("chunks") or ds[SM].encoding.get("preferred_chunks", {})
    if isinstance(chunks, dict):
        return int(chunks.get("time", 32))
    dask_chunks = ds[SM].chunks
    if dask_chunks:
        return int(dask_chunks[0][0])
    return int(chunks[0]) if chunks else 32


def _subset(
    ds: xr.Dataset, variables: list[str], group: DayGroup, rows: slice, cols: slice
) -> xr.Dataset:
    sub = ds[variables].isel(time=slice(group.start, group.stop), lat=rows, lon=cols)
    return sub.drop_vars([c for c in sub.coords if c not in ("time", "lat", "lon")])


def _read(group: DayGroup, job: ExportJob) -> dict[str, np.ndarray]:
    """The group's arrays (days start..stop, the job's rows and columns), as numpy."""
    import dask

    variables = [SM, FLAG] + ([UNCERTAINTY] if job.names.uncertainty else [])
    if group.data is not None:
        ds = group.data
    else:
        assert job.source is not None
        opened = xr.open_zarr(
            job.source.url, storage_options=job.source.storage_options or None, chunks=None
        )
        ds = opened[variables].isel(time=slice(group.start, group.stop), lat=job.rows, lon=job.cols)
    with dask.config.set(scheduler="synchronous"):  # a lazy dataset computes inside the task
        return {name: np.asarray(ds[name].values) for name in variables}


def _publish(job: ExportJob, date: str, data: dict[str, np.ndarray]) -> dict[str, Any]:
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
            entry = {"name": name, **_size_and_sha256(tmp)}
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


def _size_and_sha256(path: str) -> dict[str, Any]:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(2**20), b""):
            digest.update(block)
    return {"size": os.path.getsize(path), "sha256": digest.hexdigest()}


def _complete(out: Location, record: dict[str, Any]) -> set[str]:
    """Names of the files the record lists whose size on disk is the recorded one. Other files
    are written again; leftover partial files of a killed run go."""
    fs = out.filesystem()
    fs.invalidate_cache(out.path)
    if not fs.exists(out.path):
        return set()
    sizes = {
        str(e["name"]).rstrip("/").rsplit("/", 1)[-1]: e.get("size")
        for e in fs.ls(out.path, detail=True)
    }
    for leftover in (n for n in sizes if _PART_FILE.match(n)):
        try:
            fs.rm(f"{out.path}/{leftover}")
        except FileNotFoundError:  # another process removed or renamed it
            pass
    return {name for name, entry in record["files"].items() if sizes.get(name) == entry["size"]}


def _record(
    ds: xr.Dataset,
    source: xr.Dataset | Location,
    lat: np.ndarray,
    lon: np.ndarray,
    names: Names,
    prefix: str,
) -> dict[str, Any]:
    """What the directory holds: a re-run resumes only the same export."""
    return {
        "layout": LAYOUT,
        "prefix": prefix,
        "cube": public_url(source.url) if isinstance(source, Location) else None,
        "cube_date_created": str(ds.attrs.get("date_created", "")),
        "model_sha256": str(ds.attrs.get("model_sha256", "")),
        "lat": [float(lat[0]), float(lat[-1]), int(lat.size)],
        "lon": [float(lon[0]), float(lon[-1]), int(lon.size)],
        "variables": names.all(),
    }


def _resumed_record(out: Location, record: dict[str, Any], config: ExportConfig) -> dict[str, Any]:
    """The record this run keeps up to date: the folder's own when it holds the same export
    (its files are resumed), else ``record`` with no file yet. Nothing is written here."""
    previous = read_marker(out.child(MANIFEST))
    files: dict[str, Any] = {}
    if isinstance(previous, dict) and not config.overwrite:
        keys = [k for k in record if k != "cube" and previous.get(k) != record[k]]
        if record["cube"] and previous.get("cube") and previous["cube"] != record["cube"]:
            keys.insert(0, "cube")
        if keys:
            raise ConfigError(
                f"{out.url} holds another export ({', '.join(keys)} differ: "
                f"{ {k: previous.get(k) for k in keys} }); give another --out, or --overwrite to "
                "replace its files"
            )
        recorded = previous.get("files")
        files = dict(recorded) if isinstance(recorded, dict) else {}
    return {**record, "files": files}


def _write_record(out: Location, record: dict[str, Any]) -> None:
    """Replace the record in one step (a rename on a local disk, one upload on a store)."""
    write_atomic(out.child(MANIFEST), json.dumps(record, indent=1, sort_keys=True).encode())


def _refuse_secrets(
    attributes: dict[str, Any], source: xr.Dataset | Location, out: Location
) -> None:
    text = json.dumps(attributes, default=str)
    options = {"out": out.storage_options}
    if isinstance(source, Location):
        options["source"] = source.storage_options
    if redact(text, options) != text:
        raise StorageError(
            f"refusing to export to {out.url}: the files' attributes would contain a "
            "credential from the storage options or the environment (check the cube's attributes)"
        )


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
