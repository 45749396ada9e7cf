"""Comparing generator checkpoints: paired win rates with a sign test, and Bradley-Terry strengths.

Inputs are per-item reward scores of two checkpoints on the same (prompt, seed) items, or pairwise outcomes
between many checkpoints. Bootstrap resamples clusters (prompts) exactly as ``bootstrap_ci`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Sequence, Union

import numpy as np
from numpy.typing import ArrayLike

from ._validate import as_clusters, as_values, same_length
from .bootstrap import _check_common, _percentile, resample_counts

#: (i, j, outcome) arrays, or an (M, 3) array with those columns. outcome: 1 = i wins, 0 = j wins, 0.5 = tie.
Comparisons = Union[Sequence[ArrayLike], np.ndarray]

#: Default L2 penalty on strengths: a N(0, 1/l2) prior that keeps the fit finite when an item never loses.
DEFAULT_L2 = 1e-4
_CHUNK_ELEMENTS = 4_000_000


@dataclass(frozen=True)
class WinRateStat:
    """Share of items where checkpoint 1 beats checkpoint 2 (ties count 1/2), CI, counts and sign-test p-value."""

    value: float
    ci_low: float
    ci_high: float
    wins: int
    losses: int
    ties: int
    p_value: float
    level: float = 0.95
    n_resamples: int = 0


def win_rate(
    scores_1: ArrayLike,
    scores_2: ArrayLike,
    clusters: ArrayLike | None = None,
    n_resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    tie_tolerance: float = 0.0,
) -> WinRateStat:
    """Paired win rate of checkpoint 1 over checkpoint 2.

    Per item d = score_1 - score_2: a win when d > tol, a loss when d < -tol, a tie otherwise;
    ``value = (wins + ties / 2) / n``. CI: percentile bootstrap over ``clusters`` (prompts; items when None).
    ``p_value``: two-sided exact sign test (binomial, p = 1/2) of wins against losses, ties left out; 1.0 when
    every item is a tie.
    """
    _check_common(n_resamples, level)
    if not tie_tolerance >= 0:
        raise ValueError(f"tie_tolerance must be >= 0, got {tie_tolerance}")
    s1 = as_values(scores_1, "scores_1")
    s2 = as_values(scores_2, "scores_2")
    n = same_length(scores_1=s1, scores_2=s2)
    if n == 0:
        raise ValueError("win_rate needs at least one paired item")
    codes = as_clusters(clusters, n)
    with np.errstate(invalid="ignore"):
        d = s1 - s2  # inf - inf is NaN: an undecidable item
    if np.isnan(d).any():
        raise ValueError("scores_1 - scores_2 is NaN (inf on both sides) at positions "
                         f"{np.flatnonzero(np.isnan(d))[:10].tolist()}")
    wins = int(np.count_nonzero(d > tie_tolerance))
    losses = int(np.count_nonzero(d < -tie_tolerance))
    ties = n - wins - losses
    credit = np.where(d > tie_tolerance, 1.0, np.where(d < -tie_tolerance, 0.0, 0.5))
    credit_c = np.bincount(codes, weights=credit)
    size_c = np.bincount(codes).astype(np.float64)
    values = np.concatenate([(cc @ credit_c) / (cc @ size_c) for cc in resample_counts(codes, n_resamples, seed)])
    low, high = _percentile(values, level)
    from scipy import stats  # imported on use: scipy.stats is slow to import

    p = 1.0 if wins + losses == 0 else float(stats.binomtest(wins, wins + losses, 0.5).pvalue)
    return WinRateStat((wins + ties / 2) / n, low, high, wins, losses, ties, p, level, n_resamples)


def _parse(comparisons: Comparisons, n_items: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    if isinstance(comparisons, np.ndarray) and comparisons.ndim == 2:
        if comparisons.shape[1] != 3:
            raise ValueError(f"comparisons array must have 3 columns (i, j, outcome), got shape {comparisons.shape}")
        cols = [comparisons[:, 0], comparisons[:, 1], comparisons[:, 2]]
    else:
        if len(comparisons) != 3:
            raise ValueError("comparisons must be (i, j, outcome) arrays or an (M, 3) array")
        cols = list(comparisons)
    i = np.asarray(cols[0])
    j = np.asarray(cols[1])
    o = as_values(cols[2], "outcome")
    same_length(i=i, j=j, outcome=o)
    for name, idx in (("i", i), ("j", j)):
        if idx.size and (not np.all(np.mod(idx, 1) == 0) or idx.min() < 0):
            raise ValueError(f"{name} must hold non-negative integer item indices")
    i, j = i.astype(np.int64), j.astype(np.int64)
    bad = ~np.isin(o, (0.0, 0.5, 1.0))
    if bad.any():
        bad_at = np.flatnonzero(bad)[:10].tolist()
        raise ValueError(f"outcome must be 1 (i wins), 0 (j wins) or 0.5 (tie); bad at positions {bad_at}")
    if np.any(i == j):
        raise ValueError(f"an item cannot be compared with itself (positions {np.flatnonzero(i == j)[:10].tolist()})")
    seen = int(max(i.max(initial=-1), j.max(initial=-1))) + 1
    k = seen if n_items is None else int(n_items)
    if k < seen:
        raise ValueError(f"n_items={n_items} but comparisons reference item {seen - 1}")
    if k < 1:
        raise ValueError("Bradley-Terry needs at least one item")
    return i, j, o, k


def _fit(x: np.ndarray, l2: float, reference: int | None) -> np.ndarray:
    """Maximum a-posteriori strengths for each row of win matrices x (R, K, K), x[a, b] = credit of a over b.

    Minimises  -sum_ab x_ab log sigmoid(s_a - s_b) + l2/2 * |s|^2  for all R rows jointly (the problem is separable,
    so the joint optimum is every row's optimum) with L-BFGS. Gradient: with A = x * sigmoid(s_b - s_a),
    dL/ds_a = -sum_b A_ab + sum_b A_ba + l2 * s_a.
    """
    from scipy import optimize  # imported on use, like scipy.stats

    r, k, _ = x.shape

    def objective(flat: np.ndarray) -> tuple[float, np.ndarray]:
        s = flat.reshape(r, k)
        diff = s[:, :, None] - s[:, None, :]
        nll = float(np.sum(x * np.logaddexp(0.0, -diff))) + 0.5 * l2 * float(np.sum(s * s))
        a = x * (0.5 * (1.0 - np.tanh(0.5 * diff)))  # x * sigmoid(-diff), overflow-free
        grad = -a.sum(axis=2) + a.sum(axis=1) + l2 * s
        return nll, grad.ravel()

    res = optimize.minimize(objective, np.zeros(r * k), jac=True, method="L-BFGS-B",
                            options={"maxiter": 2000, "gtol": 1e-9, "ftol": 1e-14})
    s = res.x.reshape(r, k)
    # The likelihood only sees differences, so the prior alone fixes the offset (mean zero at the optimum);
    # pinning an item just shifts every strength.
    s = s - (s.mean(axis=1, keepdims=True) if reference is None else s[:, [reference]])
    return s


def _win_matrices(i: np.ndarray, j: np.ndarray, o: np.ndarray, k: int, codes: np.ndarray) -> np.ndarray:
    """Per-cluster win matrices, flattened: (C, K*K)."""
    n_clusters = int(codes.max()) + 1 if codes.size else 1
    flat = np.zeros(n_clusters * k * k)
    np.add.at(flat, codes * k * k + i * k + j, o)
    np.add.at(flat, codes * k * k + j * k + i, 1.0 - o)
    return flat.reshape(n_clusters, k * k)


def _check_reference(reference: int | None, k: int) -> None:
    if reference is not None and not 0 <= reference < k:
        raise ValueError(f"reference item {reference} is not in 0..{k - 1}")


def bradley_terry(
    comparisons: Comparisons, n_items: int | None = None, l2: float = DEFAULT_L2, reference: int | None = None
) -> np.ndarray:
    """Bradley-Terry strengths s (log-odds): P(a beats b) = 1 / (1 + exp(s_b - s_a)).

    A tie (outcome 0.5) counts as half a win for each side. Fitted by L-BFGS on the penalised likelihood
    (``l2``: a tiny Gaussian prior so that an undefeated item still gets a finite strength). Strengths are
    mean-zero, or shifted so that item ``reference`` is 0 (e.g. the baseline checkpoint).
    """
    i, j, o, k = _parse(comparisons, n_items)
    _check_reference(reference, k)
    x = _win_matrices(i, j, o, k, np.zeros(i.size, dtype=np.int64)).sum(axis=0).reshape(1, k, k)
    return _fit(x, l2, reference)[0]


class BradleyTerryCI(NamedTuple):
    strengths: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray


def bradley_terry_ci(
    comparisons: Comparisons,
    clusters: ArrayLike | None = None,
    n_items: int | None = None,
    n_resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    l2: float = DEFAULT_L2,
    reference: int | None = None,
) -> BradleyTerryCI:
    """Bradley-Terry strengths with percentile bootstrap CIs per item, resampling ``clusters`` (prompts) of
    comparisons. All resamples of a chunk are fitted in one vectorised L-BFGS problem."""
    _check_common(n_resamples, level)
    i, j, o, k = _parse(comparisons, n_items)
    _check_reference(reference, k)
    codes = as_clusters(clusters, i.size)
    if i.size == 0:
        raise ValueError("cannot bootstrap Bradley-Terry without comparisons")
    per_cluster = _win_matrices(i, j, o, k, codes)
    point = _fit(per_cluster.sum(axis=0).reshape(1, k, k), l2, reference)[0]
    fits = []
    rows = max(1, _CHUNK_ELEMENTS // (k * k * 8))
    for counts in resample_counts(codes, n_resamples, seed):
        for start in range(0, len(counts), rows):
            x = (counts[start:start + rows] @ per_cluster).reshape(-1, k, k)
            fits.append(_fit(x, l2, reference))
    boot = np.concatenate(fits)
    bounds = np.array([_percentile(boot[:, a], level) for a in range(k)]).reshape(k, 2)
    return BradleyTerryCI(point, bounds[:, 0], bounds[:, 1])
