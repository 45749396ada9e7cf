"""Helpers for videobench.align tests (imported by name: tests/ is not a package)."""

from __future__ import annotations

import math

import torch

from videobench.align.data import LatentDataset
from videobench.align.models import family_for

def softplus(x: float) -> float:
    """−log σ(−x) in plain floats, overflow-free: the per-pair Flow-DPO loss for β/2·margin = −x."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


PROMPTS = ["a bright white light", "a dark black scene", "a red car at night"]


def random_dataset(pipe, k: int = 2, latent_fhw=(2, 4, 4), seed: int = 0, max_sequence_length: int = 16,
                   rewards: torch.Tensor | None = None) -> LatentDataset:
    """K random-latent 'videos' per prompt with real prompt embeddings; pairs = (first, last) of each prompt."""
    family = family_for(pipe)
    g = torch.Generator().manual_seed(seed)
    n = k * len(PROMPTS)
    latents = torch.randn(n, family.channels, *latent_fhw, generator=g)
    cond = family.encode_prompts(pipe, PROMPTS, max_sequence_length)
    prompt_index = torch.arange(len(PROMPTS)).repeat_interleave(k)
    pairs = torch.tensor([[i * k, i * k + k - 1] for i in range(len(PROMPTS))])
    r = rewards if rewards is not None else torch.rand(n, generator=g)
    return LatentDataset(latents, cond, prompt_index, r, prompt_index.clone(), pairs, list(PROMPTS), {"source": "test"})
