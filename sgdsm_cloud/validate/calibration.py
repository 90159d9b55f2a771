"""The standard errors of filled values against their errors on simulated gaps.

Two uses of the same cases (:mod:`~sgdsm_cloud.validate.cases`):

* :func:`collect` runs the model on each case and keeps, for every scored cell it fills, the
  error (fill minus reference), the predicted sigma (when the model has an error model) and the
  error features, so that :func:`calibrate` can fit an error model on held-back days;
* :func:`score_sigma` scores sigma on other days: interval coverage, the reliability curve,
  RMSE per decile of sigma (``model.sigma_scores.calibration_scores``).

Nothing here draws; :mod:`~sgdsm_cloud.validate.render` does.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sgdsm_cloud import cube, schema
from sgdsm_cloud.grid import is_global_lon
from sgdsm_cloud.model.sigma_scores import CalibrationScores, calibration_scores
from sgdsm_cloud.model.uncertainty import (
    FEATURES,
    ErrorModel,
    fit_error_model,
)
from sgdsm_cloud.product import fill_land_mask
from sgdsm_cloud.progress import progress
from sgdsm_cloud.storage import Location, redact
from sgdsm_cloud.validate.baselines import anomaly_reach
from sgdsm_cloud.validate.cases import draw_gaps, simulated_cases, truth_cases, truth_field
from sgdsm_cloud.validate.evaluate import Case
from sgdsm_cloud.validate.masks import GapConfig
from sgdsm_cloud.validate.product import ModelFiller


@dataclass(frozen=True)
class ErrorSamples:
    """The scored cells of some cases that the model fills.

    Attributes:
        errors: fill (clamped as in the product) minus reference, m3 m-3.
        sigma: the model's standard error (NaN everywhere without an error model).
        features: ``(n, len(FEATURES))`` error features.
        reference: the reference values.
    """

    errors: np.ndarray
    sigma: np.ndarray
    features: np.ndarray
    reference: np.ndarray

    def __len__(self) -> int:
        return int(self.errors.size)


def scored_prediction(case: Case, filler: ModelFiller) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(pred, scored, features)`` of ``case``'s centre day: the clamped fill ``(H, W)``, the
    hidden cells the model reaches and the reference scores ``(H, W)``, and the error model's
    feature maps ``(F, H, W)``."""
    result = filler.predict.run(
        filler.model_input(case.values, case.other),
        np.asarray(case.land, dtype=bool),
        np.array([case.centre]),
        extra="features",
    )
    assert result.features is not None  # extra="features" always returns them
    pred = schema.clamp(result.pred[0], filler.valid_range)
    scored = case.removed & result.reached[0] & case.land & np.isfinite(case.reference)
    return pred, scored, result.features[0]


def collect(cases: list[Case], filler: ModelFiller, desc: str = "uncertainty") -> ErrorSamples:
    """Errors, sigma and features on the scored cells of ``cases`` that the model fills."""
    errors, sigmas, features, refs = [], [], [], []
    for case in progress(cases, desc=desc, unit="case"):
        pred, scored, feature_maps = scored_prediction(case, filler)
        table = feature_maps[:, scored].T
        errors.append(pred[scored] - case.reference[scored])
        refs.append(case.reference[scored])
        features.append(table)
        model = filler.predict.model.uncertainty
        sigmas.append(
            model.sigma_numpy(table) if model is not None else np.full(table.shape[0], np.nan)
        )
    if not errors:
        empty = np.zeros(0)
        return ErrorSamples(empty, empty, np.zeros((0, len(FEATURES))), empty)
    return ErrorSamples(
        np.concatenate(errors),
        np.concatenate(sigmas),
        np.concatenate(features),
        np.concatenate(refs),
    )


def calibrate(
    samples: ErrorSamples, description: dict[str, Any] | None = None, **options: Any
) -> ErrorModel:
    """An error model fitted on ``samples`` (held-back simulated gaps)."""
    return fit_error_model(samples.features, samples.errors, calibration=description, **options)


def score_sigma(samples: ErrorSamples, sigma: np.ndarray | None = None) -> CalibrationScores:
    """Calibration scores of ``sigma`` (default: the samples' own) for the samples' errors."""
    return calibration_scores(samples.errors, samples.sigma if sigma is None else sigma)


CALIBRATION_GAPS = GapConfig(mode="squares", size=27, per_day=20, margin=11, seed=1)
MIN_CELLS, MIN_SQUARE = 5000, 7  # below MIN_CELLS held-back cells, smaller squares are tried


def held_back_cases(
    store: Location,
    model_config: Any,
    days: list[int],
    *,
    truth: Location | None = None,
    gaps: GapConfig = CALIBRATION_GAPS,
    other_pass: Location | None = None,
) -> list[Case]:
    """Cases on held-back ``days`` (indices into the raw cube), seen as in training: days after
    the last of them count as unobserved.

    Without ``truth``: simulated blocks (``gaps``) of observed land, scored against the hidden
    observations. With ``truth`` (a synthetic archive's truth store): the real gaps of those
    days, scored against the truth. ``other_pass``: the other overpass's raw cube, for
    two-pass models.
    """
    raw = cube.open_cube(store.url, store.storage_options)
    sm = raw[cube.SM].isel(time=slice(0, max(days) + 1))
    other = None
    if other_pass is not None:
        other_raw = cube.open_other_pass(other_pass.url, other_pass.storage_options, raw, store.url)
        other = other_raw[cube.SM].isel(time=slice(0, max(days) + 1))
    land = raw[cube.LAND].values.astype(bool)
    lat, lon = raw["lat"].values, raw["lon"].values
    fillable = fill_land_mask(land, lat, lon)
    halo = max(model_config.receptive_radius, anomaly_reach())
    periodic = is_global_lon(lon)
    dates = pd.DatetimeIndex(raw["time"].values)
    if truth is not None:
        field = truth_field(truth, lat, lon)
        return truth_cases(
            sm, field, land, fillable, dates, days, model_config.half_window, halo, periodic, other
        )
    drawn = draw_gaps(sm, fillable, days, gaps, np.arange(sm.sizes["time"]))
    return simulated_cases(
        sm, land, dates, drawn, halo, model_config.half_window, periodic, fillable, other
    )


def calibrate_checkpoint(
    store: Location,
    model: Location,
    days: list[int],
    *,
    truth: Location | None = None,
    gaps: GapConfig = CALIBRATION_GAPS,
    write: bool = True,
    batch_size: int = 8,
    other_pass: Location | None = None,
) -> ErrorModel:
    """Fit the error model of an ``anomaly`` checkpoint on held-back ``days`` of ``store`` and,
    with ``write``, store it in the checkpoint's config.json (the weights stay as they are).

    Squares of ``gaps.size`` that leave fewer than ``MIN_CELLS`` cells (small grids, days with
    few fully observed blocks) are halved, down to ``MIN_SQUARE`` cells; the size used is
    recorded. Raises ValueError when even then too few cells remain to fit the model.
    """
    from sgdsm_cloud.model.checkpoint import load_checkpoint, save_uncertainty

    checkpoint = load_checkpoint(model.url, storage_options=model.storage_options)
    raw = cube.open_cube(store.url, store.storage_options)
    filler = ModelFiller.from_checkpoint(
        checkpoint, batch_size=batch_size, valid_range=schema.physical_range(raw.attrs)
    )
    while True:  # squares as large as the held-back days hold enough of
        cases = held_back_cases(
            store, checkpoint.config, days, truth=truth, gaps=gaps, other_pass=other_pass
        )
        samples = collect(cases, filler, desc="calibration")
        if truth is not None or len(samples) >= MIN_CELLS or gaps.size <= MIN_SQUARE:
            break
        gaps = dataclasses.replace(gaps, size=max(MIN_SQUARE, gaps.size // 2))
    dates = pd.DatetimeIndex(raw["time"].values)
    description = {
        "store": redact(store.url),
        "days": [f"{dates[d]:%Y-%m-%d}" for d in days],
        "reference": "truth in the real gaps" if truth is not None else "hidden observations",
        "gaps": None if truth is not None else dataclasses.asdict(gaps),
        "model_sha256": checkpoint.sha256,
    }
    error_model = calibrate(samples, description)
    if write:
        save_uncertainty(model, error_model)
    return error_model


MAX_CALIBRATION_DAYS = 32  # 20 squares a day: 640 cases, enough cells for the fit


def held_back_days(
    time: np.ndarray, provenance: dict[str, Any], at_most: int | None = MAX_CALIBRATION_DAYS
) -> list[int]:
    """Indices into ``time`` of the training period's days after its last training centre day
    (the buffer and the validation days: no training sample is centred on them), at most
    ``at_most`` of them evenly spaced (a multi-year record holds back hundreds, and each costs
    reads of its window); empty when training held nothing back."""
    try:
        last_train = pd.Timestamp(provenance["train_centre_days"][1])
        period_end = pd.Timestamp(provenance["train_period"][1])
    except (KeyError, TypeError, IndexError):
        return []
    dates = pd.DatetimeIndex(time)
    days = np.flatnonzero((dates > last_train) & (dates <= period_end))
    if at_most is not None and days.size > at_most:
        days = days[np.unique(np.linspace(0, days.size - 1, at_most).round().astype(int))]
    return [int(i) for i in days]
