"""Sensitivity sweep with the structure of the paper's Tables S1-S3 (``sgdsm sweep``).

One factor at a time around the default configuration: kernel 3/5/7, layers 10/11/12 and
feature maps 60/90/120 for the ``paper`` sweep; the ``small`` sweep varies the ``small`` preset
the same way (kernel 3/5/7, layers -1/0/+1, feature maps x2/3, x1, x4/3) with a short training
run so that it fits a CPU demo. Every configuration is trained on the raw cube through the
training API and scored by SGD-SM on simulated gaps drawn as ``sgdsm validate`` draws them
(the same days and gap settings give the same gaps as the report's main table). Trained models
are kept under ``<out>/sweep_models/<name>`` and a re-run resumes them.

:func:`run_sweep` computes the table, :func:`write_sweep` writes it (``sweep.csv`` and the
settings it was scored with, ``sweep.json``) and :func:`read_sweep` reads it back for the
report (``sgdsm validate --sweep-table``).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sgdsm_cloud import cube, schema
from sgdsm_cloud.errors import ConfigError
from sgdsm_cloud.model.config import ModelConfig, TrainConfig
from sgdsm_cloud.outputs import claim
from sgdsm_cloud.storage import Location
from sgdsm_cloud.validate.cases import draw_gaps, simulated_cases
from sgdsm_cloud.validate.context import REPORT_FOLDER, SweepConfig
from sgdsm_cloud.validate.evaluate import evaluate
from sgdsm_cloud.validate.methods import model_method
from sgdsm_cloud.validate.record import open_record

# Tables S1-S3 of the paper (R / RMSE / MAE on simulated missing regions, fraction scale).
PAPER_SCORES = {
    ("kernel", 3): (0.968, 0.068, 0.047),
    ("kernel", 5): (0.957, 0.076, 0.048),
    ("kernel", 7): (0.949, 0.081, 0.050),
    ("layers", 10): (0.962, 0.072, 0.048),
    ("layers", 11): (0.968, 0.068, 0.047),
    ("layers", 12): (0.966, 0.070, 0.049),
    ("features", 60): (0.963, 0.071, 0.048),
    ("features", 90): (0.968, 0.068, 0.047),
    ("features", 120): (0.967, 0.069, 0.047),
}

# Short training for the demo-sized sweep: a few small epochs, enough to rank configurations.
SMALL_TRAINING: dict[str, Any] = {
    "patch": 24,
    "stride": 8,
    "epochs": 2,
    "samples_per_epoch": 128,
    "batch_size": 16,
    "max_validation_samples": 64,
    "gap_library_size": 128,
    "patience": 2,
}


@dataclass(frozen=True)
class SweepPoint:
    """One configuration: the ``factor`` varied, its ``value`` and the resulting model config."""

    factor: str
    value: int
    config: ModelConfig

    @property
    def name(self) -> str:
        c = self.config
        return f"k{c.kernel}_l{c.layers}_f{c.features}"


def sweep_plan(kind: str) -> list[SweepPoint]:
    """The configurations of a sweep, one factor at a time around the default (the default repeats)."""
    base = ModelConfig.preset(kind)
    if kind == "paper":
        values = {"kernel": (3, 5, 7), "layers": (10, 11, 12), "features": (60, 90, 120)}
    else:
        f = base.features
        values = {
            "kernel": (3, 5, 7),
            "layers": (base.layers - 1, base.layers, base.layers + 1),
            "features": (round(f * 2 / 3), f, round(f * 4 / 3)),
        }
    return [
        SweepPoint(factor, v, ModelConfig.from_dict({**base.to_dict(), factor: v}))
        for factor, vs in values.items()
        for v in vs
    ]


def training_config(kind: str, base: TrainConfig | None) -> TrainConfig:
    """The checkpoint's own training settings for the paper sweep, a short run for the small one."""
    base = base or TrainConfig()
    return dataclasses.replace(base, **SMALL_TRAINING) if kind == "small" else base


COLUMNS = ["factor", "value", "configuration", "R", "RMSE", "MAE", "paper R", "paper RMSE",
           "paper MAE"]  # fmt: skip
TABLE, SETTINGS = "sweep.csv", "sweep.json"


@dataclass(frozen=True)
class SweepResult:
    """A sweep's table and the settings it was scored with.

    Attributes:
        preset: ``small`` or ``paper``.
        base: the configuration the factors vary around (``ModelConfig.to_dict``).
        epochs: the most epochs each configuration was trained for.
        period: first and last validated day (ISO dates).
        days: the days given simulated gaps (ISO dates).
        gaps: how the gaps were drawn (``GapConfig`` fields).
        table: one row per point of the plan (``COLUMNS``); no row when no gap could be placed.
    """

    preset: str
    base: dict[str, Any]
    epochs: int
    period: tuple[str, str]
    days: tuple[str, ...]
    gaps: dict[str, Any]
    table: pd.DataFrame

    def settings(self) -> dict[str, Any]:
        """Everything but the table (what ``sweep.json`` holds)."""
        return {
            f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "table"
        }


def run_sweep(
    config: SweepConfig, plan: list[SweepPoint] | None = None, train_cfg: TrainConfig | None = None
) -> SweepResult:
    """Train every configuration of the sweep and score it on the simulated gaps.

    ``plan`` and ``train_cfg`` default to those of ``config.preset``; the ``paper`` sweep
    trains with the training settings of ``config.model`` when it records them.
    """
    from sgdsm_cloud.model.checkpoint import load_checkpoint
    from sgdsm_cloud.model.runner import resolve_device
    from sgdsm_cloud.model.train import train
    from sgdsm_cloud.validate.product import ModelFiller

    inputs = [config.store] + ([config.model] if config.model else [])
    claim(Location(str(config.out.resolve())), REPORT_FOLDER, inputs=inputs)
    plan = plan or sweep_plan(config.preset)
    device = str(resolve_device(config.device))
    reference = None
    if config.model is not None:
        reference = load_checkpoint(
            config.model.url, device, storage_options=config.model.storage_options
        )
    train_cfg = train_cfg or training_config(
        config.preset, reference.train_config if reference else None
    )
    half_window = plan[0].config.half_window
    record = open_record(config, reference.config.half_window if reference else half_window)
    sm = record.raw[cube.SM]
    gaps = draw_gaps(sm, record.fill_land, record.days, config.gaps, record.period)
    halo = max([config.context] + [p.config.receptive_radius for p in plan])
    cases = simulated_cases(
        sm, record.land, record.dates, gaps, halo, half_window, record.periodic, record.fill_land
    )
    valid_range = schema.physical_range(record.raw.attrs)
    scores: dict[str, tuple[float, float, float]] = {}
    rows = []
    for point in plan if cases else []:  # nothing is trained when no gap can be scored
        if point.name not in scores:  # the default configuration repeats: trained once
            out = config.out.resolve() / "sweep_models" / point.name
            train(config.store, Location(str(out)), point.config, train_cfg, device=device)
            checkpoint = load_checkpoint(str(out), device)
            filler = ModelFiller.from_checkpoint(checkpoint, device, config.batch_size, valid_range)
            methods = {"SGD-SM": model_method(filler)}
            row = evaluate(cases, methods, desc=f"sweep {point.name}").table.iloc[0]
            scores[point.name] = (row["R"], row["RMSE"], row["MAE"])
        paper = PAPER_SCORES.get((point.factor, point.value)) if config.preset == "paper" else None
        rows.append(
            (point.factor, point.value, point.name, *scores[point.name],
             *(paper or (float("nan"),) * 3))
        )  # fmt: skip
    period = (f"{record.dates[record.period[0]]:%Y-%m-%d}",
              f"{record.dates[record.period[-1]]:%Y-%m-%d}")  # fmt: skip
    return SweepResult(
        config.preset,
        plan[0].config.to_dict(),
        train_cfg.epochs,
        period,
        tuple(f"{record.dates[d]:%Y-%m-%d}" for d in record.days),
        dataclasses.asdict(config.gaps),
        pd.DataFrame(rows, columns=COLUMNS),
    )


def write_sweep(result: SweepResult, folder: Path) -> Path:
    """Write ``sweep.csv`` (full precision) and ``sweep.json`` under ``folder``; returns the CSV."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    result.table.to_csv(folder / TABLE, index=False)
    (folder / SETTINGS).write_text(json.dumps(result.settings(), indent=2))
    return folder / TABLE


def read_sweep(path: Path) -> SweepResult:
    """A sweep written by :func:`write_sweep`: its ``sweep.csv`` and the ``sweep.json`` beside it."""
    path = Path(path)
    settings = path.with_name(SETTINGS)
    for needed in (path, settings):
        if not needed.is_file():
            raise ConfigError(
                f"--sweep-table: {needed} does not exist; pass the sweep.csv that 'sgdsm sweep' "
                "writes (with sweep.json beside it)"
            )
    try:
        table = pd.read_csv(path)
        meta = json.loads(settings.read_text())
        result = SweepResult(
            str(meta["preset"]), dict(meta["base"]), int(meta["epochs"]),
            (str(meta["period"][0]), str(meta["period"][1])), tuple(map(str, meta["days"])),
            dict(meta["gaps"]), table,
        )  # fmt: skip
    except (ValueError, KeyError, TypeError, pd.errors.ParserError) as err:
        raise ConfigError(
            f"--sweep-table: {path} and {settings.name} are not a table from 'sgdsm sweep' ({err})"
        ) from None
    if list(table.columns) != COLUMNS:
        raise ConfigError(
            f"--sweep-table: {path} has columns {list(table.columns)}, not those of "
            "'sgdsm sweep' (factor, value, configuration, R, RMSE, MAE, paper R, ...)"
        )
    return result
