"""Degradations with a known direction, on uint8 frames (T, H, W, 3): the ``sanity`` benchmark's labels come from them.

Spatial ones (blur, noise, block compression, down-and-up scaling) lower visual quality and leave motion alone;
temporal ones (stutter, freeze, shuffle, jitter) reorder, repeat or shift the same frames, so they lower motion
quality and leave the pixels of each frame as they were. Random ones take a ``numpy.random.Generator``: same seed,
same output. All are pure: the input is never modified.
"""

from __future__ import annotations

import numpy as np

_BLOCK = 8


def _check(frames: np.ndarray) -> None:
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] == 0:
        raise ValueError(f"expected uint8 frames (T, H, W, 3) with T > 0, got {frames.shape} {frames.dtype}")


def _to_uint8(x: np.ndarray) -> np.ndarray:
    out = np.rint(x)
    np.clip(out, 0, 255, out=out)
    return out.astype(np.uint8)


# --- spatial -------------------------------------------------------------------------------------------------------


def gaussian_blur(frames: np.ndarray, sigma: float) -> np.ndarray:
    """Blur every frame with an isotropic Gaussian of ``sigma`` pixels (reflecting borders)."""
    from scipy.ndimage import gaussian_filter

    _check(frames)
    if sigma <= 0:
        raise ValueError(f"blur sigma must be > 0, got {sigma}")
    return _to_uint8(gaussian_filter(frames.astype(np.float32), sigma=(0, sigma, sigma, 0), mode="reflect"))


def add_noise(frames: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Add white Gaussian noise of standard deviation ``sigma`` (0-255 scale), independent per pixel and channel."""
    _check(frames)
    if sigma <= 0:
        raise ValueError(f"noise sigma must be > 0, got {sigma}")
    noise = rng.standard_normal(size=frames.shape, dtype=np.float32)
    noise *= np.float32(sigma)
    noise += frames
    return _to_uint8(noise)


# BT.601 full-range RGB <-> YCbCr, as JPEG uses.
_RGB2YCC = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])
_YCC2RGB = np.linalg.inv(_RGB2YCC)


def _dct_matrix(n: int = _BLOCK) -> np.ndarray:
    """Orthonormal DCT-II matrix D: the 2-D DCT of a block X is D @ X @ D.T."""
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    d = np.sqrt(2.0 / n) * np.cos(np.pi * (2 * i + 1) * k / (2 * n))
    d[0] /= np.sqrt(2.0)
    return d


def _separable(blocks: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``m @ X @ m.T`` for every 8x8 block X (last two axes), as two large matrix products (fast in BLAS)."""
    shape = blocks.shape
    x = blocks.reshape(-1, _BLOCK) @ m.T  # X @ m.T, rows of all blocks at once
    x = x.reshape(shape).swapaxes(-1, -2).reshape(-1, _BLOCK) @ m.T  # (X @ m.T).T @ m.T = (m @ X @ m.T).T
    return x.reshape(shape).swapaxes(-1, -2)


def block_compress(frames: np.ndarray, step: float) -> np.ndarray:
    """JPEG-like blocking: quantise the 8x8 block DCT of Y, Cb and Cr, which leaves visible 8-pixel block edges.

    Coefficient (u, v) of a block is rounded to a multiple of ``step * (1 + (u + v) / 4)`` (coarser at high
    frequencies, as perceptual codecs do); chroma uses twice the step. Height and width must be multiples of 8.
    """
    _check(frames)
    t, h, w, _ = frames.shape
    if h % _BLOCK or w % _BLOCK:
        raise ValueError(f"block_compress needs sides that are multiples of {_BLOCK}, got {h}x{w}")
    if step <= 0:
        raise ValueError(f"quantiser step must be > 0, got {step}")
    ycc = frames.astype(np.float32) @ _RGB2YCC.T.astype(np.float32)
    ycc[..., 0] -= 128.0
    # (T, H, W, C) -> (T, H/8, W/8, C, 8, 8) blocks, transformed over the last two axes.
    blocks = ycc.reshape(t, h // _BLOCK, _BLOCK, w // _BLOCK, _BLOCK, 3).transpose(0, 1, 3, 5, 2, 4)
    d = _dct_matrix().astype(np.float32)
    u = np.arange(_BLOCK)
    weight = 1.0 + (u[:, None] + u[None, :]) / 4.0
    steps = (step * weight[None, :, :] * np.array([1.0, 2.0, 2.0])[:, None, None]).astype(np.float32)  # (C, 8, 8)
    coeffs = _separable(blocks, d)
    coeffs = np.round(coeffs / steps) * steps
    blocks = _separable(coeffs, d.T)
    ycc = blocks.transpose(0, 1, 4, 2, 5, 3).reshape(t, h, w, 3)
    ycc[..., 0] += 128.0
    return _to_uint8(ycc @ _YCC2RGB.T.astype(np.float32))


def down_up_scale(frames: np.ndarray, factor: float) -> np.ndarray:
    """Shrink by ``factor`` (box filter), then enlarge back (bilinear): the softness of an upscaled low-res video."""
    from PIL import Image

    _check(frames)
    if factor <= 1:
        raise ValueError(f"scale factor must be > 1, got {factor}")
    _, h, w, _ = frames.shape
    small = (max(1, round(w / factor)), max(1, round(h / factor)))
    out = np.empty_like(frames)
    for t, frame in enumerate(frames):
        image = Image.fromarray(frame).resize(small, Image.Resampling.BOX)
        out[t] = np.asarray(image.resize((w, h), Image.Resampling.BILINEAR))
    return out


# --- temporal ------------------------------------------------------------------------------------------------------


def stutter(frames: np.ndarray, hold: int) -> np.ndarray:
    """Show every ``hold``-th frame ``hold`` times: the same duration at 1/hold of the frame rate (judder)."""
    _check(frames)
    if hold < 2:
        raise ValueError(f"hold must be >= 2, got {hold}")
    index = (np.arange(len(frames)) // hold) * hold
    return frames[index].copy()


def freeze(frames: np.ndarray, fraction: float) -> np.ndarray:
    """Freeze the middle ``fraction`` of the clip on one frame, then jump to where the clip would be (a hitch)."""
    _check(frames)
    if not 0 < fraction < 1:
        raise ValueError(f"freeze fraction must be in (0, 1), got {fraction}")
    n = len(frames)
    length = max(2, round(n * fraction))
    start = (n - length) // 2
    index = np.arange(n)
    index[start : start + length] = start
    return frames[index].copy()


def shuffle_order(n: int, window: int, rng: np.random.Generator) -> np.ndarray:
    """A frame order where each run of ``window`` frames is permuted (0 or >= n: the whole clip); never the identity
    within a window of two or more frames."""
    if n < 2:
        raise ValueError("shuffling needs at least two frames")
    window = n if window <= 0 or window >= n else window
    if window < 2:
        raise ValueError(f"shuffle window must be >= 2, got {window}")
    order = np.arange(n)
    for start in range(0, n, window):
        stop = min(start + window, n)
        if stop - start < 2:
            continue
        perm = np.arange(start, stop)
        while np.array_equal(perm, np.arange(start, stop)):
            perm = rng.permutation(np.arange(start, stop))
        order[start:stop] = perm
    return order


def shuffle(frames: np.ndarray, window: int, rng: np.random.Generator) -> np.ndarray:
    """Play the frames out of order: permuted within runs of ``window`` frames (0: the whole clip shuffled)."""
    _check(frames)
    return frames[shuffle_order(len(frames), window, rng)].copy()


def jitter(canvas: np.ndarray, size: tuple[int, int], amplitude: int, rng: np.random.Generator) -> np.ndarray:
    """Camera shake: crop a ``size`` (w, h) window from each canvas frame at the centre plus a random integer shift
    of up to ``amplitude`` pixels in x and y, drawn independently per frame."""
    _check(canvas)
    w, h = size
    _, ch, cw, _ = canvas.shape
    mx, my = (cw - w) // 2, (ch - h) // 2
    if amplitude < 1 or amplitude > min(mx, my):
        raise ValueError(f"jitter amplitude must be in [1, {min(mx, my)}] for this canvas, got {amplitude}")
    shifts = rng.integers(-amplitude, amplitude + 1, size=(len(canvas), 2))
    out = np.empty((len(canvas), h, w, 3), dtype=np.uint8)
    for t, (dx, dy) in enumerate(shifts):
        out[t] = canvas[t, my + dy : my + dy + h, mx + dx : mx + dx + w]
    return out
