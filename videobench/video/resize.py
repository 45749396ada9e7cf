"""Qwen2-VL's resize rule (sides multiples of 28 within a pixel budget) and the resize itself, in torch only.

torchvision does not import beside torch 2.13 here, so this reproduces what the reference does with it: bicubic with
antialias on uint8 frames, rounded and clamped back to uint8.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

IMAGE_FACTOR = 28
MIN_PIXELS = 128 * 28 * 28
#: Qwen2-VL's default per-frame budget for video (qwen-vl-utils' VIDEO_MAX_PIXELS); VideoReward's config overrides it.
MAX_PIXELS = 768 * 28 * 28
MAX_RATIO = 200


def _round_by(x: float, factor: int) -> int:
    return round(x / factor) * factor


def _ceil_by(x: float, factor: int) -> int:
    return math.ceil(x / factor) * factor


def _floor_by(x: float, factor: int) -> int:
    return math.floor(x / factor) * factor


def smart_resize(
    height: int,
    width: int,
    factor: int = IMAGE_FACTOR,
    min_pixels: int = MIN_PIXELS,
    max_pixels: int = MAX_PIXELS,
) -> tuple[int, int]:
    """Target (height, width): both multiples of ``factor``, area within [min_pixels, max_pixels], aspect kept.

    Sides round to the nearest multiple (Python round); too large an area scales down (floor), too small scales up
    (ceil), so small videos are enlarged to ``min_pixels``.
    """
    if height <= 0 or width <= 0:
        raise ValueError(f"height and width must be positive, got {height}x{width}")
    if max(height, width) / min(height, width) > MAX_RATIO:
        raise ValueError(f"aspect ratio must be below {MAX_RATIO}, got {height}x{width}")
    if min_pixels > max_pixels:
        raise ValueError(f"min_pixels {min_pixels} exceeds max_pixels {max_pixels}")
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
    x = frames.permute(0, 3, 1, 2).float()
    x = F.interpolate(x, size=(height, width), mode="bicubic", align_corners=False, antialias=True)
    return x.round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous()
