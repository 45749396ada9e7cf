"""Flow-NRG: reward-guided sampling of a flow-matching video pipeline with a noisy-latent reward model.

    from videobench.align.nrg import apply_nrg
    handle = apply_nrg(pipe, "path/to/latent-rm", w=100, weights={"VQ": 0.5, "MQ": 0.5})
    video = pipe("a cat", num_inference_steps=50).frames[0]     # guided
    handle.remove()                                             # the stock pipeline again

The guidance (derived here, in the diffusers convention of :mod:`videobench.align.flow`). With
x_σ = (1 − σ)·x0 + σ·ε the transformer predicts v ≈ E[ε − x0 | x_σ]; solving x_σ = (1 − σ)·x̂0 + σ·ε̂ for ε̂ gives

    ε̂ = x_σ + (1 − σ)·v           and the score   ∇ log p_σ(x_σ) = −ε̂ / σ.

Tilting the noisy distribution by the reward, p'_σ ∝ p_σ · exp(w·R) with R = Σₖ λₖ·rₖ(x_σ, σ, prompt), adds w·∇ₓR to
the score, i.e. ε̂' = ε̂ − σ·w·∇ₓR, and mapping back through v = (ε̂ − x_σ) / (1 − σ):

    v' = v − w · σ/(1 − σ) · ∇ₓ Σₖ λₖ rₖ(x_σ, σ, prompt)            (applied after classifier-free guidance)

Sign: ``FlowMatchEulerDiscreteScheduler`` steps x ← x + (σ_next − σ)·v with σ_next < σ, so x moves by
+(σ − σ_next)·w·c(σ)·∇ₓR — up the reward — and the predicted clean sample x̂0 = x − σ·v' moves by +σ·w·c(σ)·∇ₓR.
Safeguards: c(σ) = min(σ/(1 − σ), ``max_factor``) (σ → 1 would blow up), no guidance outside the σ window
[``sigma_min``, ``sigma_max``], and each sample's gradient rescaled to an L2 norm of at most ``max_grad_norm``.

Mechanics. The velocity is only visible inside the scheduler (the step-end callback runs after the step), so
:func:`apply_nrg` swaps the pipeline's scheduler for :class:`NRGFlowMatchScheduler` (same config, same arithmetic)
and puts a forward pre-hook on the transformer that records its keyword inputs, from which the guidance takes the
positive prompt's conditioning: Wan calls the transformer for the conditional branch first; LTX batches
[unconditional, conditional] (2B rows) in one call. With w = 0 (or outside the σ window) the scheduler calls the
stock ``step`` with the unchanged velocity, so the output is bit-identical to the unguided pipeline.

LTX latents are packed (B, tokens, C) in the scheduler; the LTX reward model takes the packed form with the recorded
frame count / height / width / rope scale, so the gradient is taken directly w.r.t. the tensor the scheduler steps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import torch
from diffusers import FlowMatchEulerDiscreteScheduler

from .flow import sigma_to_timestep
from .latent_rm import LatentRewardModel

__all__ = [
    "NRGSettings",
    "NRGGuidance",
    "NRGFlowMatchScheduler",
    "apply_nrg",
    "remove_nrg",
    "attach_guidance",
    "parse_weights",
    "guidance_factor",
    "clip_per_sample",
    "nrg_velocity",
]


# ---------------------------------------------------------------------------------------------------------------
# pure tensor functions
# ---------------------------------------------------------------------------------------------------------------
def guidance_factor(sigma: float, max_factor: float) -> float:
    """c(σ) = min(σ / (1 − σ), max_factor); ``max_factor`` at σ = 1."""
    if max_factor < 0:
        raise ValueError(f"max_factor must be >= 0, got {max_factor}")
    if sigma >= 1.0:
        return float(max_factor)
    return float(min(sigma / (1.0 - sigma), max_factor))


def clip_per_sample(grad: torch.Tensor, max_norm: float | None) -> torch.Tensor:
    """g_i ← g_i · min(1, max_norm / ‖g_i‖₂) for every sample i of the batch (dimension 0); None: unchanged."""
    if max_norm is None:
        return grad
    if max_norm <= 0:
        raise ValueError(f"max_grad_norm must be positive, got {max_norm}")
    norms = grad.flatten(1).norm(dim=1).clamp_min(1e-12)
    scale = (max_norm / norms).clamp(max=1.0)
    return grad * scale.view(-1, *([1] * (grad.ndim - 1))).to(grad.dtype)


def nrg_velocity(v: torch.Tensor, grad: torch.Tensor, sigma: float, w: float, max_factor: float = 50.0,
                 max_grad_norm: float | None = None) -> torch.Tensor:
    """v' = v − w · c(σ) · clip(∇ₓR): the Flow-NRG velocity (see the module docstring for the derivation)."""
    if v.shape != grad.shape:
        raise ValueError(f"velocity {tuple(v.shape)} and reward gradient {tuple(grad.shape)} differ in shape")
    c = guidance_factor(sigma, max_factor)
    return v - (w * c) * clip_per_sample(grad, max_grad_norm).to(v.dtype)


def parse_weights(text: str | Mapping[str, float] | None) -> dict[str, float]:
    """``VQ=0.1,MQ=0.1,TA=0.8`` (or ``VQ:0.5,MQ:0.5``, or a mapping) → {dimension: λ}."""
    if text is None:
        return {}
    if isinstance(text, Mapping):
        return {str(k): float(v) for k, v in text.items()}
    out: dict[str, float] = {}
    for item in str(text).split(","):
        item = item.strip()
        if not item:
            continue
        sep = "=" if "=" in item else ":"
        name, ok, value = item.partition(sep)
        if not ok or not name.strip():
            raise ValueError(f"weights: {item!r} is not DIM=VALUE (e.g. VQ=0.1,MQ=0.1,TA=0.8)")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise ValueError(f"weights: {value!r} (for {name.strip()}) is not a number") from None
        if not math.isfinite(out[name.strip()]):
            raise ValueError(f"weights: {name.strip()} must be finite")
    return out


# ---------------------------------------------------------------------------------------------------------------
# the guidance
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class NRGSettings:
    #: guidance strength w (the paper used 100); 0 disables guidance
    w: float = 100.0
    #: λ per reward dimension; dimensions left out get 0
    weights: dict[str, float] = field(default_factory=dict)
    #: guide only where sigma_min <= σ <= sigma_max
    sigma_min: float = 0.0
    sigma_max: float = 1.0
    #: c(σ) = min(σ/(1 − σ), max_factor)
    max_factor: float = 50.0
    #: per-sample L2 norm cap of ∇ₓR (None: no clipping)
    max_grad_norm: float | None = None

    def __post_init__(self) -> None:
        self.weights = parse_weights(self.weights)
        if not math.isfinite(self.w):
            raise ValueError(f"w must be finite, got {self.w}")
        if not 0.0 <= self.sigma_min <= self.sigma_max <= 1.0:
            raise ValueError(f"need 0 <= sigma_min <= sigma_max <= 1, got {self.sigma_min}, {self.sigma_max}")
        if self.max_factor < 0:
            raise ValueError(f"max_factor must be >= 0, got {self.max_factor}")
        if self.max_grad_norm is not None and self.max_grad_norm <= 0:
            raise ValueError(f"max_grad_norm must be positive, got {self.max_grad_norm}")

    def active(self, sigma: float) -> bool:
        return self.w != 0 and any(self.weights.values()) and self.sigma_min <= sigma <= self.sigma_max


class NRGGuidance:
    """The reward model, the settings and the conditioning recorded from the transformer's last calls."""

    def __init__(self, reward_model: LatentRewardModel, settings: NRGSettings) -> None:
        unknown = sorted(set(settings.weights) - set(reward_model.dimensions))
        if unknown:
            raise ValueError(f"weights name unknown dimension(s) {unknown}; the reward model scores "
                             f"{list(reward_model.dimensions)}")
        self.model = reward_model.eval().requires_grad_(False)
        self.settings = settings
        self.calls: list[dict[str, Any]] = []
        #: one entry per guided step: σ, c(σ), mean reward R and mean gradient norm (before clipping)
        self.history: list[dict[str, float]] = []

    # the transformer's forward pre-hook: remember its keyword inputs (nothing is changed)
    def record(self, _module: torch.nn.Module, _args: tuple, kwargs: dict[str, Any]) -> None:
        self.calls.append(kwargs)

    def _conditioning(self, batch: int) -> dict[str, Any]:
        if not self.calls:
            raise RuntimeError("Flow-NRG saw no transformer call before the scheduler step: the pipeline must call "
                               "its transformer with keyword arguments (Wan and LTX pipelines do)")
        first = self.calls[0]
        text = first.get("encoder_hidden_states")
        if text is None:
            raise RuntimeError("Flow-NRG: the transformer was called without encoder_hidden_states")
        rows = slice(None) if text.shape[0] == batch else slice(text.shape[0] - batch, None)
        if text.shape[0] not in (batch, 2 * batch):
            raise RuntimeError(f"Flow-NRG: prompt batch {text.shape[0]} does not match the latent batch {batch}")
        out: dict[str, Any] = {"encoder_hidden_states": text[rows]}
        mask = first.get("encoder_attention_mask")
        if mask is not None:
            out["encoder_attention_mask"] = mask[rows]
        for key in ("num_frames", "height", "width", "rope_interpolation_scale"):
            if key in first:
                out[key] = first[key]
        return out

    def reward_and_grad(self, sample: torch.Tensor, sigma: float, velocity: torch.Tensor
                        ) -> tuple[torch.Tensor, torch.Tensor]:
        """R = Σₖ λₖ rₖ(x, σ, prompt) per sample (B,) and ∇ₓR (shape of ``sample``), at the scheduler's x.

        ``velocity`` is unused here (the latent model scores x_σ itself); pixel-space guidance needs it for x̂0.
        """
        cond = self._conditioning(sample.shape[0])
        device = next(self.model.parameters()).device
        # the pipeline may run under inference_mode / no_grad: differentiate on fresh, normal tensors
        with torch.inference_mode(False), torch.enable_grad():
            x = sample.detach().clone().to(device).requires_grad_(True)
            cond = {k: (v.detach().clone().to(device) if torch.is_tensor(v) else v) for k, v in cond.items()}
            t = sigma_to_timestep(torch.full((x.shape[0],), float(sigma), device=device))
            scores = self.model(x, t, **cond)
            reward = self.model.weighted(scores, self.settings.weights)
            (grad,) = torch.autograd.grad(reward.sum(), x)
        return reward.detach(), grad.detach().to(sample.device)

    def guide(self, v: torch.Tensor, sample: torch.Tensor, sigma: float) -> torch.Tensor:
        s = self.settings
        reward, grad = self.reward_and_grad(sample, sigma, v)
        self.history.append({"sigma": float(sigma), "factor": guidance_factor(sigma, s.max_factor),
                             "reward": float(reward.mean()), "grad_norm": float(grad.flatten(1).norm(dim=1).mean())})
        with torch.inference_mode(False):
            guided = nrg_velocity(v.detach().clone(), grad.to(v.dtype), sigma, s.w, s.max_factor, s.max_grad_norm)
        return guided


class NRGFlowMatchScheduler(FlowMatchEulerDiscreteScheduler):
    """``FlowMatchEulerDiscreteScheduler`` whose ``step`` first applies Flow-NRG to the (post-CFG) velocity.

    Without a guidance attached (``nrg is None``), with w = 0, or outside the σ window it is the stock scheduler.
    """

    nrg: NRGGuidance | None = None

    def step(self, model_output: torch.Tensor, timestep: Any, sample: torch.Tensor, *args: Any, **kwargs: Any):
        guidance = self.nrg
        if guidance is not None:
            if self.step_index is None:
                self._init_step_index(timestep)
            sigma = float(self.sigmas[self.step_index])
            if guidance.settings.active(sigma):
                model_output = guidance.guide(model_output, sample, sigma)
            guidance.calls.clear()
        return super().step(model_output, timestep, sample, *args, **kwargs)


# ---------------------------------------------------------------------------------------------------------------
# attaching to a pipeline
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class NRGHandle:
    """What :func:`apply_nrg` changed; ``remove()`` restores the stock pipeline."""

    pipe: Any
    guidance: NRGGuidance
    original_scheduler: Any
    hooks: list[Any]

    @property
    def settings(self) -> NRGSettings:
        return self.guidance.settings

    def remove(self) -> None:
        for hook in self.hooks:
            hook.remove()
        self.hooks.clear()
        self.pipe.scheduler = self.original_scheduler
        if getattr(self.pipe, "_videobench_nrg", None) is self:
            del self.pipe._videobench_nrg


def apply_nrg(
    pipe: Any,
    reward_model: LatentRewardModel | str | Path,
    w: float = 100.0,
    weights: Mapping[str, float] | str | None = None,
    sigma_min: float = 0.0,
    sigma_max: float = 1.0,
    max_factor: float = 50.0,
    max_grad_norm: float | None = None,
    dtype: torch.dtype | None = None,
) -> NRGHandle:
    """Make ``pipe`` (WanPipeline or LTXPipeline) sample with Flow-NRG; returns a handle whose ``remove()`` undoes it.

    ``reward_model``: a :class:`LatentRewardModel` or a folder written by its ``save_pretrained`` (trained for this
    pipeline's transformer). ``weights``: λ per dimension (``"VQ=0.5,MQ=0.5"`` or a dict); default: 1 for every
    dimension of the model. Applying twice replaces the first guidance.
    """
    from .models import family_for

    family = family_for(pipe)  # raises NotFlowMatchingError for anything else
    if not isinstance(reward_model, LatentRewardModel):
        folder = Path(reward_model).expanduser()
        if not (folder / "config.json").is_file():
            raise FileNotFoundError(f"{folder} is not a latent reward model folder (no config.json); train one with "
                                    "`videobench align latent-rm`")
        reward_model = LatentRewardModel.from_pretrained(str(folder))
    if reward_model.family != family.name:
        raise ValueError(f"the reward model was built from a {reward_model.family} transformer, the pipeline is "
                         f"{family.name}")
    expected = reward_model.config.transformer_config.get("in_channels")
    if expected is not None and expected != pipe.transformer.config.in_channels:
        raise ValueError(f"the reward model takes {expected} latent channels, the pipeline's transformer "
                         f"{pipe.transformer.config.in_channels}: it was trained for another model")
    lam = parse_weights(weights) if weights else {d: 1.0 for d in reward_model.dimensions}
    settings = NRGSettings(float(w), lam, sigma_min, sigma_max, max_factor, max_grad_norm)
    device = pipe.transformer.device
    reward_model = reward_model.to(device=device, dtype=dtype) if dtype else reward_model.to(device)
    return attach_guidance(pipe, NRGGuidance(reward_model, settings))


def attach_guidance(pipe: Any, guidance: NRGGuidance) -> NRGHandle:
    """Swap in :class:`NRGFlowMatchScheduler` driven by ``guidance`` and hook the transformer(s) (replaces any
    earlier guidance of this pipeline)."""
    previous = getattr(pipe, "_videobench_nrg", None)
    if previous is not None:
        previous.remove()
    original = pipe.scheduler
    if not isinstance(original, FlowMatchEulerDiscreteScheduler):
        raise TypeError(f"Flow-NRG needs a FlowMatchEulerDiscreteScheduler, the pipeline has {type(original).__name__}")
    scheduler = NRGFlowMatchScheduler.from_config(original.config)
    scheduler.nrg = guidance
    pipe.scheduler = scheduler
    hooks = [m.register_forward_pre_hook(guidance.record, with_kwargs=True)
             for m in (pipe.transformer, getattr(pipe, "transformer_2", None)) if m is not None]
    handle = NRGHandle(pipe, guidance, original, hooks)
    pipe._videobench_nrg = handle
    return handle


def remove_nrg(pipe: Any) -> None:
    """Undo :func:`apply_nrg` (no-op when the pipeline is not guided)."""
    handle = getattr(pipe, "_videobench_nrg", None)
    if handle is not None:
        handle.remove()
