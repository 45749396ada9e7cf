"""Rank correlations of pointwise scores with mean opinion scores (MOS), where a benchmark has them."""

from __future__ import annotations

import math
import warnings

import numpy as np
from numpy.typing import ArrayLike

from ._validate import as_values, same_length


def _pair(scores: ArrayLike, mos: ArrayLike) -> tuple[np.ndarray, np.ndarray] | None:
    s = as_values(scores, "scores")
    t = as_values(mos, "mos")
    n = same_length(scores=s, mos=t)
    if n < 2 or np.all(s == s[0]) or np.all(t == t[0]):
        return None  # a correlation is undefined for fewer than 2 items or a constant input
    return s, t


def _correlation(scores: ArrayLike, mos: ArrayLike, method: str) -> float:
    pair = _pair(scores, mos)
    if pair is None:
        return math.nan
    from scipy import stats  # imported on use: scipy.stats is slow to import

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(getattr(stats, method)(*pair).statistic)


def spearman(scores: ArrayLike, mos: ArrayLike) -> float:
    """Spearman's rho (Pearson correlation of average ranks). NaN input raises; undefined cases give nan."""
    return _correlation(scores, mos, "spearmanr")


def kendall(scores: ArrayLike, mos: ArrayLike) -> float:
    """Kendall's tau-b (accounts for ties in either input). NaN input raises; undefined cases give nan."""
    return _correlation(scores, mos, "kendalltau")
