"""Flow-DPO, Flow-RWR, SFT and Bradley–Terry-with-ties losses as pure tensor functions."""

from __future__ import annotations

import math

import pytest
import torch
from align_helpers import softplus

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


# ---- independent transcriptions and hand-worked numbers (written from the docstring formulas, plain floats)



def _rwr_reference(rewards, tau, groups=None, zscore=False, eps=1e-6):
    """w_i = exp(r_i/τ) / mean_{j in g(i)} exp(r_j/τ), with r → (r − mean)/(population std + eps) for zscore."""
    groups = groups or [0] * len(rewards)
    out = [0.0] * len(rewards)
    for g in set(groups):
        idx = [i for i, gi in enumerate(groups) if gi == g]
        vals = [rewards[i] for i in idx]
        if zscore:
            m = sum(vals) / len(vals)
            sd = math.sqrt(sum((v - m) ** 2 for v in vals) / len(vals))
            vals = [(v - m) / (sd + eps) for v in vals]
        shift = max(vals)  # exp(v/τ)/mean exp(v/τ) is shift-free; shifting only keeps exp() finite here
        e = [math.exp((v - shift) / tau) for v in vals]
        for i, ei in zip(idx, e):
            out[i] = ei / (sum(e) / len(e))
    return torch.tensor(out)


def test_dpo_stats_by_hand():
    # margins: pair 1 (0.6−0.5)−(0.6−0.7) = 0.2, pair 2 (1.0−1.0)−(1.0−0.9) = −0.1; β/2·margin = 1.0 and −0.5
    out = flow_dpo_loss(torch.tensor([0.5, 1.0]), torch.tensor([0.7, 0.9]), torch.tensor([0.6, 1.0]),
                        torch.tensor([0.6, 1.0]), 10.0)
    loss = (softplus(-1.0) + softplus(0.5)) / 2
    grad = (1 / (1 + math.exp(1.0)) + 1 / (1 + math.exp(-0.5))) / 2  # σ(−β/2·margin)
    assert out.stats() == pytest.approx({"loss": loss, "margin": 0.05, "implicit_acc": 0.5, "grad_factor": grad},
                                        rel=1e-5)
    assert set(out.stats()) == {"loss", "margin", "implicit_acc", "grad_factor"}


def test_beta_is_float32_whatever_sigma_is():
    sigma = torch.tensor([0.0, 0.5], dtype=torch.float64)
    assert dpo_beta(500, sigma).dtype == torch.float32
    assert dpo_beta(500, sigma, "sigma").dtype == torch.float32


@pytest.mark.parametrize(("call", "message"), [
    (lambda: flow_dpo_loss(*(torch.zeros(0),) * 4, 1.0), "Flow-DPO needs at least one pair"),
    (lambda: rwr_weights(torch.zeros(2, 2)), "rewards must be a non-empty (B,) tensor, got shape (2, 2)"),
    (lambda: rwr_weights(torch.zeros(0)), "rewards must be a non-empty (B,) tensor, got shape (0,)"),
    (lambda: rwr_weights(torch.zeros(3), mode="cosine"), "unknown RWR weighting 'cosine'; use 'softmax', 'zscore' or 'raw'"),
    (lambda: rwr_weights(torch.zeros(3), groups=torch.zeros(2)), "groups (2,) must match rewards (3,)"),
    (lambda: weighted_flow_loss(torch.zeros(2), torch.zeros(3)), "errors (2,) and weights (3,) differ in shape"),
    (lambda: weighted_flow_loss(torch.zeros(0), torch.zeros(0)), "empty batch"),
    (lambda: sft_loss(torch.zeros(0)), "empty batch"),
    (lambda: bt_ties_loss(torch.zeros(2), torch.zeros(2), torch.zeros(3)), "scores (2,), (2,) and labels (3,) differ"),
    (lambda: bt_ties_loss(torch.zeros(2), torch.zeros(2), torch.tensor([2, 0])),
     "labels must be +1 (A better), -1 (B better) or 0 (tie)"),
])
def test_loss_errors_say_what_is_wrong(call, message):
    with pytest.raises(ValueError) as err:
        call()
    assert str(err.value) == message


def test_one_sample_batches():
    torch.testing.assert_close(rwr_weights(torch.tensor([3.0])), torch.tensor([1.0]))
    torch.testing.assert_close(rwr_weights(torch.tensor([3.0]), mode="zscore"), torch.tensor([1.0]))
    assert float(weighted_flow_loss(torch.tensor([2.0]), torch.tensor([3.0]))) == 6.0
    assert float(sft_loss(torch.tensor([2.5]))) == 2.5


def test_softmax_weights_by_hand_default_temperature_and_large_rewards():
    # τ = 1: w = exp(r)/mean exp(r) = [2/(1+e), 2e/(1+e)]; rewards near 90 would overflow exp() in float32 unshifted
    expected = torch.tensor([2 / (1 + math.e), 2 * math.e / (1 + math.e)])
    torch.testing.assert_close(rwr_weights(torch.tensor([0.0, 1.0])), expected)
    torch.testing.assert_close(rwr_weights(torch.tensor([90.0, 91.0])), expected)


def test_zscore_weights_match_a_transcription_of_the_formula():
    r = [0.0, 1.0, 2.0, 5.0, 7.0, 4.0]
    groups = [0, 0, 0, 1, 1, 2]  # three, two and one member(s)
    w = rwr_weights(torch.tensor(r), 0.5, torch.tensor(groups), mode="zscore")
    torch.testing.assert_close(w, _rwr_reference(r, 0.5, groups, zscore=True))
    # group 1: z = ±1 exactly, so w = [2/(1+e⁴), 2e⁴/(1+e⁴)]; a one-member group gets weight 1
    e4 = math.exp(4.0)
    torch.testing.assert_close(w[3:], torch.tensor([2 / (1 + e4), 2 * e4 / (1 + e4), 1.0]), rtol=1e-5, atol=1e-6)
    # a spread as small as eps: eps keeps z finite (z = ±1e-6 / (1e-6 + 1e-6) = ±0.5)
    tiny = rwr_weights(torch.tensor([0.0, 2e-6]), 1.0, mode="zscore")
    torch.testing.assert_close(tiny, torch.tensor([2 / (1 + math.e), 2 * math.e / (1 + math.e)]), rtol=1e-4, atol=1e-5)


def test_weighted_loss_keeps_the_dtype_of_the_errors():
    loss = weighted_flow_loss(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([0.5, 1.0, 1.5], dtype=torch.float64))
    assert loss.dtype == torch.float32 and math.isclose(float(loss), (0.5 + 2.0 + 4.5) / 3, rel_tol=1e-6)


def test_bt_ties_by_hand():
    # θ = 5 (the default), ln θ = ln 5. d = 0: P(A) = P(B) = σ(−ln 5) = 1/6, P(tie) = 24/36 = 2/3.
    # d = ln 5: P(A) = σ(0) = 1/2, P(B) = σ(−2 ln 5) = 1/26, P(tie) = 24 · 1/2 · 1/26 = 6/13.
    ln5 = math.log(5.0)
    probs = bt_ties_log_probs(torch.tensor([0.0, ln5]), torch.tensor([0.0, 0.0])).exp()
    torch.testing.assert_close(probs, torch.tensor([[1 / 6, 1 / 6, 2 / 3], [1 / 2, 1 / 26, 6 / 13]]))
    # θ = 1.5, d = 0: P(A) = 1/(1 + 1.5) = 0.4, P(tie) = (2.25 − 1) · 0.4 · 0.4 = 0.2
    torch.testing.assert_close(bt_ties_log_probs(torch.zeros(1), torch.zeros(1), 1.5).exp(),
                               torch.tensor([[0.4, 0.4, 0.2]]))
    # one score per dimension: (B, dims) → (B, dims, 3), the outcome last
    a, b = torch.tensor([[0.0, ln5], [ln5, 0.0]]), torch.zeros(2, 2)
    assert bt_ties_log_probs(a, b).shape == (2, 2, 3)
    labels = torch.tensor([[0, 1], [-1, 0]])  # tie at d=0, A at d=ln5, B at d=ln5, tie at d=0
    nll = [math.log(3 / 2), math.log(2.0), math.log(26.0), math.log(3 / 2)]
    assert math.isclose(float(bt_ties_loss(a, b, labels)), sum(nll) / 4, rel_tol=1e-6)
    weights = torch.tensor([[0.1, 0.2], [0.1, 0.0]], dtype=torch.float64)  # sum 0.4 < 1: a weighted mean, not a sum
    loss = bt_ties_loss(a, b, labels, weights=weights)
    assert loss.dtype == torch.float32
    assert math.isclose(float(loss), (0.1 * nll[0] + 0.2 * nll[1] + 0.1 * nll[2]) / 0.4, rel_tol=1e-6)
    with pytest.raises(ValueError, match="differ"):  # only the labels' shape is wrong
        bt_ties_loss(a, b, torch.zeros(2, dtype=torch.long))
