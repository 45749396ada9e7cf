"""Our frames -> Qwen2-VL patches against a slow, literal reading of the documented layout, and the two resizes of
VideoAlign's inference (the video rule with factor 28, then the image processor's own rule). The comparison with the
reference's real processor is the VideoAlign parity fixture (tests/rewards/test_videoalign_parity.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from videobench.rewards.qwen2vl_inputs import CLIP_MEAN, CLIP_STD, PatchSpec, patchify, resize_for_model, video_inputs


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


def test_processor_resize_follows_the_video_resize():
    """A patch-8 model (factor 16): VideoAlign's video rule still uses factor 28 (48x64 -> 56x56 within a 64x64
    budget), then the processor's rule rounds 56/16 = 3.5 to 4 (Python rounds half to even) -> 64x64, resized with
    PIL's bicubic as transformers' image processor does."""
    from PIL import Image

    g = torch.Generator().manual_seed(4)
    frames = torch.randint(0, 256, (2, 48, 64, 3), dtype=torch.uint8, generator=g)
    out = resize_for_model(frames, PatchSpec(patch_size=8), max_pixels=64 * 64, min_pixels=28 * 28)
    assert tuple(out.shape) == (2, 64, 64, 3) and out.dtype == torch.uint8
    first = torch.nn.functional.interpolate(frames.permute(0, 3, 1, 2).float(), size=(56, 56), mode="bicubic",
                                            antialias=True).clamp(0, 255).round().to(torch.uint8).permute(0, 2, 3, 1)
    expected = [np.asarray(Image.fromarray(f.numpy()).resize((64, 64), Image.BICUBIC)) for f in first]
    np.testing.assert_array_equal(out.numpy(), np.stack(expected))
    # the real geometry (patch 14): the processor's rule keeps 56x56, so no second resize happens
    assert tuple(resize_for_model(frames, PatchSpec(), max_pixels=64 * 64, min_pixels=28 * 28).shape) == (2, 56, 56, 3)
    # the processor's own floor (56*56 for Qwen2-VL) lifts a 28x28 frame to 56x56
    tiny = resize_for_model(frames, PatchSpec(), max_pixels=28 * 28, min_pixels=0)
    assert tuple(tiny.shape) == (2, 56, 56, 3)


def test_patch_spec_from_preprocessor_config():
    old = {"min_pixels": 3136, "max_pixels": 12845056, "patch_size": 14, "temporal_patch_size": 2, "merge_size": 2,
           "image_mean": [0.5, 0.5, 0.5], "image_std": [0.25, 0.25, 0.25]}
    new = {"size": {"shortest_edge": 3136, "longest_edge": 12845056}, "patch_size": 14}
    a, b = PatchSpec.from_preprocessor_config(old), PatchSpec.from_preprocessor_config(new)
    assert (a.min_pixels, a.max_pixels, a.image_mean, a.image_std) == (3136, 12845056, (0.5,) * 3, (0.25,) * 3)
    assert (b.min_pixels, b.max_pixels, b.image_mean) == (3136, 12845056, CLIP_MEAN)
    assert PatchSpec.from_preprocessor_config({}) == PatchSpec()
