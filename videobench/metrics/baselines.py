"""Reference baselines for the metrics."""

from __future__ import annotations

import numpy as np


def random_scores(n: int, seed: int = 0) -> np.ndarray:
    """Scores of the ``random`` baseline: n independent N(0, 1) draws, reproducible from ``seed``.

    On pairs, the margins are then continuous and independent of the labels, so the expected accuracy without ties
    is 1/2 and, with tie calibration at tie rate t, max(t, (1 - t) / 2) (predict all ties or none; equal to 1/3
    when t = 1/3), plus a small in-sample optimism from choosing the threshold.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    return np.random.default_rng(seed).standard_normal(n)
