"""Synthetic archives: the complete truth and what an AMSR2 archive would show of it.

A day's archive value is the truth quantised the way the file format stores it (LPRM: integer
percent, JAXA: 0.1 percent), where the pass's swath saw the cell and the retrieval succeeded;
NaN elsewhere. LPRM files also carry the retrieval's error estimate (the standard deviation the
error model drew with, where a value is archived) and the skin temperature ``ts`` (the
retrieval model's surface temperature, wherever the swath saw land: frozen days included, so
the pipeline's frozen flag has something to find; the real product writes ts only next to a
retrieval). :func:`synthesize` returns the whole period in memory (small regions and
periods, e.g. tests); :func:`write_archive` streams day by day to real files plus a
``truth.zarr`` written in time slabs, so memory stays bounded for a global year.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from sgdsm_cloud import cube, schema
from sgdsm_cloud.formats import jaxa, lprm
from sgdsm_cloud.formats.names import JAXA_NAME, LPRM_NAME
from sgdsm_cloud.grid import global_lat, global_lon
from sgdsm_cloud.landmask import LAND_THRESHOLD, global_land_fraction
from sgdsm_cloud.outputs import Folder, OutputKind, claim
from sgdsm_cloud.progress import progress as progress_bar
from sgdsm_cloud.storage import Location
from sgdsm_cloud.synth import swath, truth
from sgdsm_cloud.synth.config import SynthConfig
from sgdsm_cloud.synth.error import RetrievalError, retrieved
from sgdsm_cloud.synth.field import SoilMoistureField
from sgdsm_cloud.synth.retrieval import RetrievalModel
from sgdsm_cloud.synth.truth import TRUTH_KIND, TRUTH_STORE


def _is_archive(folder: Folder) -> bool:
    """A folder 'sgdsm synth' wrote: its truth.zarr says so (or, written before the marker
    existed, holds the truth's variables)."""
    kind = folder.zarr_kind(TRUTH_STORE)
    legacy = kind == "" and folder.read_json(TRUTH_STORE, "sm", "zarr.json") is not None
    return kind == TRUTH_KIND or legacy


SYNTH_ARCHIVE = OutputKind(
    "synthetic archive",
    "sgdsm synth",
    _is_archive,
    lambda name: name == TRUTH_STORE or bool(LPRM_NAME.match(name) or JAXA_NAME.match(name)),
)
SPANS_PER_WORKER = 8  # spans of days per synth process (see _write_spans_on)
LPRM_VARIABLE = lprm.DEFAULT_VARIABLE
JAXA_VARIABLE = jaxa.DATASET
# The reader turns JAXA's int16 into percent with the file's float32 scale attribute.
_JAXA_SCALE = float(np.float32(0.1))


@dataclass(frozen=True)
class SynthDay:
    """One synthetic day on the config's grid: ``truth`` complete over land, ``sm`` as archived,
    ``error`` the retrieval's error estimate (m3 m-3, NaN where ``sm`` is) and ``ts`` the skin
    temperature (K) where the swath saw land, NaN elsewhere."""

    date: dt.date
    truth: np.ndarray
    sm: np.ndarray
    error: np.ndarray | None = None
    ts: np.ndarray | None = None


@dataclass(frozen=True)
class WrittenArchive:
    """Where :func:`write_archive` put things.

    Attributes:
        files: the daily archive files, in date order (paths or URLs).
        truth: the truth cube's location.
    """

    files: tuple[str, ...]
    truth: str


def quantise(values: np.ndarray, fmt: str) -> np.ndarray:
    """``values`` (m3 m-3) as the format's reader returns them after a write/read round trip."""
    v = np.asarray(values, dtype="float64")
    if fmt == "lprm":
        return (np.round(v * 100.0) / 100.0).astype("float32")
    return (np.round(v * 1000.0) * _JAXA_SCALE / 100.0).astype("float32")


def iter_days(config: SynthConfig) -> Iterator[SynthDay]:
    """Each day of the archive in order; memory stays at one day plus the weather memory."""
    field = SoilMoistureField(config.seed, config.crop)
    retrieval = RetrievalModel(config.seed, config.crop, field)
    error = RetrievalError(config.seed, config.crop, config.pass_)
    lat, lon = config.crop.lat, config.crop.lon
    nan = np.float32(np.nan)
    for date in config.days:
        truth = field.truth(date)
        celsius = retrieval.temperature(date, config.pass_)
        swath_seen = swath.observed(date, config.pass_, lat, lon, config.res)
        seen = swath_seen & retrieval.succeeded(date, config.pass_, celsius)
        noise, std = error.sample(date)
        archived = quantise(retrieved(truth, noise, config.fmt), config.fmt)
        ts = np.where(swath_seen & field.land, (celsius + 273.15).astype("float32"), nan)
        yield SynthDay(date, truth, np.where(seen, archived, nan), np.where(seen, std, nan), ts)


def file_name(config: SynthConfig, date: dt.date) -> str:
    """The archive file name of ``date`` in the config's format, pass and resolution."""
    if config.fmt == "lprm":
        return lprm.file_name(date, config.pass_, downscaled=config.res == 0.1)
    return jaxa.file_name(date, config.pass_, resolution=config.res)


def synthesize(config: SynthConfig) -> xr.Dataset:
    """The whole archive in memory, in the raw-cube layout plus ``truth(time, lat, lon)``.

    ``sm`` holds what the files would give back; provenance marks every day ingested, with the
    file name it would have (no checksum or size: nothing was written).
    """
    days = list(iter_days(config))
    names = [file_name(config, d.date) for d in days]
    ds = _coordinates(config, [d.date for d in days])
    dims = ("time", "lat", "lon")
    ds[cube.SM] = (dims, np.stack([d.sm for d in days]), schema.RAW_SM_ATTRS)
    ds["truth"] = (dims, np.stack([d.truth for d in days]), truth.truth_attrs())
    ds[cube.DAY_STATUS] = (
        "time",
        np.full(len(days), schema.STATUS_INGESTED, "uint8"),
        cube.DAY_STATUS_ATTRS,
    )
    ds[cube.SOURCE_FILE] = (
        "time",
        np.array(names, dtype=np.dtypes.StringDType()),
        {"long_name": "source file name"},
    )
    ds[cube.SOURCE_SHA256] = (
        "time",
        np.array([""] * len(days), dtype=np.dtypes.StringDType()),
        {"long_name": "SHA-256 of the source file"},
    )
    ds[cube.SOURCE_SIZE] = (
        "time",
        np.zeros(len(days), "int64"),
        {"long_name": "source file size", "units": "bytes"},
    )
    return ds


def write_archive(
    config: SynthConfig,
    out_dir: str | os.PathLike[str],
    progress: bool = True,
    storage_options: dict[str, Any] | None = None,
    client: Any = None,
) -> WrittenArchive:
    """Write one file per day in the real format and ``out_dir/truth.zarr``.

    LPRM files hold the config's region; JAXA files always hold the global grid (the format has
    no coordinates), NaN outside the region. ``truth.zarr`` (zarr v3) holds the complete truth
    on the region's grid, written in time slabs of whole chunks. ``out_dir`` may be a local
    directory or an fsspec URL (e.g. ``s3://bucket/prefix``) with ``storage_options``.

    With ``client`` (a ``distributed.Client``) spans of days are tasks on its workers; else
    the whole period is written in this process. Every span is a run of whole truth chunks, so
    no two tasks write one chunk, and a day's values never depend on the first day asked for,
    so the archive is the same whatever the cluster.
    """
    import fsspec

    out = str(out_dir).rstrip("/")
    where = out if "://" in out else os.path.abspath(out)
    claim(Location(where, dict(storage_options or {})), SYNTH_ARCHIVE, option="OUT_DIR")
    fs, root = fsspec.core.url_to_fs(out, **(storage_options or {}))
    fs.makedirs(root, exist_ok=True)
    truth_url = f"{out}/{TRUTH_STORE}"
    slab_days = truth.days_per_chunk(config)
    truth.write_template(_coordinates(config, config.days), truth_url, slab_days, storage_options)
    if client is None:
        with progress_bar(
            total=len(config.days), desc=f"synth {config.fmt} {config.pass_}", unit="day",
            disable=not progress,
        ) as bar:  # fmt: skip
            files = _write_span(config, out, 0, slab_days, storage_options, bar.update)
    else:
        files = _write_spans_on(client, config, out, slab_days, storage_options)
    truth.consolidate(truth_url, storage_options)
    return WrittenArchive(tuple(files), truth_url)


def day_spans(days: int, slab_days: int, spans: int) -> list[tuple[int, int]]:
    """``[start, stop)`` day ranges of about ``days / spans`` days, each a run of whole slabs."""
    slabs = -(-days // slab_days)
    per_span = max(1, -(-slabs // spans)) * slab_days
    return [(start, min(start + per_span, days)) for start in range(0, days, per_span)]


def _write_spans_on(
    client: Any,
    config: SynthConfig,
    out: str,
    slab_days: int,
    storage_options: dict[str, Any] | None,
) -> list[str]:
    """Spans of the period as tasks on ``client``'s workers.

    A span starts with a warm-up of the field's weather memory (a few seconds), so spans are
    several per worker (for the progress and balance) but not one per slab.
    """
    from sgdsm_cloud.cluster import TaskKind, run_tasks

    workers = max(len(client.scheduler_info().get("workers", {})), 1)
    spans = day_spans(len(config.days), slab_days, workers * SPANS_PER_WORKER)
    names: dict[int, list[str]] = {}

    def keep(result: tuple[int, list[str]]) -> None:
        names[result[0]] = result[1]

    run_tasks(
        _write_span_of_period,
        spans,
        keep,
        kind=TaskKind("synth", "span", out),
        ids=[f"days-{start:05d}-{stop:05d}" for start, stop in spans],
        client=client,
        kwargs={
            "config": config,
            "out": out,
            "slab_days": slab_days,
            "storage_options": storage_options,
        },
    )
    return [name for start in sorted(names) for name in names[start]]


def _write_span_of_period(
    span: tuple[int, int],
    *,
    config: SynthConfig,
    out: str,
    slab_days: int,
    storage_options: dict[str, Any] | None,
) -> tuple[int, list[str]]:
    """The task: write the days ``span`` of the period; their first index and file names."""
    start, stop = span
    days = config.days
    part = dataclasses.replace(config, start=days[start], end=days[stop - 1])
    return start, _write_span(part, out, start, slab_days, storage_options, lambda _: None)


def _write_span(
    config: SynthConfig,
    out: str,
    first_index: int,
    slab_days: int,
    storage_options: dict[str, Any] | None,
    advance: Any,
) -> list[str]:
    """Write ``config``'s days as files and their truth at ``first_index`` of the truth store.

    ``first_index`` must be a multiple of ``slab_days`` so the slabs are the store's chunks.
    """
    import fsspec
    from fsspec.implementations.local import LocalFileSystem

    fs, root = fsspec.core.url_to_fs(out, **(storage_options or {}))
    local_dir = isinstance(fs, LocalFileSystem)
    truth_url = f"{out}/{TRUTH_STORE}"
    files: list[str] = []
    slab: list[np.ndarray] = []
    last = len(config.days) - 1
    with tempfile.TemporaryDirectory(prefix="sgdsm-synth-") as tmp:
        for i, day in enumerate(iter_days(config)):
            name = file_name(config, day.date)
            path = Path(root if local_dir else tmp) / name
            _write_file(config, path, day)
            if not local_dir:
                fs.put_file(str(path), f"{root}/{name}")
                path.unlink()
            files.append(f"{out}/{name}")
            slab.append(day.truth)
            if len(slab) == slab_days or i == last:
                slab_start = first_index + i + 1 - len(slab)
                truth.write_slab(truth_url, np.stack(slab), slab_start, storage_options)
                slab = []
            advance(1)
    return files


def _write_file(config: SynthConfig, path: Path, day: SynthDay) -> None:
    if config.fmt == "lprm":
        lprm.write(
            path,
            day.sm,
            config.crop.lat,
            config.crop.lon,
            variable=LPRM_VARIABLE,
            error=day.error,
            ts=day.ts,
        )
        return
    world = np.full(
        (global_lat(config.res).size, global_lon(config.res).size), np.nan, dtype="float32"
    )
    world[config.crop.rows, config.crop.cols] = day.sm
    jaxa.write(path, world, pass_=config.pass_, date=day.date)


def _coordinates(config: SynthConfig, dates: list[dt.date]) -> xr.Dataset:
    """Coordinates, land mask and attributes shared by the in-memory cube and the truth store."""
    land_fraction = config.crop.of(global_land_fraction(config.res))
    return xr.Dataset(
        {
            cube.LAND: (
                ("lat", "lon"),
                (land_fraction >= LAND_THRESHOLD).astype("uint8"),
                cube.LAND_ATTRS,
            ),
            cube.LAND_FRACTION: (("lat", "lon"), land_fraction, cube.LAND_FRACTION_ATTRS),
        },
        coords={
            "time": ("time", pd.DatetimeIndex(dates).as_unit("ns"), cube.TIME_ATTRS),
            "lat": ("lat", config.crop.lat, cube.LAT_ATTRS),
            "lon": ("lon", config.crop.lon, cube.LON_ATTRS),
        },
        attrs=_attrs(config),
    )


def _attrs(config: SynthConfig) -> dict[str, Any]:
    settings = {f.name: getattr(config, f.name) for f in dataclasses.fields(config) if f.init}
    settings = {
        **settings,
        "start": str(config.start),
        "end": str(config.end),
        "bbox": config.bbox.as_list(),
    }
    return {
        **schema.discovery_attrs(processing_level="L3"),
        "title": f"Synthetic AMSR2 {config.fmt.upper()} soil moisture ({config.pass_} pass)",
        "summary": "Physically plausible synthetic soil moisture with AMSR2 swath and retrieval gaps (sgdsm synth).",
        "source": "sgdsm_cloud.synth",
        "history": f"{dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ} sgdsm synth {json.dumps(settings)}",
        "time_coverage_start": str(config.start),
        "time_coverage_end": str(config.end),
        **schema.geospatial_attrs(config.crop.lat, config.crop.lon),
        "source_product": config.fmt,
        "source_variable": LPRM_VARIABLE if config.fmt == "lprm" else JAXA_VARIABLE,
        "source_pass": config.pass_,
        "synth_config": json.dumps(settings),
        "quarantine": [],
    }
