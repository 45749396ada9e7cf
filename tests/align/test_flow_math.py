"""Rectified-flow math: interpolation, target, timestep, σ samplers, per-sample error."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from videobench.align.flow import (
    SigmaSampler,
    add_noise,
    per_sample_mse,
    shift_sigma,
    sigma_to_timestep,
    velocity_target,
)


def test_interpolation_endpoints_and_velocity():
    x0, eps = torch.randn(3, 2, 4), torch.randn(3, 2, 4)
    torch.testing.assert_close(add_noise(x0, eps, torch.zeros(3)), x0)
    torch.testing.assert_close(add_noise(x0, eps, torch.ones(3)), eps)
    sigma = torch.tensor([0.1, 0.5, 0.9])
    x = add_noise(x0, eps, sigma)
    h = 1e-3  # the target is the derivative dx/dσ
    torch.testing.assert_close((add_noise(x0, eps, sigma + h) - x) / h, velocity_target(x0, eps), atol=1e-3, rtol=1e-3)
    # one Euler step of the scheduler from σ to 0 with the true velocity lands on x0
    torch.testing.assert_close(x + (0 - sigma).view(-1, 1, 1) * velocity_target(x0, eps), x0, atol=1e-6, rtol=0)
    assert sigma_to_timestep(torch.tensor([0.25])).item() == 250.0


def test_shape_errors_are_clear():
    with pytest.raises(ValueError, match="same shape"):
        add_noise(torch.zeros(2, 3), torch.zeros(2, 4), torch.zeros(2))
    with pytest.raises(ValueError, match="per-sample"):
        add_noise(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(3))
    with pytest.raises(ValueError, match="shape"):
        per_sample_mse(torch.zeros(2, 3), torch.zeros(2, 4))


def test_per_sample_mse_is_a_mean_over_non_batch_dims():
    pred = torch.zeros(2, 3, 4)
    target = torch.ones(2, 3, 4)
    target[1] *= 2
    torch.testing.assert_close(per_sample_mse(pred, target), torch.tensor([1.0, 4.0]))


@given(st.floats(0.0, 1.0), st.floats(0.2, 10.0))
@settings(max_examples=50, deadline=None)
def test_shift_is_monotone_and_keeps_endpoints(sigma, shift):
    s = torch.tensor([0.0, sigma, 1.0], dtype=torch.float64)
    out = shift_sigma(s, shift)
    assert out[0] == 0 and math.isclose(float(out[2]), 1.0)
    assert 0.0 <= float(out[1]) <= 1.0 + 1e-12
    if shift > 1:
        assert float(out[1]) >= sigma - 1e-12


def test_samplers():
    g = torch.Generator().manual_seed(0)
    u = SigmaSampler("uniform").sample(20000, g)
    assert 0 <= u.min() and u.max() <= 1 and abs(float(u.mean()) - 0.5) < 0.01
    ln = SigmaSampler("logit_normal", mean=1.0, std=0.5).sample(20000, g)
    assert abs(float(torch.logit(ln).mean()) - 1.0) < 0.02
    shifted = SigmaSampler("uniform", shift=3.0).sample(20000, g)
    assert float(shifted.mean()) > 0.6  # mass moves towards noise
    clipped = SigmaSampler("uniform", sigma_min=0.2, sigma_max=0.4).sample(1000, g)
    assert 0.2 <= clipped.min() and clipped.max() <= 0.4
    a = SigmaSampler().sample(5, torch.Generator().manual_seed(3))
    torch.testing.assert_close(a, SigmaSampler().sample(5, torch.Generator().manual_seed(3)))
    with pytest.raises(ValueError, match="unknown sigma sampler"):
        SigmaSampler("cosine")  # type: ignore[arg-type]
