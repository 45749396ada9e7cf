from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from videobench.rewards.base import Sampling
from videobench.video import num_sampled_frames, sample_indices


@pytest.mark.parametrize(
    ("total", "video_fps", "fps", "expected"),
    [
        (10, 4.0, 2.0, 4),  # 5 frames -> round(2.5) * 2 = 4 (half to even), the case DESIGN.md §5b names
        (14, 4.0, 2.0, 8),  # 7 -> round(3.5) * 2 = 8
        (30, 30.0, 2.0, 4),  # 2 frames -> clamped up to 4
        (100, 25.0, 2.0, 8),  # 8 exactly
        (132, 25.0, 2.0, 10),  # bigbuckbunny: 10.56 -> 10
        (250, 25.0, 2.0, 20),  # bikes
        (120, 30000 / 1001, 2.0, 8),  # carphone: 8.008 -> 8
        (5, 1.0, 2.0, 4),  # 10 requested, capped at min(768, 5) floored to even = 4
        (3, 1.0, 2.0, 2),  # the cap wins over the minimum of 4
        (4000, 1.0, 2.0, 768),  # capped at 768
    ],
)
def test_fps_rule_exact_cases(total, video_fps, fps, expected):
    assert num_sampled_frames(total, video_fps, Sampling(fps=fps)) == expected


@pytest.mark.parametrize(("k", "expected"), [(4, 4), (5, 4), (6, 6), (7, 8), (9, 8), (16, 16)])
def test_frame_count_rule_rounds_half_to_even(k, expected):
    assert num_sampled_frames(100, 25.0, Sampling(fps=None, num_frames=k)) == expected


@pytest.mark.parametrize(("total", "k", "expected"), [(16, 20, 16), (15, 20, 15), (8, 10, 8), (8, 8, 8)])
def test_frame_count_above_the_video_is_clamped(total, k, expected):
    """VideoAlign's smart_nframes: a count above the video's frames becomes the video's frame count (even or not)."""
    n = num_sampled_frames(total, 25.0, Sampling(fps=None, num_frames=k))
    assert n == expected
    assert sample_indices(total, 25.0, Sampling(fps=None, num_frames=k)).tolist() == list(range(expected))


def test_frame_count_overrides_fps():
    assert len(sample_indices(100, 25.0, Sampling(fps=2.0, num_frames=6))) == 6


def test_exact_indices():
    assert sample_indices(132, 25.0, Sampling()).tolist() == [0, 15, 29, 44, 58, 73, 87, 102, 116, 131]
    assert sample_indices(10, 4.0, Sampling()).tolist() == [0, 3, 6, 9]


@pytest.mark.parametrize(
    ("total", "video_fps", "sampling"),
    [(1, 25.0, Sampling()), (0, 25.0, Sampling()), (8, 25.0, Sampling(fps=None, num_frames=1)),
     (10, None, Sampling()), (10, 0.0, Sampling()), (10, 25.0, Sampling(fps=None))],
)
def test_impossible_sampling_raises(total, video_fps, sampling):
    with pytest.raises(ValueError):
        sample_indices(total, video_fps, sampling)


def _exact_round(x: Fraction) -> int:
    return round(x)  # Fraction rounds half to even, like Python's round on floats


@settings(max_examples=150, deadline=None)
@given(
    total=st.integers(2, 3000),
    video_fps=st.floats(1.0, 120.0, allow_nan=False),
    fps=st.floats(0.1, 30.0, allow_nan=False),
)
def test_fps_rule_properties(total, video_fps, fps):
    sampling = Sampling(fps=fps)
    idx = sample_indices(total, video_fps, sampling)
    n = len(idx)
    assert idx.dtype == np.int64
    assert n % 2 == 0 and 2 <= n <= min(total, 768)
    assert n >= min(4, total // 2 * 2)
    assert idx[0] == 0 and idx[-1] == total - 1
    assert np.all(np.diff(idx) > 0)  # strictly increasing: no frame twice
    # n from the rule, with Python's round (half to even)
    n_float = total / video_fps * fps
    max_frames = min(768, total) // 2 * 2
    assert n == round(min(max(n_float, 4), max_frames) / 2) * 2
    # the indices are the rounded linspace (exact rationals: no ties are possible with an even n)
    expected = [_exact_round(Fraction(total - 1) * i / (n - 1)) for i in range(n)]
    assert idx.tolist() == expected


@settings(max_examples=100, deadline=None)
@given(total=st.integers(2, 2000), k=st.integers(1, 800))
def test_frame_count_rule_properties(total, k):
    n = min(round(k / 2) * 2, total)  # a count above the video's is clamped to it (VideoAlign's smart_nframes)
    sampling = Sampling(fps=None, num_frames=k)
    if 2 <= n:
        idx = sample_indices(total, 30.0, sampling)
        assert len(idx) == n and idx[0] == 0 and idx[-1] == total - 1
        assert np.all(np.diff(idx) > 0)
    else:
        with pytest.raises(ValueError):
            sample_indices(total, 30.0, sampling)
