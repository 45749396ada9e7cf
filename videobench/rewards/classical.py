"""``classical``: a weight-free reward model from classical image and video statistics (VQ and MQ, no TA).

Every statistic is a pure numpy function on frames, documented with what raises or lowers it. The scores combine
them with fixed, hand-set weights:

- VQ (spatial; mean over 16 evenly spaced frames): ``log1p(detail) - 0.35 * noise - 4 * blockiness`` where
  ``detail`` is the variance of the Laplacian minus the part that white noise of the estimated level contributes,
  ``noise`` the robust noise estimate (0-255 scale) and ``blockiness`` the excess of luma steps on the 8-pixel grid.
- MQ (temporal): ``-(2 * frozen + irregularity + 2 * incoherence + 0.5 * shake + 0.2 * flicker)`` from the
  frame-to-frame differences (share of repeated frames, their irregularity, how much a frame resembles its
  neighbours more than frames further away), the camera's estimated shake and brightness flicker, on frames
  block-averaged to at most 128 pixels wide.

The weights were set by hand with the degradations of the ``sanity`` benchmark in mind, so its accuracy there is a
check that the statistics work, not evidence that they predict people. Temporal statistics need dense frames: the
default sampling, 30 fps, takes every frame of videos up to 30 fps (stutter and repeated frames are invisible when
frames are skipped).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Sequence

import numpy as np

from videobench.rewards.base import Clip, Sampling

#: Bump when a statistic or a weight changes: it is part of the fingerprint, so cached scores are not reused.
CODE_VERSION = "1"
BLOCK = 8
#: Width above which frames are block-averaged before temporal statistics (their cost grows with pixels).
TEMPORAL_WIDTH = 128
#: Frames the spatial statistics look at (evenly spaced).
SPATIAL_FRAMES = 16
_EPS = 1e-6


# --- spatial statistics (per frame) ---------------------------------------------------------------------------------


def _as_frames(frames: Any) -> np.ndarray:
    """uint8 RGB frames (T, H, W, 3) as a numpy array (a CPU torch tensor is viewed, not copied)."""
    arr = frames.numpy() if hasattr(frames, "numpy") else np.asarray(frames)
    if arr.ndim != 4 or arr.shape[-1] != 3 or len(arr) == 0:
        raise ValueError(f"expected frames (T, H, W, 3) with T > 0, got shape {arr.shape}")
    if arr.shape[1] < 3 or arr.shape[2] < 3:
        raise ValueError(f"frames of {arr.shape[1]}x{arr.shape[2]} pixels are too small for the statistics")
    return arr


def luma(frames: Any) -> np.ndarray:
    """BT.601 luma (T, H, W) float32 on the 0-255 scale from uint8 RGB frames (T, H, W, 3) (numpy or torch)."""
    arr = _as_frames(frames).astype(np.float32)
    return arr[..., 0] * 0.299 + arr[..., 1] * 0.587 + arr[..., 2] * 0.114


def _conv3(y: np.ndarray, k: np.ndarray) -> np.ndarray:
    """'valid' 3x3 correlation over the last two axes."""
    h, w = y.shape[-2:]
    out = np.zeros(y.shape[:-2] + (h - 2, w - 2), dtype=np.float32)
    for i in range(3):
        for j in range(3):
            if k[i, j]:
                out += np.float32(k[i, j]) * y[..., i : i + h - 2, j : j + w - 2]
    return out


_LAPLACIAN = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float32)
# Immerkaer's mask: the difference of two Laplacians; it cancels locally linear image structure.
_NOISE_MASK = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)


def laplacian_variance(y: np.ndarray) -> np.ndarray:
    """Per-frame variance of the Laplacian of luma (T,): the classic focus measure. Blur and upscaling lower it;
    noise and blocking raise it."""
    return _conv3(y, _LAPLACIAN).reshape(len(y), -1).var(axis=1)


def noise_sigma(y: np.ndarray) -> np.ndarray:
    """Per-frame estimate of white-noise sigma (T,), 0-255 scale.

    Immerkaer's mask response has standard deviation 6 sigma for white noise; taking the median absolute response
    (/ 0.6745 for a Gaussian) instead of the mean keeps edges and texture, which are sparse, from counting as noise.
    """
    r = np.abs(_conv3(y, _NOISE_MASK)).reshape(len(y), -1)
    return np.median(r, axis=1) / (0.6745 * 6.0)


def detail(y: np.ndarray) -> np.ndarray:
    """Laplacian variance without the share white noise of the estimated sigma adds (20 sigma^2: the squared
    Laplacian taps sum to 20), floored at 0 (T,). Sharpness that noise cannot fake."""
    return np.maximum(laplacian_variance(y) - 20.0 * noise_sigma(y) ** 2, 0.0)


def blockiness(y: np.ndarray, block: int = BLOCK) -> np.ndarray:
    """Excess luma steps across the ``block``-pixel grid (T,): 0 for content without a grid, > 0 for block artefacts.

    Mean absolute difference between horizontally (vertically) adjacent pixels that straddle a block boundary,
    divided by the same mean for pixels inside blocks, minus 1; the mean of both directions, floored at 0.
    """
    scores = []
    for axis in (2, 1):
        d = np.abs(np.diff(y, axis=axis))
        n = d.shape[axis]
        boundary = (np.arange(n) % block) == block - 1
        if boundary.sum() == 0 or (~boundary).sum() == 0:
            scores.append(np.zeros(len(y), dtype=np.float32))
            continue
        across = np.compress(boundary, d, axis=axis).reshape(len(y), -1).mean(axis=1)
        inside = np.compress(~boundary, d, axis=axis).reshape(len(y), -1).mean(axis=1)
        scores.append(across / (inside + _EPS) - 1.0)
    return np.maximum((scores[0] + scores[1]) / 2.0, 0.0)


def spaced_indices(n: int, count: int = SPATIAL_FRAMES) -> np.ndarray:
    """At most ``count`` evenly spaced indices of ``n`` frames."""
    if n <= count:
        return np.arange(n)
    return np.round(np.linspace(0, n - 1, count)).astype(int)


def spaced_frames(y: np.ndarray, count: int = SPATIAL_FRAMES) -> np.ndarray:
    """At most ``count`` evenly spaced frames: spatial quality changes slowly over a clip, so a few frames suffice."""
    return y[spaced_indices(len(y), count)]


VQ_WEIGHTS = {"noise": 0.35, "blockiness": 4.0}


def spatial_quality(y: np.ndarray) -> float:
    """The VQ score of luma frames (T, H, W) (see the module docstring), averaged over ``spaced_frames``."""
    y = spaced_frames(y)
    per_frame = (np.log1p(detail(y)) - VQ_WEIGHTS["noise"] * noise_sigma(y)
                 - VQ_WEIGHTS["blockiness"] * blockiness(y))
    return float(per_frame.mean())


# --- temporal statistics --------------------------------------------------------------------------------------------


def downscale(y: np.ndarray, width: int = TEMPORAL_WIDTH) -> np.ndarray:
    """Block-average luma frames to at most ``width`` pixels wide (integer factor; a no-op for small frames)."""
    factor = max(1, -(-y.shape[2] // width))
    if factor == 1:
        return y
    t, h, w = y.shape
    h2, w2 = h // factor, w // factor
    return y[:, : h2 * factor, : w2 * factor].reshape(t, h2, factor, w2, factor).mean(axis=(2, 4))


def luma_downscaled(frames: Any, width: int = TEMPORAL_WIDTH, chunk: int = 16) -> np.ndarray:
    """Luma of every frame block-averaged to at most ``width`` pixels wide, computed ``chunk`` frames at a time so a
    long high-resolution clip never exists as full-size floats all at once."""
    arr = _as_frames(frames)
    return np.concatenate([downscale(luma(arr[i : i + chunk]), width) for i in range(0, len(arr), chunk)])


def frame_differences(y: np.ndarray, lag: int = 1) -> np.ndarray:
    """Mean absolute luma difference between frames ``lag`` apart (T - lag,)."""
    if len(y) <= lag:
        return np.zeros(0, dtype=np.float32)
    return np.abs(y[lag:] - y[:-lag]).reshape(len(y) - lag, -1).mean(axis=1)


def frozen_share(diffs: np.ndarray, relative: float = 0.3, absolute: float = 0.02) -> float:
    """Share of consecutive frames that (nearly) repeat (0 for fewer than one difference).

    A repeat is a difference below ``relative`` times the clip's mean difference (a repeated frame, re-encoded by a
    lossy codec, still differs by a few tenths of a grey level, while the clip's motion sets the scale), or below
    ``absolute`` grey levels (exact repeats, also in a still clip)."""
    if len(diffs) == 0:
        return 0.0
    return float(((diffs < relative * diffs.mean()) | (diffs < absolute)).mean())


def irregularity(diffs: np.ndarray) -> float:
    """Coefficient of variation of the frame differences: smooth motion changes by similar amounts each frame;
    stutter alternates repeats with jumps, and a freeze ends in one big jump."""
    if len(diffs) < 2:
        return 0.0
    return float(diffs.std() / (diffs.mean() + 0.1))


def incoherence(y: np.ndarray) -> float:
    """How much frames resemble their immediate neighbours no more than frames two apart (shuffled order).

    In a natural video a frame is closer to the next one than to the one after it, so the mean lag-1 difference is
    well below the lag-2 one; shuffling makes them alike. Returns max(0, D1 / D2 - 0.5) averaged over frames, with
    the pairwise ratio taken per frame triple so a single scene cut cannot dominate."""
    d1 = frame_differences(y, 1)
    d2 = frame_differences(y, 2)
    if len(d2) == 0:
        return 0.0
    near = (d1[:-1] + d1[1:]) / 2.0
    ratio = near / (d2 + 0.1)
    return float(np.maximum(ratio - 0.5, 0.0).mean())


def global_shifts(y: np.ndarray) -> np.ndarray:
    """Integer (dy, dx) translation between consecutive frames by phase correlation (T - 1, 2)."""
    if len(y) < 2:
        return np.zeros((0, 2))
    from scipy import fft

    window = np.outer(np.hanning(y.shape[1]), np.hanning(y.shape[2])).astype(np.float32)
    spectra = fft.rfft2((y - y.mean(axis=(1, 2), keepdims=True)) * window)  # float32 in, complex64 out
    cross = spectra[1:] * np.conj(spectra[:-1])
    cross /= np.abs(cross) + _EPS
    corr = fft.irfft2(cross, s=y.shape[1:])
    flat = corr.reshape(len(corr), -1).argmax(axis=1)
    dy, dx = np.unravel_index(flat, y.shape[1:])
    dy = np.where(dy > y.shape[1] // 2, dy - y.shape[1], dy)
    dx = np.where(dx > y.shape[2] // 2, dx - y.shape[2], dx)
    return np.stack([dy, dx], axis=1).astype(np.float64)


def shake(shifts: np.ndarray) -> float:
    """Mean change of the frame-to-frame translation (pixels per frame squared): a steady pan moves by the same
    amount each frame (0), a shaking camera jumps back and forth."""
    if len(shifts) < 2:
        return 0.0
    return float(np.abs(np.diff(shifts, axis=0)).sum(axis=1).mean())


def flicker(y: np.ndarray) -> float:
    """Mean absolute second difference of per-frame mean brightness (grey levels): lighting in real footage drifts
    smoothly; flicker jumps up and down from frame to frame."""
    m = y.reshape(len(y), -1).mean(axis=1)
    if len(m) < 3:
        return 0.0
    return float(np.abs(np.diff(m, n=2)).mean())


def motion_statistics(y: np.ndarray) -> dict[str, float]:
    """All temporal statistics of luma frames (T, H, W)."""
    small = downscale(y)
    diffs = frame_differences(small)
    return {
        "frozen": frozen_share(diffs),
        "irregularity": irregularity(diffs),
        "incoherence": incoherence(small),
        "shake": shake(global_shifts(small)),
        "flicker": flicker(small),
    }


MQ_WEIGHTS = {"frozen": 2.0, "irregularity": 1.0, "incoherence": 2.0, "shake": 0.5, "flicker": 0.2}


def motion_quality(y: np.ndarray) -> float:
    """The MQ score of luma frames (T, H, W): minus the weighted sum of ``motion_statistics``."""
    stats = motion_statistics(y)
    return -float(sum(MQ_WEIGHTS[k] * stats[k] for k in MQ_WEIGHTS))


# --- the reward model -----------------------------------------------------------------------------------------------


def _parse_argument(argument: str, fps: float | None, num_frames: int | None) -> tuple[float | None, int | None]:
    """``"fps=8"`` / ``"num_frames=32"`` (comma-separated) from a ``classical:ARG`` spec."""
    for item in argument.split(","):
        key, sep, value = item.partition("=")
        key = key.strip()
        try:
            if sep and key == "fps":
                fps = float(value)
            elif sep and key == "num_frames":
                num_frames, fps = int(value), None
            else:
                raise ValueError
        except ValueError:
            raise ValueError(f"classical:{argument}: expected fps=FLOAT or num_frames=INT, got {item!r}") from None
    return fps, num_frames


class ClassicalReward:
    """Weight-free VQ and MQ scores from frame statistics; no TA (it never reads the prompt).

    Options: ``fps`` (default 30: every frame of videos up to 30 fps) or ``num_frames`` (a fixed count, overrides
    fps). The model spec ``classical:fps=8`` or ``classical:num_frames=32`` passes them as its argument. Higher scores
    are better.
    """

    needs_frames = True
    dimensions: tuple[str, ...] = ("VQ", "MQ")

    def __init__(self, argument: str | None = None, *, fps: float | None = 30.0, num_frames: int | None = None,
                 name: str = "classical") -> None:
        if argument:
            fps, num_frames = _parse_argument(argument, fps, num_frames)
        if num_frames is None and (fps is None or fps <= 0):
            raise ValueError(f"classical: give fps > 0 or num_frames, got fps={fps!r}")
        if num_frames is not None and num_frames < 4:
            raise ValueError(f"classical: temporal statistics need num_frames >= 4, got {num_frames}")
        self.name = name
        self.options = {"fps": None if fps is None else float(fps), "num_frames": num_frames}
        self.sampling = Sampling(fps=self.options["fps"], num_frames=num_frames)

    def fingerprint(self) -> str:
        """Hash of the code version, the weights and the options: changes whenever a score could."""
        payload = json.dumps({"model": "classical", "code": CODE_VERSION, "vq": VQ_WEIGHTS, "mq": MQ_WEIGHTS,
                              **self.options}, sort_keys=True)
        return "classical:" + hashlib.sha256(payload.encode()).hexdigest()[:16]

    def score_frames(self, frames: Any) -> dict[str, float]:
        """VQ and MQ of one clip's uint8 frames (T, H, W, 3)."""
        arr = _as_frames(frames)
        return {
            "VQ": spatial_quality(luma(arr[spaced_indices(len(arr))])),
            "MQ": motion_quality(luma_downscaled(arr)),
        }

    def score(self, clips: Sequence[Clip], prompts: Sequence[str]) -> dict[str, np.ndarray]:
        if len(clips) != len(prompts):
            raise ValueError(f"classical: {len(clips)} clips but {len(prompts)} prompts")
        out = {d: np.empty(len(clips), dtype=np.float64) for d in self.dimensions}
        for i, clip in enumerate(clips):
            if clip.frames is None:
                raise ValueError(f"classical: clip {clip.path} has no frames (the model needs decoded frames)")
            scores = self.score_frames(clip.frames)
            for d in self.dimensions:
                out[d][i] = scores[d]
        return out

    def __repr__(self) -> str:
        return f"ClassicalReward(fps={self.options['fps']}, num_frames={self.options['num_frames']})"
