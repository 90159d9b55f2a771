"""``sgdsm validate``: open the stores, run the requested programmes, write the report folder.

The programmes (``sections``) share one :class:`Context`: the raw cube, the validated period
and days, the land masks, the model, and the product (the seamless store given with
``--filled``, else the model run on the crops each programme needs).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from sgdsm_cloud import __version__, cube
from sgdsm_cloud.errors import ConfigError, StoreContractError
from sgdsm_cloud.grid import is_global_lon
from sgdsm_cloud.storage import Location, redact
from sgdsm_cloud.validate.insitu import InsituConfig
from sgdsm_cloud.validate.masks import GapConfig, default_days
from sgdsm_cloud.validate.product import ModelFiller, ModelProduct, StoreProduct

log = logging.getLogger(__name__)

SWEEPS = ("none", "small", "paper")


@dataclass(frozen=True)
class ValidateConfig:
    """Everything one validation run needs.

    Attributes:
        store: the raw cube.
        model: the checkpoint directory.
        report: the folder the report is written to (created).
        filled: the seamless cube from ``sgdsm fill`` (None: computed where needed).
        insitu: an ISMN download (folder, zip or .stm file).
        truth: a synthetic archive's complete field (``truth`` variable, raw cube's grid).
        start, end: the validated period (ISO dates; None = the whole record).
        days: the days given simulated gaps (None: ``n_days`` evenly spaced in the period).
        n_days: number of default days.
        gaps: how simulated gaps are drawn.
        context: cells of context around each simulated block (raised to the model's
            receptive radius if smaller), shared by every method.
        points: (lat, lon) of the time-series points (None: well-observed land cells).
        n_points: number of default points.
        insitu_options: which in-situ records count.
        sweep: ``none``, ``small`` (demo-sized) or ``paper`` (Tables S1-S3 grid).
        device: ``auto``, ``cpu`` or ``cuda``; batch_size: days per forward pass.
        max_grid_cells: whole-grid computations (maps, truth comparison) run only on grids up to
            this size unless the product comes from ``filled``.
        crosscheck: also run pytesmo's DCT-PLS when it is installed.
    """

    store: Location
    model: Location
    report: Path
    filled: Location | None = None
    insitu: Path | None = None
    truth: Location | None = None
    start: str | None = None
    end: str | None = None
    days: tuple[str, ...] | None = None
    n_days: int = 4
    gaps: GapConfig = field(default_factory=GapConfig)
    context: int = 27
    points: tuple[tuple[float, float], ...] | None = None
    n_points: int = 4
    insitu_options: InsituConfig = field(default_factory=InsituConfig)
    sweep: str = "none"
    device: str = "auto"
    batch_size: int = 8
    max_grid_cells: int = 512 * 512
    crosscheck: bool = True

    def __post_init__(self) -> None:
        if self.sweep not in SWEEPS:
            raise ConfigError(f"--sweep must be one of {SWEEPS}, got {self.sweep!r}")
        if self.device not in ("auto", "cpu", "cuda") and not self.device.startswith("cuda:"):
            raise ConfigError(f"--device must be auto, cpu or cuda[:N], got {self.device!r}")
        for name in ("n_days", "n_points", "batch_size", "max_grid_cells"):
            if getattr(self, name) < 1:
                raise ConfigError(
                    f"validation option '{name}' must be >= 1, got {getattr(self, name)}"
                )
        if self.context < 0:
            raise ConfigError(f"validation option 'context' must be >= 0 cells, got {self.context}")


@dataclass
class Context:
    """What every programme works on (see the module docstring)."""

    config: ValidateConfig
    raw: xr.Dataset
    dates: pd.DatetimeIndex
    period: np.ndarray
    days: list[int]
    land: np.ndarray
    fill_land: np.ndarray
    periodic: bool
    checkpoint: Any
    filler: ModelFiller
    product: ModelProduct | StoreProduct
    figures: Path

    @property
    def lat(self) -> np.ndarray:
        return self.raw["lat"].values

    @property
    def lon(self) -> np.ndarray:
        return self.raw["lon"].values

    @property
    def grid_cells(self) -> int:
        return int(self.land.size)

    @property
    def whole_grid_ok(self) -> bool:
        """Whole-grid model runs are cheap enough, or the product is read from a store."""
        return (
            isinstance(self.product, StoreProduct) or self.grid_cells <= self.config.max_grid_cells
        )


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
    from sgdsm_cloud.fill.block import fill_land_mask
    from sgdsm_cloud.model.checkpoint import load_checkpoint
    from sgdsm_cloud.model.train import resolve_device

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
