"""Helpers for the Flow-NRG tests (imported by name: tests/ is not a package)."""

from __future__ import annotations

#: the sampling settings of the trained-model tests: 5 frames at 16×16 (latents 16×2×2×2), no CFG
RENDER = dict(num_frames=5, height=16, width=16, max_sequence_length=16)

WORDS = "cat dog car light scene bird sky rain city night beach moon horse fox waves flowers".split()


def prompts(n: int, offset: int = 0) -> list[str]:
    """n distinct three-word prompts from the tiny tokenizer's corpus."""
    return [f"a {WORDS[i % 16]} {WORDS[(3 * i + 1) % 16]} {WORDS[(7 * i + 2) % 16]} {i}" for i in range(offset, offset + n)]


