"""Shared values of the reward tests (a module with a unique name: every test folder has its own conftest)."""

from __future__ import annotations

import torch

from videobench.rewards.base import Clip

#: The tiny tests' frames: VideoAlign's floor (128*28*28) would scale every small clip up to 336x336; a floor of
#: 56x56 keeps them small (the checkpoint's budget, 64x64, then brings larger frames down to 56x56 or 28x56).
TINY_OPTIONS = dict(min_pixels=56 * 56)


def frames_clip(frames: torch.Tensor, name: str = "mem") -> Clip:
    return Clip(path=name, content_hash=name, frames=frames)
