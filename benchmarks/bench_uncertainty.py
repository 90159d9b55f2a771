"""Calibration of the standard error of filled values (a benchmark, not a test).

Two sets, each with its own ``anomaly`` model from ``bench_accuracy.py`` (reused when present):

* real: the LPRM X-band days of tests/data/lprm, model trained on days 1-10. The error model is
  fitted on 27 x 27 squares hidden on the held-back days 5-10 (not centre days of training;
  days after day 10 unobserved, as in training), against the hidden observations; it is scored
  on the accuracy benchmark's squares of days 11-15.
* synthetic: the synthetic archive, model trained on days 1-50. Fitted against the truth inside
  the real gaps of the held-back days 41-50 (days after 50 unobserved); scored against the
  truth inside the real gaps of days 52-60 (and, as a side row, on squares against the hidden
  observations, which carry the archive's retrieval error).

Options measured on the same cells:

* ``error model``: the shipped :class:`~sgdsm_cloud.model.uncertainty.ErrorModel` (log sigma
  quadratic in 13 features of the network, Gaussian likelihood, then one coverage factor);
* ``error model, log-linear``: the same without the squares;
* ``NLL head``: a second output, a small CNN (3 x 3 x 16, 3 x 3 x 16, 1 x 1) on the same feature
  maps predicting log sigma, trained with the Gaussian negative log-likelihood on the same
  held-back cases with the mean network frozen, then the same coverage factor;
* ``constant``: one sigma for every cell (the calibration's coverage factor only).

The mean prediction is the same for every option (the error model and the head read the frozen
network), so the RMSE of the filled values does not move; the table shows it.

    python benchmarks/bench_uncertainty.py [--real-work DIR] [--synthetic-work DIR] [--out DIR]
        [--write-builtin]

``--write-builtin`` stores the real set's error model in the shipped checkpoint when its weights
are the shipped ones (same SHA-256). Through ``python benchmarks/run.py uncertainty [--quick]``
the sets are built in a temporary folder (``--quick``: the synthetic set with a few epochs).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks import bench_accuracy  # noqa: E402
from sgdsm_cloud import (
    cube,  # noqa: E402
    schema,
)
from sgdsm_cloud.model.sigma_scores import CalibrationScores, calibration_scores, coverage_scale  # noqa: E402
from sgdsm_cloud.model.uncertainty import (  # noqa: E402
    FEATURES,
    ErrorModel,
    fit_error_model,
)
from sgdsm_cloud.storage import Location  # noqa: E402
from sgdsm_cloud.validate.calibration import held_back_cases, scored_prediction  # noqa: E402
from sgdsm_cloud.validate.evaluate import Case  # noqa: E402
from sgdsm_cloud.validate.product import ModelFiller  # noqa: E402

TARGETS = {"coverage_1sigma": (0.6827, 0.05), "coverage_2sigma": (0.9545, 0.05)}
SPREAD_SKILL_TARGET = 0.9


@dataclass(frozen=True)
class SetSpec:
    """One scoring set: where its store and model are, which days calibrate and which score."""

    name: str
    store: Path
    model: Path
    calibration_days: list[int]
    test_days: list[int]
    truth: Path | None = None


def real_spec(work: Path) -> SetSpec:
    return SetSpec("real", work / "lprm_x.zarr", work / "model_lprm", list(range(4, 10)),
                   list(range(10, 15)))  # fmt: skip


def synthetic_spec(work: Path, s: bench_accuracy.Settings) -> SetSpec:
    train = s.synth_train_days
    held_back = list(range(max(0, train - max(1, train // 5)), train))  # the validation days
    return SetSpec("synthetic", work / "synth.zarr", work / "model_synth", held_back,
                   list(range(train + 1, s.synth_days)), work / "synth_truth.zarr")  # fmt: skip


@dataclass
class Maps:
    """Per case: feature maps, errors where scored (NaN elsewhere)."""

    features: list[np.ndarray]  # (F, h, w)
    errors: list[np.ndarray]  # (h, w)

    def table(self) -> tuple[np.ndarray, np.ndarray]:
        feats = [f[:, np.isfinite(e)].T for f, e in zip(self.features, self.errors, strict=True)]
        errs = [e[np.isfinite(e)] for e in self.errors]
        return np.concatenate(feats), np.concatenate(errs)


def case_maps(cases: list[Case], filler: ModelFiller) -> Maps:
    """Feature maps of each case and the error of the filled value on its scored cells."""
    features, errors = [], []
    for case in cases:
        pred, scored, feature_maps = scored_prediction(case, filler)
        features.append(feature_maps)
        errors.append(np.where(scored, pred - case.reference, np.nan).astype("float32"))
    return Maps(features, errors)


def train_nll_head(cal: Maps, epochs: int = 30, seed: int = 0) -> Any:
    """Option (b): a small CNN on the feature maps predicting log sigma, Gaussian NLL."""
    import torch
    from torch import nn

    torch.manual_seed(seed)
    table, _ = cal.table()
    mean = torch.tensor(table.mean(axis=0), dtype=torch.float32).view(1, -1, 1, 1)
    std = torch.tensor(table.std(axis=0) + 1e-6, dtype=torch.float32).view(1, -1, 1, 1)
    k = len(FEATURES)
    head = nn.Sequential(
        nn.Conv2d(k, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(),
        nn.Conv2d(16, 1, 1),
    )  # fmt: skip
    rms = float(np.sqrt(np.mean(cal.table()[1] ** 2)))
    with torch.no_grad():
        head[-1].bias.fill_(float(np.log(rms)))
    optimizer = torch.optim.Adam(head.parameters(), lr=3e-3)
    inputs = [(torch.from_numpy(f)[None] - mean) / std for f in cal.features]
    targets = [torch.from_numpy(e)[None, None] for e in cal.errors]
    order = np.random.default_rng(seed)
    for _ in range(epochs):
        for i in order.permutation(len(inputs)):
            scored = torch.isfinite(targets[i])
            if not scored.any():
                continue
            log_sigma = head(inputs[i])[scored]
            err = targets[i][scored]
            loss = (log_sigma + 0.5 * err**2 * torch.exp(-2 * log_sigma)).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    def sigma(maps: Maps) -> np.ndarray:
        out = []
        with torch.no_grad():
            for f, e in zip(maps.features, maps.errors, strict=True):
                s = torch.exp(head((torch.from_numpy(f)[None] - mean) / std))[0, 0].numpy()
                out.append(s[np.isfinite(e)])
        return np.concatenate(out)

    return sigma, sum(p.numel() for p in head.parameters())


def option_rows(
    cal: Maps, test: Maps, description: dict[str, Any]
) -> tuple[list[dict[str, Any]], ErrorModel]:
    """Fit every option on ``cal`` and score it on ``test``."""
    cal_x, cal_e = cal.table()
    test_x, test_e = test.table()
    rows = []
    started = time.perf_counter()
    model = fit_error_model(cal_x, cal_e, calibration=description)
    fit_seconds = time.perf_counter() - started
    linear = fit_error_model(cal_x, cal_e, quadratic=False)
    constant = float(np.sqrt(np.mean(cal_e**2))) * coverage_scale(
        cal_e / np.sqrt(np.mean(cal_e**2))
    )
    started = time.perf_counter()
    head, weights = train_nll_head(cal)
    head_cal = head(cal)
    head_scale = coverage_scale(cal_e / head_cal)
    head_seconds = time.perf_counter() - started
    options = {
        "error model": (model.sigma_numpy(test_x), f"fit {fit_seconds:.1f} s; {_numbers(model)} numbers in JSON"),
        "error model, log-linear": (linear.sigma_numpy(test_x), f"{_numbers(linear, linear_only=True)} numbers"),
        "NLL head": (head_scale * head(test), f"trained {head_seconds:.0f} s; {weights:,} weights"),
        "constant": (np.full(test_e.size, constant), "1 number"),
    }  # fmt: skip
    for name, (sigma, note) in options.items():
        scores = calibration_scores(test_e, sigma)
        rows.append(_row(name, scores, note))
    return rows, model


def _numbers(model: ErrorModel, linear_only: bool = False) -> int:
    k = len(model.features)
    return 3 + k * (3 if linear_only else 4)


def _row(name: str, scores: CalibrationScores, note: str) -> dict[str, Any]:
    return {
        "option": name,
        "N": scores.n,
        "RMSE": scores.rmse,
        "coverage_1sigma": scores.coverage[0],
        "coverage_2sigma": scores.coverage[1],
        "spread_skill_r": scores.spread_skill_r,
        "nll": scores.nll,
        "rms_sigma": scores.mean_sigma,
        "deciles": scores.deciles,
        "reliability": scores.reliability,
        "note": note,
    }


def met(row: dict[str, Any]) -> bool:
    ok = all(abs(row[k] - nominal) <= tol for k, (nominal, tol) in TARGETS.items())
    return ok and row["spread_skill_r"] > SPREAD_SKILL_TARGET


def score_set(spec: SetSpec) -> tuple[dict[str, Any], ErrorModel]:
    """Every option on one set; also the RMSE with and without sigma (same predictions)."""
    from sgdsm_cloud.model.checkpoint import load_checkpoint

    checkpoint = load_checkpoint(spec.model)
    checkpoint.model.set_uncertainty(None)  # fitted here; the mean network is untouched
    raw = cube.open_cube(str(spec.store))
    filler = ModelFiller.from_checkpoint(checkpoint, valid_range=schema.physical_range(raw.attrs))
    store = Location(str(spec.store))
    truth = Location(str(spec.truth)) if spec.truth else None
    cal_cases = held_back_cases(store, checkpoint.config, spec.calibration_days, truth=truth)
    cal = case_maps(cal_cases, filler)
    tests = {}
    if truth is not None:
        tests["truth in real gaps"] = _test_cases(spec, checkpoint.config, truth)
    tests["squares"] = _test_cases(spec, checkpoint.config, None)
    result: dict[str, Any] = {
        "model_sha256": checkpoint.sha256,
        "calibration_days": _dates(raw, spec.calibration_days),
        "test_days": _dates(raw, spec.test_days),
        "calibration_reference": "truth" if truth else "hidden observations",
        "calibration_cells": int(cal.table()[1].size),
        "tables": {},
    }
    description = {
        "store": spec.store.name,
        "days": result["calibration_days"],
        "reference": result["calibration_reference"],
        "gaps": None if truth else "27 x 27 squares of observed land, 20 per day, seed 1",
        "model_sha256": checkpoint.sha256,
        "command": "python benchmarks/bench_uncertainty.py",
    }
    model = None
    for label, cases in tests.items():
        rows, fitted = option_rows(cal, case_maps(cases, filler), description)
        model = model or fitted
        result["tables"][label] = rows
    assert model is not None
    result["rmse_without_sigma"] = _rmse_plain(checkpoint, filler, tests)
    return result, model


def _test_cases(spec: SetSpec, config: Any, truth: Location | None) -> list[Case]:
    """The scoring cases: the accuracy benchmark's squares (all days observed as in the
    benchmark), or the truth inside the real gaps."""
    from sgdsm_cloud.validate.cases import truth_cases, truth_field

    if truth is None:
        s = bench_accuracy.Settings()
        return bench_accuracy.square_cases(spec.store, spec.model, spec.test_days, s)
    raw = cube.open_cube(str(spec.store))
    land = raw[cube.LAND].values.astype(bool)
    from sgdsm_cloud.grid import is_global_lon
    from sgdsm_cloud.product import fill_land_mask
    from sgdsm_cloud.validate import baselines

    lat, lon = raw["lat"].values, raw["lon"].values
    halo = max(config.receptive_radius, baselines.anomaly_reach())
    import pandas as pd

    return truth_cases(
        raw[cube.SM], truth_field(truth, lat, lon), land, fill_land_mask(land, lat, lon),
        pd.DatetimeIndex(raw["time"].values), spec.test_days, config.half_window, halo,
        is_global_lon(lon),
    )  # fmt: skip


def _rmse_plain(checkpoint: Any, filler: ModelFiller, tests: dict[str, list[Case]]) -> dict:
    """RMSE of the product's fill (``fill_window``, no sigma) on the same scored cells."""
    out = {}
    for label, cases in tests.items():
        errs = []
        for case in cases:
            filled = filler.fill_window(case.values, case.land, case.centre)
            scored = case.removed & np.isfinite(filled) & np.isfinite(case.reference)
            errs.append(filled[scored] - case.reference[scored])
        e = np.concatenate(errs)
        out[label] = {"RMSE": float(np.sqrt(np.mean(e**2))), "N": int(e.size)}
    return out


def _dates(raw: Any, days: list[int]) -> str:
    times = raw.indexes["time"]
    return f"{times[days[0]]:%Y-%m-%d} .. {times[days[-1]]:%Y-%m-%d}"


def markdown(name: str, result: dict[str, Any]) -> str:
    lines = []
    for label, rows in result["tables"].items():
        plain = result["rmse_without_sigma"][label]
        lines += [
            f"\n{name}, {label} ({result['test_days']}); calibrated on {result['calibration_days']} "
            f"against the {result['calibration_reference']} ({result['calibration_cells']} cells); "
            f"RMSE without sigma {plain['RMSE']:.4f} (N {plain['N']})",
            "",
            "| option | +-1 sigma | +-2 sigma | r(decile sigma, decile RMSE) | NLL | RMS sigma "
            "| RMSE | N | targets | note |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            lines.append(
                f"| {r['option']} | {r['coverage_1sigma']:.3f} | {r['coverage_2sigma']:.3f} "
                f"| {r['spread_skill_r']:.3f} | {r['nll']:.3f} | {r['rms_sigma']:.4f} "
                f"| {r['RMSE']:.4f} | {r['N']} | {'met' if met(r) else 'not met'} | {r['note']} |"
            )
        first = rows[0]
        lines += ["", "deciles of sigma (error model): sigma / RMSE / +-1 sigma coverage", ""]
        lines.append(
            " | ".join(
                f"{d['sigma']:.4f} / {d['rmse']:.4f} / {d['coverage_1sigma']:.2f}"
                for d in first["deciles"]
            )
        )
    return "\n".join(lines)


def write_builtin(model: ErrorModel, sha256: str) -> bool:
    """Store ``model`` in the shipped checkpoint when ``sha256`` is its weights' digest."""
    from sgdsm_cloud.model.builtin import resolve_model
    from sgdsm_cloud.model.checkpoint import load_checkpoint, save_uncertainty

    path = resolve_model(bench_accuracy.BUILTIN)
    if load_checkpoint(path).sha256 != sha256:
        return False
    save_uncertainty(path, model)
    return True


def ensure_sets(real_work: Path | None, synth_work: Path | None, s: bench_accuracy.Settings,
                parts: tuple[str, ...]) -> list[SetSpec]:  # fmt: skip
    """The sets' stores and models, built with ``bench_accuracy`` where missing."""
    specs = []
    if "real" in parts and real_work is not None:
        spec = real_spec(real_work)
        if not (spec.model / "config.json").exists():
            bench_accuracy.real_part(real_work, s)
        specs.append(spec)
    if "synthetic" in parts and synth_work is not None:
        spec = synthetic_spec(synth_work, s)
        if not (spec.model / "config.json").exists():
            bench_accuracy.synthetic_part(synth_work, s)
        specs.append(spec)
    return specs


def run(quick: bool) -> list[dict]:
    """Rows for ``benchmarks/run.py``: coverage and spread-skill of each option per set."""
    from benchmarks.common import result

    settings = bench_accuracy.QUICK if quick else bench_accuracy.Settings()
    parts = ("synthetic",) if quick else ("real", "synthetic")
    rows = []
    with tempfile.TemporaryDirectory() as work:
        specs = ensure_sets(Path(work), Path(work), settings, parts)
        for spec in specs:
            scored, _ = score_set(spec)
            for label, table in scored["tables"].items():
                for r in table:
                    name = f"{spec.name} {label}: {r['option']}"
                    note = f"N={r['N']}; targets {'met' if met(r) else 'not met'}"
                    rows += [
                        result(f"{name} +-1 sigma coverage", r["coverage_1sigma"], "share", note=note),
                        result(f"{name} +-2 sigma coverage", r["coverage_2sigma"], "share", note=note),
                        result(f"{name} spread-skill r", r["spread_skill_r"], "r", note=note),
                    ]  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    default = REPO / "benchmarks" / "results" / "accuracy"
    parser.add_argument(
        "--real-work", type=Path, default=default, help="bench_accuracy work folder of the real set"
    )
    parser.add_argument(
        "--synthetic-work", type=Path, default=default, help="... of the synthetic set"
    )
    parser.add_argument("--part", choices=["real", "synthetic", "both"], default="both")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "uncertainty")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--write-builtin",
        action="store_true",
        help="store the real set's error model in builtin:lprm-x-d-025 (same weights only)",
    )
    args = parser.parse_args()  # fmt: skip
    import torch

    torch.set_num_threads(args.threads)
    parts = ("real", "synthetic") if args.part == "both" else (args.part,)
    specs = ensure_sets(args.real_work, args.synthetic_work, bench_accuracy.Settings(), parts)
    args.out.mkdir(parents=True, exist_ok=True)
    results = {}
    for spec in specs:
        scored, model = score_set(spec)
        scored["error_model"] = model.to_dict()
        results[spec.name] = scored
        print(markdown(spec.name, scored))
        if spec.name == "real" and args.write_builtin:
            done = write_builtin(model, scored["model_sha256"])
            print(f"\nbuiltin checkpoint {'updated' if done else 'NOT updated (other weights)'}")
    (args.out / "results.json").write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
