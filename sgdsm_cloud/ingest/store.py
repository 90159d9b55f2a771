"""Driver-side store I/O: create the template, read the ledger, extend in time, finish.

Only the driver touches metadata (cloud.md, "template -> regions -> consolidate once"):
slab tasks region-write data into arrays that already exist. Every read here opens the store
with ``consolidated=False``, because consolidated metadata lags behind an interrupted run.
"""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
import zarr
from xarray.coding.times import encode_cf_datetime
from zarr.abc.store import Store

from sgdsm_cloud import __version__
from sgdsm_cloud.cube import (
    DAY_STATUS,
    PROVENANCE_VARS,
    QUALITY_VARS,
    RAW_KIND,
    SM,
    SOURCE_FILE,
    SOURCE_SHA256,
    SOURCE_SIZE,
    CubeChunks,
    check_contract,
    empty_cube,
    encoding_for,
)
from sgdsm_cloud.errors import StoreContractError
from sgdsm_cloud.ingest import quarantine
from sgdsm_cloud.ingest.geometry import StoreGrid, global_window
from sgdsm_cloud.ingest.plan import Identity, Ledger, Provenance
from sgdsm_cloud.outputs import KIND_ATTR
from sgdsm_cloud.schema import discovery_attrs, geospatial_attrs
from sgdsm_cloud.storage import Location

LISTED_ATTR = "sources_listed_at"  # when the last run began listing (ISO UTC): CMR updated_since
CREATING_ATTR = "ingest_incomplete"  # set while the template is written; a run finding it recreates
TIME_VARS = (SM, *QUALITY_VARS, *PROVENANCE_VARS)  # a cube made before QUALITY_VARS lacks them
_PASS_WORDS = {"A": "ascending (13:30 local time)", "D": "descending (01:30 local time)"}


def zarr_store(location: Location, read_only: bool = False) -> Store:
    """A zarr store object for ``location`` (local directory or any fsspec URL)."""
    if location.protocol == "file":
        return zarr.storage.LocalStore(location.path, read_only=read_only)
    return zarr.storage.FsspecStore.from_url(
        location.url, storage_options=location.storage_options, read_only=read_only
    )


def array_of(group: zarr.Group, name: str) -> zarr.Array:
    """The variable ``name`` of a cube's zarr group: every variable of a cube is an array."""
    array = group[name]
    assert isinstance(array, zarr.Array), f"'{name}' is a zarr group, not a variable"
    return array


def exists(location: Location) -> bool:
    """Whether a zarr group (complete or not) is at ``location``."""
    return bool(location.filesystem().exists(f"{location.path.rstrip('/')}/zarr.json"))


def is_incomplete(location: Location) -> bool:
    """Whether the store is a template interrupted before it was complete (safe to recreate)."""
    group = zarr.open_group(zarr_store(location, read_only=True), mode="r", use_consolidated=False)
    return CREATING_ATTR in group.attrs


def read(location: Location) -> tuple[Ledger, Identity, StoreGrid, dict[str, Any]]:
    """The store's ledger, identity, grid and root attributes.

    Repairs first what an interrupted extension leaves (data arrays longer than the time
    coordinate, which is written last), then checks the cube contract.
    """
    _repair_lengths(location)
    ds = xr.open_zarr(zarr_store(location, read_only=True), consolidated=False, chunks=None)
    check_contract(ds, location.url)
    attrs = dict(ds.attrs)
    missing = [
        k
        for k in ("source_product", "grid_resolution", "source_pass", "source_variable")
        if k not in attrs
    ]
    if missing or DAY_STATUS not in ds:
        raise StoreContractError(
            f"{location.url} is a cube without ingest records ({missing or [DAY_STATUS]} missing); "
            "ingest into a new --store"
        )
    identity = Identity(
        str(attrs["source_product"]),
        float(attrs["grid_resolution"]),
        str(attrs["source_pass"]),
        str(attrs["source_variable"]),
    )
    grid = StoreGrid(ds["lat"].values, ds["lon"].values, identity.resolution)
    provenance = Provenance(
        ds[DAY_STATUS].values.astype("uint8"),
        ds[SOURCE_FILE].values.astype(np.dtypes.StringDType()),
        ds[SOURCE_SHA256].values.astype(np.dtypes.StringDType()),
        ds[SOURCE_SIZE].values.astype("int64"),
    )
    time_chunk = int(ds[SM].encoding["chunks"][0])
    return (
        Ledger(pd.DatetimeIndex(ds["time"].values), provenance, time_chunk),
        identity,
        grid,
        attrs,
    )


def _repair_lengths(location: Location) -> None:
    group = zarr.open_group(zarr_store(location), mode="r+", use_consolidated=False)
    if "time" not in group:
        return
    ntime = array_of(group, "time").shape[0]
    for name in TIME_VARS:
        if name in group and array_of(group, name).shape[0] != ntime:
            array = array_of(group, name)
            array.resize((ntime, *array.shape[1:]))


def create(
    location: Location,
    time: pd.DatetimeIndex,
    grid: StoreGrid,
    identity: Identity,
    chunks: CubeChunks,
    *,
    overwrite: bool = False,
) -> None:
    """Write the template: metadata, coordinates and the land mask; no data chunk yet.

    ``overwrite`` replaces an incomplete template. ``ingest`` has checked that ``location``
    is new, empty or a raw cube (``outputs.claim``), so this never writes into someone's folder.
    """
    from sgdsm_cloud.landmask import global_land_fraction

    rows, cols = global_window(grid)
    land_fraction = global_land_fraction(grid.resolution)[rows, cols]
    attrs = {**cube_attrs(identity, grid), CREATING_ATTR: True}
    ds = empty_cube(time, grid.lat, grid.lon, land_fraction, chunks, attrs, quality=True)
    encoding = encoding_for(ds, chunks)
    for name in TIME_VARS:  # a cube grows in time: keep full time chunks even when it starts short
        encoding[name]["chunks"] = (chunks.time, *encoding[name]["chunks"][1:])
    ds.to_zarr(
        zarr_store(location),
        mode="w" if overwrite else "w-",
        compute=False,
        consolidated=False,
        zarr_format=3,
        encoding=encoding,
    )
    group = zarr.open_group(zarr_store(location), mode="r+", use_consolidated=False)
    del group.attrs[CREATING_ATTR]


def extend(location: Location, time: pd.DatetimeIndex) -> None:
    """Grow the time axis to ``time`` (which starts where the store starts).

    Data arrays are resized first and the time coordinate last, so an interruption leaves a
    store whose committed length is the old one (see :func:`_repair_lengths`). New days read
    as the fill values: NaN, status 0, empty provenance.
    """
    group = zarr.open_group(zarr_store(location), mode="r+", use_consolidated=False)
    coord = array_of(group, "time")
    old = coord.shape[0]
    if len(time) <= old:
        return
    for name in TIME_VARS:
        if name not in group:  # a cube created before the quality layers existed
            continue
        array = array_of(group, name)
        array.resize((len(time), *array.shape[1:]))
    units = coord.attrs["units"]
    calendar = coord.attrs.get("calendar", "proleptic_gregorian")
    assert isinstance(units, str) and isinstance(calendar, str)  # CF attributes are text
    values, _, _ = encode_cf_datetime(time[old:], units, calendar, dtype=coord.dtype)
    coord.resize((len(time),))
    coord[old:] = values


def finish(
    location: Location,
    records: list[quarantine.QuarantineRecord],
    summary: str,
    time: pd.DatetimeIndex,
    listed_at: dt.datetime | None = None,
) -> None:
    """Record the quarantine list, coverage, when the run listed its sources and history,
    then consolidate metadata once."""
    store = zarr_store(location)
    group = zarr.open_group(store, mode="r+", use_consolidated=False)
    history = str(group.attrs.get("history", ""))
    group.attrs.update(
        {
            quarantine.ATTR: [r.to_attr() for r in records],
            "time_coverage_start": f"{time[0]:%Y-%m-%d}",
            "time_coverage_end": f"{time[-1]:%Y-%m-%d}",
            "date_modified": _now(),
            "history": "\n".join(filter(None, [history, _history_line(summary)])),
            **({LISTED_ATTR: listed_at.strftime("%Y-%m-%dT%H:%M:%SZ")} if listed_at else {}),
        }
    )
    # zarr warns that consolidated metadata is not in the v3 spec; using it is deliberate here
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Consolidated metadata", category=UserWarning)
        zarr.consolidate_metadata(store)


def cube_attrs(identity: Identity, grid: StoreGrid) -> dict[str, Any]:
    """CF / ACDD root attributes of a new raw cube."""
    half = grid.resolution / 2
    if identity.product == "lprm":
        ds = "DS_" if grid.resolution < 0.25 else ""
        collection = f"LPRM_AMSR2_{ds}{identity.pass_}_SOILM3"
        source = f"LPRM AMSR2 L3 daily ({collection}, NASA GES DISC), variable {identity.variable}"
        references = f"https://data.gesdisc.earthdata.nasa.gov/data/WAOB/{collection}.001/"
    else:
        source = f"JAXA AMSR2 L3 SMC daily (G-Portal), dataset '{identity.variable}'"
        references = "https://gportal.jaxa.jp/"
    return {
        KIND_ATTR: RAW_KIND,
        **discovery_attrs(processing_level="L3"),
        "title": f"AMSR2 {identity.product.upper()} surface soil moisture, {identity.pass_} pass, raw daily cube",
        "summary": (
            "Daily AMSR2 surface soil moisture (m3 m-3) on a regular lat/lon grid, as retrieved: NaN marks "
            "days and cells without a retrieval. day_status, source_file, source_sha256 and source_size "
            "record the archive file behind each day; 'quarantine' lists refused files."
        ),
        "source": source,
        "references": references,
        "source_product": identity.product,
        "source_variable": identity.variable,
        "source_pass": identity.pass_,
        "source_pass_description": _PASS_WORDS[identity.pass_],
        "grid_resolution": grid.resolution,
        **geospatial_attrs(grid.lat, grid.lon, (half, half)),
        "date_created": _now(),
        quarantine.ATTR: [],
    }


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _history_line(text: str) -> str:
    return f"{_now()} sgdsm ingest (sgdsm_cloud {__version__}): {text}"
