"""The seamless product's rules, shared by fill, update, validate and publish.

The cells the product fills, the one rule that turns the network's raw output into the
product (:func:`compose`; :func:`compose_uncertainty` for the standard errors), which days are
provisional, and the opener that checks a store holds a product (:func:`open_seamless`). The
variables' names, flags and attributes are the schema's (``sgdsm_cloud.schema``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from sgdsm_cloud import cube
from sgdsm_cloud.errors import StoreContractError
from sgdsm_cloud.landmask import excluded_regions
from sgdsm_cloud.outputs import OutputKind, zarr_store_kind
from sgdsm_cloud.schema import (
    DAY_FINAL,
    DAY_PROVISIONAL,
    DEFAULT_RANGE,
    EARLIER_FLAG_MEANINGS,
    FLAG,
    FLAG_FILLED,
    FLAG_FROZEN,
    FLAG_MEANINGS,
    FLAG_NOT_FILLED,
    FLAG_NOT_LAND,
    FLAG_OBSERVED,
    FROZEN_NO,
    FROZEN_WINDOW_DAYS,
    FROZEN_YES,
    LAND,
    OTHER_SOURCE_FILE,
    OTHER_SOURCE_SHA256,
    PROVISIONAL,
    SM,
    SM_UNCERTAINTY,
    SOURCE_FILE,
    SOURCE_SHA256,
    UNCERTAINTY_ATTRS,
    clamp,
)
from sgdsm_cloud.storage import Location
from sgdsm_cloud.versioned.reader import open_refs
from sgdsm_cloud.versioned.repository import Repository, product_kind

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

DAY_VARIABLES = (PROVISIONAL, SOURCE_FILE, SOURCE_SHA256, OTHER_SOURCE_FILE, OTHER_SOURCE_SHA256)
LAST_FINAL_DAY, LAST_PROVISIONAL_DAY = "last_final_day", "last_provisional_day"  # root attrs


def provisional_days(days: np.ndarray, record_days: int, half_window: int) -> np.ndarray:
    """``DAY_PROVISIONAL`` for each of ``days`` (indices on the raw record's time axis) whose
    window reaches past the record's last day, else ``DAY_FINAL``; uint8. Pure."""
    late = np.asarray(days) + half_window > record_days - 1
    return np.where(late, DAY_PROVISIONAL, DAY_FINAL).astype("uint8")


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
    known = (state == FROZEN_YES) | (state == FROZEN_NO)
    frozen = state == FROZEN_YES
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
    valid_range: tuple[float, float] = DEFAULT_RANGE,
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
    filled = clamp(pred, valid_range)
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
