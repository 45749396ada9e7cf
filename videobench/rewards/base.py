"""The contract every reward model adapter fulfils.

The scoring engine decodes each unique video once per ``Sampling`` (models with equal sampling share the decoded
frames), then calls ``RewardModel.score`` on batches of ``Clip`` objects. Models that need no pixels (precomputed
scores, the random baseline) set ``needs_frames = False`` and get clips without frames.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, Sequence, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class Sampling:
    """How frames are taken from a video before scoring; part of every score's cache key and every result.

    ``fps``: target frames per second (VideoAlign's rule, see ``videobench.video.sample_indices``), or
    ``num_frames``: a fixed frame count (overrides fps). ``max_pixels``: pixel budget per frame for the model's resize
    (None: the model's default).
    """

    fps: float | None = 2.0
    num_frames: int | None = None
    max_pixels: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def key(self) -> str:
        return f"fps={self.fps};n={self.num_frames};px={self.max_pixels}"


@dataclass
class Clip:
    """Frames sampled from one video file.

    ``frames`` is a uint8 tensor (T, H, W, 3) at the file's resolution, or None for models with ``needs_frames=False``.
    """

    path: str
    content_hash: str
    frames: Any | None = None
    source_fps: float | None = None
    total_frames: int | None = None
    indices: Any | None = None
    meta: dict[str, Any] = field(default_factory=dict)


class ModelOutputError(ValueError):
    """A reward model's ``score()`` returned something other than one array of n numbers per declared dimension (a
    user's ``python:`` model, usually): a user error naming the model and the dimensions, not a crash."""


def check_per_video(model: object, use: str) -> None:
    """``use`` (compare, align) needs a score per video; a pairwise judge (``judge:...?mode=pairwise``) gives a verdict
    per pair only: refuse it before any work starts."""
    if getattr(model, "pairwise", False):
        raise ModelOutputError(f"{getattr(model, 'name', model)}: a pairwise judge gives no per-video score, which "
                               f"{use} needs; use it in eval, or load it with mode=scores")


@runtime_checkable
class RewardModel(Protocol):
    """A model that scores (video, prompt) items on one or more dimensions; higher is better."""

    name: str
    #: Dimensions this model scores, e.g. ("VQ", "MQ", "TA", "Overall"). Missing dimensions are reported as n/a.
    dimensions: tuple[str, ...]
    sampling: Sampling
    needs_frames: bool

    def fingerprint(self) -> str:
        """Changes whenever the weights, the config or the scoring code change; part of every cache key."""
        ...

    def score(self, clips: Sequence[Clip], prompts: Sequence[str]) -> dict[str, np.ndarray]:
        """One float array of len(clips) per dimension."""
        ...

    # Optional: ``prepare(clip) -> None``, per-clip work (resizing, patchifying) that the engine runs in its decoding
    # threads, ahead of ``score``; results go into ``clip.meta``. ``score`` must work without it.
