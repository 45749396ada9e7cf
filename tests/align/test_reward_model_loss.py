"""The reward model's preference losses against the paper's formulas, transcribed independently in float64 numpy."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from videobench.align.losses import preference_loss


def _rao_kupper_nll(ra: float, rb: float, label: int, theta: float) -> float:
    """The paper's Bradley–Terry-with-ties probabilities (Rao & Kupper 1967), from exponentials:
    P(A>B) = e^rA / (e^rA + θ e^rB), P(B>A) = e^rB / (e^rB + θ e^rA),
    P(A=B) = (θ² − 1) e^rA e^rB / ((e^rA + θ e^rB)(e^rB + θ e^rA))."""
    ea, eb = math.exp(ra), math.exp(rb)
    p_a = ea / (ea + theta * eb)
    p_b = eb / (eb + theta * ea)
    p_tie = (theta**2 - 1) * ea * eb / ((ea + theta * eb) * (eb + theta * ea))
    assert math.isclose(p_a + p_b + p_tie, 1.0, rel_tol=1e-12)
    return -math.log({1: p_a, -1: p_b, 0: p_tie}[label])


def _random_batch(seed: int, b: int = 16, d: int = 3):
    rng = np.random.default_rng(seed)
    ra, rb = rng.normal(0, 2, (b, d)), rng.normal(0, 2, (b, d))
    labels = rng.choice([-1.0, 0.0, 1.0, np.nan], size=(b, d), p=[0.35, 0.25, 0.3, 0.1])
    return ra, rb, labels


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("theta", [5.0, 1.7])
def test_btt_equals_the_papers_formula_on_random_inputs(seed: int, theta: float) -> None:
    ra, rb, labels = _random_batch(seed)
    expected = sum(_rao_kupper_nll(ra[i, j], rb[i, j], int(labels[i, j]), theta)
                   for i in range(ra.shape[0]) for j in range(ra.shape[1]) if not np.isnan(labels[i, j]))
    expected /= ra.size  # averaged over every pair x dimension entry, a missing label counting 0 (VideoAlign)
    got = preference_loss(torch.tensor(ra), torch.tensor(rb), torch.tensor(labels), "btt", theta)
    assert float(got) == pytest.approx(expected, rel=1e-5)


def test_bt_drops_ties_and_missing_labels() -> None:
    ra, rb, labels = _random_batch(3)
    expected = sum(-math.log(1 / (1 + math.exp(-labels[i, j] * (ra[i, j] - rb[i, j]))))
                   for i in range(ra.shape[0]) for j in range(ra.shape[1])
                   if not np.isnan(labels[i, j]) and labels[i, j] != 0) / ra.size
    got = preference_loss(torch.tensor(ra), torch.tensor(rb), torch.tensor(labels), "bt")
    assert float(got) == pytest.approx(expected, rel=1e-5)


def test_theta_to_one_limit_gives_bt_on_decided_entries_and_rules_ties_out() -> None:
    ra, rb, labels = _random_batch(4)
    decided = np.where(np.isnan(labels) | (labels == 0), np.nan, labels)
    bt = float(preference_loss(torch.tensor(ra), torch.tensor(rb), torch.tensor(decided), "bt"))
    near = float(preference_loss(torch.tensor(ra), torch.tensor(rb), torch.tensor(decided), "btt", 1 + 1e-7))
    assert near == pytest.approx(bt, abs=1e-5)
    ties = np.zeros((1, 1))
    tie_losses = [float(preference_loss(torch.zeros(1, 1), torch.zeros(1, 1), torch.tensor(ties), "btt", t))
                  for t in (5.0, 1.1, 1.001, 1 + 1e-6)]
    assert tie_losses == sorted(tie_losses) and tie_losses[-1] > 13  # -log(θ²−1)·… grows without bound
    with pytest.raises(ValueError, match="theta must be > 1"):
        preference_loss(torch.zeros(1, 1), torch.zeros(1, 1), torch.tensor(ties), "btt", 1.0)


def test_regression_to_mos_centred_at_three() -> None:
    ra, rb = torch.tensor([[0.5, 1.0]]), torch.tensor([[-1.0, 2.0]])
    mos_a, mos_b = torch.tensor([[4.0, float("nan")]]), torch.tensor([[2.5, 5.0]])
    # (0.5 − 1)² + (−1 − (−0.5))² + (2 − 2)², the NaN entry masked, over 2·B·D = 4 entries
    expected = (0.25 + 0.25 + 0.0) / 4
    got = preference_loss(ra, rb, torch.zeros(1, 2), "reg", mos_a=mos_a, mos_b=mos_b)
    assert float(got) == pytest.approx(expected)
    with pytest.raises(ValueError, match="mean opinion scores"):
        preference_loss(ra, rb, torch.zeros(1, 2), "reg")


def test_gradient_flows_only_through_labelled_entries() -> None:
    ra = torch.zeros(2, 3, requires_grad=True)
    labels = torch.tensor([[1.0, float("nan"), 0.0], [float("nan")] * 3])
    preference_loss(ra, torch.zeros(2, 3), labels, "btt").backward()
    assert ra.grad[0, 0] < 0 and ra.grad[0, 1] == 0 and ra.grad[1].abs().sum() == 0
    assert ra.grad[0, 2] == pytest.approx(0.0, abs=1e-7)  # a tie at equal rewards is the loss's minimum in d
