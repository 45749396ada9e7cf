"""Flow-GRPO formulas against independent transcriptions (numpy / scipy, written from the paper's equations)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from videobench.align.grpo_math import (
    clipped_policy_loss,
    gaussian_kl,
    gaussian_log_prob,
    group_advantages,
    sde_noise_std,
    sde_step,
)


def _paper_step(x, v, t, t_next, a):
    """Flow-GRPO eq. (9) in the paper's own form: x_{t+Δt} = x_t + [v + σ_t²/(2t)(x_t + (1 − t)v)]Δt + σ_t√|Δt|ε
    with σ_t = a·sqrt(t / (1 − t)) and Δt = t_next − t (time runs from noise t = 1 to data t = 0)."""
    s = a * np.sqrt(t / (1 - t))
    dt = t_next - t
    drift = v + s**2 / (2 * t) * (x + (1 - t) * v)
    return x + drift * dt, s * np.sqrt(-dt)


def test_sde_step_matches_the_papers_equation():
    rng = np.random.default_rng(0)
    x, v = rng.normal(size=(3, 2, 5)), rng.normal(size=(3, 2, 5))
    t = np.array([0.9, 0.5, 0.2])
    t_next = np.array([0.7, 0.45, 0.0])
    a = 0.7
    step = sde_step(torch.tensor(x), torch.tensor(v), torch.tensor(t), torch.tensor(t_next), a)
    for i in range(3):
        mean, std = _paper_step(x[i], v[i], t[i], t_next[i], a)
        np.testing.assert_allclose(step.mean[i].numpy(), mean, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(float(step.std[i].flatten()[0]), std, rtol=1e-5)
    assert step.mean.dtype == torch.float32  # whatever came in
    noise = torch.tensor(rng.normal(size=(3, 2, 5)))
    drawn = sde_step(torch.tensor(x), torch.tensor(v), torch.tensor(t), torch.tensor(t_next), a, noise=noise)
    torch.testing.assert_close(drawn.sample, step.mean + step.std * noise.float())


def test_first_step_at_sigma_one_uses_the_next_sigma():
    # hand-worked: a = 0.5, σ = 1, σ_next = 0.75 → s = 0.5·sqrt(1 / 0.25) = 1.0; std = 1·sqrt(0.25) = 0.5
    s = sde_noise_std(torch.tensor([1.0]), torch.tensor([0.75]), 0.5)
    assert math.isclose(float(s), 1.0, rel_tol=1e-6)
    step = sde_step(torch.zeros(1, 4), torch.ones(1, 4), 1.0, 0.75, 0.5)
    assert torch.isfinite(step.mean).all() and math.isclose(float(step.std.flatten()[0]), 0.5, rel_tol=1e-6)
    # mean = x + dσ·v + s²/(2σ)·dσ·(x + (1 − σ)v) = 0 − 0.25 + 0.5·(−0.25)·0 = −0.25
    torch.testing.assert_close(step.mean, torch.full((1, 4), -0.25))


def test_zero_noise_level_is_the_euler_step():
    x, v = torch.randn(2, 3, 4), torch.randn(2, 3, 4)
    sigma, sigma_next = torch.tensor([1.0, 0.6]), torch.tensor([0.8, 0.3])
    euler = x + (sigma_next - sigma).view(-1, 1, 1) * v
    torch.testing.assert_close(sde_step(x, v, sigma, sigma_next, 0.0).mean, euler)
    torch.testing.assert_close(sde_step(x, v, sigma, sigma_next, 1e-4).mean, euler, atol=1e-6, rtol=0)
    assert float(sde_step(x, v, sigma, sigma_next, 0.0).std.max()) == 0.0


def test_the_sde_keeps_the_flows_marginals():
    """1-D Gaussian data x0 ~ N(0, c²): x_σ = (1 − σ)x0 + σε has variance V = (1 − σ)²c² + σ², and the exact velocity
    is E[ε − x0 | x_σ] = x·(σ − (1 − σ)c²) / V. Sampled with the SDE from σ = 1 to 0, the particles end with
    variance c² at every noise level (the marginals are those of the ODE)."""
    c2 = 0.25
    sigmas = torch.linspace(1.0, 0.0, 201, dtype=torch.float64)
    for a in (0.0, 0.5, 0.9):
        g = torch.Generator().manual_seed(1)
        x = torch.randn(10_000, 1, generator=g, dtype=torch.float64)
        for s, s_next in zip(sigmas[:-1], sigmas[1:]):
            v = x * (s - (1 - s) * c2) / ((1 - s) ** 2 * c2 + s**2)
            noise = torch.randn(x.shape, generator=g, dtype=torch.float64)
            x = sde_step(x, v, s, s_next, a, noise=noise).sample.double()
        assert abs(float(x.var()) - c2) < 0.02, (a, float(x.var()))


def test_log_prob_is_the_gaussian_density_averaged_per_element():
    rng = np.random.default_rng(2)
    mean, sample = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4))
    std = np.array([0.3, 1.7]).reshape(2, 1, 1)
    expected = stats.norm.logpdf(sample, loc=mean, scale=std).reshape(2, -1).mean(axis=1)
    got = gaussian_log_prob(torch.tensor(sample), torch.tensor(mean), torch.tensor(std))
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5)
    assert got.dtype == torch.float32
    with pytest.raises(ValueError, match="std > 0"):
        gaussian_log_prob(torch.zeros(1, 2), torch.zeros(1, 2), torch.zeros(1, 1))
    # gradients reach the mean, never the sample
    m = torch.zeros(1, 3, requires_grad=True)
    s = torch.ones(1, 3, requires_grad=True)
    gaussian_log_prob(s, m, torch.ones(1, 1)).sum().backward()
    assert s.grad is None and m.grad is not None


def test_kl_between_equal_std_gaussians():
    rng = np.random.default_rng(3)
    mean, ref = rng.normal(size=(2, 6)), rng.normal(size=(2, 6))
    std = np.array([[0.5], [2.0]])
    got = gaussian_kl(torch.tensor(mean), torch.tensor(ref), torch.tensor(std))
    p = torch.distributions.Normal(torch.tensor(mean), torch.tensor(std).expand(2, 6))
    q = torch.distributions.Normal(torch.tensor(ref), torch.tensor(std).expand(2, 6))
    np.testing.assert_allclose(got.numpy(), torch.distributions.kl_divergence(p, q).mean(dim=1).numpy(), rtol=1e-5)
    assert float(gaussian_kl(torch.tensor(mean), torch.tensor(mean), torch.tensor(std)).abs().max()) == 0.0


def test_group_advantages():
    rewards = np.array([1.0, 2.0, 3.0, 10.0, 10.0, 4.0, 0.0])
    groups = np.array([0, 0, 0, 1, 1, 2, 2])
    expected = np.empty_like(rewards)
    for g in np.unique(groups):
        r = rewards[groups == g]
        expected[groups == g] = (r - r.mean()) / (r.std() + 1e-4)  # numpy std: population
    got = group_advantages(torch.tensor(rewards), torch.tensor(groups))
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5)
    assert got[3] == 0 and got[4] == 0  # equal rewards: no signal
    glob = group_advantages(torch.tensor(rewards), torch.tensor(groups), std="global")
    means = {g: rewards[groups == g].mean() for g in np.unique(groups)}
    np.testing.assert_allclose(glob.numpy(), [(r - means[g]) / (rewards.std() + 1e-4) for r, g in zip(rewards, groups)],
                               rtol=1e-5)
    clipped = group_advantages(torch.tensor(rewards), torch.tensor(groups), clip=0.5)
    assert float(clipped.abs().max()) == 0.5
    assert float(group_advantages(torch.tensor([3.0]), torch.tensor([0]))[0]) == 0.0
    with pytest.raises(ValueError, match="finite"):
        group_advantages(torch.tensor([1.0, float("nan")]), torch.tensor([0, 0]))


def test_clipped_objective_hand_worked():
    # ε = 0.2; ratios 1.5, 0.5, 1.1, 0.9 with advantages +1, +1, −2, −2
    ratios = torch.tensor([1.5, 0.5, 1.1, 0.9])
    adv = torch.tensor([1.0, 1.0, -2.0, -2.0])
    old = torch.zeros(4)
    logp = torch.log(ratios).requires_grad_(True)
    loss, st = clipped_policy_loss(logp, old, adv, 0.2)
    # per sample max(−Aρ, −A·clip(ρ)): max(−1.5, −1.2) = −1.2; max(−0.5, −0.8) = −0.5; max(2.2, 2.2) = 2.2;
    # max(1.8, 1.8) = 1.8 → mean = (−1.2 − 0.5 + 2.2 + 1.8) / 4 = 0.575
    assert math.isclose(float(loss.detach()), 0.575, rel_tol=1e-6)
    assert st["clip_frac"] == 0.5 and math.isclose(st["ratio_max"], 1.5, rel_tol=1e-6)
    loss.backward()
    # the clipped sample (ρ = 1.5, A > 0) has no gradient; the others get −A·ρ/4
    np.testing.assert_allclose(logp.grad.numpy(), [0.0, -0.5 / 4, 2 * 1.1 / 4, 2 * 0.9 / 4], rtol=1e-5)


def test_on_policy_loss_gradient_is_the_policy_gradient():
    logp = torch.tensor([-1.0, -2.0, -0.5], requires_grad=True)
    adv = torch.tensor([0.5, -1.0, 2.0])
    loss, st = clipped_policy_loss(logp, logp.detach(), adv, 1e-4)
    loss.backward()
    np.testing.assert_allclose(logp.grad.numpy(), (-adv / 3).numpy(), rtol=1e-6)
    assert st["ratio_mean"] == 1.0 and st["clip_frac"] == 0.0 and st["approx_kl"] == 0.0
