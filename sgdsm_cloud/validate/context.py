"""The types every validation step shares: the configurations and what a run works on.

Each option is declared once, as a field with :func:`~sgdsm_cloud.options.option`: the command
line (``sgdsm validate``, ``sgdsm sweep``), the pipeline YAML and the library take the same
names and values. :class:`ScoringConfig` holds what both steps score on (the period, the days
and their simulated gaps, the device); :class:`ValidateConfig` and :class:`SweepConfig` add
their own. Locations (URLs with storage options) are plain fields, set by the commands.

This module stays light (no xarray, torch or matplotlib at import) so that ``sgdsm --help``
builds the parsers quickly; :mod:`sgdsm_cloud.validate.record` and
:mod:`sgdsm_cloud.validate.run` open the stores.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.model.builtin import resolve_model
from sgdsm_cloud.options import Count, Day, option, url
from sgdsm_cloud.outputs import Folder, OutputKind
from sgdsm_cloud.storage import Location
from sgdsm_cloud.validate.masks import MODES, GapConfig

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import xarray as xr

    from sgdsm_cloud.validate.insitu import InsituConfig
    from sgdsm_cloud.validate.product import ModelFiller, ModelProduct, StoreProduct

SWEEPS = ("none", "small", "paper")
SWEEP_PRESETS = SWEEPS[1:]

RUN_FILE = "run.json"  # written first, as the folder's marker, and completed at the end
SWEEP_FILES = ("sweep.csv", "sweep.json", "sweep_models")
MODEL_HELP = (
    "checkpoint directory from 'sgdsm train', or builtin:NAME (a model shipped in the "
    "package, e.g. builtin:lprm-x-d-025-v2)"
)
REPORT_FILES = ("report.md", "report.html", RUN_FILE, "tables", "figures", *SWEEP_FILES)


def _is_report(folder: Folder) -> bool:
    """A folder 'sgdsm validate' or 'sgdsm sweep' wrote: its run record, its sweep table, or
    the models of a sweep still training."""
    run = folder.read_json(RUN_FILE)
    if isinstance(run, dict) and "sgdsm_cloud_version" in run:
        return True
    return isinstance(folder.read_json("sweep.json"), dict) or folder.names == {"sweep_models"}


# The report folder of 'sgdsm validate', which also holds a sweep ('sgdsm sweep', --sweep)
REPORT_FOLDER = OutputKind("report folder", "sgdsm validate", _is_report, REPORT_FILES.__contains__)


@dataclass(frozen=True, kw_only=True)
class ScoringConfig:
    """What ``sgdsm validate`` and ``sgdsm sweep`` score on: the same settings draw the same
    simulated gaps, so a sweep's table sits next to the report's main table.

    Attributes:
        store: the raw cube.
        context: cells of context around each simulated block (raised to the model's
            receptive radius if smaller), shared by every method.
        gap_margin: at least this many cells between two blocks of a day.
        Every other field is a command-line option; its help text is its documentation.
    """

    store: Location = url("raw cube (zarr) from 'sgdsm ingest'")
    start: str | None = option(
        None, "first validated day (ISO date; default: the cube's first)", kind=Day
    )
    end: str | None = option(
        None, "last validated day (ISO date; default: the cube's last)", kind=Day
    )
    days: tuple[str, ...] | None = option(
        None,
        "days given simulated gaps, ISO dates separated by commas or spaces (default: --n-days "
        "evenly spaced over the period)",
        metavar="DATE",
    )
    n_days: int = option(4, "number of default days", kind=Count)
    gap_size: int = option(27, "side of a simulated gap block in cells", metavar="CELLS")
    gap_mode: str = option(
        "squares",
        "remove whole blocks, or real gap shapes from other days inside them",
        choices=MODES,
    )
    gaps_per_day: int = option(8, "blocks per day")
    seed: int = option(0, "seed of the gap placement")
    device: str = option("auto", "auto, cpu or cuda[:N]")
    batch_size: int = option(8, "days per forward pass", kind=Count)
    context: int = 27
    gap_margin: int = 11

    def __post_init__(self) -> None:
        if self.days is not None:  # "--days a,b", "--days a b" or a list in the YAML file
            days = tuple(d.strip() for text in self.days for d in str(text).split(","))
            object.__setattr__(self, "days", tuple(d for d in days if d) or None)
        if self.device not in ("auto", "cpu", "cuda") and not self.device.startswith("cuda:"):
            raise ConfigError(f"--device must be auto, cpu or cuda[:N], got {self.device!r}")
        for name in ("n_days", "batch_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"option '{name}' must be >= 1, got {getattr(self, name)}")
        if self.context < 0:
            raise ConfigError(f"validation option 'context' must be >= 0 cells, got {self.context}")
        _ = self.gaps  # GapConfig checks the gap settings now, not when the gaps are drawn

    @property
    def gaps(self) -> GapConfig:
        """How simulated gaps are drawn."""
        return GapConfig(
            mode=self.gap_mode,
            size=self.gap_size,
            per_day=self.gaps_per_day,
            margin=self.gap_margin,
            seed=self.seed,
        )

    def scoring(self) -> dict[str, Any]:
        """The :class:`ScoringConfig` fields, to build another step's configuration."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(ScoringConfig)}


@dataclass(frozen=True, kw_only=True)
class ValidateConfig(ScoringConfig):
    """Everything one validation run needs (the fields of :class:`ScoringConfig` as well).

    Attributes:
        model: the checkpoint directory.
        filled: the seamless cube from ``sgdsm fill`` (None: computed where needed).
        truth: a synthetic archive's complete field (``truth`` variable, raw cube's grid).
        n_points: number of default time-series points.
        max_grid_cells: whole-grid computations (maps, truth comparison) run only on grids up to
            this size unless the product comes from ``filled``.
        Every other field is a command-line option; its help text is its documentation.
    """

    model: Location = url(MODEL_HELP, metavar="DIR", resolve=resolve_model)
    report: Path = option(help="report folder to write", metavar="DIR")
    filled: Location | None = url(
        "seamless product from 'sgdsm fill' (default: computed where needed)", required=False
    )
    truth: Location | None = url(
        "complete field of a synthetic archive (truth.zarr from 'sgdsm synth')", required=False
    )
    other_pass: Location | None = url(
        "raw cube of the other overpass (same days and grid), which a two-pass model reads",
        required=False,
    )
    insitu: Path | None = option(None, "ISMN download: folder, zip or .stm file", metavar="PATH")
    points: str | None = option(
        None,
        "time-series points (default: well-observed land cells that have gaps)",
        metavar="LAT,LON;...",
    )
    insitu_depth: str = option("0,0.05", "sensor depth range in m", metavar="FROM,TO")
    insitu_tolerance: float = option(
        1.0, "largest gap between overpass and in-situ record", metavar="HOURS"
    )
    sweep: str = option(
        "none",
        "run the sensitivity sweep of kernel/layers/feature maps first ('sgdsm sweep' with the "
        "report folder as --out) and include its table",
        choices=SWEEPS,
    )
    sweep_table: Path | None = option(
        None, "include the table written by 'sgdsm sweep' (its sweep.csv)", metavar="PATH"
    )
    n_points: int = 4
    max_grid_cells: int = 512 * 512
    crosscheck: bool = option(True, "run pytesmo's DCT-PLS too when it is installed")
    peer: bool = option(
        False,
        "score the peer on the simulated gaps: DCT-PLS in the configuration of ESA CCI SM "
        "GAPFILLED (pytesmo), over half a year of the record on each side of the day: seconds "
        "per gap, minutes per report",
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "report", Path(self.report))
        for name in ("n_points", "max_grid_cells"):
            if getattr(self, name) < 1:
                raise ConfigError(
                    f"validation option '{name}' must be >= 1, got {getattr(self, name)}"
                )
        if self.sweep not in SWEEPS:
            raise ConfigError(f"--sweep must be one of {SWEEPS}, got {self.sweep!r}")
        if self.sweep != "none" and self.sweep_table is not None:
            raise ConfigError("give --sweep (run it now) or --sweep-table (include one), not both")
        _ = self.coordinates, self.insitu_options  # a malformed value fails before any work

    @property
    def coordinates(self) -> list[tuple[float, float]] | None:
        """The (lat, lon) of ``points``, None for the default points."""
        return parse_points(self.points) if self.points is not None else None

    @property
    def insitu_options(self) -> InsituConfig:
        """Which in-situ records count."""
        from sgdsm_cloud.validate.insitu import InsituConfig

        depth_from, depth_to = parse_depths(self.insitu_depth)
        return InsituConfig(
            depth_from=depth_from, depth_to=depth_to, tolerance_hours=self.insitu_tolerance
        )

    def sweep_config(self) -> SweepConfig:
        """The sweep ``--sweep`` asks for: the report's days and gaps, models under the report."""
        return SweepConfig(**self.scoring(), model=self.model, out=self.report, preset=self.sweep)


@dataclass(frozen=True, kw_only=True)
class SweepConfig(ScoringConfig):
    """A sensitivity sweep (``sgdsm sweep``; the fields of :class:`ScoringConfig` as well).

    Attributes:
        model: a trained checkpoint whose training settings the ``paper`` sweep reuses (and
            whose window picks the default days); None: the default training settings.
        Every other field is a command-line option; its help text is its documentation.
    """

    out: Path = option(
        help="folder for the trained models (sweep_models/) and the table (sweep.csv, "
        "sweep.json); a re-run resumes the models there",
        metavar="DIR",
    )
    preset: str = option(
        "small",
        "paper: kernel 3/5/7, layers 10/11/12, feature maps 60/90/120 with the full training; "
        "small: the small preset varied the same way with a 2-epoch training that fits a CPU",
        choices=SWEEP_PRESETS,
    )
    model: Location | None = url(
        MODEL_HELP + "; the paper sweep trains with its training settings (default: the "
        "defaults of 'sgdsm train') and its window picks the default days",
        required=False,
        metavar="DIR",
        resolve=resolve_model,
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "out", Path(self.out))
        if self.preset not in SWEEP_PRESETS:
            raise ConfigError(f"--preset must be one of {SWEEP_PRESETS}, got {self.preset!r}")


def parse_points(text: str) -> list[tuple[float, float]]:
    """Parse ``"LAT,LON;LAT,LON"`` (the CLI's ``--points``)."""
    points = []
    for item in filter(None, (p.strip() for p in text.split(";"))):
        lat, lon = _two_numbers(
            item,
            f"--points takes LAT,LON pairs separated by ';' (e.g. '38.1,117.4;0.4,36.9'), "
            f"got {item!r}",
        )
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ConfigError(
                f"--points: {item!r} is not a latitude in [-90, 90] and a longitude in [-180, 180]"
            )
        points.append((lat, lon))
    if not points:
        raise ConfigError("--points is empty; give at least one LAT,LON pair")
    return points


def parse_depths(text: str) -> tuple[float, float]:
    """Parse ``"FROM,TO"`` in metres (the CLI's ``--insitu-depth``)."""
    return _two_numbers(text, f"--insitu-depth takes FROM,TO in metres (e.g. 0,0.05), got {text!r}")


def _two_numbers(text: str, message: str) -> tuple[float, float]:
    parts = text.split(",")
    try:
        first, second = (float(v) for v in parts)
    except ValueError:
        raise ConfigError(message) from None
    return first, second


@dataclass
class Record:
    """The raw cube where a step scores it: the validated period and days, the land masks.

    Attributes:
        raw: the raw cube (lazy).
        dates: its days.
        period: indices of the validated days on the time axis.
        days: indices of the days given simulated gaps.
        land: (lat, lon) bool land mask, the network's input mask.
        fill_land: land outside the excluded regions (what the product fills).
        periodic: longitude wraps around (a global grid).
    """

    raw: xr.Dataset
    dates: pd.DatetimeIndex
    period: np.ndarray
    days: list[int]
    land: np.ndarray
    fill_land: np.ndarray
    periodic: bool

    @property
    def lat(self) -> np.ndarray:
        return self.raw["lat"].values

    @property
    def lon(self) -> np.ndarray:
        return self.raw["lon"].values

    @property
    def grid_cells(self) -> int:
        return int(self.land.size)


@dataclass
class Context(Record):
    """What every validation programme works on: the record, the model, and the product (the
    seamless store given with ``--filled``, else the model run on the crops each programme
    needs)."""

    config: ValidateConfig
    checkpoint: Any
    filler: ModelFiller
    product: ModelProduct | StoreProduct
    other: xr.DataArray | None = None  # the other overpass's sm, for a two-pass model

    @property
    def whole_grid_ok(self) -> bool:
        """Whole-grid model runs are cheap enough, or the product is read from a store."""
        from sgdsm_cloud.validate.product import StoreProduct

        return (
            isinstance(self.product, StoreProduct) or self.grid_cells <= self.config.max_grid_cells
        )
