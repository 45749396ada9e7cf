"""Bootstrap confidence intervals for the pairwise metrics, vectorised across resamples.

A resample is a row of integer weights per pair: draw C clusters (prompts) with replacement out of C, count how
often each cluster was drawn, and give every pair its cluster's count. Without clusters every pair is its own
cluster. The weighted metrics (``pairwise.weighted_*``) then evaluate a whole (R, C) block of cluster counts at
once; resamples are processed in chunks so memory stays bounded (about ``_CHUNK_ELEMENTS`` numbers per array).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable, Iterator, Union

import numpy as np
from numpy.typing import ArrayLike

from ._validate import as_clusters, as_labels, as_values, same_length
from .pairwise import (
    PairTable,
    TieCalibratedAccuracy,
    accuracy_with_ties,
    accuracy_without_ties,
    check_threshold,
    weighted_fixed,
    weighted_with_ties,
    weighted_without_ties,
)

_CHUNK_ELEMENTS = 4_000_000
#: Resample count matrices up to this many entries (int32) are kept for reuse by the next call with equal sizes.
_CACHE_ELEMENTS = 4_000_000

Statistic = Union[str, Callable[..., object]]

#: Names accepted as ``statistic``.
STATISTICS = ("accuracy_without_ties", "accuracy_with_ties", "accuracy_with_ties_reference", "accuracy_with_ties_fixed")


@dataclass(frozen=True)
class ConfidenceInterval:
    """Percentile bootstrap interval [low, high] at ``level`` around the full-sample ``point`` estimate."""

    low: float
    high: float
    level: float
    n_resamples: int
    point: float
    statistic: str = ""

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


@dataclass(frozen=True)
class PairedDifference:
    """statistic(margins_1) - statistic(margins_2) on the same pairs, with a paired bootstrap CI and p-value."""

    difference: float
    ci_low: float
    ci_high: float
    p_value: float
    level: float = 0.95
    n_resamples: int = 0


def _statistic_name(statistic: Statistic, threshold: float | None = None) -> str | None:
    """Name of a built-in statistic, or None for an arbitrary callable (looped fallback)."""
    if (statistic == "accuracy_with_ties_fixed") != (threshold is not None):
        raise ValueError("threshold is required with statistic 'accuracy_with_ties_fixed' and only allowed with it")
    if isinstance(statistic, str):
        if statistic not in STATISTICS:
            raise ValueError(f"unknown statistic {statistic!r}; expected one of {', '.join(STATISTICS)} or a callable")
        return statistic
    if statistic is accuracy_without_ties:
        return "accuracy_without_ties"
    if statistic is accuracy_with_ties:
        return "accuracy_with_ties"
    if not callable(statistic):
        raise TypeError(f"statistic must be a metric name or a callable, got {type(statistic).__name__}")
    return None


def resample_counts(codes: np.ndarray, n_resamples: int, seed: int) -> Iterator[np.ndarray]:
    """Yield chunks of per-cluster draw counts, shape (r, C), ``n_resamples`` rows in all (see ``_draw_counts``)."""
    n_clusters = int(codes.max()) + 1 if codes.size else 0
    rows = max(1, _CHUNK_ELEMENTS // max(codes.size, n_clusters, 1))
    if n_resamples * n_clusters <= _CACHE_ELEMENTS:
        yield from _cached_counts(n_clusters, rows, n_resamples, seed)  # e.g. 4 dimensions x 2 metrics, one draw
    else:
        yield from _draw_counts(n_clusters, rows, n_resamples, seed)


@functools.lru_cache(maxsize=4)
def _cached_counts(n_clusters: int, rows: int, n_resamples: int, seed: int) -> tuple[np.ndarray, ...]:
    chunks = tuple(_draw_counts(n_clusters, rows, n_resamples, seed))
    for c in chunks:
        c.flags.writeable = False  # shared between callers
    return chunks


def _draw_counts(n_clusters: int, rows: int, n_resamples: int, seed: int) -> Iterator[np.ndarray]:
    """Yield chunks of per-cluster draw counts, shape (r, C), ``n_resamples`` rows in all.

    Each row is a multinomial(C, uniform) draw, produced as C uniform cluster indices + bincount; the stream depends
    only on (N, C, n_resamples, seed), so two calls with equal arguments give equal resamples.
    """
    rng = np.random.default_rng(seed)
    for start in range(0, n_resamples, rows):
        r = min(rows, n_resamples - start)
        draws = rng.integers(0, n_clusters, size=(r, n_clusters), dtype=np.int32)
        offsets = (np.arange(r) * n_clusters)[:, None]
        counts = np.bincount((draws + offsets).ravel(), minlength=r * n_clusters).reshape(r, n_clusters)
        yield counts.astype(np.int32)


def resample_weights(codes: np.ndarray, n_resamples: int, seed: int) -> Iterator[np.ndarray]:
    """Yield chunks of per-pair weights (r, N): the pair's cluster count in each resample."""
    for counts in resample_counts(codes, n_resamples, seed):
        yield counts[:, codes]


def _point(name: str | None, statistic: Statistic, h: np.ndarray, m: np.ndarray,
           threshold: float | None = None) -> float:
    if name == "accuracy_with_ties_fixed":
        return accuracy_with_ties(h, m, mode="fixed", threshold=threshold).value
    if name == "accuracy_without_ties":
        return accuracy_without_ties(h, m)
    if name == "accuracy_with_ties":
        return accuracy_with_ties(h, m).value
    if name == "accuracy_with_ties_reference":
        return accuracy_with_ties(h, m, mode="reference").value
    out = statistic(h, m)  # type: ignore[operator]
    return float(out.value if isinstance(out, TieCalibratedAccuracy) else out)  # type: ignore[arg-type]


class _Evaluator:
    """Statistic values for a chunk of cluster counts; sorting and cluster sums are done once."""

    def __init__(self, name: str | None, statistic: Statistic, h: np.ndarray, m: np.ndarray, codes: np.ndarray,
                 threshold: float | None = None):
        self.name, self.statistic, self.h, self.m, self.codes = name, statistic, h, m, codes
        self.threshold = None if threshold is None else check_threshold(threshold)
        self.table = PairTable(h, m, codes) if name is not None else None

    def __call__(self, counts: np.ndarray) -> np.ndarray:
        if self.name == "accuracy_with_ties_fixed":
            return weighted_fixed(self.table, counts, self.threshold)  # type: ignore[arg-type]
        if self.name == "accuracy_without_ties":
            return weighted_without_ties(self.table, counts)  # type: ignore[arg-type]
        if self.name == "accuracy_with_ties":
            return weighted_with_ties(self.table, counts, "grouped")  # type: ignore[arg-type]
        if self.name == "accuracy_with_ties_reference":
            return weighted_with_ties(self.table, counts, "reference")  # type: ignore[arg-type]
        return _looped(lambda h, m: _point(None, self.statistic, h, m), (self.h, self.m), self.codes, counts)


def _looped(statistic: Callable[..., float], arrays: tuple[np.ndarray, ...], codes: np.ndarray,
            counts: np.ndarray) -> np.ndarray:
    """A statistic that is not linear in item weights, one call per resample on the expanded items (each item
    repeated its cluster's draw count); nan for a resample that drew nothing."""
    out = np.empty(len(counts))
    index = np.arange(codes.size)
    for r, w in enumerate(counts[:, codes]):
        idx = np.repeat(index, w)
        out[r] = statistic(*(a[idx] for a in arrays)) if idx.size else math.nan
    return out


def _percentile(values: np.ndarray, level: float) -> tuple[float, float]:
    finite = values[~np.isnan(values)]  # a resample without any usable pair has no value
    if finite.size == 0:
        return math.nan, math.nan
    low, high = np.quantile(finite, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def _check_common(n_resamples: int, level: float) -> None:
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")


def bootstrap_ci(
    statistic: Statistic,
    labels: ArrayLike,
    margins: ArrayLike,
    clusters: ArrayLike | None = None,
    n_resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    threshold: float | None = None,
) -> ConfidenceInterval:
    """Percentile bootstrap CI of a pairwise metric: [q_(1-level)/2, q_(1+level)/2] of the resampled statistic.

    ``statistic``: ``"accuracy_without_ties"``, ``"accuracy_with_ties"`` (grouped), ``"accuracy_with_ties_reference"``,
    ``"accuracy_with_ties_fixed"`` (needs ``threshold``: |margin| <= threshold is a predicted tie),
    one of the functions ``accuracy_without_ties`` / ``accuracy_with_ties``, or any callable ``f(labels, margins)``
    returning a float (evaluated in a loop, one call per resample). ``clusters`` (e.g. prompts) are resampled with
    replacement when given, pairs otherwise. Resamples where the statistic is undefined (nan) are left out.
    """
    _check_common(n_resamples, level)
    name = _statistic_name(statistic, threshold)
    h = as_labels(labels)
    m = as_values(margins, "margins")
    n = same_length(labels=h, margins=m)
    if n == 0:
        raise ValueError("cannot bootstrap an empty set of pairs")
    codes = as_clusters(clusters, n)
    evaluate = _Evaluator(name, statistic, h, m, codes, threshold)
    values = np.concatenate([evaluate(c) for c in resample_counts(codes, n_resamples, seed)])
    low, high = _percentile(values, level)
    point = _point(name, statistic, h, m, threshold)
    return ConfidenceInterval(low, high, level, n_resamples, point, name or "callable")


def bootstrap_items_ci(
    statistic: Callable[..., float],
    arrays: tuple[np.ndarray, ...],
    clusters: ArrayLike | None = None,
    n_resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    name: str = "callable",
) -> ConfidenceInterval:
    """Percentile bootstrap CI of any statistic of per-item arrays (e.g. SRCC of scores against MOS).

    Same resampling as ``bootstrap_ci`` (clusters drawn with replacement, every item of a drawn cluster repeated
    that many times, same seeded stream), evaluated in a loop: one ``statistic(*resampled_arrays)`` per resample,
    for statistics that are not linear in item weights (rank correlations, a refitted logistic).
    """
    _check_common(n_resamples, level)
    n = same_length(**{f"array_{i}": a for i, a in enumerate(arrays)})
    if n == 0:
        raise ValueError("cannot bootstrap an empty set of items")
    codes = as_clusters(clusters, n)
    values = np.concatenate([_looped(statistic, arrays, codes, c) for c in resample_counts(codes, n_resamples, seed)])
    low, high = _percentile(values, level)
    return ConfidenceInterval(low, high, level, n_resamples, float(statistic(*arrays)), name)


def paired_difference(
    labels: ArrayLike,
    margins_1: ArrayLike,
    margins_2: ArrayLike,
    statistic: Statistic,
    clusters: ArrayLike | None = None,
    n_resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    threshold: float | None = None,
) -> PairedDifference:
    """Difference d = stat(margins_1) - stat(margins_2) of two models on the same pairs and the same resamples.

    CI: percentile interval of the R resampled differences d_r. p-value (two-sided, bootstrap sign test of d = 0):
    ``p = min(1, 2 * min(1 + #{d_r <= 0}, 1 + #{d_r >= 0}) / (R + 1))``; the +1 keeps p > 0 with finitely many
    resamples. Identical models give p = 1.
    """
    _check_common(n_resamples, level)
    name = _statistic_name(statistic, threshold)
    h = as_labels(labels)
    m1 = as_values(margins_1, "margins_1")
    m2 = as_values(margins_2, "margins_2")
    n = same_length(labels=h, margins_1=m1, margins_2=m2)
    if n == 0:
        raise ValueError("cannot compare on an empty set of pairs")
    codes = as_clusters(clusters, n)
    eval_1 = _Evaluator(name, statistic, h, m1, codes, threshold)
    eval_2 = _Evaluator(name, statistic, h, m2, codes, threshold)
    diffs = np.concatenate([eval_1(c) - eval_2(c) for c in resample_counts(codes, n_resamples, seed)])
    diffs = diffs[~np.isnan(diffs)]
    low, high = _percentile(diffs, level)
    r = diffs.size
    if r == 0:
        p = math.nan
    else:
        tail = min(int(np.count_nonzero(diffs <= 0)), int(np.count_nonzero(diffs >= 0)))
        p = min(1.0, 2 * (tail + 1) / (r + 1))
    point = _point(name, statistic, h, m1, threshold) - _point(name, statistic, h, m2, threshold)
    return PairedDifference(point, low, high, p, level, n_resamples)
