"""Qwen2-VL's video resize rule as VideoAlign applies it (sides multiples of 28 within a pixel budget), in torch only.

Facts from VideoAlign's ``vision_process.py`` (a copy of qwen-vl-utils), reproduced here:
- ``smart_resize`` rounds each side to the nearest multiple of ``factor``, then tests *too large* first: an area above
  ``max_pixels`` is scaled down (sides floored), else an area below ``min_pixels`` is scaled up (sides ceiled). There
  is no check that ``min_pixels <= max_pixels``: a budget below the video minimum (128·28·28) wins whenever the rounded
  area exceeds it, and the minimum wins when the rounded area is already within the budget.
- A video's default budget, used only when the caller passes none, is
  ``max(min(768·28·28, 24576·28·28 / nframes · 2), int(128·28·28 · 1.05))`` for ``nframes`` sampled frames.
- The resize itself is torchvision's bicubic with antialias on uint8 frames, clamped and rounded back to uint8.
torchvision does not import beside torch 2.13 here, so ``resize_frames`` does the same with
``torch.nn.functional.interpolate``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

IMAGE_FACTOR = 28
#: Per-frame floor for video (qwen-vl-utils' VIDEO_MIN_PIXELS): small videos are scaled up to it.
VIDEO_MIN_PIXELS = 128 * 28 * 28
#: Per-frame cap of the default video budget (VIDEO_MAX_PIXELS) and the whole-clip budget behind it (VIDEO_TOTAL_PIXELS).
VIDEO_MAX_PIXELS = 768 * 28 * 28
VIDEO_TOTAL_PIXELS = 24576 * 28 * 28
FRAME_FACTOR = 2
MAX_RATIO = 200


class ResizeError(ValueError):
    """A frame size or pixel budget the resize rule cannot handle (non-positive sides or budget, extreme aspect)."""


def _round_by(x: float, factor: int) -> int:
    return round(x / factor) * factor


def _ceil_by(x: float, factor: int) -> int:
    return math.ceil(x / factor) * factor


def _floor_by(x: float, factor: int) -> int:
    return math.floor(x / factor) * factor


def default_video_max_pixels(nframes: int, min_pixels: int = VIDEO_MIN_PIXELS) -> float:
    """The per-frame budget qwen-vl-utils gives a video of ``nframes`` sampled frames when none is passed.

    Up to 64 frames this is 768·28·28; longer clips share the total budget (24576·28·28 per 2 frames), never below
    ``1.05 * min_pixels``. A float, as in the reference (it is only ever compared with areas).
    """
    if nframes <= 0:
        raise ResizeError(f"nframes must be positive, got {nframes}")
    return max(min(VIDEO_MAX_PIXELS, VIDEO_TOTAL_PIXELS / nframes * FRAME_FACTOR), int(min_pixels * 1.05))


def smart_resize(
    height: int,
    width: int,
    factor: int = IMAGE_FACTOR,
    min_pixels: float = VIDEO_MIN_PIXELS,
    max_pixels: float = VIDEO_MAX_PIXELS,
) -> tuple[int, int]:
    """Target (height, width): multiples of ``factor``, aspect kept, the area brought within the budget.

    The branch order is the reference's (see the module docstring): scaled down when the rounded area exceeds
    ``max_pixels``, else scaled up when it is below ``min_pixels``. One deliberate difference: where the reference
    would floor a side to 0 (a budget below ``factor**2`` per frame, on which its resize then fails), the side is kept
    at ``factor``.
    """
    if height <= 0 or width <= 0:
        raise ResizeError(f"height and width must be positive, got {height}x{width}")
    if max(height, width) / min(height, width) > MAX_RATIO:
        raise ResizeError(f"aspect ratio must be below {MAX_RATIO} (as in Qwen2-VL), got {height}x{width}")
    if max_pixels <= 0:
        raise ResizeError(f"the pixel budget max_pixels must be positive, got {max_pixels}")
    h = max(factor, _round_by(height, factor))
    w = max(factor, _round_by(width, factor))
    if h * w > max_pixels:
        beta = math.sqrt(height * width / max_pixels)
        h = max(factor, _floor_by(height / beta, factor))
        w = max(factor, _floor_by(width / beta, factor))
    elif h * w < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h = _ceil_by(height * beta, factor)
        w = _ceil_by(width * beta, factor)
    return h, w


def resize_frames(frames: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Resize uint8 frames (T, H, W, 3) to (T, height, width, 3): bicubic, antialiased, rounded back to uint8."""
    if frames.dtype != torch.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"expected uint8 frames of shape (T, H, W, 3), got {tuple(frames.shape)} {frames.dtype}")
    if tuple(frames.shape[1:3]) == (height, width):
        return frames
    return resize_channels_first(frames, height, width).permute(0, 2, 3, 1).contiguous()


def resize_channels_first(frames: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """``resize_frames``' pixels as uint8 (T, 3, height, width), contiguous. The float copy is made channels-first
    before interpolating: the same values, ~1.5x faster than interpolating the channels-last view on the CPU."""
    x = frames.permute(0, 3, 1, 2).contiguous()
    if tuple(frames.shape[1:3]) == (height, width):
        return x
    x = F.interpolate(x.float(), size=(height, width), mode="bicubic", align_corners=False, antialias=True)
    return x.round_().clamp_(0, 255).to(torch.uint8)
