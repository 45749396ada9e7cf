"""Which frames of a video a reward model sees: VideoAlign's sampling rules (DESIGN.md §5b), reproduced exactly.

Scores of the released VideoReward model move with the frame set, so every detail matters: the clamps, Python's
``round`` (half to even: 5 frames become 4), and ``round(linspace(...))`` in float32 as torch computes it.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from videobench.rewards.base import Sampling

FRAME_FACTOR = 2  # Qwen2-VL's temporal patch: frame counts are even
MIN_FRAMES = 4
MAX_FRAMES = 768


def _round_even(x: float) -> int:
    return round(x / FRAME_FACTOR) * FRAME_FACTOR  # Python round: half to even, as the reference


def num_sampled_frames(total_frames: int, video_fps: float | None, sampling: Sampling) -> int:
    """How many frames ``sampling`` takes from a video of ``total_frames`` frames at ``video_fps``.

    A frame count above the video's is clamped to ``total_frames`` (VideoAlign's ``smart_nframes``; the count may then
    be odd). Raises ``ValueError`` when fewer than 2 frames would be taken.
    """
    if total_frames <= 0:
        raise ValueError(f"a video needs at least one frame, got total_frames={total_frames}")
    if sampling.num_frames is not None:
        n = _round_even(sampling.num_frames)
    else:
        if sampling.fps is None or sampling.fps <= 0:
            raise ValueError(f"sampling needs fps > 0 or num_frames, got {sampling}")
        if video_fps is None or not math.isfinite(video_fps) or video_fps <= 0:
            raise ValueError(f"fps-based sampling needs the video's frame rate, got video_fps={video_fps}")
        min_frames = math.ceil(MIN_FRAMES / FRAME_FACTOR) * FRAME_FACTOR
        max_frames = math.floor(min(MAX_FRAMES, total_frames) / FRAME_FACTOR) * FRAME_FACTOR
        n_float = total_frames / video_fps * sampling.fps
        n = _round_even(min(max(n_float, min_frames), max_frames))
    n = min(n, total_frames)
    if not FRAME_FACTOR <= n <= total_frames:
        raise ValueError(
            f"cannot sample {n} frames from a video of {total_frames} frames "
            f"(need {FRAME_FACTOR} <= frames <= total_frames; sampling {sampling.key()})"
        )
    return n


def sample_indices(total_frames: int, video_fps: float | None, sampling: Sampling) -> np.ndarray:
    """Frame indices (int64, sorted, within [0, total_frames)) that ``sampling`` takes, per VideoAlign's rules."""
    n = num_sampled_frames(total_frames, video_fps, sampling)
    # torch's float32 linspace, not numpy's float64: the two round differently at .5 ties.
    return torch.linspace(0, total_frames - 1, n).round().long().numpy()
