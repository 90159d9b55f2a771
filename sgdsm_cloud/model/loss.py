"""The SGD-SM training loss (paper Eq. 6): a global term over land plus a simulated-gap term.

With ``f`` the raw network output, ``y`` the label (the real centre day), ``L`` the cells where
the label is known (land, observed on the centre day, reached by the network) and ``G`` those
of ``L`` hidden by the simulated gap::

    global = sum(L * |f - y|^p) / sum(L)        local = sum(G * |f - y|^p) / sum(G)
    loss   = local + lambda * global            (loss_weighted_term="global", the default)
    loss   = global + lambda * local            (loss_weighted_term="local")

``p`` is 2 (``l2``, default) or 1 (``l1``). Sums run over the whole batch, so a patch without
simulated gap cells simply adds nothing to the local term; an empty batch term counts as 0.
"""

from __future__ import annotations

from torch import Tensor


def masked_mean_error(out: Tensor, target: Tensor, weight: Tensor, norm: str) -> Tensor:
    """Mean of ``|out - target|^p`` over the cells where ``weight`` is 1 (0 when there are none)."""
    diff = (out.float() - target.float()) * weight
    error = diff.square() if norm == "l2" else diff.abs()
    return error.sum() / weight.sum().clamp(min=1.0)


def sgdsm_loss(
    out: Tensor,
    target: Tensor,
    known: Tensor,
    gap: Tensor,
    *,
    lam: float = 0.1,
    weighted_term: str = "global",
    norm: str = "l2",
) -> Tensor:
    """The combined loss; ``known`` and ``gap`` are 0/1 tensors shaped like ``out``.

    The options are checked by :class:`~sgdsm_cloud.model.config.TrainConfig`.
    """
    global_term = masked_mean_error(out, target, known, norm)
    local_term = masked_mean_error(out, target, gap, norm)
    if weighted_term == "global":
        return local_term + lam * global_term
    return global_term + lam * local_term
