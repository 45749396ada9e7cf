"""Pairwise accuracy of a reward model against human labels, without and with ties.

Notation (Deutsch et al. 2023, "Ties Matter", arXiv 2305.14324): for a pair with human label h in {+1, -1, 0} and
model margin m = score(A) - score(B), and a tie threshold eps (|m| <= eps is a predicted tie),

    concordant   C:   h != 0, |m| > eps, h * m > 0
    discordant   D:   h != 0, |m| > eps, h * m <= 0     (a zero margin is never concordant)
    human tie    Th:  h == 0, |m| > eps
    model tie    Tm:  h != 0, |m| <= eps
    both tie     Thm: h == 0, |m| <= eps

    accuracy_with_ties(eps) = (C + Thm) / N,  maximised over eps ("grouped", "reference"), or at a hand-set eps
                                               ("fixed", as VideoScore2 reports: e.g. eps = 0.25 for VideoReward).

Sweeping eps upwards turns pairs into predicted ties in order of |m|. Turning pair i into a predicted tie changes
the number of correct pairs by delta_i = [h_i == 0] - [h_i * m_i > 0], so after sorting by |m| every candidate's
count is ``C0 + cumsum(delta)`` at one index: O(N log N) for the sort, O(N) for the rest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from ._validate import as_clusters, as_labels, as_values, same_length

#: The epsilon reported when the best choice is "no predicted ties": no |margin| is <= -inf.
#: (JSON has no -inf; ``videobench.results`` stores it as null.)
NO_TIES_EPSILON = -math.inf

Mode = Literal["grouped", "reference", "fixed"]
MODES = ("grouped", "reference", "fixed")


@dataclass(frozen=True)
class TieCalibratedAccuracy:
    """Tie-calibrated accuracy ``value`` at threshold ``epsilon`` (|margin| <= epsilon is a predicted tie).

    ``counts`` holds n, concordant, discordant, human_tie (human tie, model not), model_tie (model tie, human not),
    both_tie, predicted_ties at the chosen threshold, so ``value == (concordant + both_tie) / n``.
    """

    value: float
    epsilon: float
    counts: dict[str, int] = field(default_factory=dict)
    mode: str = "grouped"

    def __float__(self) -> float:
        return float(self.value)


def _check(labels: ArrayLike, margins: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    h = as_labels(labels)
    m = as_values(margins, "margins")
    same_length(labels=h, margins=m)
    return h, m


def accuracy_without_ties(labels: ArrayLike, margins: ArrayLike) -> float:
    """Share of non-tie pairs where sign(margin) agrees with the human label.

    ``acc = #{h != 0 and h * m > 0} / #{h != 0}``; a zero margin counts as wrong. ``nan`` when every label is a tie.
    """
    h, m = _check(labels, margins)
    n = int(np.count_nonzero(h))
    if n == 0:
        return math.nan
    return int(np.count_nonzero(h * m > 0)) / n


def stable_order(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.argsort(values, kind="stable")`` and the sorted values, for non-negative, non-NaN float64 ``values``.

    Same permutation, several times faster: numpy's stable argsort of floats is a comparison merge sort, while its
    plain sort of uint64 is vectorised. A non-negative double orders like its bit pattern read as uint64, so with
    k = bits(n - 1) the key "bits with the low k bits replaced by the position" sorts by value and then position,
    exactly, unless two different values share all but their low k bits (relative gap below 2**(k - 52), e.g.
    0.3 - 0.2 against 0.1). Then each such block is put in (low bits, position) order by a second uint64 sort.
    Every step works in place: a fresh 200 kB array costs about as much as the arithmetic done on it.
    """
    n = values.size
    k = max(1, (n - 1).bit_length())
    if 3 * k > 64 or values.dtype != np.float64:  # more than 2**21 items: the keys no longer fit
        order = np.argsort(values, kind="stable")
        return order, values[order]
    values = np.ascontiguousarray(values)
    bits = values.view(np.uint64)
    mask = np.uint64((1 << k) - 1)
    key = np.arange(n, dtype=np.uint64)
    key |= bits & ~mask
    key.sort()
    ordered = np.empty(n)
    low = key & mask  # becomes the order; uint64 and intp share the bytes of any position < 2**63
    order = low.view(np.intp)
    np.take(values, order, out=ordered, mode="clip")
    if not (ordered[1:] < ordered[:-1]).any():
        return order, ordered
    block = np.zeros(n, dtype=np.uint64)  # block number of each sorted item: blocks share the high bits
    key >>= np.uint64(k)
    np.not_equal(key[1:], key[:-1], out=block[1:])
    np.cumsum(block, out=block)
    block <<= np.uint64(2 * k)
    block |= low
    np.take(bits, order, out=key, mode="clip")
    key &= mask
    key <<= np.uint64(k)
    block |= key
    block.sort()
    block &= mask
    order = block.view(np.intp)
    np.take(values, order, out=ordered, mode="clip")
    return order, ordered


def _sorted_cells(h: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Order by |m| (stable: input order among equal |m|), the sorted |m|, and in that order whether each pair is
    a human tie and whether it is concordant (h * m > 0, computed without a float temporary)."""
    order, abs_sorted = stable_order(np.abs(m))
    pos, neg = m > 0, m < 0
    conc = ((h > 0) & pos) | ((h < 0) & neg)
    return order, abs_sorted, (h == 0)[order], conc[order]


def _sorted_deltas(h: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``_sorted_cells`` as delta = change in #correct when a pair becomes a predicted tie (+1, 0 or -1)."""
    order, abs_sorted, tie_h, conc = _sorted_cells(h, m)
    return order, abs_sorted, tie_h.astype(np.int64) - conc


def group_ends(abs_sorted: np.ndarray) -> np.ndarray:
    """Index of the last element of each run of equal values in a sorted array."""
    if abs_sorted.size == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.append(abs_sorted[1:] != abs_sorted[:-1], True))


def check_threshold(threshold: float | None) -> float:
    """A hand-set tie threshold as a float: finite and >= 0 (a negative one would mean "no ties", say so instead)."""
    t = float(threshold)  # type: ignore[arg-type]
    if not (math.isfinite(t) and t >= 0):
        raise ValueError(f"tie threshold must be a finite number >= 0, got {threshold!r}")
    return t


def fixed_correct(h: np.ndarray, m: np.ndarray, threshold: float) -> np.ndarray:
    """Per pair, 1 where a fixed-threshold prediction is right: a tie on both sides (|m| <= t, h == 0) or a
    concordant non-tie prediction (|m| > t, h * m > 0). Summed, the ``concordant + both_tie`` of ``tie_counts``."""
    tie_m = np.abs(m) <= threshold
    return np.where(tie_m, h == 0, h * m > 0)


def tie_counts(labels: ArrayLike, margins: ArrayLike, epsilon: float) -> dict[str, int]:
    """The five sufficient statistics at a given threshold (|margin| <= epsilon is a predicted tie)."""
    h, m = _check(labels, margins)
    return _counts(h, m, np.abs(m) <= epsilon)


def _counts(h: np.ndarray, m: np.ndarray, tie_m: np.ndarray) -> dict[str, int]:
    tie_h = h == 0
    both = int(np.count_nonzero(tie_h & tie_m))
    conc = int(np.count_nonzero((h * m > 0) & ~tie_m))
    return _cell_counts(h.size, int(np.count_nonzero(tie_h)), int(np.count_nonzero(tie_m)), both, conc)


def _cell_counts(n: int, n_ht: int, n_mt: int, both: int, conc: int) -> dict[str, int]:
    """The five cells from n, #human ties, #predicted ties, #both ties and #concordant non-tie predictions."""
    decided = n - n_ht - n_mt + both  # neither a human nor a model tie
    return {
        "n": n,
        "concordant": conc,
        "discordant": decided - conc,
        "human_tie": n_ht - both,
        "model_tie": n_mt - both,
        "both_tie": both,
        "predicted_ties": n_mt,
    }


def accuracy_with_ties(labels: ArrayLike, margins: ArrayLike, mode: Mode = "grouped",
                       threshold: float | None = None) -> TieCalibratedAccuracy:
    """Tie-calibrated pairwise accuracy (Deutsch et al. 2023, Algorithm 1), see the module docstring.

    ``mode="grouped"`` (default): candidates are "no predicted ties" (reported as ``epsilon = -inf``) and every
    distinct |margin|; pairs sharing one |margin| become predicted ties together, so the result does not depend on
    pair order. Among equally good thresholds the smallest is reported.

    ``mode="reference"``: exactly the published VideoAlign evaluation script: stable sort by |margin|, after the
    i-th sorted pair the predicted ties are sorted pairs 0..i (even when pair i+1 has the same |margin|), accuracy is
    taken after every pair, the no-ties state is never scored; epsilon is |margin| of the first best pair. The
    result depends on input order when |margin| values repeat, by construction: pass pairs in the benchmark
    file's row order to get the published number.

    ``mode="fixed"``: no calibration; ``threshold`` (required, >= 0) is the hand-set tie threshold and
    |margin| <= threshold is a predicted tie. This reproduces numbers published with a fixed threshold (VideoScore2
    scores VideoReward with 0.25); ``epsilon`` is the threshold itself.

    Empty input gives ``value = nan``.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if (mode == "fixed") != (threshold is not None):
        raise ValueError("threshold is required with mode='fixed' and only allowed with it")
    h, m = _check(labels, margins)
    n = h.size
    if mode == "fixed":
        eps = check_threshold(threshold)
        counts = tie_counts(h, m, eps)
        value = (counts["concordant"] + counts["both_tie"]) / n if n else math.nan
        return TieCalibratedAccuracy(value, eps, counts, mode)
    if n == 0:
        return TieCalibratedAccuracy(math.nan, NO_TIES_EPSILON, tie_counts(h, m, NO_TIES_EPSILON), mode)
    _, abs_sorted, tie_h, conc = _sorted_cells(h, m)
    base = int(np.count_nonzero(conc))
    n_ht = int(np.count_nonzero(tie_h))
    delta = tie_h.astype(np.int64)
    delta -= conc
    correct = np.cumsum(delta, out=delta)  # correct count after sorted pair i, less base
    if mode == "grouped":
        ends = group_ends(abs_sorted)
        candidates = np.concatenate(([0], correct[ends]))
        k = int(np.argmax(candidates))  # first maximum: the smallest threshold
        eps = NO_TIES_EPSILON if k == 0 else float(abs_sorted[ends[k - 1]])
        n_mt = 0 if k == 0 else int(ends[k - 1]) + 1
    else:
        i = int(np.argmax(correct))
        eps = float(abs_sorted[i])
        n_mt = i + 1  # exactly sorted pairs 0..i are predicted ties
    # the predicted ties are the first n_mt sorted pairs, in both modes
    both = int(np.count_nonzero(tie_h[:n_mt]))
    counts = _cell_counts(n, n_ht, n_mt, both, base - int(np.count_nonzero(conc[:n_mt])))
    value = base + (int(correct[n_mt - 1]) if n_mt else 0)
    return TieCalibratedAccuracy(value / n, eps, counts, mode)


def _fold_ids(codes: np.ndarray, folds: int, seed: int) -> np.ndarray:
    n_groups = int(codes.max()) + 1 if codes.size else 0
    if folds < 2:
        raise ValueError(f"folds must be >= 2, got {folds}")
    if n_groups < folds:
        raise ValueError(f"need at least {folds} distinct groups for {folds} folds, got {n_groups}")
    perm = np.random.default_rng(seed).permutation(n_groups)
    fold_of_group = np.empty(n_groups, dtype=np.int64)
    fold_of_group[perm] = np.arange(n_groups) % folds  # balanced group counts per fold
    return fold_of_group[codes]


def accuracy_with_ties_crossfit(
    labels: ArrayLike, margins: ArrayLike, groups: ArrayLike, folds: int = 5, seed: int = 0
) -> float:
    """Tie-calibrated accuracy with the threshold fitted out of fold: the honest variant.

    Groups (prompts) are shuffled with ``seed`` and dealt into ``folds`` folds, so all pairs of a group share a fold.
    For each fold, eps is chosen by ``accuracy_with_ties(mode="grouped")`` on the other folds and applied to the
    held-out fold; the result is (sum over folds of correct held-out pairs) / N.
    """
    h, m = _check(labels, margins)
    codes = as_clusters(groups, h.size, "groups")
    if h.size == 0:
        return math.nan
    fold = _fold_ids(codes, folds, seed)
    correct = 0
    for f in range(folds):  # a handful of folds, each vectorised
        test = fold == f
        eps = accuracy_with_ties(h[~test], m[~test]).epsilon
        c = _counts(h[test], m[test], np.abs(m[test]) <= eps)
        correct += c["concordant"] + c["both_tie"]
    return correct / h.size


# --- weighted kernels: many resamples at once ------------------------------------------------------------------
#
# A resample is given by integer draw counts per cluster, ``counts`` (R, C); pair i then has weight
# counts[:, codes[i]], i.e. it appears that many times (copies adjacent, in pair order). Every statistic is linear
# in the weights up to the final max/divide, so per-cluster (or per-cluster-and-|margin|-group) sums are formed once
# and the R resamples cost one dense or sparse matrix product. Sums are integers, held exactly in floating point,
# so the final division gives the same double as the unweighted code (bit for bit in reference mode).


class PairTable:
    """Per-cluster sums of one (labels, margins, clusters) set, reused by every chunk of resamples."""

    def __init__(self, h: np.ndarray, m: np.ndarray, codes: np.ndarray):
        from scipy import sparse  # imported on use: `import videobench.metrics` stays numpy-only

        n = h.size
        n_clusters = int(codes.max()) + 1 if n else 0
        self.h, self.m, self.codes, self.n_clusters = h, m, codes, n_clusters
        conc = (h * m > 0).astype(np.float64)
        self.size_c = np.bincount(codes, minlength=n_clusters).astype(np.float64)
        self.concordant_c = np.bincount(codes, weights=conc, minlength=n_clusters)
        self.nontie_c = np.bincount(codes, weights=(h != 0).astype(np.float64), minlength=n_clusters)
        order, abs_sorted, delta = _sorted_deltas(h, m)
        self.delta_sorted = delta.astype(np.float64)
        cl = codes[order]
        unit = _grouped_units(abs_sorted, delta)
        keep = unit >= 0
        # (U, C): summed delta of the pairs of walk unit u in cluster c (duplicates are summed by scipy)
        n_units = int(unit.max()) + 1 if keep.any() else 0
        self.group_delta = sparse.csr_matrix(
            (self.delta_sorted[keep], (unit[keep], cl[keep])), shape=(n_units, n_clusters)
        )
        # reference mode walks single pairs: the same merging with every pair its own group
        unit = _grouped_units(np.arange(n), delta)
        keep = unit >= 0
        n_units = int(unit.max()) + 1 if keep.any() else 0
        self.pair_delta = sparse.csr_matrix(
            (self.delta_sorted[keep], (unit[keep], cl[keep])), shape=(n_units, n_clusters)
        )
        self.unit_end = np.full(n_units, -1, dtype=np.int64)  # sorted position of each unit's last pair
        np.maximum.at(self.unit_end, unit[keep], np.flatnonzero(keep))
        self.first_sorted_c = np.full(n_clusters, n, dtype=np.int64)  # first sorted position of each cluster
        np.minimum.at(self.first_sorted_c, cl, np.arange(n))
        self._cache: dict[tuple[str, str], Any] = {}

    def matrix(self, mode: Mode, dtype: type) -> Any:
        """The (U, C) unit-by-cluster delta matrix of a sweep, in ``dtype`` (converted copies are kept)."""
        _check_sweep(mode)
        key = (mode, np.dtype(dtype).str)
        if key not in self._cache:
            base = self.group_delta if mode == "grouped" else self.pair_delta
            self._cache[key] = base.astype(dtype)
        return self._cache[key]


def _grouped_units(abs_sorted: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """Walk unit of each sorted pair for the grouped sweep (-1: the pair never changes the count).

    Grouped mode needs max over |margin| groups of the weighted prefix sum. Pairs with delta = 0 (discordant
    non-ties) never move it. With non-negative weights the prefix sum is monotone across consecutive groups whose
    deltas all have one sign, so such runs merge into one unit and the maximum is still attained at a unit end;
    a group holding both signs stays a unit of its own. This shrinks the (units x resamples) work roughly 3x.
    """
    n = delta.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    ends = group_ends(abs_sorted)
    group = np.repeat(np.arange(ends.size), np.diff(np.concatenate(([-1], ends))))
    has_pos = np.bincount(group, weights=delta > 0, minlength=ends.size) > 0
    has_neg = np.bincount(group, weights=delta < 0, minlength=ends.size) > 0
    sign = np.where(has_pos & has_neg, 2, has_pos.astype(np.int64) - has_neg.astype(np.int64))  # 2: mixed
    active = np.flatnonzero(sign != 0)
    s = sign[active]
    starts = np.ones(active.size, dtype=bool)
    starts[1:] = (s[1:] != s[:-1]) | (s[1:] == 2)
    unit_of_group = np.full(ends.size, -1, dtype=np.int64)
    unit_of_group[active] = np.cumsum(starts) - 1
    unit = unit_of_group[group]
    unit[delta == 0] = -1
    return unit


def _cumsum_rows(unit_by_resample: np.ndarray) -> np.ndarray:
    """(U, R) -> prefix sums along U, laid out (R, U): numpy accumulates a contiguous axis several times faster."""
    out = np.ascontiguousarray(unit_by_resample.T)
    return np.cumsum(out, axis=1, out=out)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.maximum(den, 1), np.nan)


def weighted_without_ties(table: PairTable, counts: np.ndarray) -> np.ndarray:
    """Accuracy without ties per resample: sum_i w_i [h_i m_i > 0] / sum_i w_i [h_i != 0], via cluster sums."""
    counts = counts.astype(np.float64)
    return _ratio(counts @ table.concordant_c, counts @ table.nontie_c)


def weighted_fixed(table: PairTable, counts: np.ndarray, threshold: float) -> np.ndarray:
    """Fixed-threshold accuracy with ties per resample: sum_i w_i correct_i / sum_i w_i (``fixed_correct``); linear
    in the weights, so one product with per-cluster sums."""
    correct = fixed_correct(table.h, table.m, threshold).astype(np.float64)
    correct_c = np.bincount(table.codes, weights=correct, minlength=table.n_clusters)
    c = counts.astype(np.float64)
    return _ratio(c @ correct_c, c @ table.size_c)


def _check_sweep(mode: str) -> None:
    if mode not in ("grouped", "reference"):  # "fixed" has no sweep: weighted_fixed
        raise ValueError(f"the weighted sweep is 'grouped' or 'reference', got {mode!r}")


def weighted_with_ties(table: PairTable, counts: np.ndarray, mode: Mode = "grouped") -> np.ndarray:
    """Tie-calibrated accuracy per resample (rows of ``counts``).

    With base = sum_i w_i [h_i m_i > 0] (no predicted ties), grouped mode takes
    ``base + max(0, max_g cumsum_g(sum over group g of w_i delta_i))``. Reference mode walks pair by pair: within a
    pair's w copies the count is monotone, so it suffices to score after each pair's last copy (from the first pair
    f with w > 0 on) and after the first copy of f (worth base + delta_f); the no-ties state before f is never
    scored. Both sweeps run over merged units (``_grouped_units``), not single pairs.
    """
    _check_sweep(mode)
    c = counts.astype(np.float64)
    base = c @ table.concordant_c
    n = c @ table.size_c
    # Every partial sum below is an integer of magnitude <= n (sum of |w_i delta_i| <= sum of w_i), so float32 is
    # exact while n < 2**24 and halves the memory traffic of the two big passes.
    dtype = np.float32 if n.max(initial=0.0) < 2**24 else np.float64
    ct = np.ascontiguousarray(counts.T, dtype=dtype)  # (C, R)
    if mode == "grouped":
        cum = _cumsum_rows(table.matrix("grouped", dtype) @ ct)  # (R, U)
        best = base + np.maximum(cum.max(axis=1, initial=0.0).astype(np.float64), 0.0)
    else:
        n_pairs = table.delta_sorted.size
        cum = _cumsum_rows(table.matrix("reference", dtype) @ ct)  # (R, U)
        first = np.where(counts > 0, table.first_sorted_c, n_pairs).min(axis=1, initial=n_pairs)
        # pairs before `first` have weight 0, so a unit ending at or after it covers every scored state
        started = table.unit_end[None, :] >= first[:, None]
        after = np.where(started, cum, -np.inf).max(axis=1, initial=-np.inf).astype(np.float64)
        first_copy = table.delta_sorted[np.minimum(first, n_pairs - 1)] if n_pairs else np.zeros(len(c))
        best = base + np.maximum(after, first_copy)
    return _ratio(best, n)
