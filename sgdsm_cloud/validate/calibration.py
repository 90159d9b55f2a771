"""The standard errors of filled values against their errors on simulated gaps.

Two uses of the same cases (:mod:`~sgdsm_cloud.validate.cases`):

* :func:`collect` runs the model on each case and keeps, for every scored cell it fills, the
  error (fill minus reference), the predicted sigma (when the model has an error model) and the
  error features, so that :func:`calibrate` can fit an error model on held-back days;
* :func:`score_sigma` scores sigma on other days: interval coverage, the reliability curve,
  RMSE per decile of sigma (``model.uncertainty.calibration_scores``).

Nothing here draws; :mod:`~sgdsm_cloud.validate.render` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sgdsm_cloud.model.uncertainty import (
    FEATURES,
    CalibrationScores,
    ErrorModel,
    calibration_scores,
    fit_error_model,
)
from sgdsm_cloud.progress import progress
from sgdsm_cloud.validate.evaluate import Case
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


def collect(cases: list[Case], filler: ModelFiller, desc: str = "uncertainty") -> ErrorSamples:
    """Errors, sigma and features on the scored cells of ``cases`` that the model fills."""
    errors, sigmas, features, refs = [], [], [], []
    for case in progress(cases, desc=desc, unit="case"):
        result = filler.predict.run(
            np.asarray(case.values, dtype="float32"),
            np.asarray(case.land, dtype=bool),
            np.array([case.centre]),
            extra="features",
        )
        assert result.features is not None
        pred = np.clip(result.pred[0], *filler.valid_range)
        scored = case.removed & result.reached[0] & case.land & np.isfinite(case.reference)
        table = result.features[0][:, scored].T
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
