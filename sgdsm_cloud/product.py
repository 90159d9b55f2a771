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
from sgdsm_cloud.outputs import OutputKind, zarr_store_kind
from sgdsm_cloud.storage import Location
from sgdsm_cloud.versioned.reader import open_refs
from sgdsm_cloud.versioned.repository import Repository, product_kind

SM, FLAG, LAND = "sm", "flag", cube.LAND
# The standard error of every value, and the raw cube's own error estimate of observed ones
SM_UNCERTAINTY, SM_ERROR = "sm_uncertainty", "sm_error"

SEAMLESS_KIND = "seamless_cube"  # the sgdsm_kind attribute of its root
# The product 'sgdsm fill' writes: a versioned product (versioned.repository)
SEAMLESS_PRODUCT = product_kind("seamless product", "sgdsm fill")
# A seamless cube as one plain zarr store: written by 'sgdsm fill' before products had
# versions, or by a notebook's fill_dataset(...).to_zarr(...)
PLAIN_SEAMLESS = zarr_store_kind(
    "seamless cube",
    "sgdsm fill",
    SEAMLESS_KIND,
    (SM, FLAG, SM_UNCERTAINTY, LAND, "time", "lat", "lon"),
    legacy_member=FLAG,
)
# What 'sgdsm fill --out' may hold: either (a plain one is replaced only with --overwrite)
SEAMLESS_OUTPUT = OutputKind(
    "seamless product",
    "sgdsm fill",
    lambda folder: SEAMLESS_PRODUCT.recognise(folder) or PLAIN_SEAMLESS.recognise(folder),
    lambda name: SEAMLESS_PRODUCT.holds(name) or PLAIN_SEAMLESS.holds(name),
)

# Per day: provisional while a day of its window is still to come, and the granule behind it
PROVISIONAL, SOURCE_FILE, SOURCE_SHA256 = "provisional", cube.SOURCE_FILE, cube.SOURCE_SHA256
DAY_VARIABLES = (PROVISIONAL, SOURCE_FILE, SOURCE_SHA256)
LAST_FINAL_DAY, LAST_PROVISIONAL_DAY = "last_final_day", "last_provisional_day"  # root attrs
DAY_FINAL, DAY_PROVISIONAL = 0, 1

FLAG_NOT_LAND, FLAG_OBSERVED, FLAG_FILLED, FLAG_NOT_FILLED, FLAG_FROZEN = 0, 1, 2, 3, 4
FLAG_VALUES = np.array(
    [FLAG_NOT_LAND, FLAG_OBSERVED, FLAG_FILLED, FLAG_NOT_FILLED, FLAG_FROZEN], dtype="uint8"
)
FLAG_MEANINGS = "not_land_or_excluded observed filled not_filled frozen"
# Cubes written before the frozen flag existed: the same values 0-3, no 4; still readable.
EARLIER_FLAG_MEANINGS = ("not_land_or_excluded observed filled not_filled",)
# A gap with no skin temperature on its own day takes the nearest day's within this many days
# on either side: the fill's own window (T-4..T+4 in the paper).
FROZEN_WINDOW_DAYS = 4

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
        "within the network's reach; sm is NaN. 4: a land gap on a day the source's skin "
        f"temperature says the surface is frozen (below {cube.FREEZING_K} K on that day, else "
        f"on the nearest day within +-{FROZEN_WINDOW_DAYS} days that has one; the raw cube's "
        "'frozen'): soil moisture is not liquid water there, so sm is NaN rather than a fill. "
        "Only sources with a surface temperature (LPRM ts) give 4; JAXA SMC has none."
    ),
}


PROVISIONAL_ATTRS = {
    "long_name": "whether the day's values may still change",
    "flag_values": np.array([DAY_FINAL, DAY_PROVISIONAL], dtype="uint8"),
    "flag_meanings": "final provisional",
    "comment": (
        "A day is filled from the days T-4..T+4 of the record. While any of T+1..T+4 is still "
        "to come the day is provisional: a later update fills it again when they arrive. Once "
        "T+4 has arrived it is final and its values no longer change, unless a source granule "
        "of its window is replaced, which the product's history records."
    ),
}
SOURCE_FILE_ATTRS = {"long_name": "source granule of the day (file name)"}
SOURCE_SHA256_ATTRS = {"long_name": "SHA-256 of the day's source granule"}


def provisional_days(days: np.ndarray, record_days: int, half_window: int) -> np.ndarray:
    """``DAY_PROVISIONAL`` for each of ``days`` (indices on the raw record's time axis) whose
    window reaches past the record's last day, else ``DAY_FINAL``; uint8. Pure."""
    late = np.asarray(days) + half_window > record_days - 1
    return np.where(late, DAY_PROVISIONAL, DAY_FINAL).astype("uint8")


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


def frozen_gaps(
    state: np.ndarray, first: int, count: int, window: int = FROZEN_WINDOW_DAYS
) -> np.ndarray:
    """Which days ``first .. first + count - 1`` of ``state`` count as frozen, (count, y, x).

    ``state`` is the raw cube's ``frozen`` over consecutive days (n, y, x): 1 frozen, 0 not,
    anything else unknown. A day is frozen where its own state says so; where unknown, the
    nearest day within ``window`` days with a known state decides (when the days before and
    after at the same distance disagree, frozen wins: a doubtful gap is not presented as
    liquid soil moisture). No known state within the window: not frozen.
    """
    state = np.asarray(state)
    known = (state == cube.FROZEN_YES) | (state == cube.FROZEN_NO)
    frozen = state == cube.FROZEN_YES
    result = np.zeros((count, *state.shape[1:]), dtype=bool)
    decided = np.zeros_like(result)
    days = np.arange(first, first + count)
    for distance in range(window + 1):
        seen = np.zeros_like(result)
        says = np.zeros_like(result)
        for day in {int(d) for d in (-distance, distance)}:
            at = days + day
            inside = (at >= 0) & (at < state.shape[0])
            seen[inside] |= known[at[inside]]
            says[inside] |= frozen[at[inside]]
        new = seen & ~decided
        result[new] = says[new]
        decided |= seen
    return result


def fill_land_mask(land: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Cells the product fills: land outside the regions SGD-SM leaves out."""
    return land.astype(bool) & ~excluded_regions(lat, lon)


def compose(
    observed: np.ndarray,
    fill_land: np.ndarray,
    pred: np.ndarray,
    reached: np.ndarray,
    valid_range: tuple[float, float] = cube.DEFAULT_RANGE,
    frozen: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The product and its flag for cells of ``observed`` (t, y, x).

    Observed cells of ``fill_land`` (land outside the excluded regions, (y, x)) keep their
    value; gaps take the network output, clamped to the source product's ``valid_range``,
    where it ``reached``, else NaN and ``not_filled``; gaps on days ``frozen`` says are frozen
    (:func:`frozen_gaps`, (t, y, x) bool; None: none) are NaN with flag ``frozen``; everything
    off ``fill_land`` is NaN with flag ``not_land_or_excluded``.
    """
    seen = np.isfinite(observed)
    flag = np.where(seen, FLAG_OBSERVED, np.where(reached, FLAG_FILLED, FLAG_NOT_FILLED)).astype(
        "uint8"
    )
    flag[:, ~fill_land] = FLAG_NOT_LAND
    if frozen is not None:
        flag[frozen & ((flag == FLAG_FILLED) | (flag == FLAG_NOT_FILLED))] = FLAG_FROZEN
    filled = np.clip(pred, *valid_range)
    sm = np.where(flag == FLAG_OBSERVED, observed, np.where(flag == FLAG_FILLED, filled, np.nan))
    return sm.astype("float32"), flag


def check_seamless(ds: xr.Dataset, source: str = "store") -> xr.Dataset:
    """Raise StoreContractError naming what is wrong when ``ds`` is not a seamless cube."""
    cube.check_kind(ds, SEAMLESS_KIND, source, "--filled")
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
    if ds[FLAG].attrs.get("flag_meanings") not in (FLAG_MEANINGS, *EARLIER_FLAG_MEANINGS):
        raise StoreContractError(
            f"{source}: 'flag' has flag_meanings {ds[FLAG].attrs.get('flag_meanings')!r}, not "
            f"{FLAG_MEANINGS!r}; it was written by another version: re-run 'sgdsm fill'"
        )
    return ds


def open_seamless(
    url: str,
    storage_options: dict[str, Any] | None = None,
    *,
    version: int | str | None = None,
    **kwargs: Any,
) -> xr.Dataset:
    """Open a seamless product written by ``sgdsm fill`` lazily, and check its contract.

    ``version``: a version number or tag of a versioned product (default: the newest; ``sgdsm
    history`` lists them). A plain zarr seamless cube has no versions.
    """
    repository = Repository(Location(url, dict(storage_options or {})))
    if repository.exists():
        number = repository.resolve(version)
        refs_url = repository.version_url(number)
        return check_seamless(open_refs(refs_url, storage_options, **kwargs), url)
    if version is not None:
        raise StoreContractError(f"{url} is a plain zarr seamless cube: it has no versions")
    return check_seamless(cube.open_store(url, storage_options, "sgdsm fill", **kwargs), url)


def is_versioned(url: str, storage_options: dict[str, Any] | None = None) -> bool:
    """Whether ``url`` holds a versioned seamless product (else a plain zarr one, or none)."""
    return Repository(Location(url, dict(storage_options or {}))).exists()
