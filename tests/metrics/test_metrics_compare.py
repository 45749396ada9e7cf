"""Checkpoint comparison (win rate, sign test, Bradley-Terry) and rank correlations."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats

from videobench.metrics import bradley_terry, bradley_terry_ci, kendall, spearman, win_rate
from videobench.metrics._validate import as_clusters
from videobench.metrics.bootstrap import resample_counts
from videobench.metrics.compare import _fit, _win_matrices


def test_win_rate_counts_sign_test_and_ci():
    rng = np.random.default_rng(0)
    prompts = np.repeat(np.arange(100), 4)
    base = rng.normal(size=prompts.size)
    better = base + 0.3 + rng.normal(0, 0.5, size=prompts.size)
    res = win_rate(better, base, clusters=prompts, n_resamples=500)
    # counts and p-value from the scores themselves, not from the result's own counts
    wins, losses = int(np.sum(better > base)), int(np.sum(better < base))
    ties = prompts.size - wins - losses
    assert (res.wins, res.losses, res.ties) == (wins, losses, ties)
    assert res.value == pytest.approx((wins + ties / 2) / prompts.size)
    assert res.value > 0.6 and res.ci_low > 0.5 and res.ci_low <= res.value <= res.ci_high
    assert res.p_value == pytest.approx(stats.binomtest(wins, wins + losses).pvalue)
    assert res.p_value < 1e-6
    # CI equals an explicit loop over the same cluster resamples
    codes = as_clusters(prompts, prompts.size)
    credit = np.where(better > base, 1.0, np.where(better < base, 0.0, 0.5))
    looped = [credit[np.repeat(np.arange(credit.size), c[codes])].mean()
              for chunk in resample_counts(codes, 500, 0) for c in chunk]
    assert (res.ci_low, res.ci_high) == pytest.approx(tuple(np.quantile(looped, [0.025, 0.975])), abs=1e-12)


def test_win_rate_ties_and_tolerance():
    s1 = np.array([1.0, 2.0, 3.0, 4.0])
    s2 = np.array([1.0, 2.05, 2.0, 5.0])
    exact = win_rate(s1, s2, n_resamples=10)
    assert (exact.wins, exact.losses, exact.ties) == (1, 2, 1)
    tol = win_rate(s1, s2, n_resamples=10, tie_tolerance=0.1)
    assert (tol.wins, tol.losses, tol.ties) == (1, 1, 2) and tol.value == 0.5
    same = win_rate(s1, s1, n_resamples=10)
    assert same.value == 0.5 and same.p_value == 1.0 and same.ties == 4
    with pytest.raises(ValueError, match="scores_2 contain NaN at positions \\[2\\]"):
        win_rate(s1, [1.0, 2.0, np.nan, 4.0])
    with pytest.raises(ValueError, match="tie_tolerance"):
        win_rate(s1, s2, tie_tolerance=-1)


def simulate_bt(strengths, n_per_pair, seed, tie_prob=0.1):
    rng = np.random.default_rng(seed)
    k = len(strengths)
    i, j = np.triu_indices(k, 1)
    i, j = np.repeat(i, n_per_pair), np.repeat(j, n_per_pair)
    p = 1 / (1 + np.exp(-(strengths[i] - strengths[j])))
    outcome = (rng.random(i.size) < p).astype(float)
    outcome[rng.random(i.size) < tie_prob] = 0.5  # ties: half a win each, unbiased for the order
    return i, j, outcome


def test_bradley_terry_recovers_known_strengths():
    truth = np.array([0.0, 0.5, 1.0, 2.0, -1.0])
    i, j, o = simulate_bt(truth, 600, seed=1, tie_prob=0.0)
    s = bradley_terry((i, j, o))
    assert np.array_equal(np.argsort(s), np.argsort(truth))
    np.testing.assert_allclose(s - s.mean(), truth - truth.mean(), atol=0.12)
    assert abs(s.mean()) < 1e-9
    pinned = bradley_terry(np.column_stack([i, j, o]), reference=0)
    np.testing.assert_allclose(pinned, s - s[0], atol=1e-6)
    assert pinned[0] == 0.0


def test_bradley_terry_separable_is_finite_and_unseen_items_are_zero():
    s = bradley_terry(([0, 0, 1], [1, 2, 2], [1.0, 1.0, 1.0]), n_items=4)
    assert np.all(np.isfinite(s)) and s[0] > s[1] > s[2]
    assert abs(s[3]) < 1e-6


def test_bradley_terry_ci_covers_truth_and_matches_loop():
    truth = np.array([0.0, 0.8, -0.6])
    i, j, o = simulate_bt(truth, 200, seed=2)
    clusters = np.arange(i.size) // 3
    res = bradley_terry_ci((i, j, o), clusters=clusters, n_resamples=200, reference=0)
    strengths, low, high = res
    assert np.all(low <= strengths + 1e-9) and np.all(strengths <= high + 1e-9)
    assert np.all((low - 0.05 <= truth) & (truth <= high + 0.05))
    # the joint vectorised fit equals separate fits of the expanded resamples
    codes = as_clusters(clusters, i.size)
    counts = next(resample_counts(codes, 200, 0))[:3]
    for c in counts:
        idx = np.repeat(np.arange(i.size), c[codes])
        single = bradley_terry((i[idx], j[idx], o[idx]), n_items=3, reference=0)
        joint = _fit((c @ _win_matrices(i, j, o, 3, codes)).reshape(1, 3, 3), 1e-4, 0)[0]
        np.testing.assert_allclose(joint, single, atol=1e-5)


def test_bradley_terry_errors():
    with pytest.raises(ValueError, match="outcome must be"):
        bradley_terry(([0], [1], [0.3]))
    with pytest.raises(ValueError, match="compared with itself"):
        bradley_terry(([0, 1], [1, 1], [1.0, 0.0]))
    with pytest.raises(ValueError, match="n_items=2"):
        bradley_terry(([0], [2], [1.0]), n_items=2)
    with pytest.raises(ValueError, match="reference item 5"):
        bradley_terry(([0], [1], [1.0]), reference=5)
    with pytest.raises(ValueError, match="3 columns"):
        bradley_terry(np.zeros((2, 4)))


def test_rank_correlations():
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    y = np.array([2.0, 1.0, 4.0, 3.0, 5.0])
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic)
    assert kendall(x, y) == pytest.approx(stats.kendalltau(x, y).statistic)
    assert spearman(x, x * 3 + 1) == pytest.approx(1.0) and kendall(x, -x) == pytest.approx(-1.0)
    assert math.isnan(spearman(x, np.ones(5))) and math.isnan(kendall([1.0], [2.0]))
    with pytest.raises(ValueError, match=r"mos contain NaN at positions \[1\]"):
        spearman(x, [1.0, np.nan, 2.0, 3.0, 4.0])
    with pytest.raises(ValueError, match="length mismatch"):
        kendall(x, y[:3])


def test_comparison_parse_errors_in_full():
    # each message as the user reads it (anchored), and the position lists cut after ten
    def fails(pattern, comparisons, **kw):
        with pytest.raises(ValueError, match=pattern):
            bradley_terry(comparisons, **kw)

    fails(r"^comparisons must be \(i, j, outcome\) arrays or an \(M, 3\) array$", ([0], [1]))
    fails(r"^outcome contain NaN at positions \[0\]$", ([0], [1], [np.nan]))
    fails(r"^length mismatch: i=2, j=1, outcome=1$", ([0, 1], [1], [1.0]))
    fails(r"^length mismatch: i=1, j=1, outcome=2$", ([0], [1], [1.0, 0.0]))
    fails(r"^length mismatch: i=1, j=2, outcome=1$", ([0], [1, 2], [1.0]))
    fails(r"^i must hold non-negative integer item indices$", ([0.5], [1], [1.0]))  # fractional, not negative
    fails(r"^j must hold non-negative integer item indices$", ([0], [-1], [1.0]))
    fails(r"^outcome must be 1 \(i wins\), 0 \(j wins\) or 0\.5 \(tie\); bad at positions \[0, 1, 2, 3, 4, 5, 6, 7, 8, "
          r"9\]$", ([0] * 12, [1] * 12, [0.3] * 12))
    fails(r"^an item cannot be compared with itself \(positions \[1, 2, 3, 4, 5, 6, 7, 8, 9, 10\]\)$",
          ([1] + [0] * 11, [0] * 12, [1.0] * 12))
    fails(r"^n_items=2 but comparisons reference item 2$", ([0], [2], [1.0]), n_items=2)
    fails(r"^Bradley-Terry needs at least one item$", ([], [], []))  # no comparisons, no n_items: zero items


def test_win_rate_boundaries_errors_and_defaults():
    # d = s1 - s2 exactly at +-tol is a tie (hand-worked: 0 wins, 0 losses, 3 ties, credit 0.5 each)
    res = win_rate([1.0, 0.5, 2.0], [0.5, 1.0, 2.0], tie_tolerance=0.5, n_resamples=20, level=0.9)
    assert (res.wins, res.losses, res.ties) == (0, 0, 3) and res.value == 0.5 and res.p_value == 1.0
    assert res.ci_low == res.ci_high == 0.5 and res.level == 0.9 and res.n_resamples == 20
    one = win_rate([1.0], [0.0], n_resamples=10)  # a single item is enough
    assert (one.wins, one.value) == (1, 1.0)
    s1, s2 = [0.3, 0.1, 0.8, 0.5, 0.2], [0.1, 0.4, 0.2, 0.5, 0.9]
    assert win_rate(s1, s2) == win_rate(s1, s2, n_resamples=1000, seed=0)  # the documented defaults
    with pytest.raises(ValueError, match=r"^win_rate needs at least one paired item$"):
        win_rate([], [])
    with pytest.raises(ValueError, match=r"^scores_1 contain NaN at positions \[1\]$"):
        win_rate([0.0, np.nan], [0.0, 0.0])
    with pytest.raises(ValueError, match=r"^length mismatch: scores_1=2, scores_2=1$"):
        win_rate([0.0, 1.0], [0.0])
    with warnings.catch_warnings():  # inf - inf is reported as an error, without a numpy warning first
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"^scores_1 - scores_2 is NaN \(inf on both sides\) at positions "
                                             r"\[0, 1, 2, 3, 4, 5, 6, 7, 8, 9\]$"):
            win_rate([np.inf] * 12, [np.inf] * 12)


def test_bradley_terry_reference_and_ci_arguments():
    with pytest.raises(ValueError, match=r"^reference item 2 is not in 0\.\.1$"):
        bradley_terry(([0], [1], [1.0]), reference=2)
    with pytest.raises(ValueError, match=r"^reference item 2 is not in 0\.\.1$"):
        bradley_terry_ci(([0], [1], [1.0]), reference=2, n_resamples=10)
    with pytest.raises(ValueError, match=r"^cannot bootstrap Bradley-Terry without comparisons$"):
        bradley_terry_ci(([], [], []), n_items=2, n_resamples=10)
    comps = ([0, 1, 0, 2], [1, 2, 2, 1], [1.0, 1.0, 0.5, 0.0])
    ci = bradley_terry_ci(comps, n_items=4, reference=0, n_resamples=30)
    assert ci.strengths.shape == (4,) and ci.strengths[0] == 0.0 and ci.ci_low[0] == ci.ci_high[0] == 0.0
    single = bradley_terry_ci(([0], [1], [1.0]), n_resamples=10)  # one comparison is enough
    assert single.strengths[0] > single.strengths[1]
    default = bradley_terry_ci(comps)
    explicit = bradley_terry_ci(comps, clusters=None, n_resamples=1000, seed=0)
    for a, b in zip(default, explicit):
        np.testing.assert_array_equal(a, b)
    by_prompt = bradley_terry_ci(comps, clusters=[0, 0, 1, 1], n_resamples=30)
    by_item = bradley_terry_ci(comps, n_resamples=30)
    assert not np.array_equal(by_prompt.ci_low, by_item.ci_low)  # clusters are used
