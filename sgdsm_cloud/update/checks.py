"""Checks a new version must pass before it is published (else nothing is published).

* the product's structure is unchanged: every array's data type, chunks, codecs, fill value
  and dimensions (only the time axis's length may grow);
* the time extent never shrinks and never moves its first day;
* no land cell that the flag calls observed or filled is NaN on a day the update wrote;
* on every day the update wrote, the observed cells are the raw cube's observations on the
  land the product fills.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from sgdsm_cloud import cube
from sgdsm_cloud.errors import SgdsmError
from sgdsm_cloud.product import FLAG, FLAG_FILLED, FLAG_OBSERVED, SM, fill_land_mask


class UpdateRefused(SgdsmError):
    """A new version failed a check; nothing was published."""


def structure_changes(previous: Mapping[str, Any], candidate: Mapping[str, Any]) -> list[str]:
    """How the candidate's arrays differ from the previous version's, besides the length of
    the time axis and the attributes (references of both versions). Pure."""
    problems = []
    for key in sorted(k for k in previous if k.endswith("/zarr.json")):
        if key not in candidate:
            problems.append(f"{key.removesuffix('/zarr.json')} is gone")
            continue
        before, after = (_layout(json.loads(refs[key])) for refs in (previous, candidate))
        if before != after:
            changed = sorted(
                k for k in before.keys() | after.keys() if before.get(k) != after.get(k)
            )
            problems.append(f"{key.removesuffix('/zarr.json')} changed its {', '.join(changed)}")
    return problems


def _layout(metadata: dict[str, Any]) -> dict[str, Any]:
    """What must not change in an array's metadata: all but its attributes and, for arrays
    along time, the time axis's length."""
    out = {k: v for k, v in metadata.items() if k not in ("attributes", "shape")}
    shape = metadata.get("shape")
    names = metadata.get("dimension_names") or []
    if shape is not None:
        out["shape"] = [
            n for n, dim in zip(shape, names or [None] * len(shape), strict=True) if dim != "time"
        ]
    return out


def check_candidate(
    previous: xr.Dataset,
    candidate: xr.Dataset,
    raw: xr.Dataset,
    written: Sequence[int],
    structure: Sequence[str],
) -> None:
    """Raise UpdateRefused naming the first failed check (see the module docstring).

    ``written``: the product days the update wrote; ``structure``: the output of
    :func:`structure_changes`.
    """
    if structure:
        raise UpdateRefused(f"the new version changes the product's structure: {structure[0]}")
    if candidate.sizes["time"] < previous.sizes["time"]:
        raise UpdateRefused(
            f"the new version has {candidate.sizes['time']} days, fewer than the "
            f"{previous.sizes['time']} published"
        )
    if previous.sizes["time"] and candidate["time"].values[0] != previous["time"].values[0]:
        raise UpdateRefused("the new version does not start on the product's first day")
    days = np.asarray(sorted(written), dtype=int)
    if not days.size:
        return
    sm = candidate[SM].isel(time=days).values
    flag = candidate[FLAG].isel(time=days).values
    holes = np.isnan(sm) & ((flag == FLAG_OBSERVED) | (flag == FLAG_FILLED))
    if holes.any():
        day = candidate["time"].values[days[int(np.flatnonzero(holes.any(axis=(1, 2)))[0])]]
        raise UpdateRefused(
            f"{int(holes.sum())} land cells flagged observed or filled are NaN (first on "
            f"{str(day)[:10]}); the fill of those days is wrong"
        )
    first = int(np.flatnonzero(raw["time"].values == candidate["time"].values[0])[0])
    land = fill_land_mask(raw[cube.LAND].values.astype(bool), raw["lat"].values, raw["lon"].values)
    observed = np.isfinite(raw[cube.SM].isel(time=days + first).values) & land
    counted = (flag == FLAG_OBSERVED).sum(axis=(1, 2))
    expected = observed.sum(axis=(1, 2))
    if not np.array_equal(counted, expected):
        bad = int(np.flatnonzero(counted != expected)[0])
        raise UpdateRefused(
            f"on {str(candidate['time'].values[days[bad]])[:10]} the new version holds "
            f"{int(counted[bad])} observed cells, the raw cube {int(expected[bad])}"
        )
