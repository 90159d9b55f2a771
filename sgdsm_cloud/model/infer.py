"""Run a trained network on whole days of an array (no zarr, no dask: the array core).

``predict_days`` returns the raw network output for each requested centre day;
``sgdsm_cloud.product.compose`` turns it into the product.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import torch

from sgdsm_cloud.model.network import SGDSMNet


def window_arrays(
    sm: np.ndarray, land: np.ndarray, centre_days: Sequence[int], half_window: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(data, mask)`` of shape ``(n, passes, 2 * half_window + 1, H, W)`` float32.

    ``sm`` is ``(T, H, W)`` (one pass) or ``(passes, T, H, W)`` (the pass to fill, then the
    other overpass of the same days). ``mask`` is 1 where ``sm`` is finite on land; ``data``
    is ``sm`` there and 0 elsewhere. Days outside ``[0, T)`` are unobserved.
    """
    by_pass = sm[None] if sm.ndim == 3 else sm
    ntime = by_pass.shape[1]
    window = 2 * half_window + 1
    shape = (len(centre_days), by_pass.shape[0], window) + by_pass.shape[2:]
    data = np.zeros(shape, dtype="float32")
    mask = np.zeros_like(data)
    for i, centre in enumerate(centre_days):
        first, last = max(centre - half_window, 0), min(centre + half_window + 1, ntime)
        days = by_pass[:, first:last]
        valid = np.isfinite(days) & land
        offset = first - (centre - half_window)
        mask[i, :, offset : offset + last - first] = valid
        data[i, :, offset : offset + last - first] = np.where(valid, days, 0.0)
    return data, mask


def predict_days(
    model: SGDSMNet, sm: np.ndarray, land: np.ndarray, centre_days: Sequence[int], **options: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Raw network output for each centre day: ``(pred (n, H, W) float32, reached (n, H, W) bool)``.

    ``sm`` is ``(T, H, W)`` (or ``(passes, T, H, W)``, :func:`window_arrays`) float32 with NaN
    gaps, ``land`` ``(H, W)`` bool (only land cells
    are input), ``centre_days`` indices into ``T``; ``options`` are :func:`run_days`'s
    (``batch_size``, ``device``, ``amp``). Spatial borders are zero-padded (unobserved):
    callers that cut blocks add a halo of ``config.receptive_radius`` cells.
    """
    result = run_days(model, sm, land, centre_days, extra=None, **options)
    return result.pred, result.reached


class Prediction(NamedTuple):
    """What :func:`run_days` returns for ``n`` centre days of ``(H, W)`` cells.

    Attributes:
        pred: ``(n, H, W)`` float32 raw output; reached: ``(n, H, W)`` bool.
        sigma: ``(n, H, W)`` float32 standard error (NaN where not reached), or None when the
            model has no error model (or it was not asked for).
        features: ``(n, F, H, W)`` float32 error features, when asked for.
    """

    pred: np.ndarray
    reached: np.ndarray
    sigma: np.ndarray | None = None
    features: np.ndarray | None = None


def run_days(
    model: SGDSMNet,
    sm: np.ndarray,
    land: np.ndarray,
    centre_days: Sequence[int],
    *,
    batch_size: int = 4,
    device: str | torch.device = "cpu",
    amp: bool = False,
    extra: str | None = "sigma",
    batches: Sequence[Sequence[int]] | None = None,
) -> Prediction:
    """The network's output for each centre day, and by ``extra`` more: ``"sigma"`` the
    standard error where the model has an error model, ``"features"`` the error model's inputs,
    None nothing more.

    ``model`` is moved to ``device`` and put in eval mode; ``batch_size`` days go through each
    forward pass; ``amp`` is bfloat16 autocast (on the CPU too: the ``anomaly`` variant keeps
    its priors and error features in float32 and runs its CNN in bf16). ``batches`` (the
    centre days split into forward passes, in order) replaces that split: a day's output can
    differ in its last bits with the other days of its pass, so a fill that must give a day
    the same bits whichever run computes it passes the same batches each time.
    """
    if batches is None:
        step = max(batch_size, 1)
        batches = [centre_days[i : i + step] for i in range(0, len(centre_days), step)]
    passes = [[int(d) for d in batch] for batch in batches if len(batch)]
    centre_days = [d for batch in passes for d in batch]
    ntime, cells = sm.shape[-3], sm.shape[-2:]
    bad = [d for d in centre_days if not 0 <= d < ntime]
    if bad:
        raise ValueError(f"centre days {bad[:5]} are outside the array's {ntime} days")
    device = torch.device(device)
    model = model.to(device).eval()
    land = np.asarray(land, dtype=bool)
    pred = np.empty((len(centre_days),) + cells, dtype="float32")
    reached = np.empty(pred.shape, dtype=bool)
    want_sigma = extra == "sigma" and model.uncertainty is not None
    sigma = np.empty(pred.shape, dtype="float32") if want_sigma else None
    features: np.ndarray | None = None
    with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
        start = 0
        for batch in passes:
            data, mask = window_arrays(sm, land, batch, model.config.half_window)
            inputs = torch.from_numpy(data).to(device), torch.from_numpy(mask).to(device)
            part = slice(start, start + len(batch))
            start += len(batch)
            if extra == "features":
                out, out_mask, table = model.error_features(*inputs)
                if features is None:
                    features = np.empty((len(centre_days),) + tuple(table.shape[1:]), "float32")
                features[part] = table.float().cpu().numpy()
            elif want_sigma:
                out, out_mask, day_sigma = model.predict(*inputs)
                assert sigma is not None and day_sigma is not None
                on = out_mask[:, 0] > 0.5
                sigma[part] = torch.where(on, day_sigma[:, 0].float(), torch.nan).cpu().numpy()
            else:
                out, out_mask = model(*inputs)
            pred[part] = out[:, 0].float().cpu().numpy()
            reached[part] = out_mask[:, 0].cpu().numpy() > 0.5
    return Prediction(pred, reached, sigma, features)
