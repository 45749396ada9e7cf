"""Helpers for the Flow-NRG tests (imported by name: tests/ is not a package)."""

from __future__ import annotations

import torch

#: the sampling settings of the trained-model tests: 5 frames at 16×16 (latents 16×2×2×2), no CFG
RENDER = dict(num_frames=5, height=16, width=16, max_sequence_length=16)

WORDS = "cat dog car light scene bird sky rain city night beach moon horse fox waves flowers".split()


def prompts(n: int, offset: int = 0) -> list[str]:
    """n distinct three-word prompts from the tiny tokenizer's corpus."""
    return [f"a {WORDS[i % 16]} {WORDS[(3 * i + 1) % 16]} {WORDS[(7 * i + 2) % 16]} {i}" for i in range(offset, offset + n)]


def make_decoder_informative(pipe, gain: float = 100.0):
    """Make the random tiny VAE decoder respond to its latents the way a trained one does.

    A randomly initialised decoder maps every latent to nearly the same video: its normalisation layers wash the
    latent out (the mean brightness of tiny-Wan samples varies by ~1e-4 across seeds, below uint8 resolution), so
    no pixel reward could be learned or steered. Zeroing each residual branch's last convolution and the attention
    projection, dropping the output norm and activation, and scaling the input convolution by ``gain`` leaves a
    linear decoder whose pixel statistics move by a few uint8 levels with the latent. Returns ``pipe``.
    """
    dec = pipe.vae.decoder
    with torch.no_grad():
        for name, module in dec.named_modules():
            if name.endswith("conv2") or name.endswith(".proj"):
                for p in module.parameters():
                    p.zero_()
        conv_in = dec.conv_in.conv if hasattr(dec.conv_in, "conv") else dec.conv_in
        conv_in.weight.mul_(gain)
    dec.norm_out = torch.nn.Identity()
    for attr in ("nonlinearity", "conv_act"):
        if hasattr(dec, attr):
            setattr(dec, attr, torch.nn.Identity())
    return pipe
