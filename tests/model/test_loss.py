"""The SGD-SM loss: term weighting, norms, masks and gap-free patches."""

from __future__ import annotations

import pytest
import torch

from sgdsm_cloud.model.loss import masked_mean_error, sgdsm_loss


def example():
    out = torch.tensor([[[[0.1, 0.2], [0.3, 0.9]]]])
    target = torch.tensor([[[[0.2, 0.2], [0.1, 0.0]]]])
    known = torch.tensor([[[[1.0, 1.0], [1.0, 0.0]]]])  # the last cell has no label
    gap = torch.tensor([[[[1.0, 0.0], [1.0, 0.0]]]])
    return out, target, known, gap


def test_default_is_local_plus_lambda_global_squared():
    out, target, known, gap = example()
    global_term = (0.1**2 + 0.0 + 0.2**2) / 3
    local_term = (0.1**2 + 0.2**2) / 2
    loss = sgdsm_loss(out, target, known, gap)
    assert float(loss) == pytest.approx(local_term + 0.1 * global_term)


def test_lambda_can_weight_the_local_term_and_the_norm_can_be_l1():
    out, target, known, gap = example()
    loss = sgdsm_loss(out, target, known, gap, lam=0.5, weighted_term="local", norm="l1")
    assert float(loss) == pytest.approx((0.1 + 0.0 + 0.2) / 3 + 0.5 * (0.1 + 0.2) / 2)


def test_cells_outside_the_masks_do_not_count():
    out, target, known, gap = example()
    changed = out.clone()
    changed[..., 1, 1] = 100.0  # no label there
    assert float(sgdsm_loss(changed, target, known, gap)) == float(
        sgdsm_loss(out, target, known, gap)
    )


def test_gap_free_patches_leave_only_the_weighted_global_term():
    out, target, known, _ = example()
    loss = sgdsm_loss(out, target, known, torch.zeros_like(known), lam=0.1)
    assert torch.isfinite(loss)
    assert float(loss) == pytest.approx(0.1 * float(masked_mean_error(out, target, known, "l2")))
    assert float(masked_mean_error(out, target, torch.zeros_like(known), "l2")) == 0.0


def test_gradient_of_the_loss_reaches_only_labelled_cells():
    out, target, known, gap = example()
    out.requires_grad_(True)
    sgdsm_loss(out, target, known, gap).backward()
    assert out.grad[..., 1, 1] == 0
    assert torch.all(out.grad[known.bool() & (out != target)] != 0)
