"""The gap fillers compared in the report, as functions of a :class:`~.evaluate.Case`."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import xarray as xr

from sgdsm_cloud.validate import baselines
from sgdsm_cloud.validate.evaluate import Case, Filler
from sgdsm_cloud.validate.product import ModelFiller, StoreProduct, read_days

SGDSM = "SGD-SM"
LINEAR = "linear interpolation"
WINDOW_MEAN = "window mean"
WINDOW_ANOMALY = "window mean + same-day anomaly"
DCT_PLS = "DCT-PLS"
DCT_PLS_PYTESMO = "DCT-PLS (pytesmo)"
CLIMATOLOGY = "climatology"


def model_method(filler: ModelFiller) -> Filler:
    """SGD-SM run on the case's window (the product rule: observed cells kept)."""
    return lambda case: filler.fill_window(
        case.values, case.land, case.centre, case.fill_land, case.other
    )


def store_method(product: StoreProduct) -> Filler:
    """The seamless store's values on the case's day and crop (only for gaps the store also had)."""

    def fill(case: Case) -> np.ndarray:
        values, _ = product.day(case.day)
        return case.crop.take(values)

    return fill


def baseline_methods() -> dict[str, Filler]:
    """Temporal linear interpolation, the window mean, the window mean plus the smoothed
    same-day anomaly and DCT-PLS, on the same window as SGD-SM."""
    return {
        LINEAR: lambda case: baselines.linear_interpolation(case.values, case.centre),
        WINDOW_MEAN: lambda case: baselines.window_mean(case.values, case.centre),
        WINDOW_ANOMALY: lambda case: baselines.window_anomaly(case.values, case.centre),
        DCT_PLS: lambda case: baselines.dct_pls(case.values, case.centre),
    }


def climatology_method(sm: xr.DataArray, dates: pd.DatetimeIndex) -> Filler:
    """Day-of-year mean of the other years, read from the whole record on the case's crop."""
    all_days = np.arange(sm.sizes["time"])

    def fill(case: Case) -> np.ndarray:
        record = read_days(sm, all_days, case.crop)
        return baselines.climatology(record, dates, case.day, case.values[case.centre])

    return fill


def pytesmo_method() -> Filler | str:
    """pytesmo's DCT-PLS as a cross-check of ours, or the reason it cannot run."""
    try:
        from pytesmo.interpolate.dctpls import smoothn
    except ImportError as err:
        return f"pytesmo is not installed ({err.name}); pip install 'sgdsm_cloud[crosscheck]'"

    def fill(case: Case) -> np.ndarray:
        if not np.isfinite(case.values).any():
            return np.full(case.values.shape[1:], np.nan, dtype="float32")
        with (
            warnings.catch_warnings()
        ):  # it warns whenever s reaches its bound, as on smooth fields
            warnings.simplefilter("ignore", UserWarning)
            z, *_ = smoothn(np.asarray(case.values, dtype="float64"), isrobust=False)
        return baselines.keep_observed(z[case.centre], case.values[case.centre])

    return fill
