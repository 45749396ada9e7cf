"""One micro-batch of Flow-DPO / Flow-RWR / SFT: noise, σ, policy and reference predictions, losses.

These functions join the pure math (:mod:`.flow`, :mod:`.losses`) with a model call; they know nothing about
optimisers or processes, so the latent reward model and tests can reuse them.
"""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass
from typing import Any, Callable, ContextManager

import torch

from .flow import add_noise, per_sample_mse, sigma_to_timestep, velocity_target
from .lora import REFERENCE_ADAPTER, adapter_active, adapters_disabled
from .losses import DPOOutput, dpo_beta, flow_dpo_loss, rwr_weights, sft_loss, weighted_flow_loss

__all__ = ["Predictor", "Reference", "flow_dpo_step", "flow_weighted_step"]

#: (x_σ, timestep, conditioning) → velocity, in the layout of x_σ
Predictor = Callable[[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]], torch.Tensor]


@dataclass
class Reference:
    """The frozen reference model of Flow-DPO.

    ``mode``: ``disabled`` (the policy's own module with every adapter off), ``adapter`` (the policy's module running
    the frozen ``reference`` adapter — for training that starts from a LoRA) or ``copy`` (a separate frozen module).
    ``module`` is the *unwrapped* transformer (for ``copy``: the copy); ``family`` maps tensors to its call.
    """

    module: torch.nn.Module
    family: Any
    mode: str = "disabled"
    autocast: Callable[[], ContextManager] = contextlib.nullcontext

    def __post_init__(self) -> None:
        if self.mode not in ("disabled", "adapter", "copy"):
            raise ValueError(f"unknown reference mode {self.mode!r}")

    @classmethod
    def frozen_copy(cls, module: torch.nn.Module, family: Any, **kwargs: Any) -> "Reference":
        ref = copy.deepcopy(module).eval().requires_grad_(False)
        return cls(ref, family, "copy", **kwargs)

    def _context(self) -> ContextManager:
        if self.mode == "disabled":
            return adapters_disabled(self.module)
        if self.mode == "adapter":
            return adapter_active(self.module, REFERENCE_ADAPTER)
        return contextlib.nullcontext()

    @torch.no_grad()
    def predict(self, x: torch.Tensor, timestep: torch.Tensor, cond: dict[str, torch.Tensor]) -> torch.Tensor:
        with self._context(), self.autocast():
            return self.family.predict(self.module, x, timestep, cond)


def _check_pair_shapes(x_w: torch.Tensor, x_l: torch.Tensor, noise: torch.Tensor, sigma: torch.Tensor) -> None:
    if x_w.shape != x_l.shape:
        raise ValueError(f"winner latents {tuple(x_w.shape)} and loser latents {tuple(x_l.shape)} differ in shape: "
                         "encode both videos at the same frame count and size")
    if noise.shape != x_w.shape:
        raise ValueError(f"noise {tuple(noise.shape)} must match the latents {tuple(x_w.shape)}")
    if sigma.shape != (x_w.shape[0],):
        raise ValueError(f"sigma must have shape ({x_w.shape[0]},), got {tuple(sigma.shape)}")


def flow_dpo_step(
    policy: Predictor,
    reference: Reference | Predictor,
    x_w: torch.Tensor,
    x_l: torch.Tensor,
    cond: dict[str, torch.Tensor],
    noise: torch.Tensor,
    sigma: torch.Tensor,
    beta: float = 500.0,
    beta_schedule: str = "constant",
) -> tuple[DPOOutput, dict[str, float]]:
    """Flow-DPO on B pairs: winner and loser share ``noise`` (B, …) and ``sigma`` (B,); ``cond`` is per pair.

    Both videos go through the policy in one batch of 2B (and through the reference, without gradients).
    """
    _check_pair_shapes(x_w, x_l, noise, sigma)
    x0 = torch.cat([x_w, x_l])
    eps = torch.cat([noise, noise])
    s = torch.cat([sigma, sigma])
    x_t = add_noise(x0, eps, s)
    target = velocity_target(x0, eps)
    t = sigma_to_timestep(s)
    cond2 = {k: torch.cat([v, v]) for k, v in cond.items()}
    ref_predict = reference.predict if isinstance(reference, Reference) else reference
    with torch.no_grad():
        ref_err = per_sample_mse(ref_predict(x_t, t, cond2), target)
    err = per_sample_mse(policy(x_t, t, cond2), target)
    err_w, err_l = err.chunk(2)
    ref_w, ref_l = ref_err.chunk(2)
    out = flow_dpo_loss(err_w, err_l, ref_w, ref_l, dpo_beta(beta, sigma, beta_schedule).to(err.device))
    stats = out.stats() | {
        "err_w": float(err_w.detach().mean()),
        "err_l": float(err_l.detach().mean()),
        "ref_err_w": float(ref_w.mean()),
        "ref_err_l": float(ref_l.mean()),
        "sigma": float(sigma.mean()),
    }
    return out, stats


def flow_weighted_step(
    policy: Predictor,
    x0: torch.Tensor,
    cond: dict[str, torch.Tensor],
    noise: torch.Tensor,
    sigma: torch.Tensor,
    rewards: torch.Tensor | None = None,
    groups: torch.Tensor | None = None,
    temperature: float = 1.0,
    weighting: str = "softmax",
) -> tuple[torch.Tensor, dict[str, float]]:
    """Flow-RWR (``rewards`` given: L = mean w_i·err_i, w from :func:`rwr_weights`) or SFT (``rewards`` None)."""
    if noise.shape != x0.shape:
        raise ValueError(f"noise {tuple(noise.shape)} must match the latents {tuple(x0.shape)}")
    x_t = add_noise(x0, noise, sigma)
    err = per_sample_mse(policy(x_t, sigma_to_timestep(sigma), cond), velocity_target(x0, noise))
    stats: dict[str, float] = {"sigma": float(sigma.mean()), "err": float(err.detach().mean())}
    if rewards is None:
        loss = sft_loss(err)
    else:
        w = rwr_weights(rewards, temperature, groups, weighting).to(err.device)
        loss = weighted_flow_loss(err, w)
        stats |= {"weight_max": float(w.max()), "weight_min": float(w.min()), "reward": float(rewards.mean())}
    stats["loss"] = float(loss.detach())
    return loss, stats
