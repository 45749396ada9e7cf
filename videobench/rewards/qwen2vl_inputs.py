"""Frames -> Qwen2-VL video inputs (``pixel_values_videos``, ``video_grid_thw``, number of ``<|video_pad|>`` tokens).

Our own torch code, because transformers' Qwen2-VL video processor needs torchvision, which does not import beside
torch 2.13 here. It follows VideoAlign's inference step by step (DESIGN.md §5b):
1. ``vision_process.fetch_video``: resize to the pixel budget with factor 28 (fixed, whatever the model's patch size),
   bicubic with antialias on uint8 frames.
2. The base model's image processor (transformers 4.45 ``Qwen2VLImageProcessor``, configured by its
   ``preprocessor_config.json``): its own ``smart_resize`` with factor patch x merge and its ``min_pixels`` /
   ``max_pixels``, a PIL bicubic resize only when that changes the size (never for the real Qwen2-VL: patch 14 x merge
   2 = 28 and a budget within the processor's range), x 1/255, mean/std, pad the frame count to the temporal patch by
   repeating the last frame, then the patch order (t, h/merge, w/merge, merge, merge), each patch flattened as
   (C, temporal, patch, patch).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import torch

from videobench.video.resize import IMAGE_FACTOR, VIDEO_MIN_PIXELS, resize_channels_first, resize_frames, smart_resize

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass(frozen=True)
class PatchSpec:
    """The image processor's settings (defaults: Qwen2-VL's ``Qwen2VLImageProcessor``, as in Qwen2-VL-2B)."""

    patch_size: int = 14
    temporal_patch_size: int = 2
    merge_size: int = 2
    min_pixels: int = 56 * 56
    max_pixels: int = 28 * 28 * 1280
    image_mean: tuple[float, float, float] = CLIP_MEAN
    image_std: tuple[float, float, float] = CLIP_STD

    @property
    def factor(self) -> int:
        return self.patch_size * self.merge_size

    @classmethod
    def from_preprocessor_config(cls, config: Mapping[str, Any]) -> "PatchSpec":
        """From a ``preprocessor_config.json`` (4.45 keys ``min_pixels``/``max_pixels``, or ``size`` with
        ``min_pixels``/``max_pixels`` or ``shortest_edge``/``longest_edge`` as later transformers write them)."""
        size = config.get("size") or {}
        min_pixels = config.get("min_pixels") or size.get("min_pixels") or size.get("shortest_edge") or cls.min_pixels
        max_pixels = config.get("max_pixels") or size.get("max_pixels") or size.get("longest_edge") or cls.max_pixels
        return cls(
            patch_size=int(config.get("patch_size") or cls.patch_size),
            temporal_patch_size=int(config.get("temporal_patch_size") or cls.temporal_patch_size),
            merge_size=int(config.get("merge_size") or cls.merge_size),
            min_pixels=int(min_pixels),
            max_pixels=int(max_pixels),
            image_mean=tuple(float(v) for v in config.get("image_mean") or CLIP_MEAN),
            image_std=tuple(float(v) for v in config.get("image_std") or CLIP_STD),
        )


@dataclass
class VideoInputs:
    pixel_values: torch.Tensor  # (grid_t * grid_h * grid_w, C * temporal * patch * patch), float32
    grid_thw: tuple[int, int, int]
    merge_size: int = 2
    #: seconds per temporal patch (temporal patch size / sampled fps): Qwen2.5-VL's ``second_per_grid_ts``
    seconds_per_grid: float | None = None

    @property
    def num_tokens(self) -> int:
        """``<|video_pad|>`` tokens the video occupies in the text: one per merged patch group."""
        t, h, w = self.grid_thw
        return t * h * w // self.merge_size**2


def pil_bicubic(frames: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """uint8 frames (T, H, W, 3) resized one by one with PIL's bicubic, as transformers' image processors do."""
    from PIL import Image

    out = [np.asarray(Image.fromarray(f.numpy()).resize((width, height), resample=Image.BICUBIC)) for f in frames]
    return torch.from_numpy(np.stack(out))


def _sizes(frames: torch.Tensor, spec: PatchSpec, max_pixels: float, min_pixels: float) -> tuple[int, int, int, int]:
    """(height, width) of the video rule, then (height, width) of the image processor's rule applied to those."""
    height, width = smart_resize(
        frames.shape[1], frames.shape[2], factor=IMAGE_FACTOR, min_pixels=min_pixels, max_pixels=max_pixels
    )
    h2, w2 = smart_resize(height, width, factor=spec.factor, min_pixels=spec.min_pixels, max_pixels=spec.max_pixels)
    return height, width, h2, w2


def resize_for_model(
    frames: torch.Tensor, spec: PatchSpec, max_pixels: float, min_pixels: float = VIDEO_MIN_PIXELS
) -> torch.Tensor:
    """uint8 frames (T, H, W, 3) resized as VideoAlign's inference does: the video rule, then the processor's."""
    height, width, h2, w2 = _sizes(frames, spec, max_pixels, min_pixels)
    frames = resize_frames(frames, height, width)
    return frames if (h2, w2) == (height, width) else pil_bicubic(frames, h2, w2)


def patchify(frames: torch.Tensor, spec: PatchSpec) -> VideoInputs:
    """uint8 frames (T, H, W, 3), sides already multiples of ``spec.factor`` -> normalised, ordered patches."""
    if frames.dtype != torch.uint8 or frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"expected uint8 frames (T, H, W, 3), got {tuple(frames.shape)} {frames.dtype}")
    return _patchify_channels_first(frames.permute(0, 3, 1, 2), spec)


def _patchify_channels_first(frames: torch.Tensor, spec: PatchSpec) -> VideoInputs:
    """uint8 frames (T, 3, H, W), any strides. The patch order is taken on the uint8 pixels (a quarter of the bytes
    to move) and only then converted and normalised, column by column: the same float operations on the same values
    as normalising first, so the same floats."""
    t, c, h, w = frames.shape
    p, tp, m = spec.patch_size, spec.temporal_patch_size, spec.merge_size
    if h % spec.factor or w % spec.factor:
        raise ValueError(f"frame size {h}x{w} is not a multiple of {spec.factor}: resize first (resize_for_model)")
    if t % tp:  # the processor repeats the last frame up to a whole temporal patch
        frames = torch.cat([frames, frames[-1:].expand(tp - t % tp, -1, -1, -1)], dim=0)
    gt, gh, gw = frames.shape[0] // tp, h // p, w // p
    x = frames.reshape(gt, tp, c, gh // m, m, p, gw // m, m, p).permute(0, 3, 6, 4, 7, 2, 1, 5, 8)
    x = x.reshape(gt * gh * gw, c * tp * p * p)
    per_channel = tp * p * p  # a patch is flattened channel-major: (C, temporal, patch, patch)
    mean = torch.tensor(spec.image_mean).repeat_interleave(per_channel)
    std = torch.tensor(spec.image_std).repeat_interleave(per_channel)
    pixel_values = x.float().mul_(1 / 255).sub_(mean).div_(std)
    return VideoInputs(pixel_values, (gt, gh, gw), merge_size=m)


def video_inputs(
    frames: torch.Tensor, spec: PatchSpec, max_pixels: float, min_pixels: float = VIDEO_MIN_PIXELS,
    fps: float | None = None,
) -> VideoInputs:
    """Resize, normalise and patchify one clip's frames (``fps``: the sampled frame rate, for ``seconds_per_grid``)."""
    height, width, h2, w2 = _sizes(frames, spec, max_pixels, min_pixels)
    if (h2, w2) == (height, width):  # the usual case: one resize, its channels-first output patchified directly
        out = _patchify_channels_first(resize_channels_first(frames, height, width), spec)
    else:
        out = patchify(resize_for_model(frames, spec, max_pixels, min_pixels), spec)
    if fps is not None:
        out.seconds_per_grid = spec.temporal_patch_size / fps
    return out


def sampled_fps(num_frames: int, total_frames: int | None, source_fps: float | None, default: float | None) -> float:
    """The frame rate of sampled frames as qwen-vl-utils counts it: sampled / total frames x the file's fps; without
    those, the sampling's fps, else 2."""
    if source_fps and total_frames:
        return num_frames / total_frames * source_fps
    return default or 2.0
