"""Fake reward models for the scoring tests: deterministic scores, and a log of every item they were asked to score."""

from __future__ import annotations

import hashlib
import time
from typing import Sequence

import numpy as np

from videobench.rewards.base import Clip, Sampling

DIMS = ("VQ", "MQ", "TA", "Overall")


def item_score(content_hash: str, prompt: str, dim: str, salt: str = "") -> float:
    digest = hashlib.sha256(f"{salt}|{content_hash}|{prompt}|{dim}".encode()).digest()
    return int.from_bytes(digest[:4], "little") / 2**32


class CountingModel:
    """needs_frames=False: scores from the content hash and prompt; ``calls`` lists every (hash, prompt) scored."""

    needs_frames = False

    def __init__(self, name: str = "counting", salt: str = "", sampling: Sampling = Sampling(), delay_s: float = 0.0,
                 dimensions: tuple[str, ...] = DIMS, log_path: str | None = None) -> None:
        self.name, self.salt, self.sampling, self.delay_s = name, salt, sampling, delay_s
        self.dimensions = dimensions
        self.calls: list[tuple[str, str]] = []
        self.batches: list[int] = []
        self.log_path = log_path

    def fingerprint(self) -> str:
        return f"counting-v1-{self.salt}"

    def score(self, clips: Sequence[Clip], prompts: Sequence[str]) -> dict[str, np.ndarray]:
        if self.delay_s:
            time.sleep(self.delay_s)
        self.batches.append(len(clips))
        for clip, prompt in zip(clips, prompts):
            assert clip.frames is None
            self.calls.append((clip.content_hash, prompt))
        if self.log_path:
            with open(self.log_path, "a") as f:
                f.write("".join(f"{c.content_hash}\t{p}\n" for c, p in zip(clips, prompts)))
        pairs = list(zip(clips, prompts))
        return {d: np.array([item_score(c.content_hash, p, d, self.salt) for c, p in pairs]) for d in self.dimensions}


class PixelModel:
    """needs_frames=True: mean pixel value (VQ) and mean absolute frame difference (MQ) of the decoded clip."""

    needs_frames = True
    dimensions = ("VQ", "MQ")

    def __init__(self, name: str = "pixel", sampling: Sampling = Sampling(fps=2.0), delay_s: float = 0.0) -> None:
        self.name, self.sampling, self.delay_s = name, sampling, delay_s
        self.calls: list[tuple[str, str]] = []
        self.frame_counts: list[int] = []

    def fingerprint(self) -> str:
        return "pixel-v1"

    def score(self, clips: Sequence[Clip], prompts: Sequence[str]) -> dict[str, np.ndarray]:
        if self.delay_s:
            time.sleep(self.delay_s)
        vq, mq = [], []
        for clip, prompt in zip(clips, prompts):
            self.calls.append((clip.content_hash, prompt))
            frames = clip.frames.float()
            self.frame_counts.append(int(frames.shape[0]))
            vq.append(float(frames.mean()))
            mq.append(float((frames[1:] - frames[:-1]).abs().mean()) if frames.shape[0] > 1 else 0.0)
        return {"VQ": np.array(vq), "MQ": np.array(mq)}


class CountingIO:
    """Wraps a VideoIO and counts decodes per (path, sampling); optional per-decode delay to simulate slow I/O."""

    def __init__(self, inner, delay_s: float = 0.0) -> None:
        self.inner, self.delay_s = inner, delay_s
        self.loads: list[tuple[str, str]] = []

    def probe(self, path):
        return self.inner.probe(path)

    def content_hash(self, path):
        return self.inner.content_hash(path)

    def load_clip(self, path, sampling, content_hash):
        if self.delay_s:
            time.sleep(self.delay_s)
        self.loads.append((str(path), sampling.key()))
        return self.inner.load_clip(path, sampling, content_hash)


class HeaderOnlyIO:
    """A VideoIO for models that need no frames, without importing torch: probe with PyAV, hash with hashlib.

    Subprocess tests use it so that each process starts in a fraction of a second instead of importing torch.
    """

    def probe(self, path):
        import av

        try:
            with av.open(str(path)) as container:
                stream = container.streams.video[0]
                return type("Info", (), {"total_frames": stream.frames, "fps": float(stream.average_rate or 0)})()
        except (av.FFmpegError, IndexError) as exc:
            raise ValueError(f"{path}: {exc}") from None

    def content_hash(self, path):
        return "light:" + hashlib.sha256(open(path, "rb").read()).hexdigest()

    def load_clip(self, path, sampling, content_hash):
        raise AssertionError("HeaderOnlyIO cannot decode frames")


class CountingPairJudge:
    """A pairwise judge (needs_frames=False): +1 when the first-shown video's hash-derived score beats the second's,
    else -1; ``calls`` lists every (first hash, second hash, prompt) asked."""

    needs_frames = False
    pairwise = True
    dimensions = ("Overall",)

    def __init__(self, name: str = "pair-judge") -> None:
        self.name, self.sampling = name, Sampling()
        self.calls: list[tuple[str, str, str]] = []

    def fingerprint(self) -> str:
        return "counting-pair-judge-v1"

    def judge_pairs(self, first: Sequence[Clip], second: Sequence[Clip], prompts: Sequence[str]) -> dict[str, np.ndarray]:
        self.calls += [(a.content_hash, b.content_hash, p) for a, b, p in zip(first, second, prompts)]
        return {"Overall": np.array([1.0 if item_score(a.content_hash, p, "Overall") > item_score(b.content_hash, p,
                                                                                               "Overall") else -1.0
                                     for a, b, p in zip(first, second, prompts)])}
