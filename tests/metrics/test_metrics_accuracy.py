"""Pairwise accuracy with and without ties: exactness against oracles, invariances, baselines, errors."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from metrics_reference import brute_force_grouped, reference_python

from videobench.metrics import (
    NO_TIES_EPSILON,
    accuracy_with_ties,
    accuracy_with_ties_crossfit,
    accuracy_without_ties,
    random_scores,
    tie_counts,
)
from videobench.metrics._validate import _MAX_LISTED
from videobench.metrics.pairwise import _fold_ids, _sorted_deltas, group_ends

# Margins from a small grid, so |margin| values repeat often (and exact zeros occur).
labels_st = st.integers(-1, 1)
margin_st = st.sampled_from([0.0, 0.5, -0.5, 1.0, -1.0, 1.5, 2.0, -2.0, 3.25])
pairs_st = st.lists(st.tuples(labels_st, margin_st), min_size=1, max_size=40)


def unzip(pairs):
    return [p[0] for p in pairs], [p[1] for p in pairs]


def test_order_dependent_reference_cases():
    assert accuracy_with_ties([0, 1], [0.5, 0.5], mode="reference").value == 1.0
    assert accuracy_with_ties([1, 0], [0.5, 0.5], mode="reference").value == 0.5
    assert accuracy_with_ties([0, 1], [0.5, 0.5]).value == 0.5
    assert accuracy_with_ties([1, 0], [0.5, 0.5]).value == 0.5
    assert reference_python([0, 1], [0.5, 0.5])[0] == 1.0
    assert reference_python([1, 0], [0.5, 0.5])[0] == 0.5


@settings(max_examples=120, deadline=None)
@given(pairs_st)
def test_reference_mode_equals_published_walk(pairs):
    h, m = unzip(pairs)
    res = accuracy_with_ties(h, m, mode="reference")
    value, eps = reference_python(h, m)
    assert res.value == value  # bit for bit
    assert res.epsilon == eps
    c = res.counts
    assert (c["concordant"] + c["both_tie"]) / c["n"] == res.value


@settings(max_examples=120, deadline=None)
@given(pairs_st)
def test_grouped_mode_equals_brute_force(pairs):
    h, m = unzip(pairs)
    res = accuracy_with_ties(h, m)
    assert res.value == pytest.approx(brute_force_grouped(h, m), abs=1e-15)
    # the reported threshold reproduces the value when applied from scratch
    c = tie_counts(h, m, res.epsilon)
    assert c == res.counts
    assert (c["concordant"] + c["both_tie"]) / c["n"] == res.value


@settings(max_examples=80, deadline=None)
@given(pairs_st, st.randoms(use_true_random=False))
def test_grouped_mode_is_order_independent(pairs, rnd):
    h, m = unzip(pairs)
    shuffled = list(pairs)
    rnd.shuffle(shuffled)
    h2, m2 = unzip(shuffled)
    a, b = accuracy_with_ties(h, m), accuracy_with_ties(h2, m2)
    assert (a.value, a.epsilon, a.counts) == (b.value, b.epsilon, b.counts)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(labels_st, st.integers(-4, 4), st.integers(-4, 4)), min_size=3, max_size=40),
    st.sampled_from([0.5, 2.0, 3.0]),
    st.sampled_from([-7.0, 0.0, 10.0]),
)
def test_invariances_affine_and_swap(rows, scale, shift):
    h = np.array([r[0] for r in rows])
    sa = np.array([r[1] for r in rows], float)
    sb = np.array([r[2] for r in rows], float)
    m = sa - sb
    m_affine = (scale * sa + shift) - (scale * sb + shift)  # exact on this integer grid
    for mode in ("grouped", "reference"):
        base = accuracy_with_ties(h, m, mode=mode)
        assert accuracy_with_ties(h, m_affine, mode=mode).value == base.value
        assert accuracy_with_ties(-h, -m, mode=mode).value == base.value  # swap A and B
    same = np.testing.assert_equal  # nan == nan when every label is a tie
    same(accuracy_without_ties(h, m_affine), accuracy_without_ties(h, m))
    same(accuracy_without_ties(-h, -m), accuracy_without_ties(h, m))
    assert accuracy_with_ties_crossfit(h, m_affine, groups=np.arange(h.size) % 3, folds=3) == \
        accuracy_with_ties_crossfit(-h, -m, groups=np.arange(h.size) % 3, folds=3)


def test_no_ties_epsilon_and_zero_margin():
    # a zero margin is wrong under "no predicted ties" but would be a predicted tie at eps = 0
    res = accuracy_with_ties([1, 1, -1], [0.0, 2.0, -3.0])
    assert res.value == pytest.approx(2 / 3) and res.epsilon == NO_TIES_EPSILON
    assert res.counts["discordant"] == 1 and res.counts["predicted_ties"] == 0
    res = accuracy_with_ties([0, 1, -1], [0.0, 2.0, -3.0])
    assert res.value == 1.0 and res.epsilon == 0.0


def test_accuracy_without_ties_basics():
    assert accuracy_without_ties([1, -1, 0, 1], [0.3, -2.0, 5.0, 0.0]) == pytest.approx(2 / 3)  # zero margin wrong
    assert math.isnan(accuracy_without_ties([0, 0], [1.0, -1.0]))
    assert math.isnan(accuracy_without_ties([], []))
    assert accuracy_without_ties(np.array([1, -1], dtype=np.int8), [np.inf, -np.inf]) == 1.0


@pytest.mark.parametrize("fn", [accuracy_without_ties, accuracy_with_ties])
def test_errors(fn):
    with pytest.raises(ValueError, match=r"^margins contain NaN at positions \[1, 3\]$"):
        fn([1, 1, 0, -1], [0.1, np.nan, 0.2, np.nan])
    with pytest.raises(ValueError, match="length mismatch: labels=2, margins=3"):
        fn([1, 0], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"bad values at positions \[1\]"):
        fn([1, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="must be numbers"):
        fn(["A", "B"], [0.1, 0.2])
    with pytest.raises(ValueError, match="1-D"):
        fn([[1]], [[0.1]])


def test_mode_error_and_empty():
    with pytest.raises(ValueError, match=r"^mode must be one of grouped, reference, fixed, got 'fast'$"):
        accuracy_with_ties([1], [1.0], mode="fast")
    zero = {"n": 0, "concordant": 0, "discordant": 0, "human_tie": 0, "model_tie": 0, "both_tie": 0,
            "predicted_ties": 0}
    for mode in ("grouped", "reference"):
        res = accuracy_with_ties([], [], mode=mode)
        assert math.isnan(res.value) and res.epsilon == NO_TIES_EPSILON
        assert res.counts == zero and res.mode == mode


def test_result_names_its_mode():
    # labels/margins hand-worked: sorted |m| = 0.1 (h=0), 0.4 (h=1, m<0), 2 (h=1, m>0); both modes tie the first pair
    for mode in ("grouped", "reference"):
        res = accuracy_with_ties([1, 0, 1], [2.0, 0.1, -0.4], mode=mode)
        assert res.mode == mode and res.value == pytest.approx(2 / 3) and res.epsilon == 0.1
        assert float(res) == res.value  # a result reads as its value where a number is expected


def test_sorted_deltas_and_group_ends_by_hand():
    # |m| = .5 .2 .1 .3 -> order 2 1 3 0; delta = [h == 0] - [h * m > 0] in that order: 1, 0, 0, -1
    order, abs_sorted, delta = _sorted_deltas(np.array([1, -1, 0, 1]), np.array([0.5, 0.2, -0.1, -0.3]))
    assert order.tolist() == [2, 1, 3, 0] and abs_sorted.tolist() == [0.1, 0.2, 0.3, 0.5]
    assert delta.tolist() == [1, 0, 0, -1] and delta.dtype.kind == "i"  # counts, added to integer totals
    assert group_ends(np.array([0.1, 0.1, 0.2, 0.3, 0.3])).tolist() == [1, 2, 4]
    empty = group_ends(np.zeros(0))
    assert empty.shape == (0,) and empty.dtype.kind == "i"  # used as indices


def test_folds_keep_groups_together_and_balance():
    codes = np.repeat(np.arange(23), 4)
    fold = _fold_ids(codes, 5, seed=1)
    for g in range(23):
        assert len(set(fold[codes == g])) == 1
    sizes = np.bincount(fold[::4])
    assert sizes.max() - sizes.min() <= 1
    with pytest.raises(ValueError, match="at least 5 distinct groups"):
        accuracy_with_ties_crossfit([1, 0, 1], [1.0, 0.0, 2.0], groups=["a", "b", "a"])


def test_crossfit_is_not_above_in_sample_on_average():
    rng = np.random.default_rng(3)
    gaps = []
    for _ in range(20):
        n = 600
        h = rng.choice([-1, 0, 1], size=n, p=[0.35, 0.3, 0.35])
        m = np.round(h * 0.6 + rng.normal(size=n), 1)
        groups = rng.integers(0, 120, size=n)
        cf = accuracy_with_ties_crossfit(h, m, groups, folds=5, seed=0)
        gaps.append(accuracy_with_ties(h, m).value - cf)
        assert 0 <= cf <= 1
    assert np.mean(gaps) > 0


@pytest.mark.parametrize("tie_rate", [0.2, 1 / 3, 0.5])
def test_random_baseline_expectations(tie_rate):
    n = 20_000
    rng = np.random.default_rng(7)
    h = rng.choice([-1, 0, 1], size=n, p=[(1 - tie_rate) / 2, tie_rate, (1 - tie_rate) / 2])
    scores = random_scores(2 * n, seed=11)
    m = scores[:n] - scores[n:]
    se = 0.5 / math.sqrt(n)
    assert abs(accuracy_without_ties(h, m) - 0.5) < 4 * se * math.sqrt(1 / (1 - tie_rate))
    expected = max(tie_rate, (1 - tie_rate) / 2)  # = max(1/3, tie rate) at tie rate 1/3
    for mode in ("grouped", "reference"):
        got = accuracy_with_ties(h, m, mode=mode).value
        assert expected - 4 * se <= got <= expected + 0.015  # the threshold search adds a little optimism


def test_random_scores_seeded():
    assert np.array_equal(random_scores(5, seed=3), random_scores(5, seed=3))
    assert not np.array_equal(random_scores(5, seed=3), random_scores(5, seed=4))
    assert random_scores(0).shape == (0,)  # no pairs is allowed
    with pytest.raises(ValueError, match=r"^n must be >= 0, got -1$"):
        random_scores(-1)


def test_import_does_not_import_torch():
    # scipy is imported inside the functions that need it, so the import itself is numpy-only
    code = ("import sys, videobench.metrics; "
            "sys.exit(1 if 'torch' in sys.modules else 2 if 'scipy' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


@settings(max_examples=80, deadline=None)
@given(pairs_st)
def test_python_oracles_agree(pairs):
    from metrics_reference import grouped_python, without_ties_python

    h, m = unzip(pairs)
    assert grouped_python(h, m) == brute_force_grouped(h, m)
    np.testing.assert_equal(without_ties_python(h, m), accuracy_without_ties(h, m))


def test_nan_positions_list_is_cut_after_the_limit():
    # exactly _MAX_LISTED bad positions are all listed; one more adds the "... (N in all)" tail
    k = _MAX_LISTED
    listed = ", ".join(str(i) for i in range(k))
    with pytest.raises(ValueError, match=rf"^margins contain NaN at positions \[{listed}\]$"):
        accuracy_without_ties([1] * k, [np.nan] * k)
    with pytest.raises(ValueError, match=rf"^margins contain NaN at positions \[{listed}, \.\.\. \({k + 1} in all\)\]$"):
        accuracy_without_ties([1] * (k + 1), [np.nan] * (k + 1))


def test_crossfit_by_hand_on_identical_groups():
    # every group is the same 4 pairs, so every training fold picks eps = 0.5 (no ties: 1 right; eps = 0.5: the
    # two human ties and the 2.0 -> 3 right; eps = 2: 2 right) and every held-out pair at |m| = 0.5 is a predicted
    # tie (<=): 3 of 4 right in each fold, 0.75 overall, whatever the fold assignment
    h = [0, 0, 1, -1] * 6
    m = [0.5, -0.5, 2.0, 0.5] * 6
    g = np.repeat(np.arange(6), 4)
    assert accuracy_with_ties_crossfit(h, m, g) == 0.75
    assert accuracy_with_ties_crossfit(h, m, g, folds=2, seed=3) == 0.75
    assert math.isnan(accuracy_with_ties_crossfit([], [], []))
    with pytest.raises(ValueError, match=r"^length mismatch: groups=2, items=3$"):
        accuracy_with_ties_crossfit([1, 0, -1], [0.1, 0.2, 0.3], [0, 1])
    rng = np.random.default_rng(5)
    h, m, g = rng.integers(-1, 2, 60), rng.normal(size=60).round(1), rng.integers(0, 12, 60)
    assert accuracy_with_ties_crossfit(h, m, g) == accuracy_with_ties_crossfit(h, m, g, folds=5, seed=0)


def test_fold_ids_errors_and_seeds():
    codes = np.arange(40)
    assert np.array_equal(_fold_ids(codes, 2, 7), _fold_ids(codes, 2, 7))
    assert not np.array_equal(_fold_ids(codes, 2, 7), _fold_ids(codes, 2, 8))
    assert sorted(np.bincount(_fold_ids(codes, 2, 7)).tolist()) == [20, 20]  # two folds are allowed
    with pytest.raises(ValueError, match=r"^folds must be >= 2, got 1$"):
        _fold_ids(codes, 1, 0)
    with pytest.raises(ValueError, match=r"^need at least 5 distinct groups for 5 folds, got 4$"):
        _fold_ids(np.array([0, 1, 2, 3, 3]), 5, 0)
    with pytest.raises(ValueError, match=r"^need at least 2 distinct groups for 2 folds, got 0$"):
        _fold_ids(np.zeros(0, dtype=np.int64), 2, 0)
