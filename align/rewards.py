"""Rewards for rollouts: weight-free pixel rewards, and one way to call any reward on rendered frames.

A reward here is one of
- a :class:`~videobench.rewards.base.RewardModel` (scores ``Clip`` batches; one dimension or a weighted sum is used),
- a callable ``fn(frames)`` or ``fn(frames, prompt)`` → float, frames uint8 (T, H, W, 3),
- a spec string, resolved by ``videobench.rewards.registry`` like every reward spec (``pixel:brightness`` /
  ``pixel:saturation`` / ``pixel:contrast`` are defined here; options as ``PREFIX:ARG?key=value&...``).
"""

from __future__ import annotations

import hashlib
import inspect
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import torch

from videobench.rewards.base import Clip, Sampling, check_per_video

__all__ = ["PixelReward", "RewardTerm", "resolve_reward", "reward_terms", "score_frames"]

_PIXEL_KINDS = ("brightness", "saturation", "contrast", "smoothness")


@dataclass
class PixelReward:
    """A reward computed from pixels only (no weights), for tests and demos; higher is better.

    - ``brightness``: mean of R, G, B over all pixels, in [0, 1]
    - ``saturation``: mean of (max − min) / max over channels per pixel (HSV saturation), in [0, 1]
    - ``contrast``: standard deviation of the grey level, in [0, 0.5]
    - ``smoothness``: 1 − mean absolute grey-level difference between horizontally and vertically adjacent pixels,
      in [0, 1] (1 = flat frames); what pushing contrast up tends to destroy, so a held-out reward in the monitor
    """

    kind: str = "brightness"
    name: str = ""
    dimensions: tuple[str, ...] = ("Overall",)
    #: from files (eval / compare): every frame up to 30 fps (an even count, as the shared sampler takes);
    #: rendered rollouts are scored on all their frames
    sampling: Sampling = Sampling(fps=30.0, num_frames=None)
    needs_frames: bool = True

    def __post_init__(self) -> None:
        if self.kind not in _PIXEL_KINDS:
            raise ValueError(f"unknown pixel reward {self.kind!r}; choose from {', '.join(_PIXEL_KINDS)}")
        self.name = self.name or f"pixel:{self.kind}"

    def fingerprint(self) -> str:
        return f"videobench.align.PixelReward:{self.kind}:v1"

    def frame_score(self, frames: Any) -> float:
        x = torch.as_tensor(np.asarray(frames)).float()
        if x.dtype != torch.float32 or x.ndim != 4 or x.shape[-1] != 3:
            raise ValueError(f"expected frames (T, H, W, 3), got {tuple(x.shape)}")
        if x.max() > 1.0:  # uint8 input
            x = x / 255.0
        if self.kind == "brightness":
            return float(x.mean())
        if self.kind == "saturation":
            hi, lo = x.max(dim=-1).values, x.min(dim=-1).values
            return float(((hi - lo) / hi.clamp_min(1e-6)).mean())
        grey = x.mean(dim=-1)
        if self.kind == "contrast":
            return float(grey.std())
        dx = (grey[:, :, 1:] - grey[:, :, :-1]).abs().mean()
        dy = (grey[:, 1:, :] - grey[:, :-1, :]).abs().mean()
        return float(1.0 - (dx + dy) / 2)

    def score(self, clips: Sequence[Clip], prompts: Sequence[str]) -> dict[str, np.ndarray]:
        return {"Overall": np.array([self.frame_score(c.frames) for c in clips], dtype=np.float64)}

    def __call__(self, frames: Any, prompt: str | None = None) -> float:
        return self.frame_score(frames)


def resolve_reward(spec: Any) -> Any:
    """A reward object from a spec string, a RewardModel or a callable (returned as is)."""
    if isinstance(spec, str):
        from videobench.rewards.registry import load_reward_model

        model = load_reward_model(spec)
        check_per_video(model, "align")
        return model
    if callable(spec) or hasattr(spec, "score"):
        return spec
    raise TypeError(f"a reward must be a spec string, a RewardModel or a callable, got {type(spec).__name__}")


def _to_uint8(frames: Any) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(frames))
    if x.dtype != torch.uint8:
        x = (x.float().clamp(0, 1) * 255).round().to(torch.uint8)
    return x


def score_frames(
    reward: Any,
    videos: Sequence[Any],
    prompts: Sequence[str],
    dimension: str | None = None,
    weights: Mapping[str, float] | None = None,
) -> np.ndarray:
    """Score rendered videos (each (T, H, W, 3), uint8 or floats in [0, 1]) → float64 (N,).

    For a RewardModel with several dimensions pick one with ``dimension`` or combine them with ``weights``
    (Σ_d w_d·score_d); by default "Overall" when present, else the only dimension.
    """
    if len(videos) != len(prompts):
        raise ValueError(f"{len(videos)} videos but {len(prompts)} prompts")
    frames = [_to_uint8(v) for v in videos]
    if hasattr(reward, "score") and hasattr(reward, "dimensions"):
        clips = [
            Clip(path=f"<rollout {i}>", content_hash="sha256:" + hashlib.sha256(f.numpy().tobytes()).hexdigest()[:32],
                 frames=f, total_frames=int(f.shape[0]))
            for i, f in enumerate(frames)
        ]
        out = reward.score(clips, list(prompts))
        if weights:
            missing = set(weights) - set(out)
            if missing:
                raise ValueError(f"reward {getattr(reward, 'name', reward)!r} has no dimension(s) {sorted(missing)}")
            return sum(float(w) * np.asarray(out[d], dtype=np.float64) for d, w in weights.items())
        dim = dimension or ("Overall" if "Overall" in out else (next(iter(out)) if len(out) == 1 else None))
        if dim is None or dim not in out:
            raise ValueError(f"choose a reward dimension among {sorted(out)} (reward_dimension or reward_weights)")
        return np.asarray(out[dim], dtype=np.float64)
    fn: Callable = reward
    try:
        takes_prompt = len(inspect.signature(fn).parameters) >= 2
    except (TypeError, ValueError):
        takes_prompt = False
    return np.array([float(fn(f, p) if takes_prompt else fn(f)) for f, p in zip(frames, prompts)], dtype=np.float64)


@dataclass
class RewardTerm:
    """One reward of a weighted sum: a loaded reward, how to read it (``dimension`` or dimension ``weights``) and
    its ``weight`` in the total."""

    name: str
    reward: Any
    weight: float = 1.0
    dimension: str | None = None
    weights: Mapping[str, float] | None = None

    def score(self, videos: Sequence[Any], prompts: Sequence[str]) -> np.ndarray:
        return score_frames(self.reward, videos, prompts, self.dimension, self.weights)


def reward_terms(entries: Sequence[Any], dimension: str | None = None,
                 weights: Mapping[str, float] | None = None) -> list[RewardTerm]:
    """Load checked ``rewards`` / ``monitor_rewards`` entries (see ``AlignConfig``): each a spec, a reward object
    or a mapping {spec, weight, dimension, weights, name}; ``dimension`` / ``weights`` are the defaults of bare
    entries. Names are unique (a repeated one gets ``#2``)."""
    terms: list[RewardTerm] = []
    for entry in entries:
        item = dict(entry) if isinstance(entry, dict) else {"spec": entry}
        spec = item["spec"]
        name = str(item.get("name") or (spec if isinstance(spec, str) else getattr(spec, "name", repr(spec))))
        taken = {t.name for t in terms}
        base, n = name, 2
        while name in taken:
            name, n = f"{base}#{n}", n + 1
        explicit = "dimension" in item or "weights" in item
        terms.append(RewardTerm(
            name=name,
            reward=resolve_reward(spec),
            weight=float(item.get("weight", 1.0)),
            dimension=item.get("dimension") if explicit else dimension,
            weights=item.get("weights") if explicit else weights,
        ))
    return terms
