"""The noisy-latent reward model: the first k blocks of a pipeline's own transformer and a small head.

    rm = LatentRewardModel.from_transformer(pipe.transformer, "wan", num_blocks=2, dimensions=("VQ", "MQ", "TA"))
    scores = rm.score_latents(x_sigma, sigma, cond)          # (B, 3), one score per dimension
    rm.save_pretrained("rm");  rm = LatentRewardModel.from_pretrained("rm")

The trunk runs the transformer's own input layers (patch embedding, time and text embedders, rotary positions) and
its first ``num_blocks`` blocks on the noisy latent x_σ, with timestep t = 1000·σ and the prompt embeddings, exactly
as the generator sees them; the weights are copied and stay trainable. The head is time-conditioned too:

    h = mean over tokens of LayerNorm(trunk(x_σ, t, prompt))        (B, D_model)
    r(x_σ, σ, prompt) = W₂·SiLU(W₁·[h, e(t)] + b₁) + b₂            (B, n_dimensions)

where e(t) is the transformer's own timestep embedding. It is a diffusers ``ModelMixin``: ``save_pretrained`` writes
``config.json`` + ``diffusion_pytorch_model.safetensors``.

Layouts. Wan's transformer takes latents (B, C, F, H, W); LTX's takes *packed* latents (B, F·H·W, C) plus the latent
frame count / height / width and the rope interpolation scale. :meth:`LatentRewardModel.forward` takes the layout of
the family's transformer (so guidance differentiates directly w.r.t. the tensor the scheduler steps, packed or not);
:meth:`score_latents` takes unpacked (B, C, F, H, W) latents for both families (training data) and packs for LTX.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn

from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin

from .flow import sigma_to_timestep

__all__ = ["LatentRewardModel", "DEFAULT_DIMENSIONS", "FAMILIES"]

DEFAULT_DIMENSIONS = ("VQ", "MQ", "TA")
FAMILIES = ("wan", "ltx")
_TRUNK_PREFIXES = {
    "wan": ("rope.", "patch_embedding.", "condition_embedder."),
    "ltx": ("rope.", "proj_in.", "time_embed.", "caption_projection."),
}
_BLOCKS = {"wan": "blocks", "ltx": "transformer_blocks"}


def _jsonable(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


class LatentRewardModel(ModelMixin, ConfigMixin):
    """A time-conditioned reward model on noisy latents (see the module docstring).

    Args:
        family: ``wan`` or ``ltx`` (which transformer the trunk comes from).
        transformer_config: the source transformer's config (``num_layers`` is replaced by ``num_blocks``).
        num_blocks: k, how many of the transformer's blocks the trunk keeps.
        dimensions: names of the scores, in output order.
        head_hidden: width of the head's hidden layer.
        layout: family layout facts needed to pack latents (LTX: patch sizes, compression ratios, frame rate).
    """

    config_name = "config.json"
    _supports_gradient_checkpointing = False

    @register_to_config
    def __init__(
        self,
        family: str = "wan",
        transformer_config: dict | None = None,
        num_blocks: int = 1,
        dimensions: Sequence[str] = DEFAULT_DIMENSIONS,
        head_hidden: int = 128,
        layout: dict | None = None,
    ) -> None:
        super().__init__()
        if family not in FAMILIES:
            raise ValueError(f"unknown family {family!r}; the latent reward model supports {', '.join(FAMILIES)}")
        if not transformer_config:
            raise ValueError("transformer_config is required (use LatentRewardModel.from_transformer)")
        if num_blocks < 1:
            raise ValueError(f"num_blocks must be >= 1, got {num_blocks}")
        if not dimensions or len(set(dimensions)) != len(dimensions):
            raise ValueError(f"dimensions must be distinct names, got {list(dimensions)}")
        self.family = family
        self.dimensions = tuple(dimensions)
        self.layout = dict(layout or {})
        cfg = {k: v for k, v in transformer_config.items() if not k.startswith("_")}
        cfg["num_layers"] = num_blocks
        if family == "wan":
            from diffusers import WanTransformer3DModel

            cfg["patch_size"] = tuple(cfg["patch_size"])
            source = WanTransformer3DModel(**cfg)
            self.rope, self.patch_embedding = source.rope, source.patch_embedding
            self.condition_embedder = source.condition_embedder
            self.blocks = source.blocks
            inner = cfg["num_attention_heads"] * cfg["attention_head_dim"]
        else:
            from diffusers import LTXVideoTransformer3DModel

            source = LTXVideoTransformer3DModel(**cfg)
            self.rope, self.proj_in = source.rope, source.proj_in
            self.time_embed, self.caption_projection = source.time_embed, source.caption_projection
            self.transformer_blocks = source.transformer_blocks
            inner = cfg["num_attention_heads"] * cfg["attention_head_dim"]
        del source  # its output layers are not part of the reward model
        self.head_norm = nn.LayerNorm(inner, elementwise_affine=False, eps=1e-6)
        self.head = nn.Sequential(nn.Linear(2 * inner, head_hidden), nn.SiLU(), nn.Linear(head_hidden, len(dimensions)))
        nn.init.zeros_(self.head[2].weight)  # every score starts at 0: no guidance before training
        nn.init.zeros_(self.head[2].bias)

    # -- construction ------------------------------------------------------------------------------------------
    @classmethod
    def from_transformer(
        cls,
        transformer: nn.Module,
        family: str,
        num_blocks: int = 1,
        dimensions: Sequence[str] = DEFAULT_DIMENSIONS,
        head_hidden: int = 128,
        layout: dict | None = None,
        seed: int = 0,
    ) -> "LatentRewardModel":
        """A reward model whose trunk is a copy of ``transformer``'s input layers and first ``num_blocks`` blocks."""
        blocks = getattr(transformer, _BLOCKS.get(family, ""), None)
        if blocks is None:
            raise ValueError(f"{type(transformer).__name__} is not a {family} transformer (no {_BLOCKS.get(family)})")
        if num_blocks > len(blocks):
            raise ValueError(f"num_blocks={num_blocks} but the transformer has only {len(blocks)} blocks")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            rm = cls(family, _jsonable(dict(transformer.config)), num_blocks, list(dimensions), head_hidden,
                     _jsonable(layout or {}))
        prefixes = _TRUNK_PREFIXES[family]
        block_prefix = _BLOCKS[family] + "."
        state = {}
        for name, tensor in transformer.state_dict().items():
            if name.startswith(prefixes) or (name.startswith(block_prefix) and int(name.split(".")[1]) < num_blocks):
                state[name] = tensor.detach().float().clone()
        missing, unexpected = rm.load_state_dict(state, strict=False)
        trunk_missing = [m for m in missing if not m.startswith(("head.", "head_norm."))]
        if trunk_missing or unexpected:
            raise ValueError(f"cannot copy the transformer's weights: missing {trunk_missing}, unexpected {unexpected}")
        return rm

    @classmethod
    def from_pipeline(cls, pipe: Any, num_blocks: int = 1, dimensions: Sequence[str] = DEFAULT_DIMENSIONS,
                      head_hidden: int = 128, seed: int = 0) -> "LatentRewardModel":
        """:meth:`from_transformer` for a Wan or LTX pipeline (the family and layout are read from it)."""
        from .models import family_for

        fam = family_for(pipe)
        layout: dict[str, Any] = {}
        if fam.name == "ltx":
            layout = {"patch_size": fam.patch_size, "patch_size_t": fam.patch_size_t,
                      "temporal_ratio": fam.temporal_ratio, "spatial_ratio": fam.spatial_ratio,
                      "frame_rate": fam.frame_rate}
        return cls.from_transformer(pipe.transformer, fam.name, num_blocks, dimensions, head_hidden, layout, seed)

    # -- forward -----------------------------------------------------------------------------------------------
    def forward(
        self,
        hidden_states: torch.Tensor,
        timestep: torch.Tensor,
        encoder_hidden_states: torch.Tensor,
        encoder_attention_mask: torch.Tensor | None = None,
        num_frames: int | None = None,
        height: int | None = None,
        width: int | None = None,
        rope_interpolation_scale: Any = None,
    ) -> torch.Tensor:
        """Scores (B, n_dimensions) for inputs in the layout of the family's transformer (t = 1000·σ)."""
        dtype = next(self.head.parameters()).dtype
        hidden_states = hidden_states.to(dtype)
        encoder_hidden_states = encoder_hidden_states.to(dtype)
        if timestep.ndim == 0:
            timestep = timestep.expand(hidden_states.shape[0])
        if self.family == "wan":
            h, temb = self._wan_trunk(hidden_states, timestep, encoder_hidden_states)
        else:
            if encoder_attention_mask is None or num_frames is None or height is None or width is None:
                raise ValueError("an LTX reward model needs encoder_attention_mask, num_frames, height and width")
            h, temb = self._ltx_trunk(hidden_states, timestep, encoder_hidden_states, encoder_attention_mask,
                                      num_frames, height, width, rope_interpolation_scale)
        pooled = self.head_norm(h).mean(dim=1)
        return self.head(torch.cat([pooled, temb.to(pooled.dtype)], dim=-1)).float()

    def _wan_trunk(self, x: torch.Tensor, timestep: torch.Tensor, text: torch.Tensor):
        rotary = self.rope(x)
        h = self.patch_embedding(x).flatten(2).transpose(1, 2).contiguous()
        temb, timestep_proj, text, _ = self.condition_embedder(timestep, text, None)
        timestep_proj = timestep_proj.unflatten(1, (6, -1))
        for block in self.blocks:
            h = block(h, text, timestep_proj, rotary)
        return h, temb

    def _ltx_trunk(self, x, timestep, text, mask, num_frames, height, width, rope_scale):
        rotary = self.rope(x, num_frames, height, width, rope_scale, None)
        bias = ((1 - mask.to(x.dtype)) * -10000.0).unsqueeze(1) if mask.ndim == 2 else mask
        b = x.shape[0]
        h = self.proj_in(x)
        temb, embedded = self.time_embed(timestep.flatten(), batch_size=b, hidden_dtype=h.dtype)
        temb = temb.view(b, -1, temb.size(-1))
        text = self.caption_projection(text).view(b, -1, h.size(-1))
        for block in self.transformer_blocks:
            h = block(hidden_states=h, encoder_hidden_states=text, temb=temb, image_rotary_emb=rotary,
                      encoder_attention_mask=bias)
        return h, embedded.view(b, -1)

    def forward_inputs(self, latents: torch.Tensor, sigma: torch.Tensor, cond: dict[str, torch.Tensor]) -> dict:
        """Keyword inputs of :meth:`forward` for unpacked latents (B, C, F, H, W) at σ (B,) (packed for LTX)."""
        if latents.ndim != 5:
            raise ValueError(f"expected unpacked latents (B, C, F, H, W), got shape {tuple(latents.shape)}")
        t = sigma_to_timestep(sigma.to(latents.device, torch.float32))
        if self.family == "wan":
            return {"hidden_states": latents, "timestep": t, "encoder_hidden_states": cond["prompt_embeds"]}
        from diffusers import LTXPipeline

        lay = self.layout
        p, pt = int(lay.get("patch_size", 1)), int(lay.get("patch_size_t", 1))
        _, _, f, h, w = latents.shape
        ratio_t, ratio_s = lay.get("temporal_ratio", 8), lay.get("spatial_ratio", 32)
        return {
            "hidden_states": LTXPipeline._pack_latents(latents, p, pt),
            "timestep": t,
            "encoder_hidden_states": cond["prompt_embeds"],
            "encoder_attention_mask": cond["prompt_attention_mask"],
            "num_frames": f // pt,
            "height": h // p,
            "width": w // p,
            "rope_interpolation_scale": (ratio_t / lay.get("frame_rate", 25.0), ratio_s, ratio_s),
        }

    def score_latents(self, latents: torch.Tensor, sigma: torch.Tensor, cond: dict[str, torch.Tensor]) -> torch.Tensor:
        """Scores (B, n_dimensions) of unpacked noisy latents (B, C, F, H, W) at noise level σ (B,)."""
        return self(**self.forward_inputs(latents, sigma, cond))

    def weighted(self, scores: torch.Tensor, weights: dict[str, float]) -> torch.Tensor:
        """Σₖ λₖ·rₖ per sample (B,) for the weights {dimension: λ} (every name must be one of ``dimensions``)."""
        unknown = sorted(set(weights) - set(self.dimensions))
        if unknown:
            raise ValueError(f"unknown reward dimension(s) {unknown}; this model scores {list(self.dimensions)}")
        lam = torch.tensor([float(weights.get(d, 0.0)) for d in self.dimensions], device=scores.device)
        return scores.float() @ lam
