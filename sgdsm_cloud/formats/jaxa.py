"""JAXA AMSR2 L3 SMC daily HDF5 (G-Portal): read and write.

``/Geophysical Data`` is (rows, cols, 1) int16 with ``SCALE FACTOR`` 0.1 -> percent, no declared
fill (raw < 0 is invalid). Row 0 is the northernmost row; column 0 starts at 0 E (0..360),
so columns are rolled by half the width to reach -180..180. See docs/formats.md.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import h5py
import numpy as np
import numpy.typing as npt

from sgdsm_cloud.errors import BadInputFile
from sgdsm_cloud.formats.checks import check_physical_range
from sgdsm_cloud.formats.names import ArchiveName
from sgdsm_cloud.grid import global_lat, global_lon, lon_0_360_to_180

DATASET = "Geophysical Data"
SCALE_ATTR = "SCALE FACTOR"
MISSING = -32767


def decode(h5: h5py.File, parsed: ArchiveName) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values lat x lon float32 m3 m-3, lat, lon) from an open JAXA L3 SMC file."""
    name = parsed.name
    if DATASET not in h5:
        raise BadInputFile(name, f"no '{DATASET}' dataset; not a JAXA AMSR2 L3 SMC file")
    ds = h5[DATASET]
    if ds.dtype.kind not in "iu":
        raise BadInputFile(name, f"'{DATASET}' has dtype {ds.dtype}; expected int16")
    lat, lon = global_lat(parsed.resolution), global_lon(parsed.resolution)
    if ds.shape not in ((lat.size, lon.size, 1), (lat.size, lon.size)):
        raise BadInputFile(
            name,
            f"'{DATASET}' has shape {ds.shape}; a {parsed.resolution} deg grid needs ({lat.size}, {lon.size}, 1)",
        )
    direction = _text(h5.attrs.get("OrbitDirection"))
    if direction and direction[0].upper() != parsed.pass_:
        raise BadInputFile(
            name, f"OrbitDirection '{direction}' contradicts pass '{parsed.pass_}' in the name"
        )
    raw = ds[()].reshape(lat.size, lon.size)
    scale = float(np.asarray(ds.attrs.get(SCALE_ATTR, [0.1])).reshape(-1)[0])
    percent = np.where(raw >= 0, raw.astype("float64") * scale, np.nan)
    check_physical_range(name, percent)
    values = lon_0_360_to_180((percent / 100.0).astype("float32"))
    return np.ascontiguousarray(values), lat, lon


def _text(value: npt.ArrayLike | None) -> str:
    if value is None:
        return ""
    item = np.asarray(value).reshape(-1)[0] if np.ndim(value) else value
    return item.decode() if isinstance(item, bytes) else str(item)


def file_name(
    date: dt.date, pass_: str = "D", *, resolution: float = 0.1, version: str = "A3300300"
) -> str:
    """The archive name of a day, e.g. ``GW1AM2_20150401_01D_EQMD_L3SGSMCHA3300300.h5``."""
    grid = "H" if abs(resolution - 0.1) < 1e-9 else "L"
    return f"GW1AM2_{date:%Y%m%d}_01D_EQM{pass_}_L3SGSMC{grid}{version}.h5"


def write(
    path: str | Path, fraction: np.ndarray, *, pass_: str = "D", date: dt.date | None = None
) -> None:
    """Write one global day (lat north-up x lon -180..180, m3 m-3, NaN gaps) in the JAXA layout."""
    raw = np.where(np.isfinite(fraction), np.round(np.clip(fraction, 0, 1) * 1000), MISSING).astype(
        "int16"
    )
    raw = np.roll(raw, -(raw.shape[1] // 2), axis=1)  # back to columns starting at 0 E
    with h5py.File(path, "w") as h5:
        ds = h5.create_dataset(
            DATASET, data=raw[:, :, None], compression="gzip", compression_opts=4, chunks=True
        )
        ds.attrs[SCALE_ATTR] = np.array([0.1], dtype="float32")
        ds.attrs["UNIT"] = np.array([b"%"])
        h5.attrs["OrbitDirection"] = np.array([b"Descending" if pass_ == "D" else b"Ascending"])
        h5.attrs["GeophysicalName"] = np.array([b"Soil Moisture Content"])
        if date is not None:
            h5.attrs["ObservationStartDateTime"] = np.array(
                [f"{date:%Y-%m-%d}T00:00:00.000Z".encode()]
            )
