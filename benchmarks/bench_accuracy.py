"""Accuracy of SGD-SM against the baselines on simulated gaps (a benchmark, not a test).

The model is the ``anomaly`` preset by default (``--preset small --features 24`` reproduces the
earlier rows of docs/model.md). The baselines are temporal linear interpolation, the +-4-day
window mean and the window mean plus the smoothed same-day anomaly (no learning).

Real data (part ``real``): the 15 real LPRM AMSR2 days in tests/data/lprm (X band) are ingested
with ``sgdsm ingest``; ``sgdsm train`` trains self-supervised on days 1-10 only (days after the
period count as unobserved); then 27 x 27-cell squares of observed land are hidden on days
11-15 and every method is scored on the removed cells (R, RMSE, MAE in m3/m3). Days outside the
record count as unobserved for every method.

Synthetic data (part ``synthetic``): a synthetic archive (``sgdsm_cloud.synth``, 60 days from
2019-04-01 over the US Great Plains, where 40 x 40 patches are all land) is written as a raw
cube; the model trains on days 1-50 and is scored on days 52-60, on simulated squares and
against the complete truth inside the archive's real gaps.

The other overpass (part ``passes``): the same synthetic archive in both passes (descending,
the one filled, and ascending); ``anomaly`` on the descending pass alone against
``anomaly-2pass``, which reads the ascending pass as a second input (``--other-pass``), trained
and scored alike, with RMSE by distance to the day's nearest observation. The real LPRM files
shared with the project are descending only, so this part runs on the synthetic archive alone.

Shipped model (part ``builtin``): ``builtin:lprm-x-d-025`` without further training, on the
real days 11-15 and on the synthetic archive (outside its domain).

Every method sees the same windows (``sgdsm_cloud.validate``) and is scored on the cells that
every method fills; ``coverage`` is the share of the removed cells each method fills.
Run directly (prints Markdown tables; stores, models and results.json go to ``--out``,
default benchmarks/results/accuracy/)::

    python benchmarks/bench_accuracy.py [--part real|synthetic|both|builtin] [--epochs 60] ...

or through ``python benchmarks/run.py accuracy [--quick]`` (``run(quick)``; the quick mode
trains for a few epochs on the synthetic archive only: a smoke run, not an accuracy claim).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from sgdsm_cloud import cube, schema
from sgdsm_cloud.cli import main as sgdsm
from sgdsm_cloud.grid import is_global_lon
from sgdsm_cloud.metrics import score
from sgdsm_cloud.model.builtin import DEFAULT, resolve_model
from sgdsm_cloud.model.checkpoint import load_checkpoint
from sgdsm_cloud.product import fill_land_mask
from sgdsm_cloud.validate import baselines, gapfilled
from sgdsm_cloud.validate.cases import draw_gaps, simulated_cases, truth_cases
from sgdsm_cloud.validate.evaluate import Evaluation, evaluate
from sgdsm_cloud.validate.masks import GapConfig
from sgdsm_cloud.validate.methods import (
    LINEAR,
    SGDSM,
    WINDOW_ANOMALY,
    WINDOW_MEAN,
    model_method,
)
from sgdsm_cloud.validate.product import ModelFiller

REPO = Path(__file__).resolve().parents[1]
REAL_LPRM = REPO / "tests" / "data" / "lprm"


@dataclass(frozen=True)
class Settings:
    """How the benchmark trains (CPU) and how many squares it hides."""

    preset: str = "anomaly"
    features: int = 0  # 0: the preset's own width
    epochs: int = 28  # with no validation days, the fixed length of training
    samples_per_epoch: int = 512
    batch_size: int = 16
    lr: float = 1e-3
    loss_norm: str = "l1"
    patience: int = 6
    lr_drops: int = 2
    # Train on every day of the period (no held-out days) with 24 cells of context around each
    # patch: the recipe bench_recipe.py chose. The first shipped model's recipe was
    # epochs=60, validation_fraction=0.2, context=0 (early stop on validation days 9-10).
    validation_fraction: float = 0.0
    context: int = 24
    shared_gap: float = 0.5  # two-pass training only (part passes); 0: the first two-pass run
    squares_per_day: int = 20
    synth_bbox: str = "-110,30,-80,50"
    synth_days: int = 60
    synth_train_days: int = 50
    seed: int = 0


QUICK = Settings(
    epochs=3, samples_per_epoch=64, squares_per_day=4, synth_days=20, synth_train_days=14
)


def train_args(store: Path, model: Path, start: str, end: str, s: Settings) -> list[str]:
    """The ``sgdsm train`` arguments of a benchmark run."""
    width = f"--features {s.features} " if s.features else ""
    options = (
        f"--preset {s.preset} {width}--start {start} --end {end} "
        f"--epochs {s.epochs} --samples-per-epoch {s.samples_per_epoch} "
        f"--batch-size {s.batch_size} --lr {s.lr} --loss-norm {s.loss_norm} "
        f"--patience {s.patience} --lr-drops {s.lr_drops} "
        f"--validation-fraction {s.validation_fraction} --context {s.context} "
        f"--shared-gap {s.shared_gap} "
        f"--device cpu --seed {s.seed}"
    )
    return ["-q", "train", "--store", str(store), "--out", str(model), *options.split()]


def run_sgdsm(argv: list[str]) -> float:
    """Run one ``sgdsm`` command; returns its wall time in seconds."""
    started = time.perf_counter()
    if sgdsm(argv) != 0:
        raise SystemExit(f"sgdsm {argv[1]} failed")
    return round(time.perf_counter() - started, 1)


def trained(model: Path, argv: list[str]) -> float | None:
    """Run ``sgdsm train`` unless ``model`` already holds a checkpoint (then None: the scores
    are of the model an earlier run of the same command left)."""
    if (model / "config.json").exists():
        print(
            f"{model}: a checkpoint is there; scoring it instead of training (delete it to train)"
        )
        return None
    return run_sgdsm(argv)


def methods(model_dir: Path, valid_range: tuple[float, float], sm: Any = None) -> dict:
    """SGD-SM and the baselines; with the raw cube's ``sm``, also the peer (DCT-PLS in the
    configuration of ESA CCI SM GAPFILLED) when pytesmo is installed."""
    filler = ModelFiller.from_checkpoint(
        load_checkpoint(model_dir), device="cpu", batch_size=8, valid_range=valid_range
    )
    chosen = {
        SGDSM: model_method(filler),
        LINEAR: lambda case: baselines.linear_interpolation(case.values, case.centre),
        WINDOW_MEAN: lambda case: baselines.window_mean(case.values, case.centre),
        WINDOW_ANOMALY: lambda case: baselines.window_anomaly(case.values, case.centre),
    }
    if sm is not None:
        peer = gapfilled.gapfilled_method(sm)
        if isinstance(peer, str):
            print(f"{gapfilled.NAME} not scored: {peer}")
        else:
            chosen[gapfilled.NAME] = peer
    return chosen


def square_cases(
    store: Path,
    model_dir: Path | None,
    days: list[int],
    s: Settings,
    min_halo: int = 11,
    half_window: int | None = None,
    other_store: Path | None = None,
) -> list:
    """Cases of 27 x 27 squares of observed land hidden on ``days`` (crops wide enough for
    every method's reach, and at least ``min_halo`` cells around each square); windows of the
    model's days, or of ``half_window`` days on each side when given."""
    raw = cube.open_cube(str(store))
    land = raw[cube.LAND].values.astype(bool)
    fillable = fill_land_mask(land, raw["lat"].values, raw["lon"].values)
    config = GapConfig(mode="squares", size=27, per_day=s.squares_per_day, margin=11, seed=s.seed)
    gaps = draw_gaps(raw[cube.SM], fillable, days, config, np.arange(raw.sizes["time"]))
    model = load_checkpoint(model_dir).config if model_dir is not None else None
    reach = model.receptive_radius if model else 0
    halo = max(min_halo, reach, baselines.anomaly_reach())
    window = half_window if half_window is not None else model.half_window if model else 4
    periodic = is_global_lon(raw["lon"].values)
    dates = raw.indexes["time"]
    other = _other_sm(raw, store, other_store)
    return simulated_cases(raw[cube.SM], land, dates, gaps, halo, window, periodic, None, other)


def _other_sm(raw: Any, store: Path, other_store: Path | None) -> Any:
    """The other overpass's ``sm`` (checked against the raw cube), or None."""
    if other_store is None:
        return None
    return cube.open_other_pass(str(other_store), None, raw, str(store))[cube.SM]


def square_scores(
    store: Path, model_dir: Path, days: list[int], s: Settings, peer: bool = True
) -> list[dict]:
    """Every method on 27 x 27 squares of observed land hidden on ``days`` (with ``peer``, also
    DCT-PLS in GAPFILLED's configuration when pytesmo is installed)."""
    cases = square_cases(store, model_dir, days, s)
    raw = cube.open_cube(str(store))
    chosen = methods(model_dir, schema.physical_range(raw.attrs), raw[cube.SM] if peer else None)
    return common_support_scores(evaluate(cases, chosen, desc="squares"))


def truth_cases_of(
    store: Path, truth_store: Path, model_dir: Path, days: list[int], other_store: Path | None
) -> list:
    """Whole-grid cases of ``days``, scored on their real gaps against the synthetic truth."""
    import xarray as xr

    raw = cube.open_cube(str(store))
    truth = xr.open_zarr(str(truth_store))["truth"]
    land = raw[cube.LAND].values.astype(bool)
    fillable = fill_land_mask(land, raw["lat"].values, raw["lon"].values)
    model = load_checkpoint(model_dir).config
    dates = raw.indexes["time"]
    halo = max(model.receptive_radius, baselines.anomaly_reach())
    periodic = is_global_lon(raw["lon"].values)
    other = _other_sm(raw, store, other_store)
    return truth_cases(
        raw[cube.SM], truth, land, fillable, dates, days, model.half_window, halo, periodic, other
    )


def truth_scores(store: Path, truth_store: Path, model_dir: Path, days: list[int]) -> list[dict]:
    """Every method against the synthetic truth inside the real gaps of ``days``."""
    cases = truth_cases_of(store, truth_store, model_dir, days, None)
    valid_range = schema.physical_range(cube.open_cube(str(store)).attrs)
    return common_support_scores(evaluate(cases, methods(model_dir, valid_range), desc="truth"))


def common_support_scores(evaluation: Evaluation) -> list[dict]:
    """Each method's scores on the cells every method filled (coverage: its own share)."""
    refs = next(iter(evaluation.pairs.values()))[1]
    common = np.isfinite(refs) & np.all(
        [np.isfinite(p) for p, _ in evaluation.pairs.values()], axis=0
    )
    rows = []
    for method, (pred, ref) in evaluation.pairs.items():
        s = score(pred[common], ref[common])
        coverage = float(np.isfinite(pred[np.isfinite(ref)]).mean())
        rows.append(
            {
                "method": method,
                "R": s.r,
                "RMSE": s.rmse,
                "MAE": s.mae,
                "N": s.n,
                "coverage": coverage,
            }
        )
    return rows


def real_part(work: Path, s: Settings) -> dict[str, Any]:
    store, model = work / "lprm_x.zarr", work / "model_lprm"
    ingest = f"-q ingest --store {store} --variable x --workers 1 {REAL_LPRM}".split()
    train = train_args(store, model, "2015-04-01", "2015-04-10", s)
    if not store.exists():
        run_sgdsm(ingest)
    seconds = trained(model, train)
    return {
        "commands": [" ".join(["sgdsm", *ingest]), " ".join(["sgdsm", *train])],
        "train_seconds": seconds,
        "provenance": load_checkpoint(model).provenance,
        "squares": square_scores(store, model, list(range(10, 15)), s),  # 2015-04-11 .. 15
    }


def write_synthetic(
    work: Path, s: Settings, pass_: str = "D"
) -> tuple[Any, pd.DatetimeIndex, Path, Path]:
    """The benchmark's synthetic archive (one pass) as a raw cube and a truth store in ``work``
    (the truth is the same for both passes)."""
    from sgdsm_cloud.grid import BBox
    from sgdsm_cloud.synth import SynthConfig, synthesize

    bbox = BBox.parse(s.synth_bbox)
    dates = pd.date_range("2019-04-01", periods=s.synth_days, freq="D")
    synth = SynthConfig(start=dates[0], end=dates[-1], bbox=bbox, seed=s.seed, pass_=pass_)
    ds = synthesize(synth)
    suffix = "" if pass_ == "D" else f"_{pass_}"
    store, truth_store = work / f"synth{suffix}.zarr", work / "synth_truth.zarr"
    raw = ds.drop_vars("truth")
    raw.to_zarr(str(store), mode="w", encoding=cube.encoding_for(raw, cube.CubeChunks()))
    ds[["truth"]].to_zarr(str(truth_store), mode="w")
    return synth, dates, store, truth_store


def synthetic_part(work: Path, s: Settings) -> dict[str, Any]:
    synth, dates, store, truth_store = write_synthetic(work, s)
    model = work / "model_synth"
    last_train = dates[s.synth_train_days - 1]
    train = train_args(store, model, f"{dates[0]:%Y-%m-%d}", f"{last_train:%Y-%m-%d}", s)
    seconds = trained(model, train)
    days = list(range(s.synth_train_days + 1, s.synth_days))  # a day apart from the training
    return {
        "synth": repr(synth),
        "commands": [" ".join(["sgdsm", *train])],
        "train_seconds": seconds,
        "provenance": load_checkpoint(model).provenance,
        "squares": square_scores(store, model, days, s),
        "truth_in_real_gaps": truth_scores(store, truth_store, model, days),
    }


TWO_PASS = "SGD-SM, both passes"


def passes_part(work: Path, s: Settings) -> dict[str, Any]:
    """``anomaly`` on the descending pass against ``anomaly-2pass`` with the ascending pass
    too, on the synthetic archive: squares, truth in real gaps, and RMSE by distance."""
    from sgdsm_cloud.validate.breakdown import distance_table

    _, dates, store, truth_store = write_synthetic(work, s)
    _, _, other, _ = write_synthetic(work, s, "A")
    one, two = work / "model_synth", work / "model_synth_2pass"
    first, last = f"{dates[0]:%Y-%m-%d}", f"{dates[s.synth_train_days - 1]:%Y-%m-%d}"
    train_one = train_args(store, one, first, last, s)
    two_pass = dataclasses.replace(s, preset="anomaly-2pass")
    train_two = [*train_args(store, two, first, last, two_pass), "--other-pass", str(other)]
    seconds = {"anomaly": trained(one, train_one), "anomaly-2pass": trained(two, train_two)}
    days = list(range(s.synth_train_days + 1, s.synth_days))
    raw = cube.open_cube(str(store))
    valid_range = schema.physical_range(raw.attrs)
    both = {
        **methods(one, valid_range),
        TWO_PASS: model_method(
            ModelFiller.from_checkpoint(load_checkpoint(two), valid_range=valid_range)
        ),
    }
    squares = evaluate(square_cases(store, two, days, s, other_store=other), both, desc="squares")
    truth_cases_ = truth_cases_of(store, truth_store, two, days, other)
    truth = evaluate(truth_cases_, both, desc="truth")
    lat = raw["lat"].values
    by_distance = {
        name: distance_table(truth_cases_, lat, truth.pairs, name, LINEAR).to_dict("records")
        for name in (SGDSM, TWO_PASS)
    }
    return {
        "commands": [" ".join(["sgdsm", *train_one]), " ".join(["sgdsm", *train_two])],
        "train_seconds": seconds,
        "squares": common_support_scores(squares),
        "truth_in_real_gaps": common_support_scores(truth),
        "truth_by_distance": by_distance,
        "truth_by_other_pass": by_other_pass(truth_cases_, truth.pairs),
        "sigma": two_pass_sigma(work, s, store, two, other),
    }


def by_other_pass(cases: list, pairs: dict) -> list[dict]:
    """RMSE of every method on the scored cells the other pass observed that day, and on the
    others (``pairs`` are ``evaluate``'s on ``cases``)."""
    seen = np.concatenate([np.isfinite(c.other[c.centre])[c.removed] for c in cases])
    rows = []
    for label, cells in (("other pass observed", seen), ("other pass not observed", ~seen)):
        row: dict[str, Any] = {"cells": label}
        for name, (pred, ref) in pairs.items():
            ok = cells & np.isfinite(pred) & np.isfinite(ref)
            row["N" if name == SGDSM else f"N {name}"] = int(ok.sum())
            row[name] = float(np.sqrt(np.mean((pred[ok] - ref[ok]) ** 2)))
        rows.append(row)
    return rows


def two_pass_sigma(work: Path, s: Settings, store: Path, model: Path, other: Path) -> dict:
    """The two-pass model's error model, fitted on the five days after training (a copy of the
    model) and scored on squares of the days after those."""
    import shutil

    from sgdsm_cloud.storage import Location
    from sgdsm_cloud.validate.calibration import calibrate_checkpoint, collect, score_sigma

    calibrated = work / "model_synth_2pass_sigma"
    if not calibrated.exists():
        shutil.copytree(model, calibrated)
        days = list(range(s.synth_train_days, s.synth_train_days + 5))
        calibrate_checkpoint(
            Location(str(store)), Location(str(calibrated)), days, other_pass=Location(str(other))
        )
    scored = list(range(s.synth_train_days + 5, s.synth_days))
    cases = square_cases(store, calibrated, scored, s, other_store=other)
    filler = ModelFiller.from_checkpoint(load_checkpoint(calibrated))
    scores = score_sigma(collect(cases, filler, desc="sigma"))
    return {
        "calibrated on": f"days {s.synth_train_days + 1}-{s.synth_train_days + 5}, squares",
        "scored on": f"days {scored[0] + 1}-{scored[-1] + 1}, squares",
        "N": scores.n,
        "+-1 sigma": scores.coverage[0],
        "+-2 sigma": scores.coverage[1],
        "r(decile sigma, decile RMSE)": scores.spread_skill_r,
    }


BUILTIN = DEFAULT


def builtin_part(work: Path, s: Settings, name: str = BUILTIN) -> dict[str, Any]:
    """A shipped model, untrained further: on the real days 11-15 (out of sample for a model
    trained on days 1-10, in sample for one trained on all 15) and on the synthetic archive,
    which lies outside its domain (another region, year and band)."""
    store = work / "lprm_x.zarr"
    if not store.exists():
        run_sgdsm(f"-q ingest --store {store} --variable x --workers 1 {REAL_LPRM}".split())
    _, _, synth_store, truth_store = write_synthetic(work, s)
    model = Path(resolve_model(name))
    days = list(range(s.synth_train_days + 1, s.synth_days))
    return {
        "model": name,
        "provenance": load_checkpoint(model).provenance,
        "squares": square_scores(store, model, list(range(10, 15)), s),
        "synthetic_squares": square_scores(synth_store, model, days, s),
        "synthetic_truth_in_real_gaps": truth_scores(synth_store, truth_store, model, days),
    }


TABLES = {
    ("real", "squares"): "Real LPRM X band, days 11-15, 27 x 27 squares",
    ("synthetic", "squares"): "Synthetic archive, days after training, 27 x 27 squares",
    (
        "synthetic",
        "truth_in_real_gaps",
    ): "Synthetic archive, days after training, truth in real gaps",
    ("builtin", "squares"): "Shipped model on real LPRM X band, days 11-15, 27 x 27 squares",
    (
        "builtin",
        "synthetic_squares",
    ): "Shipped model on the synthetic archive (out of domain), squares",
    (
        "builtin",
        "synthetic_truth_in_real_gaps",
    ): "Shipped model on the synthetic archive (out of domain), truth in real gaps",
    ("passes", "squares"): "Both passes: synthetic archive, days after training, squares",
    ("passes", "truth_in_real_gaps"): "Both passes: synthetic archive, truth in real gaps",
}


def run(quick: bool) -> list[dict]:
    """Rows for ``benchmarks/run.py``: each method's R, RMSE and MAE per table."""
    from benchmarks.common import result

    settings = QUICK if quick else Settings()
    parts = ("synthetic",) if quick else ("real", "synthetic")
    with tempfile.TemporaryDirectory() as work:
        results = run_parts(Path(work), parts, settings)
    rows = []
    for (part, table), title in TABLES.items():
        for row in results.get(part, {}).get(table, []):
            note = f"{title}; N={row['N']}, coverage {row['coverage']:.3f}"
            for metric, unit in (("R", "1"), ("RMSE", "m3 m-3"), ("MAE", "m3 m-3")):
                rows.append(
                    result(
                        f"{part} {table}: {row['method']} {metric}", row[metric], unit, note=note
                    )
                )
    return rows


def run_parts(
    work: Path, parts: tuple[str, ...], settings: Settings, builtin: str = BUILTIN
) -> dict[str, Any]:
    results: dict[str, Any] = {
        "settings": dataclasses.asdict(settings),
        "peer": gapfilled.GapfilledConfig().describe(),
    }
    if "real" in parts:
        results["real"] = real_part(work, settings)
    if "synthetic" in parts:
        results["synthetic"] = synthetic_part(work, settings)
    if "builtin" in parts:
        results["builtin"] = builtin_part(work, settings, builtin)
    if "passes" in parts:
        results["passes"] = passes_part(work, settings)
    return results


def markdown(title: str, rows: list[dict]) -> str:
    lines = [
        f"{title}",
        "",
        "| method | R | RMSE | MAE | N | coverage |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['method']} | {r['R']:.3f} | {r['RMSE']:.4f} | {r['MAE']:.4f} | {r['N']} "
            f"| {r['coverage']:.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--part",
        choices=["real", "synthetic", "both", "builtin", "passes"],
        default="both",
        help="builtin scores the model shipped in the package (no training)",
    )
    parser.add_argument(
        "--out", type=Path, default=REPO / "benchmarks" / "results" / "accuracy", help="work folder"
    )
    parser.add_argument("--threads", type=int, default=2, help="torch threads for the scoring")
    parser.add_argument(
        "--builtin", default=BUILTIN, help="the shipped model the builtin part scores"
    )
    for field in dataclasses.fields(Settings):
        flag = "--" + field.name.replace("_", "-")
        parser.add_argument(flag, type=type(field.default), default=field.default)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    settings = Settings(**{f.name: getattr(args, f.name) for f in dataclasses.fields(Settings)})
    args.out.mkdir(parents=True, exist_ok=True)
    parts = ("real", "synthetic") if args.part == "both" else (args.part,)
    results = run_parts(args.out, parts, settings, args.builtin)
    for (part, table), title in TABLES.items():
        if part in results:
            print("\n" + markdown(title, results[part][table]))
    passes = results.get("passes", {})
    for name, rows in passes.get("truth_by_distance", {}).items():
        print(f"\nRMSE by cells from the nearest observation, {name}:")
        print(pd.DataFrame(rows).round(4).to_string(index=False))
    if passes:
        print("\nRMSE against the truth, by whether the other pass observed the cell:")
        print(pd.DataFrame(passes["truth_by_other_pass"]).round(4).to_string(index=False))
        print("\nThe two-pass model's sigma:", json.dumps(passes["sigma"]))
    (args.out / "results.json").write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
