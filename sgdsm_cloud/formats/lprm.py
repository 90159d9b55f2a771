"""LPRM AMSR2 L3 daily NetCDF4 (NASA GES DISC): read and write.

Variables are int16 percent stored (Longitude, Latitude) with ``_FillValue`` -32767;
Latitude runs north-up, Longitude -180..180. See docs/formats.md.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import h5py
import numpy as np

from sgdsm_cloud.errors import BadInputFile, ConfigError
from sgdsm_cloud.formats.checks import check_physical_range
from sgdsm_cloud.formats.names import ArchiveName
from sgdsm_cloud.grid import infer_resolution

FILL = -32767
VARIABLES = ("soil_moisture_c1", "soil_moisture_c2", "soil_moisture_x")
DEFAULT_VARIABLE = "soil_moisture_c1"  # 6.9 GHz, the SGD-SM paper's input
_DTYPES = (np.int16, np.int32, np.float32, np.float64)
TS = "ts"  # skin temperature, int16 x 0.1 K
TS_SCALE, ERROR_SCALE = 0.1, 0.01  # the real files' scale_factor of ts and *_error


def variable_name(variable: str | None) -> str:
    """Accept ``c1``/``c2``/``x`` as short forms of ``soil_moisture_*``."""
    if not variable:
        return DEFAULT_VARIABLE
    return variable if variable.startswith("soil_moisture_") else f"soil_moisture_{variable}"


def decode(
    h5: h5py.File, parsed: ArchiveName, variable: str | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values lat x lon float32 m3 m-3, lat, lon) from an open LPRM file."""
    name, var = parsed.name, variable_name(variable)
    if var not in h5:
        present = sorted(k for k in h5 if k.startswith("soil_moisture") and not k.endswith("error"))
        raise BadInputFile(
            name, f"no variable '{var}' (the file has {present}); choose one with --variable"
        )
    for coord in ("Latitude", "Longitude"):
        if coord not in h5:
            raise BadInputFile(name, f"no '{coord}' coordinate; not an LPRM L3 file")
    nlat, nlon = round(180 / parsed.resolution), round(360 / parsed.resolution)
    if h5["Latitude"].size > nlat or h5["Longitude"].size > nlon:  # before reading anything
        raise BadInputFile(
            name,
            f"grid of {h5['Latitude'].size} x {h5['Longitude'].size} cells is larger than the global "
            f"{parsed.resolution} deg grid ({nlat} x {nlon}); refusing to read it",
        )
    lat = np.asarray(h5["Latitude"][:], dtype="float64").reshape(-1)
    lon = np.asarray(h5["Longitude"][:], dtype="float64").reshape(-1)
    grid = _read_grid(h5, name, var, lat, lon)
    attrs = h5[var].attrs
    fill = _scalar(attrs.get("_FillValue"), FILL)
    if grid.dtype.kind == "f" and not np.isnan(fill) and np.isnan(grid).any():
        raise BadInputFile(name, f"'{var}' holds NaN although its declared _FillValue is {fill:g}")
    scale = _scalar(attrs.get("scale_factor"), 1.0)
    offset = _scalar(attrs.get("add_offset"), 0.0)
    percent = grid.astype("float64") * scale + offset
    percent[grid == fill] = np.nan
    check_physical_range(name, percent)
    try:
        lat_res, lon_res = infer_resolution(lat), infer_resolution(lon)
    except ConfigError:
        raise BadInputFile(name, "Latitude/Longitude are not a regular grid") from None
    if abs(lat_res - parsed.resolution) > 1e-6 or abs(lon_res - parsed.resolution) > 1e-6:
        raise BadInputFile(
            name,
            f"grid spacing {lat_res}/{lon_res} deg does not match the product's {parsed.resolution} deg",
        )
    values, lat, lon = _orient((percent / 100.0).astype("float32"), lat, lon)
    return values, lat, lon


def decode_quality(
    h5: h5py.File, parsed: ArchiveName, variable: str | None, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(error m3 m-3, ts K)``, float32 (lat, lon) oriented as :func:`decode` returns
    ``values`` (that file's decoded soil moisture), NaN where the file gives none.

    ``<variable>_error`` is int16 volumetric percent with ``scale_factor`` 0.01, so raw x 0.01
    is m3 m-3 (read literally as "percent" it would be at most 0.005 m3 m-3, far below the
    retrieval's own 0.01 quantisation); it is NaN where ``values`` is. ``ts`` is int16 x 0.1 K.
    A file without either variable (the re-encoded sample days) gives NaN.
    """
    name, var = parsed.name, variable_name(variable)
    lat = np.asarray(h5["Latitude"][:], dtype="float64").reshape(-1)
    lon = np.asarray(h5["Longitude"][:], dtype="float64").reshape(-1)
    layers = []
    for layer, default_scale in ((f"{var}_error", ERROR_SCALE), (TS, TS_SCALE)):
        if layer not in h5:
            layers.append(np.full(values.shape, np.nan, dtype="float32"))
            continue
        grid = _read_grid(h5, name, layer, lat, lon)
        attrs = h5[layer].attrs
        scaled = grid.astype("float64") * _scalar(attrs.get("scale_factor"), default_scale)
        scaled += _scalar(attrs.get("add_offset"), 0.0)
        scaled[(grid == _scalar(attrs.get("_FillValue"), FILL)) | ~np.isfinite(scaled)] = np.nan
        scaled[scaled < 0] = np.nan  # neither an error nor a temperature in K is negative
        layers.append(_orient(scaled.astype("float32"), lat, lon)[0])
    error, ts = layers
    error[~np.isfinite(values)] = np.nan
    return error, ts


def _read_grid(h5: h5py.File, name: str, var: str, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """The variable ``var`` as stored values (lat, lon) in the file's own lat/lon order."""
    ds = h5[var]
    if ds.dtype.type not in _DTYPES:
        raise BadInputFile(name, f"'{var}' has dtype {ds.dtype}; expected int16 percent")
    dims = _dimension_names(ds)
    # Check the shape before reading, so a malformed file never allocates a huge array.
    if dims == ("Latitude", "Longitude") and ds.shape == (lat.size, lon.size):
        transpose = False
    elif ds.shape == (lon.size, lat.size) and dims in (None, ("Longitude", "Latitude")):
        transpose = True
    else:
        raise BadInputFile(
            name,
            f"'{var}' has shape {ds.shape} but the file's grid is Longitude={lon.size} x Latitude={lat.size} "
            "(wrong grid, or axes swapped without dimension names)",
        )
    raw = ds[()]
    return raw.T if transpose else raw


def _orient(
    values: np.ndarray, lat: np.ndarray, lon: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``values`` (lat, lon) north-up with longitude ascending in -180..180."""
    if lat[0] < lat[-1]:
        lat, values = lat[::-1], values[::-1]
    if lon.max() > 180:
        lon = np.where(lon > 180, lon - 360, lon)
    order = np.argsort(lon, kind="stable")
    return np.ascontiguousarray(values[:, order]), lat.copy(), lon[order]


def _dimension_names(ds: h5py.Dataset) -> tuple[str, ...] | None:
    try:
        names = tuple((ds.dims[i][0].name or "").rsplit("/", 1)[-1] for i in range(ds.ndim))
    except (RuntimeError, IndexError):  # HDF5 iterating no attached dimension scale
        return None
    return names if all(names) else None


def _scalar(value: object, default: float) -> float:
    if value is None:
        return default
    return float(np.asarray(value).reshape(-1)[0])


def file_name(
    date: dt.date, pass_: str = "D", *, downscaled: bool = False, hhmmss: str = "013500"
) -> str:
    """The archive name of a day, e.g. ``LPRM-AMSR2_L3_D_SOILM3_V001_20150401013500.nc4``."""
    ds = "DS_" if downscaled else ""
    return f"LPRM-AMSR2_L3_{ds}{pass_}_SOILM3_V001_{date:%Y%m%d}{hhmmss}.nc4"


def write(
    path: str | Path,
    fraction: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    *,
    variable: str = DEFAULT_VARIABLE,
    other_variables: tuple[str, ...] = VARIABLES,
    error: np.ndarray | None = None,
    ts: np.ndarray | None = None,
) -> None:
    """Write one day in the product's layout: int16 percent, (Longitude, Latitude), zlib, CF-1.0.

    ``fraction`` is (lat, lon) m3 m-3 with NaN gaps; other soil-moisture variables are all fill,
    as in the real sample files that hold a single band. ``error`` (m3 m-3) and ``ts`` (K),
    (lat, lon) with NaN where none, add ``<variable>_error`` and ``ts`` encoded as the
    original product file encodes them (int16 with scale_factor 0.01 and 0.1).
    """
    import h5netcdf

    percent = np.where(np.isfinite(fraction), np.round(np.clip(fraction, 0, 1) * 100), FILL).astype(
        "int16"
    )
    layers: dict[str, tuple[np.ndarray, dict[str, object]]] = {}
    for var in dict.fromkeys((variable, *other_variables)):
        data = percent.T if var == variable else np.full(percent.T.shape, FILL, "int16")
        layers[var] = data, {"units": "percent", "long_name": f"Volumetric Soil Moisture ({var})"}
    if error is not None:
        layers[f"{variable}_error"] = (
            _scaled(error, ERROR_SCALE, 0, 1).T,
            {
                "units": "percent",
                "long_name": f"Uncertainty of Soil Moisture ({variable})",
                "scale_factor": np.float32(ERROR_SCALE),
                "add_offset": np.float32(0.0),
            },
        )
    if ts is not None:
        layers[TS] = (
            _scaled(ts, TS_SCALE, 0, 3276.0).T,
            {
                "units": "Kelvin",
                "long_name": "Skin Temperature (2mm)",
                "scale_factor": np.float32(TS_SCALE),
                "add_offset": np.float32(0.0),
            },
        )
    with h5netcdf.File(path, "w") as nc:
        nc.attrs["Conventions"] = "CF-1.0"
        nc.dimensions = {"Longitude": lon.size, "Latitude": lat.size}
        nc.create_variable(
            "Longitude", ("Longitude",), "float32", data=lon.astype("float32")
        ).attrs.update({"units": "degrees_east", "long_name": "Longitude"})
        nc.create_variable(
            "Latitude", ("Latitude",), "float32", data=lat.astype("float32")
        ).attrs.update({"units": "degrees_north", "long_name": "Latitude"})
        for var, (data, attrs) in layers.items():
            v = nc.create_variable(
                var,
                ("Longitude", "Latitude"),
                "int16",
                data=data,
                fillvalue=FILL,
                compression="gzip",
                compression_opts=2,
                chunks=percent.T.shape,
            )
            v.attrs.update(attrs)


def _scaled(values: np.ndarray, scale: float, low: float, high: float) -> np.ndarray:
    """``values`` as int16 counts of ``scale`` (clipped to low..high), FILL where NaN."""
    v = np.asarray(values, dtype="float64")
    counts = np.round(np.clip(np.where(np.isfinite(v), v, 0.0), low, high) / scale)
    return np.where(np.isfinite(v), counts, FILL).astype("int16")
