"""``sgdsm validate``: open the stores, run the requested programmes, write the report folder.

The programmes (``sections``) share one :class:`Context`: the raw cube, the validated period
and days, the land masks, the model, and the product (the seamless store given with
``--filled``, else the model run on the crops each programme needs).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from sgdsm_cloud import __version__, cube
from sgdsm_cloud.errors import ConfigError, StoreContractError
from sgdsm_cloud.grid import is_global_lon
from sgdsm_cloud.storage import redact
from sgdsm_cloud.validate.context import Context, ValidateConfig
from sgdsm_cloud.validate.masks import default_days
from sgdsm_cloud.validate.product import ModelFiller, ModelProduct, StoreProduct

log = logging.getLogger(__name__)


def period_indices(
    dates: pd.DatetimeIndex, start: str | None, end: str | None, source: str
) -> np.ndarray:
    """Indices of the cube days inside [start, end]."""
    lo = pd.Timestamp(start) if start else dates[0]
    hi = pd.Timestamp(end) if end else dates[-1]
    idx = np.flatnonzero((dates >= lo) & (dates <= hi))
    if idx.size == 0:
        raise ConfigError(
            f"--start/--end {lo:%Y-%m-%d}..{hi:%Y-%m-%d} select no day of {source} "
            f"({dates[0]:%Y-%m-%d}..{dates[-1]:%Y-%m-%d})"
        )
    return idx


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


def open_context(config: ValidateConfig) -> Context:
    """Open the stores and the model, and fix the period, days and masks."""
    from sgdsm_cloud.model.checkpoint import load_checkpoint
    from sgdsm_cloud.model.runner import resolve_device
    from sgdsm_cloud.product import fill_land_mask

    raw = cube.open_cube(config.store.url, config.store.storage_options)
    device = str(resolve_device(config.device))
    checkpoint = load_checkpoint(
        config.model.url, device, storage_options=config.model.storage_options
    )
    filler = ModelFiller.from_checkpoint(
        checkpoint,
        device=device,
        batch_size=config.batch_size,
        valid_range=cube.physical_range(raw.attrs),
    )
    dates = pd.DatetimeIndex(raw["time"].values)
    period = period_indices(dates, config.start, config.end, config.store.url)
    if config.days:
        days = day_indices(dates, config.days, period)
    else:
        picks = default_days(period.size, config.n_days, filler.half_window)
        days = [int(period[i]) for i in picks]
    land = raw[cube.LAND].values.astype(bool)
    lat, lon = raw["lat"].values, raw["lon"].values
    fill_land = fill_land_mask(land, lat, lon)
    periodic = lon.size > 1 and is_global_lon(lon)
    if config.filled:
        filled = xr.open_zarr(
            config.filled.url, storage_options=config.filled.storage_options or None
        )
        if filled.sizes.get("lat") != lat.size or filled.sizes.get("lon") != lon.size:
            raise StoreContractError(
                f"{config.filled.url}: its grid differs from the raw cube's; fill this cube"
            )
        product: ModelProduct | StoreProduct = StoreProduct(
            filled, raw["time"].values, config.filled.url
        )
    else:
        product = ModelProduct(raw[cube.SM], land, fill_land, filler, periodic)
    figures = config.report / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    return Context(
        config,
        raw,
        dates,
        period,
        days,
        land,
        fill_land,
        periodic,
        checkpoint,
        filler,
        product,
        figures,
    )


def run_validation(config: ValidateConfig) -> Path:
    """Run the programmes the configuration asks for; returns the report's Markdown file."""
    from sgdsm_cloud.validate import sections
    from sgdsm_cloud.validate.report import write_report

    ctx = open_context(config)
    parts = [sections.overview(ctx), sections.product_map(ctx), sections.simulated(ctx)]
    if config.insitu:
        parts.append(sections.insitu(ctx))
    parts.append(sections.timeseries(ctx))
    if config.truth:
        parts.append(sections.truth(ctx))
    if config.sweep != "none":
        parts.append(sections.sweep(ctx))
    path = write_report(config.report, "SGD-SM validation report", parts)
    (config.report / "run.json").write_text(json.dumps(run_record(ctx), indent=2, default=str))
    return path


def run_record(ctx: Context) -> dict[str, Any]:
    """The run's settings and provenance, without storage options (they may hold secrets)."""
    c = ctx.config
    settings = {
        k: v for k, v in asdict(c).items() if k not in ("store", "model", "filled", "truth")
    }
    return {
        "sgdsm_cloud_version": __version__,
        "store": redact(c.store.url),
        "model": redact(c.model.url),
        "model_sha256": ctx.checkpoint.sha256,
        "model_config": ctx.checkpoint.config.to_dict(),
        "filled": redact(c.filled.url) if c.filled else None,
        "truth": redact(c.truth.url) if c.truth else None,
        "validated_days": [f"{ctx.dates[d]:%Y-%m-%d}" for d in ctx.days],
        "settings": settings,
    }
