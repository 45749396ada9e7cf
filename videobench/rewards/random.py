"""``random[:SEED]``: a chance-level baseline whose score of a video depends only on the video and the seed.

Each (content hash, seed, dimension) seeds its own N(0, 1) draw, so scores do not depend on batch order or size, and
two runs agree exactly. ``Overall`` is left to the evaluator (it is not the sum of independent noises).
"""

from __future__ import annotations

import hashlib
from typing import Sequence

import numpy as np

from videobench.rewards.base import Clip, Sampling


class RandomReward:
    needs_frames = False

    def __init__(self, seed: int = 0, dimensions: Sequence[str] = ("VQ", "MQ", "TA"), name: str | None = None) -> None:
        self.seed = int(seed)
        self.dimensions = tuple(dimensions)
        if not self.dimensions:
            raise ValueError("RandomReward needs at least one dimension")
        self.name = name or f"random:{self.seed}"
        self.sampling = Sampling()

    def fingerprint(self) -> str:
        return f"random-v1:seed={self.seed}:dims={','.join(self.dimensions)}"

    def _draw(self, content_hash: str, dimension: str) -> float:
        key = f"{self.seed}\0{dimension}\0{content_hash}".encode()
        entropy = int.from_bytes(hashlib.sha256(key).digest()[:16], "little")
        return float(np.random.default_rng(entropy).standard_normal())

    def score(self, clips: Sequence[Clip], prompts: Sequence[str]) -> dict[str, np.ndarray]:
        if len(clips) != len(prompts):
            raise ValueError(f"got {len(clips)} clips but {len(prompts)} prompts")
        return {
            dim: np.array([self._draw(c.content_hash, dim) for c in clips], dtype=np.float64) for dim in self.dimensions
        }
