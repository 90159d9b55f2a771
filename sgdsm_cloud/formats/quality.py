"""The source's quality layers of one archive file: error estimate and surface temperature.

Read beside :func:`sgdsm_cloud.formats.day.read_day` (same bytes, same orientation): LPRM
files carry ``soil_moisture_<band>_error`` and the skin temperature ``ts``; JAXA SMC files
carry neither.
"""

from __future__ import annotations

import io

import h5py
import numpy as np

from sgdsm_cloud.errors import BadInputFile
from sgdsm_cloud.formats import lprm
from sgdsm_cloud.formats.names import parse_name


def read_quality(
    source: bytes, name: str, values: np.ndarray, *, variable: str | None = None
) -> tuple[np.ndarray, np.ndarray] | None:
    """``(error m3 m-3, ts K)`` of the file, (lat, lon) float32 like ``values`` (the day that
    ``read_day`` decoded from the same bytes), NaN where none; None for a product without
    them (JAXA).

    Raises BadInputFile when a layer the file has cannot be decoded (wrong shape or dtype).
    """
    parsed = parse_name(name)
    if parsed.product != "lprm":
        return None
    try:
        with h5py.File(io.BytesIO(source), "r") as h5:
            return lprm.decode_quality(h5, parsed, variable, values)
    except BadInputFile:
        raise
    except (OSError, KeyError, ValueError) as err:
        raise BadInputFile(
            parsed.name, f"cannot decode the error estimate or ts ({type(err).__name__}: {err})"
        ) from None
