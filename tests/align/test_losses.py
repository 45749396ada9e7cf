"""Flow-DPO, Flow-RWR, SFT and Bradley–Terry-with-ties losses as pure tensor functions."""

from __future__ import annotations

import math

import pytest
import torch

from videobench.align.losses import (
    bt_ties_log_probs,
    bt_ties_loss,
    dpo_beta,
    flow_dpo_loss,
    rwr_weights,
    sft_loss,
    weighted_flow_loss,
)


def test_dpo_is_ln2_when_policy_equals_reference():
    err = torch.rand(4)
    err_l = torch.rand(4)
    out = flow_dpo_loss(err, err_l, err.clone(), err_l.clone(), 500.0)
    assert math.isclose(float(out.loss), math.log(2), rel_tol=1e-6)
    assert float(out.grad_factor.mean()) == 0.5 and float(out.implicit_accuracy) == 0.0


def test_dpo_formula_and_swap_flips_margin():
    err_w, err_l = torch.tensor([0.5, 1.0]), torch.tensor([0.7, 1.1])
    ref_w, ref_l = torch.tensor([0.6, 1.0]), torch.tensor([0.6, 1.0])
    beta = 10.0
    out = flow_dpo_loss(err_w, err_l, ref_w, ref_l, beta)
    inside = -beta / 2 * ((err_w - ref_w) - (err_l - ref_l))
    torch.testing.assert_close(out.loss, -torch.nn.functional.logsigmoid(inside).mean())
    swapped = flow_dpo_loss(err_l, err_w, ref_l, ref_w, beta)
    torch.testing.assert_close(swapped.margin, -out.margin)
    assert float(out.implicit_accuracy) == 1.0 and float(swapped.implicit_accuracy) == 0.0
    torch.testing.assert_close(out.grad_factor, torch.sigmoid(-inside))


def test_dpo_gradient_pushes_winner_error_down():
    err_w = torch.tensor([0.5], requires_grad=True)
    err_l = torch.tensor([0.5], requires_grad=True)
    flow_dpo_loss(err_w, err_l, torch.tensor([0.5]), torch.tensor([0.5]), 100.0).loss.backward()
    assert err_w.grad.item() > 0 > err_l.grad.item()  # gradient descent lowers err_w and raises err_l
    assert math.isclose(err_w.grad.item(), 100.0 / 2 * 0.5, rel_tol=1e-5)  # β/2 · σ(0)


def test_beta_schedules_and_errors():
    sigma = torch.tensor([0.0, 0.5, 1.0])
    torch.testing.assert_close(dpo_beta(500, sigma), torch.full((3,), 500.0))
    torch.testing.assert_close(dpo_beta(500, sigma, "sigma"), torch.tensor([500.0, 125.0, 0.0]))
    with pytest.raises(ValueError, match="beta schedule"):
        dpo_beta(1, sigma, "cosine")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="shape"):
        flow_dpo_loss(torch.zeros(2), torch.zeros(3), torch.zeros(2), torch.zeros(2), 1.0)
    with pytest.raises(ValueError, match="at least one pair"):
        flow_dpo_loss(*(torch.zeros(0),) * 4, 1.0)


def test_rwr_weights():
    r = torch.tensor([0.0, 1.0, 2.0, 5.0, 5.0, 7.0])
    groups = torch.tensor([0, 0, 0, 1, 1, 1])
    w = rwr_weights(r, 0.5, groups)
    for g in (0, 1):
        assert math.isclose(float(w[groups == g].mean()), 1.0, rel_tol=1e-6)
    e = torch.exp(r[:3] / 0.5)
    torch.testing.assert_close(w[:3], e / e.mean())
    assert math.isclose(float(rwr_weights(r, 2.0).mean()), 1.0, rel_tol=1e-6)
    z = rwr_weights(r * 100 + 3, 1.0, groups, mode="zscore")
    torch.testing.assert_close(z, rwr_weights(r, 1.0, groups, mode="zscore"))  # scale- and shift-free
    torch.testing.assert_close(rwr_weights(r, 1.0, mode="raw"), r)
    with pytest.raises(ValueError, match="temperature"):
        rwr_weights(r, 0.0)


def test_equal_rewards_give_exactly_the_sft_loss():
    err = torch.rand(8, dtype=torch.float32) * 3
    for mode in ("softmax", "zscore"):
        w = rwr_weights(torch.full((8,), 0.37), 0.1, torch.tensor([0, 0, 0, 0, 1, 1, 1, 1]), mode=mode)
        assert torch.equal(w, torch.ones(8))
        assert torch.equal(weighted_flow_loss(err, w), sft_loss(err))


def test_bt_ties_probabilities():
    a, b = torch.tensor([0.0, 2.0, -1.0]), torch.tensor([0.0, 0.0, 3.0])
    lp = bt_ties_log_probs(a, b, theta=5.0)
    torch.testing.assert_close(lp.exp().sum(-1), torch.ones(3))
    # Rao–Kupper in its original form with π = exp(s)
    pa, pb, theta = a.exp(), b.exp(), 5.0
    torch.testing.assert_close(lp[:, 0].exp(), pa / (pa + theta * pb))
    tie = (theta**2 - 1) * pa * pb / ((pa + theta * pb) * (pb + theta * pa))
    torch.testing.assert_close(lp[:, 2].exp(), tie)
    assert lp[0, 2] > lp[0, 0]  # equal scores: a tie is the likeliest outcome with θ = 5


def test_bt_ties_loss_learns_and_validates():
    labels = torch.tensor([1, -1, 0, 1])
    s_a = torch.zeros(4, requires_grad=True)
    s_b = torch.zeros(4)
    loss = bt_ties_loss(s_a, s_b, labels)
    loss.backward()
    assert s_a.grad[0] < 0 and s_a.grad[1] > 0 and abs(float(s_a.grad[2])) < 1e-7
    two_dims = bt_ties_loss(torch.zeros(4, 3), torch.zeros(4, 3), torch.zeros(4, 3, dtype=torch.long),
                            weights=torch.ones(4, 3))
    assert math.isfinite(float(two_dims))
    with pytest.raises(ValueError, match="theta"):
        bt_ties_loss(s_a, s_b, labels, theta=1.0)
    with pytest.raises(ValueError, match="labels"):
        bt_ties_loss(s_a, s_b, torch.tensor([2, 0, 0, 0]))
