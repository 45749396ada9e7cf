"""Each degradation does what its label claims, on synthetic frames (fast, no video files)."""

from __future__ import annotations

import numpy as np
import pytest

from videobench.rewards import classical as C
from videobench.sanity import degrade


def _frames(t: int = 12, h: int = 64, w: int = 96, seed: int = 0) -> np.ndarray:
    """Textured frames with a pattern moving right by 1 px per frame."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, size=(h, w + t, 3)).astype(np.float32)
    from scipy.ndimage import gaussian_filter

    base = gaussian_filter(base, sigma=(1.0, 1.0, 0))
    return np.stack([base[:, i : i + w] for i in range(t)]).clip(0, 255).astype(np.uint8)


@pytest.mark.parametrize(
    "fn",
    [
        lambda f: degrade.gaussian_blur(f, 1.5),
        lambda f: degrade.add_noise(f, 10.0, np.random.default_rng(1)),
        lambda f: degrade.block_compress(f, 24.0),
        lambda f: degrade.down_up_scale(f, 3.0),
        lambda f: degrade.stutter(f, 3),
        lambda f: degrade.freeze(f, 0.4),
        lambda f: degrade.shuffle(f, 4, np.random.default_rng(1)),
    ],
)
def test_degradations_keep_shape_and_leave_input_alone(fn) -> None:
    frames = _frames()
    before = frames.copy()
    out = fn(frames)
    assert out.shape == frames.shape and out.dtype == np.uint8
    assert np.array_equal(frames, before)
    assert not np.array_equal(out, frames)


def test_spatial_degradations_move_their_statistic_monotonically() -> None:
    y = lambda f: C.luma(f)  # noqa: E731
    frames = _frames()
    sharp = [C.laplacian_variance(y(degrade.gaussian_blur(frames, s))).mean() for s in (0.8, 1.5, 2.5)]
    assert C.laplacian_variance(y(frames)).mean() > sharp[0] > sharp[1] > sharp[2]
    noise = [C.noise_sigma(y(degrade.add_noise(frames, s, np.random.default_rng(0)))).mean() for s in (5, 10, 18)]
    assert noise[0] < noise[1] < noise[2]
    # Luma of independent RGB noise has sigma * |(0.299, 0.587, 0.114)| = 0.668 sigma; the estimate finds it.
    assert abs(noise[2] / (18 * 0.668) - 1) < 0.15
    blocks = [C.blockiness(y(degrade.block_compress(frames, s))).mean() for s in (12, 24, 40)]
    assert C.blockiness(y(frames)).mean() < 0.05 < blocks[0] < blocks[1] < blocks[2]
    detail = [C.detail(y(degrade.down_up_scale(frames, f))).mean() for f in (2, 3, 4)]
    assert C.detail(y(frames)).mean() > detail[0] > detail[1] > detail[2]


def test_block_compress_with_a_fine_step_is_near_identity_and_the_dct_is_orthonormal() -> None:
    d = degrade._dct_matrix()
    assert np.allclose(d @ d.T, np.eye(8), atol=1e-12)
    frames = _frames()
    assert np.abs(degrade.block_compress(frames, 1e-3).astype(int) - frames).max() <= 2  # YCbCr round trip only
    with pytest.raises(ValueError, match="multiples of 8"):
        degrade.block_compress(frames[:, :60], 10.0)


def test_noise_is_seeded() -> None:
    frames = _frames()
    a = degrade.add_noise(frames, 10, np.random.default_rng(7))
    assert np.array_equal(a, degrade.add_noise(frames, 10, np.random.default_rng(7)))
    assert not np.array_equal(a, degrade.add_noise(frames, 10, np.random.default_rng(8)))


def test_stutter_and_freeze_only_repeat_frames() -> None:
    frames = _frames(t=20)
    out = degrade.stutter(frames, 3)
    for i in range(20):
        assert np.array_equal(out[i], frames[i // 3 * 3])
    frozen = degrade.freeze(frames, 0.4)  # 8 frames from index 6
    assert all(np.array_equal(frozen[i], frames[6]) for i in range(6, 14))
    assert np.array_equal(frozen[:6], frames[:6]) and np.array_equal(frozen[14:], frames[14:])


@pytest.mark.parametrize("window", [2, 3, 6, 0])
def test_shuffle_order_is_a_windowed_permutation_never_the_identity(window: int) -> None:
    rng = np.random.default_rng(3)
    for n in (7, 20, 50):
        order = degrade.shuffle_order(n, window, rng)
        assert sorted(order.tolist()) == list(range(n))
        w = n if window == 0 else window
        for start in range(0, n, w):
            chunk = order[start : start + w]
            assert set(chunk.tolist()) == set(range(start, min(start + w, n)))
            if len(chunk) >= 2:
                assert not np.array_equal(chunk, np.arange(start, start + len(chunk)))


def test_jitter_crops_real_pixels_within_the_amplitude() -> None:
    canvas = _frames(t=10, h=80, w=112)
    out = degrade.jitter(canvas, (96, 64), 4, np.random.default_rng(0))
    assert out.shape == (10, 64, 96, 3)
    shifts = set()
    for t in range(10):
        found = [(dx, dy) for dy in range(-4, 5) for dx in range(-4, 5)
                 if np.array_equal(out[t], canvas[t, 8 + dy : 8 + dy + 64, 8 + dx : 8 + dx + 96])]
        assert found, f"frame {t} is not a shifted crop"
        shifts.add(found[0])
    assert len(shifts) > 1
    with pytest.raises(ValueError, match="amplitude"):
        degrade.jitter(canvas, (96, 64), 9, np.random.default_rng(0))


def test_bad_inputs_are_refused_with_a_message() -> None:
    with pytest.raises(ValueError, match="uint8 frames"):
        degrade.gaussian_blur(np.zeros((2, 8, 8, 3), dtype=np.float32), 1.0)
    with pytest.raises(ValueError, match="hold"):
        degrade.stutter(_frames(), 1)
    with pytest.raises(ValueError, match="fraction"):
        degrade.freeze(_frames(), 1.0)
