"""Frames -> Qwen2-VL video inputs (``pixel_values_videos``, ``video_grid_thw``, number of ``<|video_pad|>`` tokens).

Our own torch code, because transformers' Qwen2-VL video processor needs torchvision, which does not import beside
torch 2.13 here. It follows the processor step by step: resize to the pixel budget (sides multiples of patch x merge),
x 1/255, CLIP mean/std, pad the frame count to the temporal patch by repeating the last frame, then the patch order
(t, h/merge, w/merge, merge, merge) with each patch flattened as (C, temporal, patch, patch).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from videobench.video.resize import MIN_PIXELS, resize_frames, smart_resize

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass(frozen=True)
class PatchSpec:
    """The vision tower's patch geometry (Qwen2-VL-2B: patch 14, temporal 2, merge 2)."""

    patch_size: int = 14
    temporal_patch_size: int = 2
    merge_size: int = 2

    @property
    def factor(self) -> int:
        return self.patch_size * self.merge_size


@dataclass
class VideoInputs:
    pixel_values: torch.Tensor  # (grid_t * grid_h * grid_w, C * temporal * patch * patch), float32
    grid_thw: tuple[int, int, int]
    merge_size: int = 2

    @property
    def num_tokens(self) -> int:
        """``<|video_pad|>`` tokens the video occupies in the text: one per merged patch group."""
        t, h, w = self.grid_thw
        return t * h * w // self.merge_size**2


def resize_for_model(
    frames: torch.Tensor, spec: PatchSpec, max_pixels: int, min_pixels: int = MIN_PIXELS
) -> torch.Tensor:
    """uint8 frames (T, H, W, 3) resized with Qwen2-VL's rule for this patch geometry."""
    height, width = smart_resize(
        frames.shape[1], frames.shape[2], factor=spec.factor, min_pixels=min_pixels, max_pixels=max_pixels
    )
    return resize_frames(frames, height, width)


def patchify(frames: torch.Tensor, spec: PatchSpec) -> VideoInputs:
    """uint8 frames (T, H, W, 3), sides already multiples of ``spec.factor`` -> normalised, ordered patches."""
    if frames.dtype != torch.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"expected uint8 frames (T, H, W, 3), got {tuple(frames.shape)} {frames.dtype}")
    t, h, w, c = frames.shape
    p, tp, m = spec.patch_size, spec.temporal_patch_size, spec.merge_size
    if h % spec.factor or w % spec.factor:
        raise ValueError(f"frame size {h}x{w} is not a multiple of {spec.factor}: resize first (resize_for_model)")
    x = frames.permute(0, 3, 1, 2).float() * (1 / 255)
    mean = torch.tensor(CLIP_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(CLIP_STD).view(1, 3, 1, 1)
    x = (x - mean) / std
    if t % tp:  # the processor repeats the last frame up to a whole temporal patch
        x = torch.cat([x, x[-1:].expand(tp - t % tp, -1, -1, -1)], dim=0)
    gt, gh, gw = x.shape[0] // tp, h // p, w // p
    x = x.reshape(gt, tp, c, gh // m, m, p, gw // m, m, p)
    x = x.permute(0, 3, 6, 4, 7, 2, 1, 5, 8)
    pixel_values = x.reshape(gt * gh * gw, c * tp * p * p).contiguous()
    return VideoInputs(pixel_values, (gt, gh, gw), merge_size=m)


def video_inputs(
    frames: torch.Tensor, spec: PatchSpec, max_pixels: int, min_pixels: int = MIN_PIXELS
) -> VideoInputs:
    """Resize, normalise and patchify one clip's frames."""
    return patchify(resize_for_model(frames, spec, max_pixels, min_pixels), spec)
