"""The raw cube contract shared by ingest, training, fill and validation.

A raw cube is a zarr v3 group with:

* coordinates ``time`` (daily, complete), ``lat`` (north-up), ``lon`` (ascending, -180..180);
* ``sm(time, lat, lon)`` float32 volumetric soil moisture in m3 m-3, NaN = missing;
* ``land(lat, lon)`` uint8 (1 = land) and ``land_fraction(lat, lon)`` float32;
* per-day provenance: ``day_status(time)`` (missing / ingested / quarantined),
  ``source_file(time)``, ``source_sha256(time)``, ``source_size(time)``;
* optional, written by ``sgdsm ingest`` since the source's quality layers are kept (a cube
  without them still opens, trains and fills; its product then has no uncertainty of observed
  values and no ``frozen`` flag):

  - ``sm_error(time, lat, lon)`` float32 m3 m-3, NaN where missing: the source product's own
    error estimate of each observed value (LPRM ``soil_moisture_<band>_error``). JAXA SMC
    carries none: all NaN, and the variable's ``comment`` says so;
  - ``frozen(time, lat, lon)`` uint8: 1 where the source's surface temperature is below
    :data:`FREEZING_K`, 0 where it is at or above, 255 (the zarr fill value) where the source
    gives none that day (LPRM ``ts``; JAXA SMC carries none: 255 everywhere);

* root attributes: CF/ACDD metadata, the product (``source_product``, ``source_variable``,
  ``source_pass``) and ``quarantine``, a list of ``{"file", "reason"}`` records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from sgdsm_cloud.errors import ConfigError, StoreContractError
from sgdsm_cloud.outputs import KIND_ATTR, STORE_KINDS, zarr_store_kind
from sgdsm_cloud.schema import (
    DAY_STATUS,
    DAY_STATUS_ATTRS,
    FREEZING_K,
    FROZEN,
    FROZEN_ATTRS,
    FROZEN_NO,
    FROZEN_UNKNOWN,
    FROZEN_YES,
    LAND,
    LAND_ATTRS,
    LAND_FRACTION,
    LAND_FRACTION_ATTRS,
    LAT_ATTRS,
    LON_ATTRS,
    RAW_SM_ATTRS,
    SM,
    SM_ERROR,
    SM_ERROR_ATTRS,
    SOURCE_FILE,
    SOURCE_SHA256,
    SOURCE_SIZE,
    TIME_ATTRS,
)

PROVENANCE_VARS = (DAY_STATUS, SOURCE_FILE, SOURCE_SHA256, SOURCE_SIZE)
QUALITY_VARS = (SM_ERROR, FROZEN)  # optional (time, lat, lon) layers of the source's quality

# What the store says it is (root attribute ``sgdsm_kind``); the seamless cube says "seamless_cube"
RAW_KIND = "raw_cube"
RAW_CUBE = zarr_store_kind(
    "raw cube",
    "sgdsm ingest",
    RAW_KIND,
    (SM, LAND, LAND_FRACTION, *PROVENANCE_VARS, *QUALITY_VARS, "time", "lat", "lon"),
    legacy_member=DAY_STATUS,
)

_QUALITY_COMMENTS = {
    "lprm": (
        "LPRM soil_moisture_<band>_error: int16 percent (volumetric) x scale_factor 0.01 = m3 m-3; "
        "NaN where the file gives none or sm is missing.",
        "From LPRM ts (skin temperature, int16 x 0.1 K). LPRM writes ts only where it "
        "retrieved soil moisture, so 255 marks every other cell.",
    ),
    "jaxa": (
        "JAXA AMSR2 L3 SMC carries no error estimate of its retrievals: all NaN.",
        "JAXA AMSR2 L3 SMC carries no surface temperature: 255 (unknown) everywhere, so the "
        "product never flags frozen days of this source.",
    ),
}


def quality_variables(
    shape: tuple[int, int, int], chunks: tuple[int, int, int], product: str
) -> dict[str, tuple[tuple[str, ...], Any, dict[str, Any]]]:
    """``sm_error`` (all NaN) and ``frozen`` (all unknown) as lazy template variables."""
    import dask.array as da

    error_comment, frozen_comment = _QUALITY_COMMENTS.get(product.lower(), ("", ""))
    dims = ("time", "lat", "lon")
    return {
        SM_ERROR: (
            dims,
            da.full(shape, np.nan, dtype="float32", chunks=chunks),
            {**SM_ERROR_ATTRS, **({"comment": error_comment} if error_comment else {})},
        ),
        FROZEN: (
            dims,
            da.full(shape, FROZEN_UNKNOWN, dtype="uint8", chunks=chunks),
            {**FROZEN_ATTRS, **({"comment": frozen_comment} if frozen_comment else {})},
        ),
    }


def frozen_state(ts_kelvin: np.ndarray) -> np.ndarray:
    """``frozen`` values of a skin temperature field (K, NaN where none): 1 / 0 / 255."""
    ts = np.asarray(ts_kelvin)
    state = np.full(ts.shape, FROZEN_UNKNOWN, dtype="uint8")
    known = np.isfinite(ts)
    state[known] = np.where(ts[known] < FREEZING_K, FROZEN_YES, FROZEN_NO)
    return state


@dataclass(frozen=True)
class CubeChunks:
    """Chunk sizes of the raw cube.

    Attributes:
        time: days per chunk; ingest writes one slab of this many days per task, so peak
            memory is about ``time * nlat * nlon * 4`` bytes per worker.
        lat, lon: cells per chunk along each spatial axis.
    """

    time: int = 32
    lat: int = 180
    lon: int = 180

    def __post_init__(self) -> None:
        for name in ("time", "lat", "lon"):
            if getattr(self, name) < 1:
                raise StoreContractError(
                    f"chunk size '{name}' must be >= 1, got {getattr(self, name)}"
                )

    def for_shape(self, ntime: int, nlat: int, nlon: int) -> dict[str, int]:
        """Chunk sizes clipped to the array's shape."""
        return {
            "time": min(self.time, max(ntime, 1)),
            "lat": min(self.lat, nlat),
            "lon": min(self.lon, nlon),
        }


def daily_axis(start: Any, end: Any) -> pd.DatetimeIndex:
    """Every day from ``start`` to ``end`` inclusive (normalised to midnight)."""
    return pd.date_range(pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize(), freq="D")


def empty_cube(
    time: pd.DatetimeIndex,
    lat: np.ndarray,
    lon: np.ndarray,
    land_fraction: np.ndarray,
    chunks: CubeChunks,
    attrs: dict[str, Any],
    *,
    quality: bool = False,
) -> xr.Dataset:
    """A lazy template of a raw cube: all days missing, provenance empty, final chunks.

    ``quality`` adds ``sm_error`` and ``frozen`` (commented for ``attrs["source_product"]``).
    """
    import dask.array as da

    c = chunks.for_shape(len(time), len(lat), len(lon))
    shape = (len(time), len(lat), len(lon))
    land_fraction = np.asarray(land_fraction, dtype="float32")
    ds = xr.Dataset(
        {
            SM: (
                ("time", "lat", "lon"),
                da.full(shape, np.nan, dtype="float32", chunks=tuple(c.values())),
                RAW_SM_ATTRS,
            ),
            LAND: (("lat", "lon"), (land_fraction >= 0.5).astype("uint8"), LAND_ATTRS),
            LAND_FRACTION: (("lat", "lon"), land_fraction, LAND_FRACTION_ATTRS),
            DAY_STATUS: (
                ("time",),
                da.zeros(len(time), dtype="uint8", chunks=c["time"]),
                DAY_STATUS_ATTRS,
            ),
            SOURCE_FILE: (
                ("time",),
                da.full(len(time), "", dtype=np.dtypes.StringDType(), chunks=c["time"]),
                {"long_name": "source file name"},
            ),
            SOURCE_SHA256: (
                ("time",),
                da.full(len(time), "", dtype=np.dtypes.StringDType(), chunks=c["time"]),
                {"long_name": "SHA-256 of the source file"},
            ),
            SOURCE_SIZE: (
                ("time",),
                da.zeros(len(time), dtype="int64", chunks=c["time"]),
                {"long_name": "source file size", "units": "bytes"},
            ),
        },
        coords={
            "time": ("time", time, TIME_ATTRS),
            "lat": ("lat", np.asarray(lat, dtype="float64"), LAT_ATTRS),
            "lon": ("lon", np.asarray(lon, dtype="float64"), LON_ATTRS),
        },
        attrs=attrs,
    )
    if quality:
        product = str(attrs.get("source_product", ""))
        for name, var in quality_variables(shape, (c["time"], c["lat"], c["lon"]), product).items():
            ds[name] = var
    return ds


def encoding_for(ds: xr.Dataset, chunks: CubeChunks) -> dict[str, dict[str, Any]]:
    """Zarr encodings of a raw cube: final chunks, NaN fill for ``sm``, daily time units."""
    c = chunks.for_shape(ds.sizes["time"], ds.sizes["lat"], ds.sizes["lon"])
    return {
        SM: {"chunks": (c["time"], c["lat"], c["lon"]), "fill_value": np.float32("nan")},
        **{
            name: {"chunks": (c["time"], c["lat"], c["lon"]), "fill_value": fill}
            for name, fill in ((SM_ERROR, np.float32("nan")), (FROZEN, np.uint8(FROZEN_UNKNOWN)))
            if name in ds.variables
        },
        LAND: {"chunks": (ds.sizes["lat"], ds.sizes["lon"])},
        LAND_FRACTION: {"chunks": (ds.sizes["lat"], ds.sizes["lon"])},
        **{v: {"chunks": (c["time"],)} for v in PROVENANCE_VARS},
        "time": {
            "units": "days since 1970-01-01",
            "calendar": "proleptic_gregorian",
            "dtype": "int32",
        },
    }


def store_kind(ds: xr.Dataset) -> str | None:
    """What the store says it is (its ``sgdsm_kind``); stores written before the marker
    existed are told apart by their variables. None: not one of this project's stores."""
    marker = ds.attrs.get(KIND_ATTR)
    if marker:
        return str(marker)
    if "flag" in ds.variables and SM in ds.variables:
        return "seamless_cube"
    if DAY_STATUS in ds.variables:
        return RAW_KIND
    if "truth" in ds.variables:
        return "synthetic_truth"
    return None


def check_kind(ds: xr.Dataset, expected: str, source: str, option: str) -> None:
    """Raise StoreContractError when ``ds`` says it is another kind of store than ``expected``,
    naming what it is and the command that writes the right one."""
    found = store_kind(ds)
    if found is None or found == expected:
        return
    what, writer = STORE_KINDS.get(found, (f"a store of kind {found!r}", "another command"))
    wanted, wanted_writer = STORE_KINDS[expected]
    raise StoreContractError(
        f"{source} is {what} (written by '{writer}'); {option} takes {wanted}, written by "
        f"'{wanted_writer}'"
    )


def check_contract(ds: xr.Dataset, source: str = "store", option: str = "--store") -> xr.Dataset:
    """Raise StoreContractError naming what is missing when ``ds`` is not a raw cube."""
    check_kind(ds, RAW_KIND, source, option)
    missing = [v for v in (SM, LAND) if v not in ds.variables]
    if missing:
        raise StoreContractError(
            f"{source} is not a raw sgdsm cube: missing variable(s) {missing}; create it with 'sgdsm ingest'"
        )
    if ds[SM].dims != ("time", "lat", "lon"):
        raise StoreContractError(
            f"{source}: 'sm' must have dims (time, lat, lon), has {ds[SM].dims}"
        )
    for name in QUALITY_VARS:  # optional: cubes written before they existed have neither
        if name in ds.variables and ds[name].dims != ("time", "lat", "lon"):
            raise StoreContractError(
                f"{source}: '{name}' must have dims (time, lat, lon), has {ds[name].dims}"
            )
    if ds.sizes["lat"] > 1 and not bool(ds["lat"][0] > ds["lat"][-1]):
        raise StoreContractError(f"{source}: latitude must be north-up (descending)")
    if ds.sizes["time"] > 1 and not bool((ds["time"].diff("time") == np.timedelta64(1, "D")).all()):
        raise StoreContractError(f"{source}: the time axis must be daily and complete")
    return ds


def open_cube(url: str, storage_options: dict[str, Any] | None = None, **kwargs: Any) -> xr.Dataset:
    """Open a raw cube lazily and check the contract."""
    return check_contract(open_store(url, storage_options, "sgdsm ingest", **kwargs), url)


def open_other_pass(
    url: str, storage_options: dict[str, Any] | None, ds: xr.Dataset, source: str, **kwargs: Any
) -> xr.Dataset:
    """The raw cube of the other overpass at ``url``, checked against ``ds`` (the cube of the
    pass to fill, at ``source``): the same days and grid, the other pass direction.

    Two-pass models (``anomaly-2pass``) read both; a fill must see the days its model saw.
    """
    other = open_store(url, storage_options, "sgdsm ingest", **kwargs)
    return check_other_pass(other, ds, url, source)


def check_other_pass(other: xr.Dataset, ds: xr.Dataset, url: str, source: str) -> xr.Dataset:
    """``other`` (the raw cube at ``url``) when it can be the other overpass of ``ds`` (the
    raw cube at ``source``): the cube contract, the same days and grid, another pass."""
    other = check_contract(other, url, "--other-pass")
    for axis in ("time", "lat", "lon"):
        if not np.array_equal(other[axis].values, ds[axis].values):
            raise StoreContractError(
                f"{url}: its {axis} axis differs from {source}'s ({other.sizes[axis]} against "
                f"{ds.sizes[axis]} values); ingest both passes over the same days and grid"
            )
    passes = (ds.attrs.get("source_pass"), other.attrs.get("source_pass"))
    if passes[0] is not None and passes[0] == passes[1]:
        raise StoreContractError(
            f"{url} holds the same pass ({passes[0]}) as {source}; the other overpass is its "
            f"{'ascending' if passes[0] == 'D' else 'descending'} twin"
        )
    return other


def open_store(
    url: str, storage_options: dict[str, Any] | None, written_by: str, **kwargs: Any
) -> xr.Dataset:
    """Open the zarr store at ``url`` lazily; when there is none, say which command writes it."""
    try:
        return xr.open_zarr(url, storage_options=storage_options or None, **kwargs)
    except (FileNotFoundError, KeyError) as err:
        raise StoreContractError(
            f"{url}: no zarr store found ({err}); run '{written_by}' first"
        ) from None


def select_days(time: Any, start: Any = None, end: Any = None, source: str = "the store") -> slice:
    """The positions of the days ``start .. end`` (inclusive) on a cube's ``time`` axis.

    The one rule behind every ``--start/--end``: either bound defaults to the cube's first or
    last day, and the range must be ordered and lie within the cube's days, so that a typo in a
    year is an error rather than a silently shorter run.
    """
    index = pd.DatetimeIndex(time)
    first = index[0] if start is None else pd.Timestamp(start).normalize()
    last = index[-1] if end is None else pd.Timestamp(end).normalize()
    if first < index[0] or last > index[-1] or first > last:
        raise ConfigError(
            f"--start/--end {first.date()}..{last.date()} must be an ordered range inside "
            f"{source}'s days {index[0].date()}..{index[-1].date()}; fix --start/--end"
        )
    inside = np.flatnonzero((index >= first) & (index <= last))
    if inside.size == 0:  # a gap in the axis: raw cubes are daily, so this means a broken store
        raise ConfigError(f"{source} has no day in {first.date()}..{last.date()}")
    return slice(int(inside[0]), int(inside[-1]) + 1)
