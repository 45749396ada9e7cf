"""Tiny VideoReward checkpoints (built offline, once per session) and clips with real decoded frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from reward_test_helpers import TINY_OPTIONS

from videobench.rewards.base import Clip, Sampling


@pytest.fixture(scope="session")
def tiny_lora(tmp_path_factory) -> Path:
    from videobench.testing.tiny_qwen2vl import build_tiny_videoreward_checkpoint

    return build_tiny_videoreward_checkpoint(tmp_path_factory.mktemp("lora"), "lora", seed=0)


@pytest.fixture(scope="session")
def tiny_full(tmp_path_factory) -> Path:
    from videobench.testing.tiny_qwen2vl import build_tiny_videoreward_checkpoint

    return build_tiny_videoreward_checkpoint(tmp_path_factory.mktemp("full"), "full", seed=0)


@pytest.fixture(scope="session")
def tiny_truth():
    """The in-memory model the tiny checkpoints were written from (same seed)."""
    from videobench.testing.tiny_qwen2vl import make_tiny_reward_model

    return make_tiny_reward_model(0)[1]


@pytest.fixture(scope="session")
def lora_model(tiny_lora):
    from videobench.rewards.videoreward import VideoRewardModel

    return VideoRewardModel.load(str(tiny_lora), batch_size=4, **TINY_OPTIONS)


@pytest.fixture(scope="session")
def clips(tmp_path_factory) -> list[Clip]:
    """Four clips decoded from real mp4 files of different sizes and lengths."""
    from videobench.video import load_clip, write_video

    folder = tmp_path_factory.mktemp("videos")
    rng = np.random.default_rng(0)
    out = []
    for i, (t, h, w) in enumerate([(12, 48, 64), (20, 64, 48), (9, 40, 40), (16, 96, 128)]):
        base = rng.integers(0, 256, (1, h // 8, w // 8, 3))
        frames = np.repeat(np.repeat(base, 8, axis=1), 8, axis=2)
        frames = np.clip(frames + np.arange(t)[:, None, None, None] * (3 + i), 0, 255).astype(np.uint8)
        path = write_video(folder / f"clip{i}.mp4", frames, fps=8)
        out.append(load_clip(path, Sampling(fps=2.0)))
    return out


PROMPTS = ["a cat walks on the beach", "a red car at night", "mountains", "a dog runs in the snow, slow motion"]


@pytest.fixture(scope="session")
def prompts() -> list[str]:
    return list(PROMPTS)
