"""What differs between diffusers flow-matching video pipelines: prompt encoding, VAE latents, transformer call.

Everything in training works on unpacked, VAE-normalised latents of shape (B, C, F, H, W) — the space the
pipeline's transformer denoises — and on prompt conditioning dicts of tensors. A :class:`FlowFamily` maps those to the
family's transformer call and back, so the losses never see a model-specific layout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch

__all__ = ["NotFlowMatchingError", "FlowFamily", "WanFamily", "LTXFamily", "family_for"]


class NotFlowMatchingError(ValueError):
    """The pipeline is not a flow-matching video pipeline these algorithms support."""


@dataclass
class FlowFamily:
    """Family-specific glue, built from a pipeline once (so the VAE / text encoder can be dropped afterwards)."""

    name: ClassVar[str] = ""
    pipeline_cls: type
    default_max_sequence_length: int = 512

    # -- conditioning -------------------------------------------------------------------------------------------
    @torch.no_grad()
    def encode_prompts(self, pipe: Any, prompts: list[str], max_sequence_length: int | None) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    # -- latents ------------------------------------------------------------------------------------------------
    @torch.no_grad()
    def encode_video(self, pipe: Any, video: torch.Tensor) -> torch.Tensor:
        """Pixels (B, 3, T, H, W) in [−1, 1] → normalised latents (B, C, F, h, w) (the VAE posterior's mode)."""
        raise NotImplementedError

    def final_latents(self, latents: torch.Tensor, num_frames: int, height: int, width: int) -> torch.Tensor:
        """Latents seen by a step-end callback after the last step → (B, C, F, h, w)."""
        return latents

    def latent_shape(self, num_frames: int, height: int, width: int) -> tuple[int, int, int, int]:
        raise NotImplementedError

    def _latent_stats(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The VAE's per-channel latent mean and std as (1, C, 1, 1, 1), on ``like``'s device and dtype."""
        mean = torch.tensor(self.latents_mean).view(1, -1, 1, 1, 1).to(like)
        std = torch.tensor(self.latents_std).view(1, -1, 1, 1, 1).to(like)
        return mean, std

    # -- sampling outside the pipeline (Flow-GRPO's SDE sampler) --------------------------------------------------
    def sigmas(self, pipe: Any, num_inference_steps: int, num_frames: int, height: int, width: int) -> torch.Tensor:
        """The σ grid the pipeline's own sampler uses, σ_0 = 1 … σ_N = 0, float32 (N + 1,) on the CPU."""
        import copy

        scheduler = copy.deepcopy(pipe.scheduler)  # set_timesteps mutates; leave the pipeline's scheduler alone
        scheduler.set_timesteps(num_inference_steps, **self._timestep_kwargs(pipe, num_inference_steps, num_frames,
                                                                           height, width))
        return scheduler.sigmas.detach().float().cpu()

    def _timestep_kwargs(self, pipe, num_inference_steps, num_frames, height, width) -> dict[str, Any]:
        return {}

    @torch.no_grad()
    def decode(self, pipe: Any, latents: torch.Tensor) -> Any:
        """Normalised latents (B, C, F, h, w) → frames as the pipeline returns them with ``output_type="np"``:
        floats in [0, 1], (B, T, H, W, 3)."""
        raise NotImplementedError

    # -- the transformer ----------------------------------------------------------------------------------------
    def predict(
        self, transformer: torch.nn.Module, x: torch.Tensor, timestep: torch.Tensor, cond: dict[str, torch.Tensor]
    ) -> torch.Tensor:
        """Velocity prediction v(x_σ, t, prompt) in the layout of ``x`` (B, C, F, H, W)."""
        raise NotImplementedError


@dataclass
class WanFamily(FlowFamily):
    name: ClassVar[str] = "wan"
    latents_mean: tuple[float, ...] = ()
    latents_std: tuple[float, ...] = ()
    temporal_ratio: int = 4
    spatial_ratio: int = 8
    channels: int = 16

    @classmethod
    def from_pipeline(cls, pipe: Any) -> "WanFamily":
        return cls(
            pipeline_cls=type(pipe),
            default_max_sequence_length=512,
            latents_mean=tuple(pipe.vae.config.latents_mean),
            latents_std=tuple(pipe.vae.config.latents_std),
            temporal_ratio=pipe.vae_scale_factor_temporal,
            spatial_ratio=pipe.vae_scale_factor_spatial,
            channels=pipe.transformer.config.in_channels,
        )

    @torch.no_grad()
    def encode_prompts(self, pipe, prompts, max_sequence_length=None):
        embeds, _ = pipe.encode_prompt(
            prompts,
            do_classifier_free_guidance=False,
            max_sequence_length=max_sequence_length or self.default_max_sequence_length,
            device=pipe.text_encoder.device,
        )
        return {"prompt_embeds": embeds.float().cpu()}

    @torch.no_grad()
    def encode_video(self, pipe, video):
        vae = pipe.vae
        z = vae.encode(video.to(vae.device, vae.dtype)).latent_dist.mode().float()
        mean, std = self._latent_stats(z)
        return ((z - mean) / std).cpu()  # WanPipeline decodes with z = x·std + mean

    def latent_shape(self, num_frames, height, width):
        return (self.channels, (num_frames - 1) // self.temporal_ratio + 1, height // self.spatial_ratio,
                width // self.spatial_ratio)

    @torch.no_grad()
    def decode(self, pipe, latents):
        vae = pipe.vae
        z = latents.to(vae.device, vae.dtype)
        mean, std = self._latent_stats(z)
        video = vae.decode(z * std + mean, return_dict=False)[0]
        return pipe.video_processor.postprocess_video(video, output_type="np")

    def predict(self, transformer, x, timestep, cond):
        return transformer(
            hidden_states=x, timestep=timestep, encoder_hidden_states=cond["prompt_embeds"], return_dict=False
        )[0]


@dataclass
class LTXFamily(FlowFamily):
    name: ClassVar[str] = "ltx"
    latents_mean: tuple[float, ...] = ()
    latents_std: tuple[float, ...] = ()
    scaling_factor: float = 1.0
    temporal_ratio: int = 8
    spatial_ratio: int = 32
    patch_size: int = 1
    patch_size_t: int = 1
    channels: int = 128
    frame_rate: float = 25.0

    @classmethod
    def from_pipeline(cls, pipe: Any, frame_rate: float = 25.0) -> "LTXFamily":
        return cls(
            pipeline_cls=type(pipe),
            default_max_sequence_length=128,
            latents_mean=tuple(pipe.vae.latents_mean.tolist()),
            latents_std=tuple(pipe.vae.latents_std.tolist()),
            scaling_factor=float(pipe.vae.config.scaling_factor),
            temporal_ratio=pipe.vae_temporal_compression_ratio,
            spatial_ratio=pipe.vae_spatial_compression_ratio,
            patch_size=pipe.transformer_spatial_patch_size,
            patch_size_t=pipe.transformer_temporal_patch_size,
            channels=pipe.transformer.config.in_channels,
            frame_rate=frame_rate,
        )

    @torch.no_grad()
    def encode_prompts(self, pipe, prompts, max_sequence_length=None):
        embeds, mask, _, _ = pipe.encode_prompt(
            prompts,
            do_classifier_free_guidance=False,
            max_sequence_length=max_sequence_length or self.default_max_sequence_length,
            device=pipe.text_encoder.device,
        )
        return {"prompt_embeds": embeds.float().cpu(), "prompt_attention_mask": mask.float().cpu()}

    @torch.no_grad()
    def encode_video(self, pipe, video):
        vae = pipe.vae
        z = vae.encode(video.to(vae.device, vae.dtype)).latent_dist.mode().float()
        mean, std = self._latent_stats(z)
        return ((z - mean) * self.scaling_factor / std).cpu()

    def latent_shape(self, num_frames, height, width):
        return (self.channels, (num_frames - 1) // self.temporal_ratio + 1, height // self.spatial_ratio,
                width // self.spatial_ratio)

    def _timestep_kwargs(self, pipe, num_inference_steps, num_frames, height, width):
        import numpy as np
        from diffusers.pipelines.ltx.pipeline_ltx import calculate_shift

        _, f, h, w = self.latent_shape(num_frames, height, width)
        cfg = pipe.scheduler.config  # the resolution-dependent shift LTXPipeline applies
        mu = calculate_shift(f * h * w, cfg.get("base_image_seq_len", 256), cfg.get("max_image_seq_len", 4096),
                             cfg.get("base_shift", 0.5), cfg.get("max_shift", 1.15))
        return {"sigmas": np.linspace(1.0, 1 / num_inference_steps, num_inference_steps), "mu": mu}

    @torch.no_grad()
    def decode(self, pipe, latents):
        vae = pipe.vae
        z = latents.to(vae.device, torch.float32)
        mean, std = self._latent_stats(z)
        z = (z * std / self.scaling_factor + mean).to(vae.dtype)
        # LTXPipeline's default decode: timestep 0 and no decode noise when the VAE is timestep-conditioned
        timestep = torch.zeros(z.shape[0], device=z.device, dtype=z.dtype) if vae.config.timestep_conditioning else None
        video = vae.decode(z, timestep, return_dict=False)[0]
        return pipe.video_processor.postprocess_video(video, output_type="np")

    def final_latents(self, latents, num_frames, height, width):
        _, f, h, w = self.latent_shape(num_frames, height, width)
        return self.pipeline_cls._unpack_latents(latents, f, h, w, self.patch_size, self.patch_size_t)

    def predict(self, transformer, x, timestep, cond):
        b, _, f, h, w = x.shape
        packed = self.pipeline_cls._pack_latents(x, self.patch_size, self.patch_size_t)
        out = transformer(
            hidden_states=packed,
            encoder_hidden_states=cond["prompt_embeds"],
            timestep=timestep,
            encoder_attention_mask=cond["prompt_attention_mask"],
            num_frames=f // self.patch_size_t,
            height=h // self.patch_size,
            width=w // self.patch_size,
            rope_interpolation_scale=(self.temporal_ratio / self.frame_rate, self.spatial_ratio, self.spatial_ratio),
            return_dict=False,
        )[0]
        return self.pipeline_cls._unpack_latents(out, f // self.patch_size_t, h // self.patch_size,
                                                 w // self.patch_size, self.patch_size, self.patch_size_t)


def family_for(pipe: Any) -> FlowFamily:
    """The family of a diffusers pipeline; raises :class:`NotFlowMatchingError` for anything unsupported."""
    from diffusers import FlowMatchEulerDiscreteScheduler, LTXPipeline, WanPipeline

    scheduler = getattr(pipe, "scheduler", None)
    if not isinstance(scheduler, FlowMatchEulerDiscreteScheduler):
        raise NotFlowMatchingError(
            f"{type(pipe).__name__} uses {type(scheduler).__name__}, not FlowMatchEulerDiscreteScheduler: Flow-DPO / "
            "Flow-RWR need a rectified-flow (flow-matching) pipeline such as WanPipeline or LTXPipeline"
        )
    if isinstance(pipe, WanPipeline):
        return WanFamily.from_pipeline(pipe)
    if isinstance(pipe, LTXPipeline):
        return LTXFamily.from_pipeline(pipe)
    raise NotFlowMatchingError(
        f"{type(pipe).__name__} is not supported yet; supported flow-matching pipelines: WanPipeline, LTXPipeline"
    )
