"""Shared values of the reward tests (a module with a unique name: every test folder has its own conftest)."""

from __future__ import annotations

import torch

from videobench.rewards.base import Clip

#: Frames of the tiny tests: sides become multiples of 16 (patch 8 x merge 2), at most 64x64 pixels per frame.
TINY_OPTIONS = dict(min_pixels=16 * 16 * 4, max_pixels=64 * 64)


def frames_clip(frames: torch.Tensor, name: str = "mem") -> Clip:
    return Clip(path=name, content_hash=name, frames=frames)
