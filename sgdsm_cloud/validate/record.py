"""Open the raw cube where a validation step scores it: the period, the days, the land masks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sgdsm_cloud import cube
from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.grid import is_global_lon
from sgdsm_cloud.validate.context import Record, ScoringConfig
from sgdsm_cloud.validate.masks import default_days


def day_indices(dates: pd.DatetimeIndex, days: tuple[str, ...], period: np.ndarray) -> list[int]:
    """Indices of the requested days; each must lie in the validated period."""
    out = []
    for text in days:
        try:
            day = pd.Timestamp(text).normalize()
        except ValueError:
            raise ConfigError(f"--days takes ISO dates separated by commas, got {text!r}") from None
        hits = np.flatnonzero(dates[period] == day)
        if hits.size == 0:
            raise ConfigError(
                f"--days: {day:%Y-%m-%d} is not in the validated period "
                f"{dates[period[0]]:%Y-%m-%d}..{dates[period[-1]]:%Y-%m-%d}"
            )
        out.append(int(period[hits[0]]))
    return sorted(set(out))


def open_record(config: ScoringConfig, half_window: int) -> Record:
    """The raw cube, the period ``start..end`` (``cube.select_days``: inside the cube's days),
    the days given simulated gaps (``days``, else ``n_days`` spread so that their windows of
    ``half_window`` days on each side lie in the record) and the land masks."""
    from sgdsm_cloud.product import fill_land_mask

    raw = cube.open_cube(config.store.url, config.store.storage_options)
    dates = pd.DatetimeIndex(raw["time"].values)
    selected = cube.select_days(dates, config.start, config.end, config.store.url)
    period = np.arange(dates.size)[selected]
    if config.days:
        days = day_indices(dates, config.days, period)
    else:
        days = [int(period[i]) for i in default_days(period.size, config.n_days, half_window)]
    land = raw[cube.LAND].values.astype(bool)
    lat, lon = raw["lat"].values, raw["lon"].values
    periodic = lon.size > 1 and is_global_lon(lon)
    return Record(raw, dates, period, days, land, fill_land_mask(land, lat, lon), periodic)
