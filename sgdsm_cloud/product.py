"""The seamless product's contract, shared by fill, validate and publish.

Variable names, flag values and their meanings, the CF attributes of ``sm`` and ``flag``, the
cells the product fills, the one rule that turns the network's raw output into the
product (:func:`compose`), and the opener that checks a store holds it (:func:`open_seamless`). ``sgdsm fill`` writes with it; validation computes the product
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

FLAG_NOT_LAND, FLAG_OBSERVED, FLAG_FILLED, FLAG_NOT_FILLED = 0, 1, 2, 3
FLAG_VALUES = np.array([FLAG_NOT_LAND, FLAG_OBSERVED, FLAG_FILLED, FLAG_NOT_FILLED], dtype="uint8")
FLAG_MEANINGS = "not_land_or_excluded observed filled not_filled"

SM_ATTRS = {
    **cube.SM_ATTRS,
    "long_name": "surface soil moisture, gaps filled by SGD-SM",
    "ancillary_variables": FLAG,
    "coverage_content_type": "modelResult",
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
    for name in (SM, FLAG):
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
