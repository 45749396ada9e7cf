"""MOS metrics: SRCC / KRCC against scipy.stats and hand-worked cases, the 4-parameter logistic fit recovering known
parameters, PLCC against an independent Pearson, and the bootstrap CIs (covering a known value, clusters)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from videobench.metrics import bootstrap_items_ci, fit_logistic4, krcc, logistic4, mos_metrics, plcc, srcc
from videobench.metrics.mos import logistic4_initial


def test_rank_correlations_hand_worked() -> None:
    # ranks of scores 1..5, MOS ranks 1, 3, 2, 4, 5: d^2 = 0 + 1 + 1 + 0 + 0 = 2 -> rho = 1 - 6 * 2 / (5 * 24) = 0.9
    scores = [0.1, 0.2, 0.3, 0.4, 0.5]
    mos = [1.0, 3.0, 2.0, 4.0, 5.0]
    assert srcc(scores, mos) == pytest.approx(0.9)
    # 10 pairs, one discordant (items 1, 2): tau = (9 - 1) / 10
    assert krcc(scores, mos) == pytest.approx(0.8)
    assert srcc(scores, mos[::-1]) == pytest.approx(-0.9)


@pytest.mark.parametrize("seed", range(5))
def test_rank_correlations_match_scipy(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = np.round(rng.normal(size=50), 1)  # ties in both inputs
    y = np.round(x + rng.normal(size=50), 1)
    assert srcc(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    assert krcc(x, y) == pytest.approx(stats.kendalltau(x, y).statistic, abs=1e-12)


def test_logistic_formula_and_initial_values() -> None:
    # f(b3) is the midpoint (b1 + b2) / 2; far right -> b1, far left -> b2; the sign of b4 does not matter
    assert logistic4(0.3, 5.0, 1.0, 0.3, 0.7) == pytest.approx(3.0)
    assert logistic4(1e6, 5.0, 1.0, 0.3, 0.7) == pytest.approx(5.0)
    assert logistic4(-1e6, 5.0, 1.0, 0.3, -0.7) == pytest.approx(1.0)
    x = np.array([1.0, 2.0, 3.0, 4.0])
    assert logistic4(x, 5.0, 1.0, 2.0, 1.0) == pytest.approx(4.0 / (1.0 + np.exp(-(x - 2.0))) + 1.0)
    assert logistic4_initial(x, np.array([2.0, 9.0, 4.0, 1.0])) == pytest.approx((9.0, 1.0, 2.5, np.std(x)))
    assert logistic4_initial(np.ones(3), np.array([1.0, 2.0, 3.0]))[3] == 1.0  # constant scores: b4 = 1


def test_fit_recovers_known_parameters() -> None:
    rng = np.random.default_rng(0)
    true = (4.5, 1.2, 0.4, 0.6)
    x = rng.uniform(-2.5, 3.0, size=400)
    y = logistic4(x, *true) + rng.normal(scale=0.02, size=x.size)
    fit = fit_logistic4(x, y)
    assert fit.converged
    b1, b2, b3, b4 = fit.params
    assert (b1, b2, b3, abs(b4)) == pytest.approx(true, rel=0.02)
    # a monotone but non-linear mapping: PLCC after the fit is ~1, the raw Pearson is clearly lower
    assert plcc(x, y) > 0.999 > stats.pearsonr(x, y).statistic + 0.02


def test_plcc_is_pearson_of_the_fitted_values() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=120)
    y = 3.0 + np.tanh(x) + rng.normal(scale=0.3, size=x.size)
    fit = fit_logistic4(x, y)
    assert plcc(x, y) == pytest.approx(stats.pearsonr(fit(x), y).statistic, abs=1e-12)


def test_a_model_that_ranks_backwards_gets_a_negative_plcc() -> None:
    # The logistic family is closed under x -> -x (swap b1 and b2, negate b3), so the fit on -x reproduces the same
    # fitted values, and the free fit alone would give the backwards model the same positive r as the good one.
    rng = np.random.default_rng(2)
    x = rng.normal(size=150)
    y = 3.0 + np.tanh(x) + rng.normal(scale=0.3, size=x.size)
    good = stats.pearsonr(fit_logistic4(x, y)(x), y).statistic
    assert good > 0.8
    assert plcc(-x, y) == pytest.approx(-good, abs=1e-6)
    assert srcc(-x, y) < 0


def test_undefined_cases_are_nan() -> None:
    assert math.isnan(plcc([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]))  # fewer points than parameters: no fit
    assert math.isnan(srcc([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="NaN"):
        srcc([1.0, math.nan], [1.0, 2.0])


def test_ci_covers_the_true_spearman_of_a_known_population() -> None:
    # bivariate normal with correlation r: population Spearman rho = 6 / pi * asin(r / 2)
    r = 0.6
    truth = 6 / math.pi * math.asin(r / 2)
    rng = np.random.default_rng(11)
    cov = [[1.0, r], [r, 1.0]]
    covered = 0
    for rep in range(30):
        x, y = rng.multivariate_normal([0.0, 0.0], cov, size=150).T
        ci = bootstrap_items_ci(srcc, (x, y), n_resamples=100, seed=rep)  # what mos_metrics runs for "srcc"
        covered += ci.low <= truth <= ci.high
    # 95% nominal: Binomial(30, 0.95) is <= 23 with probability 0.06% (0.4% even at a true 93% coverage)
    assert covered >= 24


def test_all_three_metrics_with_clusters() -> None:
    rng = np.random.default_rng(5)
    x = rng.normal(size=30)
    y = x + rng.normal(scale=0.5, size=30)
    res = mos_metrics(x, y, n_resamples=25, seed=2)
    assert list(res) == ["srcc", "krcc", "plcc"]
    assert res["srcc"].point == pytest.approx(stats.spearmanr(x, y).statistic)
    for ci in res.values():
        assert ci.low <= ci.point <= ci.high and ci.n_resamples == 25
    # every item its own cluster is the same resampling as no clusters
    same = bootstrap_items_ci(krcc, (x, y), clusters=np.arange(30), n_resamples=25, seed=2)
    assert (same.low, same.high) == (res["krcc"].low, res["krcc"].high)
    # 6 clusters of 10 identical copies: resampling whole clusters is coarser, so the interval is wider
    xc, yc = np.repeat(x[:6], 10), np.repeat(y[:6], 10)
    wide = bootstrap_items_ci(srcc, (xc, yc), clusters=np.repeat(np.arange(6), 10), n_resamples=100, seed=2)
    narrow = bootstrap_items_ci(srcc, (xc, yc), n_resamples=100, seed=2)
    assert wide.high - wide.low > narrow.high - narrow.low
