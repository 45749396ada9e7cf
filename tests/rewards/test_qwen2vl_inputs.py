"""Our frames -> Qwen2-VL patches against a slow, literal reading of the documented layout (and against
transformers' processor where torchvision imports)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

from videobench.rewards.qwen2vl_inputs import CLIP_MEAN, CLIP_STD, PatchSpec, patchify, video_inputs


def slow_patchify(frames: torch.Tensor, p: int, tp: int = 2, m: int = 2) -> tuple[torch.Tensor, tuple[int, int, int]]:
    """Patch by patch, in the processor's order: t-group, merged row, merged col, row in group, col in group; each
    patch flattened channel-major, then time, then pixel row, then pixel column."""
    x = frames.double() / 255
    x = (x - torch.tensor(CLIP_MEAN, dtype=torch.float64)) / torch.tensor(CLIP_STD, dtype=torch.float64)
    t = x.shape[0]
    if t % tp:
        x = torch.cat([x, x[-1:].repeat(tp - t % tp, 1, 1, 1)])
    gt, gh, gw = x.shape[0] // tp, x.shape[1] // p, x.shape[2] // p
    rows = []
    for it in range(gt):
        for bh in range(gh // m):
            for bw in range(gw // m):
                for ih in range(m):
                    for iw in range(m):
                        r, c = (bh * m + ih) * p, (bw * m + iw) * p
                        vals = []
                        for ch in range(3):
                            for k in range(tp):
                                vals.append(x[it * tp + k, r:r + p, c:c + p, ch].reshape(-1))
                        rows.append(torch.cat(vals))
    return torch.stack(rows), (gt, gh, gw)


@pytest.mark.parametrize(("t", "h", "w", "p"), [(4, 32, 48, 8), (3, 16, 16, 8), (2, 56, 28, 14)])
def test_patchify_matches_slow_reference(t, h, w, p):
    g = torch.Generator().manual_seed(t * 100 + h)
    frames = torch.randint(0, 256, (t, h, w, 3), dtype=torch.uint8, generator=g)
    got = patchify(frames, PatchSpec(patch_size=p))
    ref, grid = slow_patchify(frames, p)
    assert got.grid_thw == grid
    assert got.pixel_values.dtype == torch.float32
    torch.testing.assert_close(got.pixel_values.double(), ref, atol=1e-5, rtol=0)
    assert got.num_tokens == grid[0] * grid[1] * grid[2] // 4


def test_patchify_rejects_unresized_frames():
    with pytest.raises(ValueError, match="multiple of 16"):
        patchify(torch.zeros((2, 20, 32, 3), dtype=torch.uint8), PatchSpec(patch_size=8))


def test_video_inputs_resizes_to_the_rule():
    frames = torch.zeros((4, 144, 176, 3), dtype=torch.uint8)
    out = video_inputs(frames, PatchSpec(), max_pixels=448 * 448)  # 144x176 -> 308x364 (scaled up to min pixels)
    assert out.grid_thw == (2, 308 // 14, 364 // 14)


@pytest.mark.skipif(importlib.util.find_spec("torchvision") is None, reason="needs torchvision")
def test_equals_transformers_video_processor():
    try:
        from transformers import Qwen2VLVideoProcessor
    except Exception as exc:  # torchvision present but broken beside this torch
        pytest.skip(f"Qwen2-VL video processor unavailable: {exc}")
    rng = np.random.default_rng(0)
    frames = torch.from_numpy(rng.integers(0, 256, (4, 112, 168, 3), dtype=np.uint8))
    proc = Qwen2VLVideoProcessor(min_pixels=56 * 56, max_pixels=28 * 28 * 1280)
    ref = proc(videos=[frames.permute(0, 3, 1, 2)], return_tensors="pt", do_resize=False)
    ours = patchify(frames, PatchSpec())
    assert ref["video_grid_thw"].tolist() == [list(ours.grid_thw)]
    torch.testing.assert_close(ref["pixel_values_videos"].float(), ours.pixel_values, atol=1e-5, rtol=0)
