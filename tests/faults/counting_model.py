"""A reward model for the fault-injection tests: scores are a hash of (video content, prompt), so every run gives the
same numbers, and every item scored is appended to $COUNTING_LOG, so a test counts the work a run did."""

from __future__ import annotations

import hashlib
import os

import numpy as np

from videobench.rewards.base import Sampling


class Model:
    name = "counting"
    dimensions = ("VQ", "MQ", "TA")
    needs_frames = False
    sampling = Sampling()

    def fingerprint(self) -> str:
        return "tests.faults.counting.v1"

    def score(self, clips, prompts):
        with open(os.environ["COUNTING_LOG"], "a", encoding="utf-8") as log:
            log.writelines(f"{clip.content_hash} {prompt}\n" for clip, prompt in zip(clips, prompts))
        digests = [hashlib.sha256(f"{clip.content_hash}|{prompt}".encode()).digest() for clip, prompt in zip(clips, prompts)]
        return {d: np.array([h[i] / 255.0 for h in digests]) for i, d in enumerate(self.dimensions)}
