"""Which grid cells one AMSR2 pass direction sees in one UTC day: the swath geometry.

GCOM-W1 flies a sun-synchronous orbit (inclination 98.186 deg, 233 orbits in a 16-day repeat
cycle, so 14.5625 a day) with the ascending node at 13:30 local solar time; the descending
node follows half an orbit later, at 01:30. The conical scan is 1,450 km wide; on the L3 grid
the swath is ~1,650 km wide, because edge footprints spill into neighbouring cells (measured
on the real LPRM files of April 2015).

For each orbit and each grid row we take the moment the sub-satellite point crosses the row's
latitude on the requested half-orbit (ascending: argument of latitude -90..90 deg,
descending: 90..270 deg; the turning point for rows beyond the track's highest latitude).
The orbit plane at that moment, in Earth-fixed coordinates, cuts the row's latitude circle;
cells within half a swath of the plane on that half-orbit's side form one longitude interval,
found in closed form. A UTC day holds the half-orbit granules that start within it. Seen
from one direction the tracks are ~24.7 deg apart at the equator and the gridded swath is
~15 deg wide there, so ~40 % of the tropics are missed each day, in stripes that move ~14 deg
a day; poleward of ~55 deg the swaths overlap.

Pure functions of the date and the grid: the geometry does not depend on any random seed.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

INCLINATION_DEG = 98.186
ORBITS_PER_DAY = 233 / 16
SWATH_WIDTH_KM = 1650.0
EARTH_RADIUS_KM = 6371.0
ASCENDING_NODE_LOCAL_HOURS = 13.5
SECONDS_PER_DAY = 86400.0
ORBIT_EPOCH = dt.datetime(2012, 7, 3)  # midnight UTC of the first AMSR2 L3 day
# Seconds after ORBIT_EPOCH at which orbit 0 crosses the ascending node: the phase of the repeat
# cycle, fitted to the stripes of the real LPRM files of April 2015 (see docs/synth.md).
NODE_PHASE_S = 1970.0
PASSES = ("A", "D")

_PERIOD_S = SECONDS_PER_DAY / ORBITS_PER_DAY


def observed(
    date: dt.date, pass_: str, lat: np.ndarray, lon: np.ndarray, res: float | None = None
) -> np.ndarray:
    """Boolean (lat, lon) mask of the cell centres one pass direction observes on ``date``.

    ``lat`` and ``lon`` are cell-centre vectors of a block of the global grid at ``res``
    degrees (inferred from ``lon`` when not given); the result is the same block of the global
    mask.
    """
    if pass_ not in PASSES:
        raise ValueError(f"pass must be 'A' or 'D', got {pass_!r}")
    lat = np.asarray(lat, dtype="float64")
    lon = np.asarray(lon, dtype="float64")
    res = res or abs(float(lon[1] - lon[0]))
    ncols = round(360 / res)
    first_col = round((lon[0] + 180 - res / 2) / res)
    lo, hi = swath_intervals(date, pass_, lat)  # (rows, orbits) degrees east, NaN = none
    # Global column index range [start, stop) of the cell centres inside each interval.
    start = np.ceil((lo + 180 - res / 2) / res - 1e-9)
    stop = np.floor((hi + 180 - res / 2) / res + 1e-9) + 1
    valid = np.isfinite(lo) & (stop > start)
    full_rows = np.any(valid & (stop - start >= ncols), axis=1)
    rows, orbits = np.nonzero(valid & (stop - start < ncols))
    start = start[rows, orbits].astype("int64")
    stop = stop[rows, orbits].astype("int64")
    shift = np.floor_divide(start, ncols) * ncols
    start, stop = start - shift, stop - shift  # start in [0, ncols), stop in (start, start + ncols)
    wraps = stop > ncols
    counts = np.zeros((lat.size, ncols + 1), dtype="int32")
    np.add.at(counts, (rows, start), 1)
    np.add.at(counts, (rows, np.minimum(stop, ncols)), -1)
    np.add.at(counts, (rows[wraps], np.zeros(wraps.sum(), dtype="int64")), 1)
    np.add.at(counts, (rows[wraps], stop[wraps] - ncols), -1)
    seen = np.cumsum(counts[:, :ncols], axis=1) > 0
    seen[full_rows] = True
    return seen[:, first_col : first_col + lon.size]


def swath_intervals(date: dt.date, pass_: str, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Longitude intervals [lo, hi] (degrees east, unwrapped) each orbit's swath covers per row.

    Returns two (rows, orbits) arrays; NaN where the orbit's swath misses the row or crosses it
    outside the UTC day.
    """
    incl = np.radians(INCLINATION_DEG)
    phi = np.radians(np.asarray(lat, dtype="float64"))[:, None]
    day_start = (dt.datetime.combine(date, dt.time()) - ORBIT_EPOCH).total_seconds()
    first = int(np.floor((day_start - NODE_PHASE_S) / _PERIOD_S)) - 1
    orbit = np.arange(first, first + int(np.ceil(ORBITS_PER_DAY)) + 3)[None, :]
    node_time = NODE_PHASE_S + orbit * _PERIOD_S
    node_lon = (
        15.0 * ASCENDING_NODE_LOCAL_HOURS
        - 360.0 * np.mod(node_time, SECONDS_PER_DAY) / SECONDS_PER_DAY
    )

    # Argument of latitude where the half-orbit crosses the row (turning point beyond it).
    asin_lat = np.degrees(np.arcsin(np.clip(np.sin(phi) / np.sin(incl), -1.0, 1.0)))
    arg_lat = asin_lat if pass_ == "A" else 180.0 - asin_lat
    # Node longitude in Earth-fixed coordinates at that moment (the Earth turns under the plane
    # at the solar rate, which keeps the node's local time fixed).
    plane_lon = node_lon - 360.0 * (arg_lat / 360.0 * _PERIOD_S) / SECONDS_PER_DAY

    # Cross-track distance of a point on the row at longitude plane_lon + delta:
    # sin(d) = sin(lat) cos(i) - cos(lat) sin(i) sin(delta); keep |d| <= half the swath.
    half_swath = np.sin(SWATH_WIDTH_KM / 2 / EARTH_RADIUS_KM)
    denom = np.cos(phi) * np.sin(incl)
    a = (np.sin(phi) * np.cos(incl) - half_swath) / denom
    b = (np.sin(phi) * np.cos(incl) + half_swath) / denom
    hits = (a <= 1.0) & (b >= -1.0)
    asin_a = np.degrees(np.arcsin(np.clip(a, -1.0, 1.0)))
    asin_b = np.degrees(np.arcsin(np.clip(b, -1.0, 1.0)))
    # Ascending side: cos(delta) >= 0; descending side: cos(delta) <= 0.
    lo, hi = (asin_a, asin_b) if pass_ == "A" else (180.0 - asin_b, 180.0 - asin_a)
    # The L3 day holds the half-orbit granules (pole to pole) that start within the UTC day.
    granule_start = node_time + (-90.0 if pass_ == "A" else 90.0) / 360.0 * _PERIOD_S
    in_day = (granule_start >= day_start) & (granule_start < day_start + SECONDS_PER_DAY)
    keep = hits & in_day
    return np.where(keep, plane_lon + lo, np.nan), np.where(keep, plane_lon + hi, np.nan)
