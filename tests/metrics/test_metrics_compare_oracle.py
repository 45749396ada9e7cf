"""Bradley-Terry strengths and CIs against an independent float64 Newton solver, at ~1e-8.

The package fits the penalised likelihood with L-BFGS; the oracle here is a damped Newton iteration on the same
objective, written from the formula (gradient and Hessian by hand), so a looser optimiser setting or a wrong penalty
shows up far below the tolerance of the statistical tests in test_metrics_compare.py.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from videobench.metrics import bradley_terry, bradley_terry_ci
from videobench.metrics import compare
from videobench.metrics._validate import as_clusters
from videobench.metrics.bootstrap import resample_counts


def newton_bt(wins: np.ndarray, l2: float) -> np.ndarray:
    """argmin_s  -sum_ab w_ab log P(a beats b) + l2/2 |s|^2,  P(a beats b) = 1/(1 + exp(s_b - s_a)), by Newton."""
    w = np.asarray(wins, dtype=np.float64)
    k = w.shape[0]
    games = w + w.T

    def loss(s):
        d = s[:, None] - s[None, :]
        return float(np.sum(w * np.log1p(np.exp(-d)))) + 0.5 * l2 * float(s @ s)

    s = np.zeros(k)
    for _ in range(100):
        d = s[:, None] - s[None, :]
        p = 1.0 / (1.0 + np.exp(-d))  # p[a, b] = P(a beats b)
        grad = -(w * (1.0 - p)).sum(axis=1) + (w.T * p).sum(axis=1) + l2 * s
        if np.max(np.abs(grad)) < 1e-13:
            break
        curv = games * p * (1.0 - p)
        hess = np.diag(curv.sum(axis=1) + l2) - curv
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while loss(s - t * step) > loss(s) and t > 1e-6:  # backtracking keeps the first steps from overshooting
            t /= 2
        s = s - t * step
    return s


def win_matrix(i, j, o, k):
    """w[a, b] = credit of a over b, by a plain loop over the comparisons."""
    w = np.zeros((k, k))
    for a, b, out in zip(i, j, o):
        w[a, b] += out
        w[b, a] += 1.0 - out
    return w


COMPS = (  # 4 items, ties, every item wins and loses somewhere
    [0, 0, 1, 2, 3, 1, 0, 2, 3, 1, 2, 0, 3, 3],
    [1, 2, 2, 3, 0, 3, 3, 1, 1, 0, 0, 1, 2, 2],
    [1.0, 0.0, 0.5, 1.0, 0.0, 1.0, 0.5, 0.0, 1.0, 1.0, 0.0, 1.0, 0.5, 0.0],
)


def test_bradley_terry_equals_newton_oracle():
    w = win_matrix(*COMPS, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # also: an unknown optimiser option is a scipy OptimizeWarning
        for l2 in (compare.DEFAULT_L2, 0.3):
            expected = newton_bt(w, l2)
            assert abs(expected.mean()) < 1e-12  # the prior alone centres the optimum
            np.testing.assert_allclose(bradley_terry(COMPS, l2=l2), expected, rtol=0, atol=1e-8)
            np.testing.assert_allclose(bradley_terry(COMPS, l2=l2, reference=2), expected - expected[2],
                                       rtol=0, atol=1e-8)
        # the default penalty is DEFAULT_L2
        np.testing.assert_allclose(bradley_terry(COMPS), newton_bt(w, 1e-4), rtol=0, atol=1e-8)


def test_bradley_terry_penalty_keeps_an_undefeated_item_finite():
    # item 0 wins all 5 of its games: without the prior its strength is +inf, so the penalty sets it
    comps = ([0, 0, 0, 1, 2, 0, 1], [1, 2, 1, 2, 1, 2, 2], [1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 0.5])
    w = win_matrix(*comps, 3)
    for l2, tol in ((0.05, 1e-8), (1.0, 1e-8), (compare.DEFAULT_L2, 1e-6)):
        # at the default l2 the optimum is flat along item 0 (curvature ~ 1e-3): L-BFGS stops ~1e-7 away
        expected = newton_bt(w, l2)
        got = bradley_terry(comps, l2=l2)
        np.testing.assert_allclose(got, expected, rtol=0, atol=tol)
    # hand check of the stationarity condition at l2 = 1 (the prior term is not zero: it balances the likelihood)
    s = bradley_terry(comps, l2=1.0)
    p = 1.0 / (1.0 + np.exp(-(s[:, None] - s[None, :])))
    grad = -(w * (1.0 - p)).sum(axis=1) + (w.T * p).sum(axis=1) + 1.0 * s
    assert np.max(np.abs(grad)) < 1e-7 and s[0] > 0.5
    assert newton_bt(w, compare.DEFAULT_L2)[0] > 5.0  # a much weaker prior lets it run far further


def test_joint_fit_rows_each_equal_their_own_optimum_and_are_centred():
    # several resample-like rows fitted in one problem: each row its own optimum, each row mean zero
    rng = np.random.default_rng(5)
    base = win_matrix(*COMPS, 4)
    rows = np.stack([base * rng.integers(0, 3, size=base.shape) for _ in range(5)] + [base])
    # a joint problem stops on the joint gradient and f-change, so rows sit ~1e-7 from their optimum; rows with an
    # undefeated item are flat at the default l2 (1e-4)
    for l2, tol in ((0.05, 1e-6), (compare.DEFAULT_L2, 1e-4)):
        got = compare._fit(rows, l2, None)
        for r, x in enumerate(rows):
            np.testing.assert_allclose(got[r], newton_bt(x, l2), rtol=0, atol=tol)
        # centred row by row (the optimiser leaves each row's mean off zero by a different ~1e-7)
        np.testing.assert_allclose(got.mean(axis=1), 0.0, rtol=0, atol=1e-14)


def test_bradley_terry_ci_equals_newton_bootstrap():
    i, j, o = (np.asarray(c) for c in COMPS)
    clusters = np.arange(i.size) // 2  # 7 prompts of 2 comparisons
    n_resamples, level = 60, 0.8
    res = bradley_terry_ci(COMPS, clusters=clusters, n_resamples=n_resamples, level=level, reference=1)
    # the documented draw stream (seed 0), each resample written out as repeated comparisons and fitted alone
    codes = as_clusters(clusters, i.size)
    fits = []
    for chunk in resample_counts(codes, n_resamples, 0):
        for c in chunk:
            idx = np.repeat(np.arange(i.size), c[codes])
            s = newton_bt(win_matrix(i[idx], j[idx], o[idx], 4), compare.DEFAULT_L2)
            fits.append(s - s[1])
    fits = np.array(fits)
    assert fits.shape == (n_resamples, 4)
    low, high = np.quantile(fits, [(1 - level) / 2, (1 + level) / 2], axis=0)
    point = newton_bt(win_matrix(i, j, o, 4), compare.DEFAULT_L2)
    np.testing.assert_allclose(res.strengths, point - point[1], rtol=0, atol=1e-7)
    # resamples where an item never loses are flat (see the test above), so 1e-6 here
    np.testing.assert_allclose(res.ci_low, low, rtol=0, atol=1e-6)
    np.testing.assert_allclose(res.ci_high, high, rtol=0, atol=1e-6)


@pytest.mark.parametrize("chunk, rows", [(1, 1), (2 * 9 * 8, 2), (3 * 9 * 8 + 8, 3)])
def test_bradley_terry_ci_chunks_resamples_by_memory(monkeypatch, chunk, rows):
    # a memory bound: at most _CHUNK_ELEMENTS // (8 K^2) resamples per joint L-BFGS problem (K = 3 here), at least 1
    comps = ([0, 1, 2, 0, 1], [1, 2, 0, 2, 0], [1.0, 0.5, 1.0, 0.0, 1.0])
    sizes = []
    real_fit = compare._fit

    def spy(x, l2, reference):
        sizes.append(x.shape[0])
        return real_fit(x, l2, reference)

    monkeypatch.setattr(compare, "_CHUNK_ELEMENTS", chunk)
    monkeypatch.setattr(compare, "_fit", spy)
    n_resamples = 7
    res = bradley_terry_ci(comps, n_resamples=n_resamples, l2=0.5)
    assert sizes[0] == 1  # the point estimate
    boot = sizes[1:]
    assert sum(boot) == n_resamples and max(boot) == rows
    monkeypatch.undo()
    whole = bradley_terry_ci(comps, n_resamples=n_resamples, l2=0.5)  # one joint problem: the same fits
    for a, b in zip(res, whole):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


def test_bradley_terry_one_item_or_no_comparisons():
    np.testing.assert_array_equal(bradley_terry(([], [], []), n_items=1), [0.0])  # one item is enough
    np.testing.assert_array_equal(bradley_terry(([], [], []), n_items=3), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(bradley_terry(np.zeros((0, 3)), n_items=2, reference=1), [0.0, 0.0])
