"""Rectified-flow math in the diffusers convention (pure tensor functions, no model code).

A clean latent ``x0`` and Gaussian noise ``eps`` are joined along a straight line indexed by σ ∈ [0, 1]:

    x_σ = (1 − σ)·x0 + σ·eps          (σ = 0: data, σ = 1: noise)
    v   = dx_σ/dσ = eps − x0          (the velocity a flow-matching transformer predicts)
    t   = 1000·σ                      (the ``timestep`` diffusers' Wan / LTX transformers take)

``FlowMatchEulerDiscreteScheduler`` integrates x ← x + (σ_next − σ)·v, so a model trained on this target samples with
the stock pipelines. σ for training is drawn by an explicit :class:`SigmaSampler` (never read from a live scheduler).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch

__all__ = [
    "SigmaSampler",
    "add_noise",
    "velocity_target",
    "sigma_to_timestep",
    "shift_sigma",
    "per_sample_mse",
    "broadcast_to",
]


def broadcast_to(values: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """View per-sample values of shape (B,) as (B, 1, …, 1) so they broadcast against ``like`` (B, …)."""
    if values.ndim != 1 or values.shape[0] != like.shape[0]:
        raise ValueError(f"expected per-sample values of shape ({like.shape[0]},), got {tuple(values.shape)}")
    return values.reshape(-1, *([1] * (like.ndim - 1))).to(like.dtype)


def add_noise(x0: torch.Tensor, noise: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """x_σ = (1 − σ)·x0 + σ·ε, with σ of shape (B,) broadcast over the other dimensions."""
    if x0.shape != noise.shape:
        raise ValueError(f"latents {tuple(x0.shape)} and noise {tuple(noise.shape)} must have the same shape")
    s = broadcast_to(sigma, x0)
    return (1 - s) * x0 + s * noise


def velocity_target(x0: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """v = ε − x0: the flow-matching regression target."""
    return noise - x0


def sigma_to_timestep(sigma: torch.Tensor) -> torch.Tensor:
    """t = 1000·σ, the timestep value the diffusers flow transformers were trained with."""
    return sigma * 1000.0


def shift_sigma(sigma: torch.Tensor, shift: float) -> torch.Tensor:
    """σ' = s·σ / (1 + (s − 1)·σ): the resolution shift (s > 1 moves mass towards noise; s = 1 is the identity)."""
    if shift <= 0:
        raise ValueError(f"shift must be positive, got {shift}")
    return shift * sigma / (1 + (shift - 1) * sigma)


def per_sample_mse(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """err_i = mean over all non-batch dimensions of (prediction − target)², shape (B,).

    The mean (not the sum) makes err independent of the video size; β in Flow-DPO multiplies err, so its useful
    range depends on this reduction (the paper's β = 500 is for this per-element mean).
    """
    if prediction.shape != target.shape:
        raise ValueError(f"prediction {tuple(prediction.shape)} and target {tuple(target.shape)} differ in shape")
    return (prediction.float() - target.float()).pow(2).flatten(1).mean(dim=1)


@dataclass(frozen=True)
class SigmaSampler:
    """How training σ is drawn, then shifted.

    - ``uniform``: σ ~ U(σ_min, σ_max)
    - ``logit_normal``: σ = sigmoid(u), u ~ N(mean, std) (SD3's choice), clamped to [σ_min, σ_max]
    then σ ← shift_sigma(σ, shift) (``shift = 1``: no shift).
    """

    kind: Literal["uniform", "logit_normal"] = "uniform"
    mean: float = 0.0
    std: float = 1.0
    shift: float = 1.0
    sigma_min: float = 0.0
    sigma_max: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in ("uniform", "logit_normal"):
            raise ValueError(f"unknown sigma sampler {self.kind!r}; use 'uniform' or 'logit_normal'")
        if not 0.0 <= self.sigma_min < self.sigma_max <= 1.0:
            raise ValueError(f"need 0 <= sigma_min < sigma_max <= 1, got {self.sigma_min}, {self.sigma_max}")
        if self.std <= 0 or self.shift <= 0:
            raise ValueError("std and shift must be positive")

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n values of σ (float32, on the CPU; move them where needed)."""
        if self.kind == "uniform":
            u = torch.rand(n, generator=generator)
            sigma = self.sigma_min + (self.sigma_max - self.sigma_min) * u
        else:
            u = torch.randn(n, generator=generator) * self.std + self.mean
            sigma = torch.sigmoid(u).clamp(self.sigma_min, self.sigma_max)
        return shift_sigma(sigma, self.shift) if not math.isclose(self.shift, 1.0) else sigma
