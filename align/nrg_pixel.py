"""Pixel-space reward guidance: the baseline the latent reward model exists to avoid.

At each step the predicted clean latent x̂0 = x_σ − σ·v is decoded through the VAE, a differentiable pixel reward
R(pixels) is computed, and its gradient is back-propagated through the decoder to x_σ (v held fixed, so
∂x̂0/∂x_σ = I); the velocity update is the Flow-NRG one, v' = v − w·c(σ)·∇ₓR. It needs a full VAE decode and its
backward at every step, which is why :mod:`videobench.align.nrg` uses a reward model on noisy latents instead
(``bench/nrg.py`` measures both).
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from .nrg import NRGGuidance, NRGHandle, NRGSettings, attach_guidance

__all__ = ["PIXEL_REWARDS", "PixelGuidance", "apply_pixel_guidance"]


def _brightness(video: torch.Tensor) -> torch.Tensor:
    return video.mean(dim=tuple(range(1, video.ndim)))


def _saturation(video: torch.Tensor) -> torch.Tensor:
    hi, lo = video.amax(dim=1), video.amin(dim=1)  # video (B, 3, T, H, W) in [0, 1]
    return ((hi - lo) / hi.clamp_min(1e-6)).flatten(1).mean(dim=1)


#: differentiable versions of ``align.rewards.PixelReward`` (pixels (B, 3, T, H, W) in [0, 1] → (B,))
PIXEL_REWARDS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "brightness": _brightness, "saturation": _saturation,
}


class PixelGuidance(NRGGuidance):
    """Guidance by a pixel reward through the pipeline's VAE decoder (Wan or LTX)."""

    def __init__(self, pipe: Any, family: Any, reward: Callable[[torch.Tensor], torch.Tensor],
                 settings: NRGSettings) -> None:
        self.pipe, self.family, self.reward = pipe, family, reward
        self.settings = settings
        self.calls: list[dict[str, Any]] = []
        self.history: list[dict[str, float]] = []

    def _decode(self, x0: torch.Tensor) -> torch.Tensor:
        vae, fam = self.pipe.vae, self.family
        if fam.name == "ltx":
            call = self.calls[0]
            x0 = fam.pipeline_cls._unpack_latents(x0, call["num_frames"], call["height"], call["width"],
                                                  fam.patch_size, fam.patch_size_t)
            mean = torch.tensor(fam.latents_mean).view(1, -1, 1, 1, 1).to(x0)
            std = torch.tensor(fam.latents_std).view(1, -1, 1, 1, 1).to(x0)
            z = x0 * std / fam.scaling_factor + mean
        else:
            mean = torch.tensor(fam.latents_mean).view(1, -1, 1, 1, 1).to(x0)
            std = torch.tensor(fam.latents_std).view(1, -1, 1, 1, 1).to(x0)
            z = x0 * std + mean
        video = vae.decode(z.to(vae.dtype), return_dict=False)[0]
        return ((video.float() + 1) / 2).clamp(0, 1)

    def reward_and_grad(self, sample: torch.Tensor, sigma: float, velocity: torch.Tensor):
        with torch.inference_mode(False), torch.enable_grad():
            x = sample.detach().clone().float().requires_grad_(True)
            x0 = x - sigma * velocity.detach().clone().float()
            reward = self.reward(self._decode(x0))
            (grad,) = torch.autograd.grad(reward.sum(), x)
        return reward.detach(), grad.detach()


def apply_pixel_guidance(pipe: Any, reward: str | Callable[[torch.Tensor], torch.Tensor] = "brightness",
                         w: float = 100.0, **settings: Any) -> NRGHandle:
    """Guide ``pipe`` by a pixel reward decoded through its VAE (``reward``: a name of :data:`PIXEL_REWARDS` or a
    differentiable function of pixels (B, 3, T, H, W) in [0, 1]); ``settings``: the other :class:`NRGSettings`."""
    from .models import family_for

    fn = PIXEL_REWARDS[reward] if isinstance(reward, str) else reward
    family = family_for(pipe)
    for p in pipe.vae.parameters():
        p.requires_grad_(False)
    return attach_guidance(pipe, PixelGuidance(pipe, family, fn, NRGSettings(w=w, weights={"pixel": 1.0}, **settings)))
