"""Is a seamless product current and whole? What ``sgdsm check`` reports to a monitor.

Two questions an operator asks every day: how far behind today is the newest day (the
product's latency), and what share of the land the product fills is NaN on the latest days
(a broken source or model shows there first). Reads the newest version's metadata and the
``sm`` and ``flag`` of the last days only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sgdsm_cloud.product import FLAG, FLAG_NOT_LAND, LAST_FINAL_DAY, SM, open_seamless

LATE, HOLES, LATE_AND_HOLES = 4, 5, 6  # exit statuses of 'sgdsm check'


@dataclass(frozen=True)
class Health:
    """The product's state: its newest day, how late it is, how much land is NaN lately."""

    product: str
    last_day: str
    last_final_day: str
    delay_days: float
    nan_share: float
    days_checked: int
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def status(self) -> int:
        late = any(p.startswith("late") for p in self.problems)
        holes = any(p.startswith("holes") for p in self.problems)
        return LATE_AND_HOLES if late and holes else LATE if late else HOLES if holes else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "product": self.product,
            "last_day": self.last_day,
            "last_final_day": self.last_final_day,
            "delay_days": round(self.delay_days, 2),
            "nan_share": round(self.nan_share, 6),
            "days_checked": self.days_checked,
            "problems": list(self.problems),
            "status": self.status,
        }


def check_health(
    url: str,
    storage_options: dict[str, Any] | None = None,
    *,
    max_delay: dt.timedelta,
    max_nan_share: float,
    days: int = 7,
    now: dt.datetime | None = None,
) -> Health:
    """The health of the product at ``url``: late when its newest day is more than
    ``max_delay`` before ``now`` (a day counts from its end), holey when more than
    ``max_nan_share`` of the land cells of its last ``days`` days are NaN."""
    ds = open_seamless(url, storage_options)
    now = now or dt.datetime.now(dt.UTC)
    last = pd.Timestamp(ds["time"].values[-1]).tz_localize("UTC") + pd.Timedelta(days=1)
    delay = (now - last.to_pydatetime()).total_seconds() / 86400
    recent = ds.isel(time=slice(-days, None))
    flag = recent[FLAG].values
    land = flag != FLAG_NOT_LAND
    nan = np.isnan(recent[SM].values) & land
    share = float(nan.sum() / land.sum()) if land.any() else 0.0
    problems = []
    if delay > max_delay.total_seconds() / 86400:
        problems.append(
            f"late: the newest day is {pd.Timestamp(ds['time'].values[-1]).date()}, "
            f"{delay:.1f} days ago (limit {max_delay.total_seconds() / 86400:g})"
        )
    if share > max_nan_share:
        problems.append(
            f"holes: {share:.2%} of the land is NaN over the last {recent.sizes['time']} days "
            f"(limit {max_nan_share:.2%})"
        )
    return Health(
        url,
        str(pd.Timestamp(ds["time"].values[-1]).date()),
        str(ds.attrs.get(LAST_FINAL_DAY, "")),
        delay,
        share,
        int(recent.sizes["time"]),
        tuple(problems),
    )
