"""The product against the synthetic truth in its real gaps, by latitude band and by season.

For every ``every``-th day of the product (those whose T-4..T+4 window lies in the record), on
the cells the product filled (flag 2) where the truth is known, it scores three fillers on the
same cells: the product (``sm``), temporal linear interpolation and the window mean plus the
day's smoothed anomaly (``validate.baselines``, the method the ``anomaly`` variant starts
from), with R, RMSE and MAE; and how often the truth lies within +-1 and +-2 of the product's
standard errors (``sm_uncertainty``). A global grid wraps across the dateline for the
smoothing, as the fill does.

Only running sums are kept (no cell list), so the whole period of a global product fits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

METHODS = ("SGD-SM", "linear interpolation", "window mean + anomaly")
BANDS = ((-60, -30), (-30, -10), (-10, 10), (10, 30), (30, 50), (50, 90))  # south of 60 S: excluded
SEASONS = {12: "DJF", 1: "DJF", 2: "DJF", 3: "MAM", 4: "MAM", 5: "MAM",
           6: "JJA", 7: "JJA", 8: "JJA", 9: "SON", 10: "SON", 11: "SON"}  # fmt: skip


@dataclass
class Sums:
    """Running sums of one group: per method the moments R, RMSE and MAE need; coverage counts."""

    n: int = 0
    truth_squares: float = 0.0
    moments: dict[str, np.ndarray] = field(
        default_factory=lambda: {m: np.zeros(6) for m in METHODS}
    )
    sigma_known: int = 0
    within: np.ndarray = field(default_factory=lambda: np.zeros(2))  # +-1 and +-2 sigma

    def add(self, preds: dict[str, np.ndarray], truth: np.ndarray, sigma: np.ndarray) -> None:
        self.n += truth.size
        for method, pred in preds.items():
            e = pred - truth
            self.moments[method] += (
                (e**2).sum(), np.abs(e).sum(), pred.sum(), truth.sum(), (pred * truth).sum(), (pred**2).sum()
            )  # fmt: skip
        self.truth_squares += float((truth**2).sum())
        error = np.abs(preds[METHODS[0]] - truth)
        known = np.isfinite(sigma)
        self.within += ((error <= sigma) & known).sum(), ((error <= 2 * sigma) & known).sum()
        self.sigma_known += int(known.sum())

    def row(self, group: dict[str, str]) -> list[dict[str, Any]]:
        rows = []
        t2 = self.truth_squares
        for method in METHODS:
            se, ae, sp, st, spt, sp2 = self.moments[method]
            n = max(self.n, 1)
            cov = spt / n - (sp / n) * (st / n)
            var_p, var_t = sp2 / n - (sp / n) ** 2, t2 / n - (st / n) ** 2
            r = cov / np.sqrt(var_p * var_t) if var_p > 0 and var_t > 0 else float("nan")
            rows.append({**group, "method": method, "N": self.n, "R": r,
                         "RMSE": float(np.sqrt(se / n)), "MAE": float(ae / n)})  # fmt: skip
        known = max(self.sigma_known, 1)
        rows[0].update(
            {"within_1sigma": self.within[0] / known, "within_2sigma": self.within[1] / known}
        )
        return rows


def band_of(lat: np.ndarray) -> np.ndarray:
    """The index in BANDS of each latitude (-1 outside them)."""
    out = np.full(lat.shape, -1)
    for i, (low, high) in enumerate(BANDS):
        out[(lat >= low) & ((lat < high) | (high == 90))] = i
    return out


def wrapped(values: np.ndarray, pad: int) -> np.ndarray:
    return np.concatenate([values[..., -pad:], values, values[..., :pad]], axis=-1)


def accuracy(raw_url: str, product_url: str, truth_url: str, every: int) -> pd.DataFrame:
    """One row per group (band x season, band, season, all) and method (see the module docstring)."""
    from sgdsm_cloud import cube
    from sgdsm_cloud.grid import is_global_lon
    from sgdsm_cloud.product import FLAG, SM, SM_UNCERTAINTY, open_seamless
    from sgdsm_cloud.schema import FLAG_FILLED
    from sgdsm_cloud.storage import Location
    from sgdsm_cloud.validate.baselines import anomaly_reach, linear_interpolation, window_anomaly
    from sgdsm_cloud.validate.cases import truth_field

    raw = cube.open_cube(raw_url, chunks=None)
    product = open_seamless(product_url, chunks=None)
    lat, lon = raw["lat"].values, raw["lon"].values
    truth = truth_field(Location(truth_url), lat, lon)
    raw_days = pd.DatetimeIndex(raw["time"].values)
    pad = anomaly_reach() if is_global_lon(lon) else 0
    bands = np.broadcast_to(band_of(lat)[:, None], (lat.size, lon.size))
    sums: dict[tuple[str, str], Sums] = {}
    days = pd.DatetimeIndex(product["time"].values)
    for date in days[4:-4:every]:
        t = raw_days.get_loc(date)
        window = raw[cube.SM].isel(time=slice(t - 4, t + 5)).values.astype("float64")
        day = product[[SM, FLAG, SM_UNCERTAINTY]].sel(time=date)
        flag = day[FLAG].values
        true = truth.sel(time=date).values
        scored = (flag == FLAG_FILLED) & np.isfinite(true) & (bands >= 0)
        if not scored.any():
            continue
        linear = linear_interpolation(window, 4)
        anomaly = (
            window_anomaly(wrapped(window, pad), 4)[..., pad : pad + lon.size]
            if pad
            else window_anomaly(window, 4)
        )
        preds = {METHODS[0]: day[SM].values, METHODS[1]: linear, METHODS[2]: anomaly}
        common = scored & np.all([np.isfinite(p) for p in preds.values()], axis=0)
        sigma = day[SM_UNCERTAINTY].values
        season = SEASONS[date.month]
        for b in range(len(BANDS)):
            cells = common & (bands == b)
            if not cells.any():
                continue
            label = f"{BANDS[b][0]}..{BANDS[b][1]}"
            for key in ((label, season), (label, "all"), ("all", season), ("all", "all")):
                sums.setdefault(key, Sums()).add(
                    {m: p[cells].astype("float64") for m, p in preds.items()},
                    true[cells].astype("float64"),
                    sigma[cells].astype("float64"),
                )
    rows = [
        r for (band, season), s in sums.items() for r in s.row({"band": band, "season": season})
    ]
    return pd.DataFrame(rows)


def checks(table: pd.DataFrame) -> dict[str, Any]:
    """The run's must-shows: RMSE against linear interpolation overall; R above both baselines
    and +-1/2 sigma coverage within 5 points of 68/95 % in every band and season."""
    model = table[table.method == METHODS[0]].set_index(["band", "season"])
    linear = table[table.method == METHODS[1]].set_index(["band", "season"])
    anomaly = table[table.method == METHODS[2]].set_index(["band", "season"])
    overall = ("all", "all")
    groups = [g for g in model.index if (g[0] == "all") != (g[1] == "all")]  # bands, seasons
    r_short = [g for g in groups if not model.R[g] > max(linear.R[g], anomaly.R[g])]
    cover_short = [
        g for g in groups
        if abs(model.within_1sigma[g] - 0.68) > 0.05 or abs(model.within_2sigma[g] - 0.95) > 0.05
    ]  # fmt: skip
    return {
        "rmse_vs_linear": float(model.RMSE[overall] / linear.RMSE[overall]),
        "r_short": r_short,
        "coverage_short": cover_short,
        "within_1sigma": float(model.within_1sigma[overall]),
        "within_2sigma": float(model.within_2sigma[overall]),
    }
