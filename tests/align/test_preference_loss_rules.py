"""`preference_loss` defaults, dtypes and errors, against numbers worked out by hand (written from its survivors under
`make mutation TARGET=align`; the formulas themselves are checked in `test_reward_model_loss.py`)."""

from __future__ import annotations

import math

import pytest
import torch

from videobench.align.losses import preference_loss


def test_defaults_are_bradley_terry_with_ties_at_theta_5():
    # equal rewards, θ = 5: P(A) = P(B) = 1/(1 + 5) = 1/6, P(tie) = 24/36 = 2/3
    zero = torch.zeros(1, 1)
    assert float(preference_loss(zero, zero, torch.tensor([[0.0]]))) == pytest.approx(math.log(1.5), rel=1e-6)
    assert float(preference_loss(zero, zero, torch.tensor([[1.0]]))) == pytest.approx(math.log(6.0), rel=1e-6)


def test_regression_by_hand_in_float32():
    # A: (1 − (5 − 3))² = 1; B has no MOS (masked); divided by the 2·B·D = 2 entries
    loss = preference_loss(torch.tensor([[1.0]]), torch.tensor([[0.0]]), torch.tensor([[1.0]]), "reg",
                           mos_a=torch.tensor([[5.0]], dtype=torch.float64),
                           mos_b=torch.tensor([[float("nan")]], dtype=torch.float64))
    assert loss.dtype == torch.float32 and float(loss) == pytest.approx(0.5)


@pytest.mark.parametrize(("shapes", "message"), [
    (((2, 1), (3, 1), (2, 1)), "rewards (2, 1), (3, 1) and labels (2, 1) must all be (B, D)"),
    (((2, 1), (2, 1), (2, 2)), "rewards (2, 1), (2, 1) and labels (2, 2) must all be (B, D)"),
    (((2,), (2,), (2,)), "rewards (2,), (2,) and labels (2,) must all be (B, D)"),
    (((0, 3), (0, 3), (0, 3)), "empty batch"),
])
def test_shape_errors(shapes, message):
    a, b, labels = (torch.zeros(s) for s in shapes)
    with pytest.raises(ValueError) as info:
        preference_loss(a, b, labels)
    assert str(info.value) == message


def test_loss_name_and_mos_errors():
    x = torch.zeros(1, 1)
    with pytest.raises(ValueError) as info:
        preference_loss(x, x, x, "hinge")
    assert str(info.value) == "unknown preference loss 'hinge'; use one of btt, bt, reg"
    with pytest.raises(ValueError) as info:
        preference_loss(x, x, x, "reg", mos_a=x)
    assert str(info.value) == "loss='reg' needs mean opinion scores (mos_a, mos_b)"
