"""The Flow-NRG velocity update as pure tensor math: factor, clipping, sign convention, weights parsing."""

from __future__ import annotations

import math

import pytest
import torch
from diffusers import FlowMatchEulerDiscreteScheduler

from videobench.align.nrg import NRGSettings, clip_per_sample, guidance_factor, nrg_velocity, parse_weights


def test_factor_is_sigma_over_one_minus_sigma_clamped():
    assert guidance_factor(0.5, 50) == pytest.approx(1.0)
    assert guidance_factor(0.2, 50) == pytest.approx(0.25)
    assert guidance_factor(0.99, 50) == pytest.approx(50.0)  # 99 clamped
    assert guidance_factor(1.0, 7.0) == 7.0  # σ = 1: no division by zero
    assert guidance_factor(0.0, 50) == 0.0


def test_per_sample_clipping_only_shrinks_large_gradients():
    g = torch.stack([torch.full((2, 3), 10.0), torch.full((2, 3), 0.01)])
    out = clip_per_sample(g, 1.0)
    assert out[0].norm().item() == pytest.approx(1.0, rel=1e-5)
    assert torch.equal(out[1], g[1])
    assert clip_per_sample(g, None) is g
    with pytest.raises(ValueError):
        clip_per_sample(g, 0.0)


def test_guided_euler_step_moves_x_and_x0_up_a_linear_reward():
    """R(x) = <a, x>: the stock scheduler's Euler step with v' must raise R by (σ − σ_next)·w·c(σ)·|a|²."""
    torch.manual_seed(0)
    a = torch.randn(1, 4, 2, 3, 3)
    x, v = torch.randn_like(a), torch.randn_like(a)
    sched = FlowMatchEulerDiscreteScheduler(shift=3.0)
    sched.set_timesteps(4)
    t, sigma, sigma_next = sched.timesteps[1], float(sched.sigmas[1]), float(sched.sigmas[2])
    sched._step_index = 1
    x_plain = sched.step(v, t, x, return_dict=False)[0]
    sched._step_index = 1
    w = 3.0
    v_guided = nrg_velocity(v, a, sigma, w)
    x_guided = sched.step(v_guided, t, x, return_dict=False)[0]
    gain = ((x_guided - x_plain) * a).sum().item()
    expected = (sigma - sigma_next) * w * sigma / (1 - sigma) * (a * a).sum().item()
    assert gain > 0 and gain == pytest.approx(expected, rel=1e-4)
    # the predicted clean sample x̂0 = x − σ·v rises too
    assert ((x - sigma * v_guided) * a).sum() > ((x - sigma * v) * a).sum()


def test_w_zero_returns_the_velocity_unchanged_values():
    v, g = torch.randn(2, 3), torch.randn(2, 3)
    assert torch.equal(nrg_velocity(v, g, 0.5, 0.0), v)
    with pytest.raises(ValueError, match="shape"):
        nrg_velocity(v, g[:1], 0.5, 1.0)


def test_parse_weights_accepts_both_separators_and_rejects_garbage():
    assert parse_weights("VQ=0.1,MQ=0.1,TA=0.8") == {"VQ": 0.1, "MQ": 0.1, "TA": 0.8}
    assert parse_weights("VQ:0.5, MQ:0.5") == {"VQ": 0.5, "MQ": 0.5}
    assert parse_weights({"TA": 1}) == {"TA": 1.0}
    for bad in ("VQ", "VQ=high", "=1", "VQ=nan"):
        with pytest.raises(ValueError):
            parse_weights(bad)


def test_settings_validate_and_window():
    s = NRGSettings(w=10, weights="VQ=1", sigma_min=0.2, sigma_max=0.8)
    assert s.active(0.5) and not s.active(0.9) and not s.active(0.1)
    assert not NRGSettings(w=0, weights="VQ=1").active(0.5)
    assert not NRGSettings(w=1, weights="VQ=0").active(0.5)
    for bad in (dict(sigma_min=0.9, sigma_max=0.1), dict(max_factor=-1), dict(max_grad_norm=0), dict(w=math.inf)):
        with pytest.raises(ValueError):
            NRGSettings(**bad)
