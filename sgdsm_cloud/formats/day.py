"""One day of raw soil moisture on the canonical grid, read from any archive file."""

from __future__ import annotations

import datetime as dt
import io
import os
from dataclasses import dataclass
from traceback import walk_tb
from typing import IO

import h5py
import numpy as np
import xarray as xr

from sgdsm_cloud.errors import BadInputFile
from sgdsm_cloud.formats import jaxa, lprm
from sgdsm_cloud.formats.names import ArchiveName, parse_name


@dataclass(frozen=True)
class Day:
    """One daily grid, north-up, lon ascending -180..180, float32 m3 m-3 with NaN gaps.

    Attributes:
        name: source file name (for provenance and error messages).
        date: the UTC day.
        pass_: ``"A"`` or ``"D"``.
        values: (lat, lon) float32.
        lat, lon: cell-centre coordinates, float64.
    """

    name: str
    date: dt.date
    pass_: str
    values: np.ndarray
    lat: np.ndarray
    lon: np.ndarray

    @property
    def valid_fraction(self) -> float:
        return float(np.isfinite(self.values).mean())

    def to_dataarray(self) -> xr.DataArray:
        """The day as an xarray DataArray with CF attributes, for notebooks."""
        from sgdsm_cloud.schema import LAT_ATTRS, LON_ATTRS, RAW_SM_ATTRS

        return xr.DataArray(
            self.values,
            dims=("lat", "lon"),
            coords={
                "lat": ("lat", self.lat, LAT_ATTRS),
                "lon": ("lon", self.lon, LON_ATTRS),
                "time": np.datetime64(self.date, "ns"),
            },
            name="sm",
            attrs={**RAW_SM_ATTRS, "source_file": self.name, "pass": self.pass_},
        )


def read_day(
    source: str | bytes | IO[bytes],
    name: str | None = None,
    *,
    variable: str | None = None,
    allow_empty: bool = False,
) -> Day:
    """Read one archive file (path, bytes or binary file object) into a :class:`Day`.

    Args:
        source: the file; bytes let callers checksum and decode one download.
        name: the file name when ``source`` is not a path (names carry date and pass).
        variable: LPRM variable (``soil_moisture_c1``/``c2``/``x`` or ``c1``/``c2``/``x``);
            JAXA files hold a single product.
        allow_empty: accept a day with no valid retrieval (otherwise BadInputFile).
    """
    name = name or str(source)
    parsed: ArchiveName = parse_name(name)
    if isinstance(source, bytes):
        source = io.BytesIO(source)
    try:
        with h5py.File(source, "r") as h5:
            check_attribute_sizes(h5, parsed.name)
            if parsed.product == "lprm":
                values, lat, lon = lprm.decode(h5, parsed, variable)
            else:
                values, lat, lon = jaxa.decode(h5, parsed)
    except BadInputFile:
        raise
    except OSError as err:
        raise BadInputFile(
            parsed.name, f"not a readable HDF5/netCDF4 file (truncated or corrupt?): {err}"
        ) from None
    except Exception as err:
        if not is_decode_error(err):
            raise  # a bug in a reader is not a bad file: quarantining would hide it, file by file
        raise BadInputFile(parsed.name, f"cannot decode ({type(err).__name__}: {err})") from None
    if not allow_empty and not np.isfinite(values).any():
        raise BadInputFile(parsed.name, "no valid retrieval in the whole grid (all fill)")
    return Day(parsed.name, parsed.date, parsed.pass_, values, lat, lon)


# What reading a malformed file raises: h5py turns HDF5's errors into OSError, KeyError or
# ValueError (and TypeError, RuntimeError, ... for types it cannot convert), and the decoders
# index the file's variables and attributes, which raises KeyError or ValueError.
DECODE_ERRORS = (OSError, KeyError, ValueError)


def is_decode_error(err: BaseException) -> bool:
    """True when ``err`` says the file cannot be decoded, not that a reader has a bug.

    The error types above, and any error raised inside h5py while it reads the file.
    Anything else (a TypeError, AttributeError, ZeroDivisionError in our own code) is a bug.
    """
    if isinstance(err, DECODE_ERRORS):
        return True
    return any(_in_h5py(frame.f_code.co_filename) for frame, _ in walk_tb(err.__traceback__))


def _in_h5py(filename: str) -> bool:
    """A frame of h5py: its Python modules, or its Cython ones (``h5py/_objects.pyx``)."""
    return filename.startswith("h5py/") or f"{os.sep}h5py{os.sep}" in filename


MAX_ATTRIBUTE_BYTES = 1 << 20  # real L3 attributes are a few bytes to a few kB


def check_attribute_sizes(h5: h5py.File, name: str) -> None:
    """Raise BadInputFile when any attribute is over 1 MiB.

    No archive file has such attributes; one that does was not written by the product, and
    a reader that loads attributes (xarray, netCDF) would pull all of it into memory.
    """

    def check(path: str, obj: h5py.HLObject) -> None:
        for attr in obj.attrs:
            size = _attribute_bytes(obj.attrs, attr)
            if size > MAX_ATTRIBUTE_BYTES:
                where = f"'{path}'" if path else "the file"
                raise BadInputFile(
                    name,
                    f"attribute '{attr}' of {where} is {size / 2**20:.1f} MiB (limit "
                    f"{MAX_ATTRIBUTE_BYTES >> 20} MiB); not an archive file as distributed",
                )

    check("", h5)
    h5.visititems(check)


def _attribute_bytes(attrs: h5py.AttributeManager, key: str) -> int:
    """Bytes of one attribute's value; variable-length strings are read to be measured
    (the file is in memory already, so this never allocates more than the file's size)."""
    attr = attrs.get_id(key)
    if attr.dtype.kind != "O":
        return attr.get_storage_size()
    value = attrs[key]
    items = [value] if isinstance(value, str | bytes) else np.asarray(value, dtype=object).ravel()
    return sum(len(item) for item in items)
