"""One Flow-DPO / Flow-RWR / SFT micro-batch with stand-in predictors, against the formulas transcribed by hand.

The predictors are plain functions (the policy predicts zero velocity, the reference returns its input), so every
error is a short sum; the expected values follow the flow-matching definitions in `videobench.align.flow`:
x_σ = (1 − σ)·x0 + σ·ε, target v = ε − x0, err = mean over the latent of (prediction − v)².
"""

from __future__ import annotations

import math

import pytest
import torch
from align_helpers import softplus

from videobench.align.objectives import Reference, flow_dpo_step, flow_weighted_step

X_W = [[1.0, 0.0], [0.0, 2.0], [2.0, -1.0]]
X_L = [[2.0, 1.0], [1.0, 1.0], [-1.0, 0.5]]
NOISE = [[0.0, 1.0], [1.0, -1.0], [0.5, 0.5]]
SIGMA = [0.5, 0.25, 0.1]


def _errors(x0, noise, s):
    """(policy error, reference error) of one latent: policy predicts 0, reference predicts x_σ."""
    v = [n - x for x, n in zip(x0, noise)]
    xs = [(1 - s) * x + s * n for x, n in zip(x0, noise)]
    return sum(vi**2 for vi in v) / len(v), sum((a - b) ** 2 for a, b in zip(xs, v)) / len(v)



class Recorder:
    """A predictor that records its timesteps and conditioning and answers ``fn(x)``."""

    def __init__(self, fn):
        self.fn, self.calls = fn, []

    def __call__(self, x, t, cond):
        self.calls.append((t.clone(), {k: v.clone() for k, v in cond.items()}))
        return self.fn(x)


@pytest.mark.parametrize("schedule", ["constant", "sigma"])
def test_flow_dpo_step_by_hand(schedule):
    policy, reference = Recorder(torch.zeros_like), Recorder(lambda x: x.clone())
    cond = {"text": torch.tensor([[1.0], [2.0], [3.0]])}
    kwargs = {} if schedule == "constant" else {"beta_schedule": "sigma"}
    out, stats = flow_dpo_step(policy, reference, torch.tensor(X_W), torch.tensor(X_L), cond, torch.tensor(NOISE),
                               torch.tensor(SIGMA), **kwargs)  # β = 500, the paper's, by default
    rows = []
    for xw, xl, n, s in zip(X_W, X_L, NOISE, SIGMA):
        (ew, rw), (el, rl) = _errors(xw, n, s), _errors(xl, n, s)
        beta = 500.0 if schedule == "constant" else 500.0 * (1 - s) ** 2
        margin = (rw - ew) - (rl - el)
        rows.append((ew, el, rw, rl, margin, softplus(-beta / 2 * margin), math.exp(-softplus(beta / 2 * margin))))
    mean = [sum(col) / 3 for col in zip(*rows)]
    assert float(out.loss) == pytest.approx(mean[5], rel=1e-5)
    torch.testing.assert_close(out.margin, torch.tensor([r[4] for r in rows]))
    expected = {"err_w": mean[0], "err_l": mean[1], "ref_err_w": mean[2], "ref_err_l": mean[3], "margin": mean[4],
                "loss": mean[5], "grad_factor": mean[6], "sigma": sum(SIGMA) / 3,
                "implicit_acc": sum(r[4] > 0 for r in rows) / 3}
    assert stats == pytest.approx(expected, rel=1e-5, abs=1e-7) and set(stats) == set(expected)
    # both videos of a pair in one batch of 2B, at t = 1000·σ, with the pair's conditioning repeated
    for model in (policy, reference):
        (t, c), = model.calls
        torch.testing.assert_close(t, torch.tensor(SIGMA * 2) * 1000)
        torch.testing.assert_close(c["text"], torch.cat([cond["text"], cond["text"]]))


def test_flow_weighted_step_by_hand():
    errs = [_errors(x, n, s)[0] for x, n, s in zip(X_W, NOISE, SIGMA)]
    x0, noise, sigma = torch.tensor(X_W), torch.tensor(NOISE), torch.tensor(SIGMA)
    loss, stats = flow_weighted_step(lambda x, t, c: torch.zeros_like(x), x0, {}, noise, sigma)
    assert float(loss) == pytest.approx(sum(errs) / 3, rel=1e-6)
    assert stats == pytest.approx({"sigma": sum(SIGMA) / 3, "err": sum(errs) / 3, "loss": sum(errs) / 3}, rel=1e-6)
    assert set(stats) == {"sigma", "err", "loss"}
    # RWR, z-scored per group at the default τ = 1: group 0 = rewards (1, 5) → z = (−1, 1) (plain softmax would use
    # 1 and 5 themselves), group 1 = one sample → w = 1
    rewards, groups = torch.tensor([1.0, 5.0, 0.0]), torch.tensor([0, 0, 1])
    e2 = math.exp(2.0)
    w = [2 / (1 + e2), 2 * e2 / (1 + e2), 1.0]
    loss, stats = flow_weighted_step(lambda x, t, c: torch.zeros_like(x), x0, {}, noise, sigma, rewards=rewards,
                                     groups=groups, weighting="zscore")
    expected_loss = sum(wi * ei for wi, ei in zip(w, errs)) / 3
    assert float(loss) == pytest.approx(expected_loss, rel=1e-5)
    assert stats == pytest.approx({"sigma": sum(SIGMA) / 3, "err": sum(errs) / 3, "loss": expected_loss,
                                   "weight_max": max(w), "weight_min": min(w), "reward": 2.0}, rel=1e-5)


def test_shape_errors_and_reference_modes():
    x, s = torch.zeros(3, 2), torch.zeros(3)
    cases = [
        (lambda: flow_dpo_step(None, None, x, torch.zeros(2, 2), {}, x, s),
         "winner latents (3, 2) and loser latents (2, 2) differ in shape: encode both videos at the same frame count "
         "and size"),
        (lambda: flow_dpo_step(None, None, x, x, {}, torch.zeros(3, 1), s), "noise (3, 1) must match the latents (3, 2)"),
        (lambda: flow_dpo_step(None, None, x, x, {}, x, torch.zeros(2)), "sigma must have shape (3,), got (2,)"),
        (lambda: flow_weighted_step(None, x, {}, torch.zeros(3, 1), s), "noise (3, 1) must match the latents (3, 2)"),
        (lambda: Reference(torch.nn.Linear(1, 1), None, "bogus"), "unknown reference mode 'bogus'"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError) as err:
            call()
        assert str(err.value) == message
    for mode in ("disabled", "adapter", "copy"):
        assert Reference(torch.nn.Linear(1, 1), None, mode).mode == mode
