"""Retrieval error: what separates an archived value from the truth besides quantisation.

Real LPRM retrievals are much rougher in time than soil moisture itself: over eastern
Australia in April 2015 (X band) the day-to-day change of a cell has a standard deviation of
0.038 m3 m-3 and a 95th percentile of 0.090, where a smooth truth changes by about 0.02. The
difference is retrieval error: vegetation and temperature errors, footprint mixing and
instrument noise, fresh every overpass. It is modelled as

    error = ERROR_STD * g * t / sqrt(E[t^2])

with ``g`` a unit Gaussian field correlated over ``ERROR_SCALE_KM`` (about one AMSR2 X-band
footprint), new every day, and ``t`` a heavy-tail factor: ``TAIL_FACTOR`` on a random
``TAIL_SHARE`` of the cells, 1 elsewhere, so a few retrievals are far off, as real ones are.
Archived values are clipped to the format's physical range, which gives the exact zeros and
saturated values that real archives hold. ``docs/synth.md`` compares the result with the real
files. Deterministic like every other field (:mod:`sgdsm_cloud.synth.noise`).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from sgdsm_cloud import schema
from sgdsm_cloud.synth.config import Crop
from sgdsm_cloud.synth.noise import cell_uniform, gaussian_rows
from sgdsm_cloud.synth.streams import Stream

ERROR_STD = 0.022  # m3 m-3, calibrated so the day-to-day change matches the real files
ERROR_SCALE_KM = 25.0
TAIL_SHARE, TAIL_FACTOR = 0.08, 3.0


class RetrievalError:
    """The retrieval error of every day on one crop, for one pass direction: the ascending
    and the descending overpass of a day are two retrievals, each with its own error."""

    def __init__(self, seed: int, crop: Crop, pass_: str = "D") -> None:
        self.seed, self.crop = seed, crop
        self.rows = np.arange(crop.rows.start, crop.rows.stop)
        self.norm = float(np.sqrt(1 - TAIL_SHARE + TAIL_SHARE * TAIL_FACTOR**2))
        ascending = pass_ == "A"
        self.streams = (
            Stream.RETRIEVAL_ERROR_ASCENDING if ascending else Stream.RETRIEVAL_ERROR,
            Stream.RETRIEVAL_ERROR_TAIL_ASCENDING if ascending else Stream.RETRIEVAL_ERROR_TAIL,
        )

    def __call__(self, date: dt.date) -> np.ndarray:
        """The error field of ``date`` (lat, lon), float32 m3 m-3."""
        return self.sample(date)[0]

    def sample(self, date: dt.date) -> tuple[np.ndarray, np.ndarray]:
        """``(error, std)`` of ``date`` (lat, lon), float32 m3 m-3: the error field and the
        standard deviation it was drawn with, cell by cell (``ERROR_STD`` scaled by the cell's
        tail factor). ``std`` is what a retrieval would report as its own error estimate: the
        synthetic files carry it as ``soil_moisture_<band>_error``."""
        key = date.toordinal()
        field = gaussian_rows(
            self.seed, self.streams[0], key, self.crop.res, ERROR_SCALE_KM, self.rows
        )[:, self.crop.cols]
        tail = cell_uniform(
            self.seed,
            self.streams[1],
            key,
            self.crop.rows,
            self.crop.cols,
            self.crop.res,
        )
        std = ERROR_STD * np.where(tail < TAIL_SHARE, TAIL_FACTOR, 1.0) / self.norm
        return (field * std).astype("float32"), std.astype("float32")


def retrieved(truth: np.ndarray, error: np.ndarray, fmt: str) -> np.ndarray:
    """What the instrument retrieves: truth plus error, clipped to the format's range."""
    return np.clip(truth + error, *schema.PHYSICAL_RANGES[fmt]).astype("float32")
