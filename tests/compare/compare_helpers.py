"""Helpers for compare tests: a pixel reward and a blurring modifier (registered as ``+blur:K`` on import)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Sequence

import numpy as np

from videobench.compare.modifiers import register_modifier
from videobench.compare.spec import Part
from videobench.rewards.base import Clip, Sampling

# Small renders keep every test fast: 5 frames of 32x32 in 2 steps.
TINY = "?steps=2&height=32&width=32&num_frames=5&fps=8"


class SharpnessReward:
    """VQ: mean |Laplacian| of the grey frames (sharpness); MQ: minus the spread of frame-to-frame change."""

    name = "sharpness"
    dimensions = ("VQ", "MQ")
    sampling = Sampling(fps=None, num_frames=4)
    needs_frames = True

    def fingerprint(self) -> str:
        return hashlib.sha256(b"tests.compare.SharpnessReward.v1").hexdigest()[:16]

    def score(self, clips: Sequence[Clip], prompts: Sequence[str]) -> dict[str, np.ndarray]:
        vq, mq = [], []
        for clip in clips:
            x = np.asarray(clip.frames, dtype=np.float64).mean(axis=-1)  # (T, H, W)
            lap = 4 * x[:, 1:-1, 1:-1] - x[:, :-2, 1:-1] - x[:, 2:, 1:-1] - x[:, 1:-1, :-2] - x[:, 1:-1, 2:]
            vq.append(np.abs(lap).mean())
            diff = np.abs(np.diff(x, axis=0)).mean(axis=(1, 2)) if len(x) > 1 else np.zeros(1)
            mq.append(-diff.std())
        return {"VQ": np.asarray(vq), "MQ": np.asarray(mq)}


def box_blur(frames: np.ndarray, k: int) -> np.ndarray:
    """k x k box blur of uint8 frames (T, H, W, 3), edges replicated."""
    x = frames.astype(np.float64)
    pad = k // 2
    p = np.pad(x, ((0, 0), (pad, k - 1 - pad), (pad, k - 1 - pad), (0, 0)), mode="edge")
    out = np.zeros_like(x)
    for dy in range(k):
        for dx in range(k):
            out += p[:, dy:dy + x.shape[1], dx:dx + x.shape[2]]
    return np.clip(out / (k * k), 0, 255).round().astype(np.uint8)


class BlurModifier:
    """``+blur:K``: a wrapper that degrades the pipeline's frames with a K x K box blur (tests only)."""

    options = ()

    def fingerprint(self, part: Part) -> str:
        return f"blur{int(part.target)}"

    def apply(self, generator, part: Part) -> None:
        k = int(part.target)
        generator.postprocess.append(lambda frames: box_blur(frames, k))


register_modifier("blur", BlurModifier())


