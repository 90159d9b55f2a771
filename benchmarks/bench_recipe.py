"""How the training recipe for deep gaps was chosen: candidates and probes on the real days.

Real LPRM X-band days (tests/data/lprm): every candidate is the ``anomaly`` preset trained by
``sgdsm train`` on 2015-04-01 .. 10 with the first shipped model's options plus its own, and
scored on the 27 x 27 squares hidden on 2015-04-11 .. 15, overall and by cells from the day's
nearest observation (the bins of ``validate.breakdown``). Parts:

* ``train``: the candidates of ``RECIPES`` (a model folder already in ``--work`` is scored,
  not retrained);
* ``probes``: fillers without learning that ask where the missing information is: a longer
  past, a larger spatial reach, other temporal bases for the same-day anomaly;
* ``variogram``: how far the day's anomaly is correlated in space;
* ``flips``: test-time averaging of the chosen recipe's model over mirror images of its input;
* ``ensemble``: the mean of two models trained alike from two seeds;
* ``sigma``: the chosen recipe's error model, fitted on days 5-10 and scored on the test days;
* ``bfloat16``: the chosen model with its CNN in bfloat16 on the CPU against float32.

Prints one JSON line per row and writes ``recipe.json`` to ``--work``::

    python benchmarks/bench_recipe.py --work WORK [--part train probes flips]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy import ndimage

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.bench_accuracy import (
    REAL_LPRM,
    Settings,
    run_sgdsm,
    square_cases,
    square_scores,
    train_args,
)
from benchmarks.error_analysis import breakdown
from sgdsm_cloud import cube, schema
from sgdsm_cloud.model import anomaly
from sgdsm_cloud.model.builtin import resolve_model
from sgdsm_cloud.model.checkpoint import load_checkpoint
from sgdsm_cloud.storage import Location
from sgdsm_cloud.validate import baselines
from sgdsm_cloud.validate.breakdown import DISTANCE_BINS, cell_properties, scores_by
from sgdsm_cloud.validate.calibration import calibrate_checkpoint, collect, score_sigma
from sgdsm_cloud.validate.evaluate import Case, evaluate
from sgdsm_cloud.validate.methods import model_method
from sgdsm_cloud.validate.product import ModelFiller

TEST_DAYS = list(range(10, 15))  # 2015-04-11 .. 15
# The options every candidate starts from: the first shipped model's recipe (early stop on the
# validation days 2015-04-09 .. 10); each candidate's own options follow and override them.
BASE = Settings(epochs=60, validation_fraction=0.2, context=0)
ALL_DAYS = ["--validation-fraction", "0", "--epochs", "28"]  # no held-out days: train on 1-10
# The first shipped model was trained by BASE alone: its row scores builtin:lprm-x-d-025.
FIRST = "builtin:lprm-x-d-025"
RECIPES: dict[str, list[str]] = {
    "l2 loss": ["--loss-norm", "l2"],
    "all days": ALL_DAYS,
    "all days, window 21": [*ALL_DAYS, "--window", "21"],
    "all days, context 24": [*ALL_DAYS, "--context", "24"],
    "all days, context 24, seed 1": [*ALL_DAYS, "--context", "24", "--seed", "1"],
}
ENSEMBLE = ("all days, context 24", "all days, context 24, seed 1")
PARTS = ["train", "probes", "variogram", "flips", "ensemble", "sigma", "bfloat16"]


def folder(name: str) -> str:
    return "recipe-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def ingest(work: Path) -> Path:
    store = work / "lprm_x.zarr"
    if not store.exists():
        run_sgdsm(f"-q ingest --store {store} --variable x --workers 1 {REAL_LPRM}".split())
    return store


def model_row(work: Path, store: Path, model: Path) -> dict[str, Any]:
    """R, RMSE, MAE of the model on the squares, its ratios to the baselines, and by distance."""
    rows = {r["method"]: r for r in square_scores(store, model, TEST_DAYS, Settings(), peer=False)}
    sgdsm, linear = rows["SGD-SM"], rows["linear interpolation"]
    table = breakdown(work, model, peer=False)
    distance = table[table["split"] == "edge_distance"].pivot_table(
        index="bin", columns="method", values="RMSE", observed=True
    )
    ratio = distance["SGD-SM"] / distance["linear interpolation"]
    return {
        "R": sgdsm["R"],
        "RMSE": sgdsm["RMSE"],
        "MAE": sgdsm["MAE"],
        "RMSE / linear": sgdsm["RMSE"] / linear["RMSE"],
        "RMSE / window mean + anomaly": sgdsm["RMSE"]
        / rows["window mean + same-day anomaly"]["RMSE"],
        "RMSE / linear by distance": {str(k): float(v) for k, v in ratio.items()},
    }


def train_part(work: Path, names: list[str]) -> list[dict[str, Any]]:
    store = ingest(work)
    first = {
        "recipe": f"first shipped recipe ({FIRST})",
        "command": "sgdsm "
        + " ".join(train_args(store, work / "model", "2015-04-01", "2015-04-10", BASE)),
    } | model_row(work, store, Path(resolve_model(FIRST)))
    print(json.dumps(first), flush=True)
    out = [first]
    for name in names:
        model = work / folder(name)
        argv = train_args(store, model, "2015-04-01", "2015-04-10", BASE) + RECIPES[name]
        seconds = None if (model / "config.json").exists() else run_sgdsm(argv)
        row = {"recipe": name, "command": "sgdsm " + " ".join(argv), "train_seconds": seconds}
        row |= model_row(work, store, model)
        print(json.dumps(row), flush=True)
        out.append(row)
    return out


@contextmanager
def mirrored(images: int) -> Iterator[None]:
    """The anomaly variant's CNN averaged over ``images`` mirror images of its input."""
    original = anomaly.AnomalyCore.correction
    axes: list[tuple[int, ...]] = [(), (-1,), (-2,), (-2, -1)][:images]

    def averaged(self: anomaly.AnomalyCore, x: torch.Tensor) -> torch.Tensor:
        total = original(self, x)
        for dims in axes[1:]:
            total = total + original(self, x.flip(dims)).flip(dims)
        return total / images

    anomaly.AnomalyCore.correction = averaged  # type: ignore[method-assign]
    try:
        yield
    finally:
        anomaly.AnomalyCore.correction = original  # type: ignore[method-assign]


def flips_part(work: Path, name: str) -> list[dict[str, Any]]:
    store, model = ingest(work), work / folder(name)
    out = []
    for images in (1, 2, 4):
        with mirrored(images):
            row = {"recipe": name, "mirror images": images} | model_row(work, store, model)
        print(json.dumps(row), flush=True)
        out.append(row)
    return out


def ensemble_part(work: Path, names: tuple[str, ...] = ENSEMBLE) -> dict[str, Any]:
    """The mean of the models of ``names`` (trained alike, seeds apart) against each alone."""
    store = ingest(work)
    raw = cube.open_cube(str(store))
    cases = square_cases(store, work / folder(names[0]), TEST_DAYS, Settings(), min_halo=32)
    valid_range = schema.physical_range(raw.attrs)
    members = {
        name: model_method(
            ModelFiller.from_checkpoint(
                load_checkpoint(work / folder(name)), batch_size=8, valid_range=valid_range
            )
        )
        for name in names
    }
    fills: dict[str, np.ndarray] = {}

    def member(name: str) -> Callable[[Case], np.ndarray]:
        def fill(case: Case) -> np.ndarray:
            fills[name] = members[name](case)
            return fills[name]

        return fill

    methods: dict[str, Callable[[Case], np.ndarray]] = {
        "linear": lambda c: baselines.linear_interpolation(c.values, c.centre),
        **{name: member(name) for name in names},
        # evaluate calls the methods in order on each case: the members have just filled it
        "ensemble": lambda c: np.mean([fills[name] for name in names], axis=0),
    }
    evaluation = evaluate(cases, methods, desc="ensemble")
    properties = pd.concat([cell_properties(c, raw["lat"].values) for c in cases])
    table = scores_by(
        properties.reset_index(drop=True), evaluation.pairs, "edge_distance", DISTANCE_BINS
    )
    wide = table.pivot_table(index="edge_distance", columns="method", values="RMSE", observed=True)
    overall = evaluation.table.set_index("method")
    row = {
        name: {
            "RMSE": float(overall.loc[name, "RMSE"]),
            "R": float(overall.loc[name, "R"]),
            "RMSE / linear": float(overall.loc[name, "RMSE"] / overall.loc["linear", "RMSE"]),
            "RMSE / linear by distance": {
                str(k): float(v) for k, v in (wide[name] / wide["linear"]).items()
            },
        }
        for name in [*names, "ensemble"]
    }
    print(json.dumps(row), flush=True)
    return row


def _gaussian(field: np.ndarray, sigma: float) -> np.ndarray:
    return ndimage.gaussian_filter(field, sigma, mode="constant", cval=0.0, truncate=3.0)


def _with_anomaly(base: np.ndarray, today: np.ndarray, sigma: float) -> np.ndarray:
    """``base`` plus the day's anomaly against it, averaged over its observed cells (sigma)."""
    usable = np.isfinite(today) & np.isfinite(base)
    anomaly_ = np.where(usable, today - base, 0.0)
    weight = _gaussian(usable.astype("float64"), sigma)
    with np.errstate(invalid="ignore", divide="ignore"):
        correction = np.where(weight > 1e-6, _gaussian(anomaly_, sigma) / weight, 0.0)
    return baselines.keep_observed(base + correction, today)


def _mean_of_others(values: np.ndarray, centre: int) -> np.ndarray:
    others = np.delete(values, centre, axis=0)
    count = np.isfinite(others).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, np.nansum(others, axis=0) / count, np.nan)


def probe(base: str, sigma: float, past: int = 4) -> Callable[[Case], np.ndarray]:
    """The day's anomaly against ``base`` (window ``mean`` or ``linear`` interpolation) over
    ``past`` days before and 4 after the day."""

    def fill(case: Case) -> np.ndarray:
        values = case.values[case.centre - past : case.centre + 5]
        centre = past
        if base == "mean":
            prior = _mean_of_others(values, centre)
        else:
            hidden = values.copy()
            hidden[centre] = np.nan
            prior = baselines.linear_interpolation(hidden, centre).astype("float64")
        return _with_anomaly(prior, values[centre], sigma)

    return fill


PROBES = {
    "window mean + anomaly, sigma 4 (the baseline)": probe("mean", 4),
    "window mean + anomaly, sigma 8": probe("mean", 8),
    "window mean + anomaly, sigma 16 (reach 48 cells)": probe("mean", 16),
    "10 past days: mean + anomaly, sigma 4": probe("mean", 4, past=10),
    "10 past days: mean + anomaly, sigma 8": probe("mean", 8, past=10),
    "linear interpolation + anomaly, sigma 4": probe("linear", 4),
    "linear interpolation + anomaly, sigma 8": probe("linear", 8),
}


def probes_part(work: Path) -> list[dict[str, Any]]:
    """Each probe's RMSE over linear interpolation's by distance, on the same squares."""
    store = ingest(work)
    raw = cube.open_cube(str(store))
    cases = square_cases(store, None, TEST_DAYS, Settings(), min_halo=48, half_window=10)
    methods = {
        "linear": lambda c: baselines.linear_interpolation(
            c.values[c.centre - 4 : c.centre + 5], 4
        ),
        **PROBES,
    }
    evaluation = evaluate(cases, methods, desc="probes")
    properties = pd.concat([cell_properties(c, raw["lat"].values) for c in cases])
    table = scores_by(
        properties.reset_index(drop=True), evaluation.pairs, "edge_distance", DISTANCE_BINS
    )
    wide = table.pivot_table(index="edge_distance", columns="method", values="RMSE", observed=True)
    overall = evaluation.table.set_index("method")["RMSE"]
    out = []
    for name in PROBES:
        ratio = wide[name] / wide["linear"]
        row = {
            "probe": name,
            "RMSE": float(overall[name]),
            "RMSE / linear": float(overall[name] / overall["linear"]),
            "RMSE / linear by distance": {str(k): float(v) for k, v in ratio.items()},
        }
        print(json.dumps(row), flush=True)
        out.append(row)
    return out


def sigma_part(work: Path, name: str) -> dict[str, Any]:
    """The error model fitted on days 5-10 (training days of an all-days recipe: what a model
    trained on every day can be calibrated on) and scored on the squares of the test days."""
    store, model = ingest(work), work / folder(name)
    calibrate_checkpoint(Location(str(store)), Location(str(model)), list(range(4, 10)))
    raw = cube.open_cube(str(store))
    filler = ModelFiller.from_checkpoint(
        load_checkpoint(model), batch_size=8, valid_range=schema.physical_range(raw.attrs)
    )
    scores = score_sigma(collect(square_cases(store, model, TEST_DAYS, Settings()), filler))
    row = {
        "recipe": name,
        "calibrated on": "2015-04-05 .. 10, squares hidden against the observations",
        "N": scores.n,
        "+-1 sigma": scores.coverage[0],
        "+-2 sigma": scores.coverage[1],
        "r(decile sigma, decile RMSE)": scores.spread_skill_r,
    }
    print(json.dumps(row), flush=True)
    return row


def variogram_part(work: Path, lags: tuple[int, ...] = (1, 2, 5, 10, 15, 20, 30)) -> dict:
    """How far the day's anomaly (observation minus the mean of the other window days) carries:
    its correlation at ``lags`` cells along rows and columns, 1 - semivariance / variance, on
    the test days. What a deep cell can learn from the day's observations around it."""
    sm = cube.open_cube(str(ingest(work)))[cube.SM].values.astype("float64")
    anomalies = []
    for day in TEST_DAYS:
        others = np.delete(sm[day - 4 : day + 5], 4, axis=0)
        count = np.isfinite(others).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(count >= 3, np.nansum(others, axis=0) / count, np.nan)
        anomalies.append(sm[day] - mean)
    variance = float(np.nanvar(np.stack(anomalies)))
    correlation = {}
    for lag in lags:
        diffs = [d for a in anomalies for d in (a[:, lag:] - a[:, :-lag], a[lag:] - a[:-lag])]
        pooled = np.concatenate([d[np.isfinite(d)] for d in diffs])
        correlation[lag] = 1.0 - 0.5 * float(np.mean(pooled**2)) / variance
    row = {"anomaly variance": variance, "correlation by lag (cells)": correlation}
    print(json.dumps(row), flush=True)
    return row


def bfloat16_part(work: Path, name: str) -> dict[str, Any]:
    """The chosen model with its CNN in bfloat16 on the CPU (``sgdsm fill --bfloat16``) against
    float32, on the same squares: scores and the largest difference of a filled value."""
    from sgdsm_cloud.metrics import score
    from sgdsm_cloud.model.runner import Predictor

    store, model = ingest(work), work / folder(name)
    checkpoint = load_checkpoint(model)
    valid_range = schema.physical_range(cube.open_cube(str(store)).attrs)
    config = checkpoint.config
    fillers = {
        precision: ModelFiller(
            Predictor.from_checkpoint(checkpoint, "cpu", 8, bfloat16=precision == "bfloat16"),
            config.half_window,
            config.receptive_radius,
            valid_range,
        )
        for precision in ("float32", "bfloat16")
    }
    cases = square_cases(store, model, TEST_DAYS, Settings())
    evaluation = evaluate(cases, {k: model_method(f) for k, f in fillers.items()}, desc="bf16")
    (f32, ref), (bf16, _) = evaluation.pairs["float32"], evaluation.pairs["bfloat16"]
    row: dict[str, Any] = {"recipe": name, "largest difference": float(np.nanmax(abs(bf16 - f32)))}
    for precision, pred in (("float32", f32), ("bfloat16", bf16)):
        s = score(pred, ref)
        row[precision] = {"R": s.r, "RMSE": s.rmse, "MAE": s.mae, "N": s.n}
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work", type=Path, required=True, help="store, models and recipe.json")
    parser.add_argument(
        "--part",
        nargs="+",
        default=PARTS,
        choices=PARTS,
    )
    parser.add_argument("--recipes", nargs="+", default=list(RECIPES), choices=list(RECIPES))
    parser.add_argument(
        "--chosen",
        default="all days, context 24",
        choices=list(RECIPES),
        help="the recipe whose model the flips and sigma parts use",
    )
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    args.work.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    if "train" in args.part:
        results["train"] = train_part(args.work, args.recipes)
    if "probes" in args.part:
        results["probes"] = probes_part(args.work)
    if "variogram" in args.part:
        results["variogram"] = variogram_part(args.work)
    if "flips" in args.part:
        results["flips"] = flips_part(args.work, args.chosen)
    if "ensemble" in args.part:
        results["ensemble"] = ensemble_part(args.work)
    if "sigma" in args.part:
        results["sigma"] = sigma_part(args.work, args.chosen)
    if "bfloat16" in args.part:
        results["bfloat16"] = bfloat16_part(args.work, args.chosen)
    (args.work / "recipe.json").write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
