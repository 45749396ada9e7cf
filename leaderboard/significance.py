"""Which reward models cannot be told apart on a metric.

Each model gets a *significance rank*: 1 + the number of models that are significantly better than it. Models with the
same rank, or whose ranks overlap in the table, cannot be separated by this data (the rank used by Chatbot-Arena-style
boards). "Significantly better" is decided in one of two ways:

- ``paired-bootstrap`` when every model has per-pair correctness on the same pairs: resample prompts (pairs sharing a
  prompt move together, as in the CI bootstrap) and call i better than j when the 2.5 % quantile of
  acc_i - acc_j over the resamples is above 0. Paired, so it separates models whose CIs overlap only because the
  benchmark is small, which CI overlap cannot.
- ``ci-overlap`` otherwise: i is better than j when i's CI lies entirely above j's. Conservative (two 95 % CIs that
  just touch correspond to p well below 0.05); models without a CI are never separated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

#: Above this many models the paired bootstrap (M^2 x B comparisons) is skipped for CI overlap.
MAX_PAIRED_MODELS = 150


@dataclass
class PairedCorrectness:
    """``correct[m, p]`` in {0, 1} (NaN: pair not scored for this metric); ``clusters[p]``: the prompt id of pair p."""

    correct: np.ndarray
    clusters: np.ndarray


def _ranks_from_better(better: np.ndarray) -> list[int]:
    return [1 + int(better[:, j].sum()) for j in range(better.shape[0])]


def ci_overlap_ranks(values: Sequence[float | None], lows: Sequence[float | None], highs: Sequence[float | None]) -> list[int]:
    n = len(values)
    lo, hi, val = (np.array(x, dtype=float) for x in (lows, highs, values))  # None -> NaN
    # A CI must contain its estimate; one that does not (malformed input) separates nothing.
    bad = ~((lo <= val) & (val <= hi))
    lo[bad], hi[bad] = np.nan, np.nan
    better = np.zeros((n, n), dtype=bool)
    with np.errstate(invalid="ignore"):
        better = lo[:, None] > hi[None, :]  # NaN comparisons are False: no CI, no separation
    np.fill_diagonal(better, False)
    return _ranks_from_better(better)


def paired_bootstrap_ranks(data: PairedCorrectness, n_boot: int = 1000, seed: int = 0, alpha: float = 0.05) -> list[int]:
    correct = np.asarray(data.correct, dtype=float)
    _, cluster_idx = np.unique(np.asarray(data.clusters), return_inverse=True)
    n_models, _ = correct.shape
    n_clusters = int(cluster_idx.max()) + 1 if cluster_idx.size else 0
    valid = ~np.isnan(correct)
    # Per-cluster sums, so a bootstrap replicate is a weighted sum over clusters.
    sums = np.zeros((n_models, n_clusters))
    counts = np.zeros((n_models, n_clusters))
    np.add.at(sums.T, cluster_idx, np.where(valid, correct, 0.0).T)
    np.add.at(counts.T, cluster_idx, valid.T.astype(float))
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(n_clusters, np.full(n_clusters, 1.0 / n_clusters), size=n_boot).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = (weights @ sums.T) / (weights @ counts.T)  # (n_boot, n_models)
    better = np.zeros((n_models, n_models), dtype=bool)
    for i in range(n_models):
        diff = boot[:, i : i + 1] - boot  # (n_boot, n_models)
        low = np.nanquantile(diff, alpha / 2, axis=0)
        better[i] = low > 0
    np.fill_diagonal(better, False)
    return _ranks_from_better(better)


def significance_ranks(
    values: Sequence[float | None],
    lows: Sequence[float | None],
    highs: Sequence[float | None],
    paired: PairedCorrectness | None = None,
) -> tuple[list[int], str]:
    """Ranks and the method used (``paired-bootstrap`` or ``ci-overlap``)."""
    if paired is not None and 1 < paired.correct.shape[0] <= MAX_PAIRED_MODELS and paired.correct.shape[1] > 0:
        return paired_bootstrap_ranks(paired), "paired-bootstrap"
    return ci_overlap_ranks(values, lows, highs), "ci-overlap"
