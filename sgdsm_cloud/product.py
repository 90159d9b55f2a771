"""The seamless product's contract, shared by fill, validate and publish.

Variable names, flag values and their meanings, the CF attributes of ``sm``, ``flag`` and
``sm_uncertainty``, the cells the product fills, the one rule that turns the network's raw
output into the product (:func:`compose`; :func:`compose_uncertainty` for the standard errors), and the opener that checks a store holds it (:func:`open_seamless`). ``sgdsm fill`` writes with it; validation computes the product
with it where it does not read a filled store; publishing describes it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from sgdsm_cloud import cube
from sgdsm_cloud.errors import StoreContractError
from sgdsm_cloud.landmask import EXCLUDED_REGIONS, excluded_regions

SM, FLAG, LAND = "sm", "flag", cube.LAND
# The standard error of every value, and the raw cube's own error estimate of observed ones
SM_UNCERTAINTY, SM_ERROR = "sm_uncertainty", "sm_error"

FLAG_NOT_LAND, FLAG_OBSERVED, FLAG_FILLED, FLAG_NOT_FILLED = 0, 1, 2, 3
FLAG_VALUES = np.array([FLAG_NOT_LAND, FLAG_OBSERVED, FLAG_FILLED, FLAG_NOT_FILLED], dtype="uint8")
FLAG_MEANINGS = "not_land_or_excluded observed filled not_filled"

SM_ATTRS = {
    **cube.SM_ATTRS,
    "long_name": "surface soil moisture, gaps filled by SGD-SM",
    "ancillary_variables": f"{FLAG} {SM_UNCERTAINTY}",
    "coverage_content_type": "modelResult",
}
UNCERTAINTY_ATTRS = {
    "standard_name": "volume_fraction_of_condensed_water_in_soil standard_error",
    "long_name": "standard error of the surface soil moisture",
    "units": "m3 m-3",
    "coverage_content_type": "qualityInformation",
}
FLAG_ATTRS = {
    "standard_name": "status_flag",
    "long_name": "origin of the soil moisture value",
    "flag_values": FLAG_VALUES,
    "flag_meanings": FLAG_MEANINGS,
    "coverage_content_type": "qualityInformation",
    "comment": (
        f"0: not land, or in a region SGD-SM does not fill ({EXCLUDED_REGIONS}); sm is NaN. "
        "1: observed, kept unchanged. 2: filled by the network. 3: a land gap with no observation "
        "within the network's reach; sm is NaN."
    ),
}


def sm_attrs(raw_attrs: dict[str, Any]) -> dict[str, Any]:
    """``sm``'s attributes: valid_min/valid_max are the range filled values are clamped to."""
    low, high = cube.physical_range(raw_attrs)
    return {**SM_ATTRS, "valid_min": low, "valid_max": high}


def uncertainty_attrs(filled: bool, observed: bool) -> dict[str, Any]:
    """``sm_uncertainty``'s attributes; its ``comment`` says where values come from.

    Args:
        filled: the model has an error model, so filled values get a standard error.
        observed: the raw cube carries the source product's error estimate (``sm_error``).
    """
    filled_text = (
        "Filled values (flag 2): the standard error predicted by the model's error model, "
        "calibrated on held-back simulated gaps (+-1 and +-2 standard errors are meant to "
        "cover 68 % and 95 % of the true values)."
        if filled
        else "Filled values (flag 2): NaN, the model that filled them has no error model (only "
        "the 'anomaly' variant has one)."
    )
    observed_text = (
        "Observed values (flag 1): the source product's own error estimate (the raw cube's "
        "sm_error)."
        if observed
        else "Observed values (flag 1): NaN, the raw cube carries no error estimate of the "
        "source product (sm_error)."
    )
    return {**UNCERTAINTY_ATTRS, "comment": f"{filled_text} {observed_text} Other cells: NaN."}


def compose_uncertainty(
    flag: np.ndarray, sigma: np.ndarray | None, observed_error: np.ndarray | None
) -> np.ndarray:
    """``sm_uncertainty`` for cells of ``flag``: ``sigma`` where filled, ``observed_error``
    where observed (either None: NaN there), NaN elsewhere; float32."""
    out = np.full(flag.shape, np.nan, dtype="float32")
    if sigma is not None:
        filled = flag == FLAG_FILLED
        out[filled] = sigma[filled]
    if observed_error is not None:
        seen = flag == FLAG_OBSERVED
        out[seen] = observed_error[seen]
    return out


def fill_land_mask(land: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Cells the product fills: land outside the regions SGD-SM leaves out."""
    return land.astype(bool) & ~excluded_regions(lat, lon)


def compose(
    observed: np.ndarray,
    fill_land: np.ndarray,
    pred: np.ndarray,
    reached: np.ndarray,
    valid_range: tuple[float, float] = cube.DEFAULT_RANGE,
) -> tuple[np.ndarray, np.ndarray]:
    """The product and its flag for cells of ``observed`` (t, y, x).

    Observed cells of ``fill_land`` (land outside the excluded regions, (y, x)) keep their
    value; gaps take the network output, clamped to the source product's ``valid_range``,
    where it ``reached``, else NaN and ``not_filled``; everything off ``fill_land`` is NaN with
    flag ``not_land_or_excluded``.
    """
    seen = np.isfinite(observed)
    flag = np.where(seen, FLAG_OBSERVED, np.where(reached, FLAG_FILLED, FLAG_NOT_FILLED)).astype(
        "uint8"
    )
    flag[:, ~fill_land] = FLAG_NOT_LAND
    filled = np.clip(pred, *valid_range)
    sm = np.where(flag == FLAG_OBSERVED, observed, np.where(flag == FLAG_FILLED, filled, np.nan))
    return sm.astype("float32"), flag


def check_seamless(ds: xr.Dataset, source: str = "store") -> xr.Dataset:
    """Raise StoreContractError naming what is wrong when ``ds`` is not a seamless cube."""
    missing = [v for v in (SM, FLAG) if v not in ds.variables]
    if missing:
        raise StoreContractError(
            f"{source} is not a seamless sgdsm cube: missing variable(s) {missing}; write it "
            "with 'sgdsm fill'"
        )
    if SM_UNCERTAINTY not in ds.variables:
        raise StoreContractError(
            f"{source}: no '{SM_UNCERTAINTY}' variable; it was written by another version: "
            "re-run 'sgdsm fill'"
        )
    for name in (SM, FLAG, SM_UNCERTAINTY):
        if ds[name].dims != ("time", "lat", "lon"):
            raise StoreContractError(
                f"{source}: '{name}' must have dims (time, lat, lon), has {ds[name].dims}"
            )
    if ds[FLAG].attrs.get("flag_meanings") != FLAG_MEANINGS:
        raise StoreContractError(
            f"{source}: 'flag' has flag_meanings {ds[FLAG].attrs.get('flag_meanings')!r}, not "
            f"{FLAG_MEANINGS!r}; it was written by another version: re-run 'sgdsm fill'"
        )
    return ds


def open_seamless(
    url: str, storage_options: dict[str, Any] | None = None, **kwargs: Any
) -> xr.Dataset:
    """Open a seamless cube written by ``sgdsm fill`` lazily, and check its contract."""
    return check_seamless(cube.open_store(url, storage_options, "sgdsm fill", **kwargs), url)
