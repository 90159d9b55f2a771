"""The peer as its authors run it: DCT-PLS in the configuration of ESA CCI SM GAPFILLED.

ESA CCI SM GAPFILLED (Preimesberger et al. 2025, ESSD 17, 4305) fills with DCT-PLS (Garcia
2010) applied in three dimensions on spatial moving windows over a long span of days, with
the code in pytesmo (``pytesmo.interpolate.dctpls.smoothn``), and bridges frozen periods by
linear interpolation in time. Our plain ``DCT-PLS`` baseline differs: it smooths the same
9-day window SGD-SM sees. This filler gives DCT-PLS what GAPFILLED gives it:

* **span**: every day of the record within ``span_days`` of the day (default half a year on
  each side, so the whole record of a short archive), not 9 days;
* **spatial window**: the case's crop, i.e. the gap and the cells around it that every other
  method also reads, moved with the gap;
* **smoother**: pytesmo's ``smoothn`` with its own defaults (robust weights, smoothing chosen by
  generalised cross-validation), as the product's code runs it.

Frozen periods are not modelled: the validation cases score liquid soil moisture only.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import xarray as xr

from sgdsm_cloud.validate.baselines import keep_observed
from sgdsm_cloud.validate.evaluate import Case, Filler
from sgdsm_cloud.validate.product import read_days

NAME = "DCT-PLS, GAPFILLED configuration (pytesmo)"


@dataclass(frozen=True)
class GapfilledConfig:
    """How the peer is run (:meth:`describe` says it in words, for records beside its scores).

    Attributes:
        span_days: days on each side of the filled day that the 3-D smoother reads.
        robust: pytesmo's iteratively re-weighted robust smoothing (its default).
    """

    span_days: int = 182
    robust: bool = True

    def describe(self) -> str:
        return (
            f"pytesmo smoothn in 3-D (time x lat x lon) over +-{self.span_days} days of the "
            "record and the case's crop (the gap and its surroundings), robust weights "
            f"{'on' if self.robust else 'off'}, smoothing by GCV"
        )


def gapfilled_method(sm: xr.DataArray, config: GapfilledConfig = GapfilledConfig()) -> Filler | str:
    """The GAPFILLED-style filler on ``sm`` (the raw cube's soil moisture), or why it cannot run."""
    try:
        from pytesmo.interpolate.dctpls import smoothn
    except ImportError as err:
        return f"pytesmo is not installed ({err.name}); pip install 'sgdsm_cloud[crosscheck]'"
    ntime = sm.sizes["time"]

    def fill(case: Case) -> np.ndarray:
        today = case.values[case.centre]
        days = np.arange(
            max(case.day - config.span_days, 0), min(case.day + config.span_days + 1, ntime)
        )
        record = read_days(sm, days, case.crop).astype("float64")
        record[case.day - days[0]] = today  # the hidden cells stay hidden
        if not np.isfinite(record).any():
            return np.full(today.shape, np.nan, dtype="float32")
        with warnings.catch_warnings():  # it warns whenever s reaches its bound
            warnings.simplefilter("ignore", UserWarning)
            z, *_ = smoothn(record, isrobust=config.robust)
        return keep_observed(z[case.day - days[0]], today)

    return fill
