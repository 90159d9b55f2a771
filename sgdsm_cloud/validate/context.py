"""The types every validation programme shares: the run's configuration and its context.

:mod:`sgdsm_cloud.validate.run` builds them; :mod:`sgdsm_cloud.validate.sections` reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.storage import Location
from sgdsm_cloud.validate.insitu import InsituConfig
from sgdsm_cloud.validate.masks import GapConfig
from sgdsm_cloud.validate.product import ModelFiller, ModelProduct, StoreProduct

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
    """What every programme works on: the raw cube, the validated period and days, the land
    masks, the model, and the product (the seamless store given with ``--filled``, else the
    model run on the crops each programme needs)."""

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
