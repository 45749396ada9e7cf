from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from videobench.video import resize_frames, smart_resize
from videobench.video.resize import default_video_max_pixels


@pytest.mark.parametrize(
    ("hw", "kwargs", "expected"),
    [
        ((720, 1280), dict(max_pixels=448 * 448), (336, 588)),  # scaled down, floor
        ((144, 176), dict(max_pixels=448 * 448), (308, 364)),  # scaled up to min_pixels 128*28*28, ceil
        ((448, 448), dict(max_pixels=448 * 448), (448, 448)),  # already fits
        ((270, 480), dict(min_pixels=0, max_pixels=10**7), (280, 476)),  # plain rounding: 9.64 -> 10, 17.14 -> 17
        ((64, 48), dict(factor=16, min_pixels=0, max_pixels=10**6), (64, 48)),
        # A budget below the minimum 128*28*28 (VideoAlign's branch order: "too large" is tested first):
        # 720x1280 rounds to 728x1288 > 4096, so it is scaled down: beta = sqrt(921600 / 4096) = 15,
        # 720/15 = 48 -> floor to 28, 1280/15 = 85.3 -> 84.
        ((720, 1280), dict(max_pixels=64 * 64), (28, 84)),
        # 64x64 rounds to 56x56 = 3136, within the budget, so the minimum wins: beta = sqrt(100352 / 4096) = 4.95,
        # 64 * 4.95 = 316.8 -> ceil to 336.
        ((64, 64), dict(max_pixels=64 * 64), (336, 336)),
        # A budget under one 28x28 cell: 112x112 > 100, beta = sqrt(10000 / 100) = 10, 100/10 = 10 floors to 0, where
        # the reference's resize would fail; the side is kept at 28.
        ((100, 100), dict(max_pixels=100), (28, 28)),
    ],
)
def test_smart_resize_cases(hw, kwargs, expected):
    assert smart_resize(*hw, **kwargs) == expected


@settings(max_examples=100, deadline=None)
@given(h=st.integers(16, 2000), w=st.integers(16, 2000), budget=st.integers(130, 1500))
def test_smart_resize_properties(h, w, budget):
    max_pixels = budget * 28 * 28
    nh, nw = smart_resize(h, w, max_pixels=max_pixels)
    assert nh % 28 == 0 and nw % 28 == 0
    rounded = max(28, round(h / 28) * 28) * max(28, round(w / 28) * 28)
    if rounded > max_pixels:  # scaled down by beta, sides floored: within the budget
        assert nh * nw <= max_pixels
        beta = math.sqrt(h * w / max_pixels)
        assert 0 <= h / beta - nh < 28 or nh == 28
        assert 0 <= w / beta - nw < 28 or nw == 28
    elif rounded < 128 * 28 * 28:  # scaled up by beta, sides ceiled: reaches the floor (may pass the budget, as the reference)
        assert nh * nw >= 128 * 28 * 28
        beta = math.sqrt(128 * 28 * 28 / (h * w))
        assert 0 <= nh - h * beta < 28 and 0 <= nw - w * beta < 28
    else:
        assert nh * nw == rounded


@pytest.mark.parametrize(
    ("nframes", "min_pixels", "expected"),
    [
        (16, 128 * 28 * 28, 768 * 28 * 28),  # 19267584 / 16 * 2 = 2408448 > 602112: the per-frame cap
        (64, 128 * 28 * 28, 768 * 28 * 28),  # exactly the cap: 19267584 / 64 * 2 = 602112
        (100, 128 * 28 * 28, 385351.68),  # 19267584 / 100 * 2: long clips share the total budget
        (1000, 128 * 28 * 28, 105369),  # 38535.168 < int(100352 * 1.05) = 105369: the floor
        (1000, 3136, 38535.168),  # with a lower min_pixels the share stands
    ],
)
def test_default_video_budget(nframes, min_pixels, expected):
    assert default_video_max_pixels(nframes, min_pixels) == pytest.approx(expected)


def test_smart_resize_rejects_extreme_ratio():
    with pytest.raises(ValueError, match="aspect ratio"):
        smart_resize(10, 5000)


def test_resize_frames_matches_float_bicubic_rounded():
    g = torch.Generator().manual_seed(0)
    frames = torch.randint(0, 256, (2, 37, 53, 3), dtype=torch.uint8, generator=g)
    out = resize_frames(frames, 28, 56)
    assert out.dtype == torch.uint8 and tuple(out.shape) == (2, 28, 56, 3)
    ref = F.interpolate(frames.permute(0, 3, 1, 2).float(), size=(28, 56), mode="bicubic", antialias=True)
    ref = ref.clamp(0, 255).round().to(torch.uint8).permute(0, 2, 3, 1)
    assert torch.equal(out, ref)
    flat = torch.full((1, 40, 40, 3), 77, dtype=torch.uint8)
    assert torch.all(resize_frames(flat, 84, 84) == 77)  # bicubic overshoot cannot appear on a flat image
    assert resize_frames(frames, 37, 53) is frames
    with pytest.raises(ValueError):
        resize_frames(frames.float(), 28, 28)
