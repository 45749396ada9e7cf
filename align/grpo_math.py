"""Flow-GRPO math as pure tensor functions: the SDE sampling step and its log-probability, group-relative
advantages, the clipped-ratio objective and the KL term to the reference.

Conventions are those of :mod:`.flow` (diffusers): σ runs from 1 (noise) to 0 (data), a step goes from σ to
σ_next < σ, and the transformer predicts v = ε − x0. The deterministic sampler is Euler, x' = x + (σ_next − σ)·v.

Flow-GRPO (Liu et al. 2025, arXiv 2505.05470) replaces that ODE by an SDE with the same marginals,

    dx = [v + s_σ²/(2σ)·(x + (1 − σ)·v)]·dσ + s_σ·dw,     s_σ = a·sqrt(σ / (1 − σ)),

where ``a`` is the noise level. Discretised from σ to σ_next (dσ = σ_next − σ < 0), one step is Gaussian with

    mean = x + dσ·v + s_σ²/(2σ)·dσ·(x + (1 − σ)·v),    std = s_σ·sqrt(σ − σ_next),

so every denoising step has a log-probability and the sampler is a policy. At σ = 1 the formula for s_σ divides by
zero; the first step then uses σ_next in the denominator instead (the value the grid reaches next). Everything is
computed in float32 whatever the model's dtype: bf16 loses the small differences the ratios are made of.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

__all__ = [
    "SDEStep",
    "sde_noise_std",
    "sde_step",
    "gaussian_log_prob",
    "group_advantages",
    "clipped_policy_loss",
    "gaussian_kl",
]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _per_sample(values: torch.Tensor | float, like: torch.Tensor) -> torch.Tensor:
    """A scalar or (B,) tensor viewed as (B, 1, …, 1) float32 on ``like``'s device."""
    t = torch.as_tensor(values, dtype=torch.float32, device=like.device)
    if t.ndim == 0:
        t = t.expand(like.shape[0])
    if t.shape != (like.shape[0],):
        raise ValueError(f"expected a scalar or per-sample values of shape ({like.shape[0]},), got {tuple(t.shape)}")
    return t.reshape(-1, *([1] * (like.ndim - 1)))


def sde_noise_std(sigma: torch.Tensor, sigma_next: torch.Tensor, noise_level: float) -> torch.Tensor:
    """s_σ = a·sqrt(σ / (1 − σ)); where σ = 1 the denominator uses σ_next (so the first step is finite)."""
    if noise_level < 0:
        raise ValueError(f"noise_level must be >= 0, got {noise_level}")
    sigma, sigma_next = sigma.float(), sigma_next.float()
    denominator_sigma = torch.where(sigma >= 1.0, sigma_next, sigma)
    return noise_level * torch.sqrt(sigma / (1.0 - denominator_sigma))


@dataclass
class SDEStep:
    """One SDE step: the sample drawn (or given), the Gaussian's mean and std (std broadcastable to the sample)."""

    sample: torch.Tensor
    mean: torch.Tensor
    std: torch.Tensor


def sde_step(
    x: torch.Tensor,
    velocity: torch.Tensor,
    sigma: torch.Tensor | float,
    sigma_next: torch.Tensor | float,
    noise_level: float,
    noise: torch.Tensor | None = None,
) -> SDEStep:
    """The Flow-GRPO step from σ to σ_next (both scalars or (B,)): mean and std of x_next, and
    ``sample = mean + std·noise`` (``noise`` None: the mean itself). With noise_level 0 this is the Euler step."""
    x32, v32 = x.float(), velocity.float()
    if x32.shape != v32.shape:
        raise ValueError(f"latents {tuple(x.shape)} and velocity {tuple(velocity.shape)} differ in shape")
    s = _per_sample(sigma, x32)
    s_next = _per_sample(sigma_next, x32)
    if bool((s_next >= s).any()) or bool((s <= 0).any()):
        raise ValueError("an SDE step needs 0 <= sigma_next < sigma <= 1")
    d_sigma = s_next - s
    noise_std = sde_noise_std(s, s_next, noise_level)
    mean = x32 + d_sigma * v32 + noise_std**2 / (2 * s) * d_sigma * (x32 + (1 - s) * v32)
    std = noise_std * torch.sqrt(-d_sigma)
    if noise is None:
        sample = mean
    else:
        if noise.shape != x32.shape:
            raise ValueError(f"noise {tuple(noise.shape)} must match the latents {tuple(x.shape)}")
        sample = mean + std * noise.float()
    return SDEStep(sample, mean, std)


def gaussian_log_prob(sample: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """log N(sample; mean, std²) per element, averaged over every non-batch dimension → (B,), in float32.

    The mean (not the sum) keeps log-probabilities and their ratios on the same scale for any video size, as
    Flow-GRPO does; ``sample`` is treated as data (no gradient flows into it).
    """
    std32 = std.float()
    if bool((std32 <= 0).any()):
        raise ValueError("the log-probability needs std > 0 (noise_level > 0)")
    diff = sample.detach().float() - mean.float()
    lp = -(diff**2) / (2 * std32**2) - torch.log(std32) - _HALF_LOG_2PI
    return lp.flatten(1).mean(dim=1)


def gaussian_kl(mean: torch.Tensor, ref_mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, std²) ‖ N(ref_mean, std²)) per element, averaged over the non-batch dimensions → (B,).

    Policy and reference share the step's std (it depends on σ only), so the KL is (mean − ref_mean)² / (2·std²);
    it is 0 when the policy equals the reference.
    """
    std32 = std.float()
    kl = (mean.float() - ref_mean.detach().float()) ** 2 / (2 * std32**2)
    return kl.flatten(1).mean(dim=1)


def group_advantages(
    rewards: torch.Tensor,
    groups: torch.Tensor,
    std: str = "group",
    eps: float = 1e-4,
    clip: float | None = None,
) -> torch.Tensor:
    """A_i = (r_i − mean_g(i) r) / (std + eps), over the samples of the same prompt (group).

    ``std``: ``"group"`` (the group's population std, the GRPO default) or ``"global"`` (one std over all rewards,
    which keeps groups whose samples barely differ from getting large advantages). ``clip``: clamp A to [−c, c].
    A group of one sample gets A = 0.
    """
    if std not in ("group", "global"):
        raise ValueError(f"unknown advantage std {std!r}; use 'group' or 'global'")
    r = torch.as_tensor(rewards, dtype=torch.float64)
    g = torch.as_tensor(groups).long()
    if r.ndim != 1 or g.shape != r.shape:
        raise ValueError(f"rewards {tuple(r.shape)} and groups {tuple(g.shape)} must both be (N,)")
    if r.numel() == 0:
        raise ValueError("no rewards")
    if not torch.isfinite(r).all():
        raise ValueError("rewards must be finite (a reward model returned nan or inf)")
    adv = torch.empty_like(r)
    global_std = r.std(unbiased=False)
    for gid in torch.unique(g):
        idx = g == gid
        rg = r[idx]
        scale = rg.std(unbiased=False) if std == "group" else global_std
        adv[idx] = (rg - rg.mean()) / (scale + eps)
    if clip is not None:
        if clip <= 0:
            raise ValueError(f"advantage clip must be positive, got {clip}")
        adv = adv.clamp(-clip, clip)
    return adv.float()


def clipped_policy_loss(
    log_prob: torch.Tensor, old_log_prob: torch.Tensor, advantages: torch.Tensor, clip_range: float
) -> tuple[torch.Tensor, dict[str, float]]:
    """PPO's clipped surrogate, L = mean_i max(−A_i·ρ_i, −A_i·clip(ρ_i, 1 − ε, 1 + ε)), ρ = exp(log p − log p_old).

    Returns the loss and statistics: the share of samples whose ratio left [1 − ε, 1 + ε] (``clip_frac``), the
    ratio's mean / min / max and ½·mean((log p − log p_old)²) (``approx_kl``, a drift measure).
    """
    if not log_prob.shape == old_log_prob.shape == advantages.shape or log_prob.ndim != 1:
        raise ValueError(f"log_prob {tuple(log_prob.shape)}, old_log_prob {tuple(old_log_prob.shape)} and "
                         f"advantages {tuple(advantages.shape)} must all be (B,)")
    if clip_range <= 0:
        raise ValueError(f"clip_range must be positive, got {clip_range}")
    adv = advantages.detach().float()
    log_ratio = log_prob.float() - old_log_prob.detach().float()
    ratio = torch.exp(log_ratio)
    unclipped = -adv * ratio
    clipped = -adv * torch.clamp(ratio, 1.0 - clip_range, 1.0 + clip_range)
    loss = torch.maximum(unclipped, clipped).mean()
    with torch.no_grad():
        stats = {
            "clip_frac": float(((ratio - 1.0).abs() > clip_range).float().mean()),
            "ratio_mean": float(ratio.mean()),
            "ratio_min": float(ratio.min()),
            "ratio_max": float(ratio.max()),
            "approx_kl": float(0.5 * (log_ratio**2).mean()),
        }
    return loss, stats
