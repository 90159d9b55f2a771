"""Sensitivity sweep with the structure of the paper's Tables S1-S3.

One factor at a time around the default configuration: kernel 3/5/7, layers 10/11/12 and
feature maps 60/90/120 for the ``paper`` sweep; the ``small`` sweep varies the ``small`` preset
the same way (kernel 3/5/7, layers -1/0/+1, feature maps x2/3, x1, x4/3) with a short training
run so that it fits a CPU demo. Every configuration is trained on the raw cube and scored on
the same simulated gaps as the main table (SGD-SM only). Trained models are kept under
``<report>/sweep_models/<name>`` and a re-run resumes them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pandas as pd

from sgdsm_cloud import cube
from sgdsm_cloud.model.config import ModelConfig, TrainConfig
from sgdsm_cloud.storage import Location
from sgdsm_cloud.validate.cases import draw_gaps, simulated_cases
from sgdsm_cloud.validate.evaluate import evaluate
from sgdsm_cloud.validate.methods import model_method
from sgdsm_cloud.validate.report import Section, Table

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
SMALL_TRAINING = {
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
        SweepPoint(factor, v, dataclasses.replace(base, **{factor: v}))
        for factor, vs in values.items()
        for v in vs
    ]


def training_config(kind: str, base: TrainConfig | None) -> TrainConfig:
    """The checkpoint's own training settings for the paper sweep, a short run for the small one."""
    base = base or TrainConfig()
    return dataclasses.replace(base, **SMALL_TRAINING) if kind == "small" else base


def run_sweep(
    ctx, plan: list[SweepPoint] | None = None, train_cfg: TrainConfig | None = None
) -> Section:
    """Train every configuration of the sweep and score it on the simulated gaps.

    ``plan`` and ``train_cfg`` default to those of the sweep kind the run asks for.
    """
    from sgdsm_cloud.model.checkpoint import load_checkpoint
    from sgdsm_cloud.model.train import train
    from sgdsm_cloud.validate.product import ModelFiller

    kind = ctx.config.sweep
    plan = plan or sweep_plan(kind)
    train_cfg = train_cfg or training_config(kind, ctx.checkpoint.train_config)
    section = Section(
        f"Sensitivity sweep ({kind})",
        [
            (
                f"One factor at a time around {plan[0].config.to_dict()}; each configuration trained with "
                f"{train_cfg.epochs} epoch(s) at most and scored by SGD-SM on the simulated gaps of the main table."
            )
        ],
    )
    sm = ctx.raw[cube.SM]
    gaps = draw_gaps(sm, ctx.fill_land, ctx.days, ctx.config.gaps, ctx.period)
    halo = max([ctx.config.context] + [p.config.receptive_radius for p in plan])
    cases = simulated_cases(
        sm, ctx.land, ctx.dates, gaps, halo, plan[0].config.half_window, ctx.periodic
    )
    if not cases:
        section.paragraphs.append(
            "No simulated gap to score (see the simulated missing regions section)."
        )
        return section
    scores: dict[str, tuple[float, float, float]] = {}
    for point in plan:
        if point.name in scores:
            continue
        out = ctx.config.report.resolve() / "sweep_models" / point.name
        train(
            ctx.config.store,
            Location(str(out)),
            point.config,
            train_cfg,
            device=ctx.filler.predict.device,
        )
        filler = ModelFiller.from_checkpoint(
            load_checkpoint(str(out), ctx.filler.predict.device),
            ctx.filler.predict.device,
            ctx.config.batch_size,
            valid_range=ctx.filler.valid_range,
        )
        row = evaluate(
            cases, {"SGD-SM": model_method(filler)}, desc=f"sweep {point.name}"
        ).table.iloc[0]
        scores[point.name] = (row["R"], row["RMSE"], row["MAE"])
    rows = []
    for point in plan:
        r, rmse, mae = scores[point.name]
        paper = PAPER_SCORES.get((point.factor, point.value)) if kind == "paper" else None
        rows.append(
            (point.factor, point.value, point.name, r, rmse, mae, *(paper or (float("nan"),) * 3))
        )
    columns = [
        "factor",
        "value",
        "configuration",
        "R",
        "RMSE",
        "MAE",
        "paper R",
        "paper RMSE",
        "paper MAE",
    ]
    section.tables.append(
        Table(
            f"sweep_{kind}",
            "Sensitivity to kernel size, depth and width (cf. paper Tables S1-S3)",
            pd.DataFrame(rows, columns=columns),
        )
    )
    return section
