"""The rules around the MOS metrics and rank correlations that the value tests leave open (written from the
surviving mutants of `make mutation TARGET=metrics`): input errors in full (they name the argument), the
boundaries of the undefined cases (2 items are enough, a range of exactly 1 is not constant), the logistic fit's
starting point, evaluation cap, 4-point minimum and warning handling, float64 throughout, and the documented
defaults (mos_metrics: 1000 resamples, level 0.95, seed 0; fit: 10,000 evaluations; random baseline: seed 0).
Expected values are hand-worked or come from scipy."""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest
import scipy.optimize
from scipy import stats

from videobench.metrics import (
    bootstrap_items_ci,
    fit_logistic4,
    kendall,
    krcc,
    logistic4,
    mos_metrics,
    plcc,
    random_scores,
    spearman,
    srcc,
)
from videobench.metrics import mos as mos_module
from videobench.metrics.mos import Logistic4Fit, logistic4_initial, pearson


def _fails(message: str, function, *args, **kwargs) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        function(*args, **kwargs)


@pytest.mark.parametrize(
    "function", [srcc, krcc, plcc, fit_logistic4, mos_metrics, spearman, kendall], ids=lambda f: f.__name__
)
def test_input_errors_name_the_argument(function) -> None:
    _fails("scores contain NaN at positions [1]", function, [1.0, math.nan, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0])
    _fails("mos contain NaN at positions [0, 3]", function, [1.0, 2.0, 3.0, 4.0], [math.nan, 2.0, 3.0, math.nan])
    _fails("length mismatch: scores=5, mos=4", function, [1.0, 2.0, 3.0, 4.0, 5.0], [1.0, 2.0, 3.0, 4.0])


def test_pearson_errors_and_boundaries() -> None:
    _fails("x contain NaN at positions [0]", pearson, [math.nan, 1.0], [1.0, 2.0])
    _fails("y contain NaN at positions [1]", pearson, [0.0, 1.0], [1.0, math.nan])
    _fails("length mismatch: x=3, y=2", pearson, [1.0, 2.0, 3.0], [1.0, 2.0])
    _fails("length mismatch: x=2, y=3", pearson, [1.0, 2.0], [1.0, 2.0, 3.0])
    assert pearson([1.0, 2.0], [3.0, 1.0]) == pytest.approx(-1.0)  # 2 items are enough
    # a range of exactly 1 is not constant: centred x = (-.5, 0, .5), y = (-1, 1, 0): r = 0.5 / sqrt(0.5 * 2)
    assert pearson([0.0, 0.5, 1.0], [1.0, 3.0, 2.0]) == pytest.approx(0.5)
    assert pearson([1.0, 3.0, 2.0], [0.0, 0.5, 1.0]) == pytest.approx(0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nan by the rule, not from a 0 / 0 (nor rounding noise from 0.1 * 3 / 3)
        for x, y in [([3.0, 3.0, 3.0], [1.0, 2.0, 4.0]), ([0.1, 0.1, 0.1], [1.0, 2.0, 4.0])]:
            assert math.isnan(pearson(x, y)) and math.isnan(pearson(y, x))


def test_rank_correlations_of_two_items_and_of_none() -> None:
    assert spearman([1.0, 2.0], [2.0, 1.0]) == pytest.approx(-1.0)
    assert kendall([1.0, 2.0], [1.0, 3.0]) == pytest.approx(1.0)
    assert math.isnan(spearman([], [])) and math.isnan(kendall([], []))


def test_logistic_is_float64_for_float32_scores() -> None:
    x = np.array([0.1, 0.7, 1.3], dtype=np.float32)
    x64 = x.astype(np.float64)
    expected = [4.0 / (1.0 + math.exp(-(v - 0.3) / 0.7)) + 1.0 for v in x64]  # scalar float64 transcription
    got = logistic4(x, 5.0, 1.0, 0.3, 0.7)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, expected, rtol=1e-14)


def test_initial_spread_below_one_is_kept() -> None:
    # scores (0, 1): std 0.5, which is a valid b4 (only a zero spread falls back to 1)
    assert logistic4_initial(np.array([0.0, 1.0]), np.array([2.0, 3.0])) == (3.0, 2.0, 0.5, 0.5)


def test_fewer_than_four_points_return_the_starting_point_unconverged() -> None:
    fit = fit_logistic4([0.0, 1.0, 2.0], [3.0, 1.0, 2.0])
    assert fit.converged is False
    assert fit.params == pytest.approx((3.0, 1.0, 1.0, math.sqrt(2.0 / 3.0)))


def test_four_points_are_fitted_exactly_and_quietly() -> None:
    # 4 points on a known curve: 4 equations, 4 unknowns; scipy warns that no covariance can be estimated, and the
    # fit must keep that to itself
    true = (5.0, 1.0, 0.5, 0.8)
    x = np.array([-1.0, 0.0, 1.0, 2.0])
    y = [(true[0] - true[1]) / (1.0 + math.exp(-(v - true[2]) / true[3])) + true[1] for v in x]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = fit_logistic4(x, y)
    assert fit.converged is True
    assert fit.params == pytest.approx(true, rel=1e-9)


def test_fit_starts_from_the_documented_point() -> None:
    # scores in the thousands: from the documented start the fit is exact; from scipy's default start (all ones)
    # every logistic is saturated and the fit stops at (50, 1, 1, 1)
    true = (80.0, 20.0, 1500.0, 100.0)
    x = np.linspace(1000.0, 2000.0, 11)
    y = [(true[0] - true[1]) / (1.0 + math.exp(-(v - true[2]) / true[3])) + true[1] for v in x]
    fit = fit_logistic4(x, y)
    assert fit.converged is True
    assert fit.params == pytest.approx(true, rel=1e-9)


def test_too_few_evaluations_give_the_starting_point_unconverged() -> None:
    x = np.array([-1.0, 0.0, 1.0, 2.0, 3.0, 4.0])
    y = [4.0 / (1.0 + math.exp(-(v - 0.5) / 0.8)) + 1.0 for v in x]
    fit = fit_logistic4(x, y, max_evaluations=5)
    assert fit.converged is False
    # (max y, min y, mean x = 1.5, std x = sqrt(35 / 12))
    assert fit.params == pytest.approx((max(y), min(y), 1.5, math.sqrt(35.0 / 12.0)), rel=1e-12)
    assert isinstance(fit, Logistic4Fit)


def test_fit_default_evaluation_cap(monkeypatch) -> None:
    # the cap reaches scipy as maxfev; 10,000 when not given
    seen = []
    real = scipy.optimize.curve_fit

    def spy(*args, **kwargs):
        seen.append(kwargs["maxfev"])
        return real(*args, **kwargs)

    monkeypatch.setattr(scipy.optimize, "curve_fit", spy)
    x = np.array([-1.0, 0.0, 1.0, 2.0, 3.0])
    y = [4.0 / (1.0 + math.exp(-v)) + 1.0 for v in x]
    fit_logistic4(x, y)
    fit_logistic4(x, y, max_evaluations=77)
    assert seen == [10_000, 77]


def test_mos_metrics_defaults_and_names(monkeypatch) -> None:
    calls = []

    def record(statistic, arrays, clusters, n_resamples, level, seed, name):
        calls.append((statistic.__name__, n_resamples, level, seed, name))
        return name

    monkeypatch.setattr(mos_module, "bootstrap_items_ci", record)
    x, y = [0.1, 0.4, 0.2, 0.3], [1.0, 4.0, 3.0, 2.0]
    mos_metrics(x, y)
    expected = [("srcc", 1000, 0.95, 0, "srcc"), ("krcc", 1000, 0.95, 0, "krcc"), ("plcc", 1000, 0.95, 0, "plcc")]
    assert calls == expected


def test_mos_metrics_resamples_the_given_clusters() -> None:
    # near-logistic data in 8 clusters of 2, so the refits on resamples converge fast
    rng = np.random.default_rng(3)
    x = rng.normal(size=16)
    y = 4.0 / (1.0 + np.exp(-x)) + 1.0 + rng.normal(scale=0.1, size=16)
    clusters = np.repeat(list("abcdefgh"), 2)
    res = mos_metrics(x, y, clusters=clusters, n_resamples=20, seed=4)
    for name, function in [("srcc", srcc), ("krcc", krcc), ("plcc", plcc)]:
        assert res[name].statistic == name
        by_cluster = bootstrap_items_ci(function, (x, y), clusters=clusters, n_resamples=20, seed=4)
        assert (res[name].low, res[name].high) == (by_cluster.low, by_cluster.high)
    by_item = bootstrap_items_ci(srcc, (x, y), n_resamples=20, seed=4)
    assert (by_item.low, by_item.high) != (res["srcc"].low, res["srcc"].high)
    assert res["srcc"].point == pytest.approx(stats.spearmanr(x, y).statistic)


def test_random_scores_default_seed_is_zero() -> None:
    # numpy's PCG64 stream from seed 0 (stable across numpy versions): the first three N(0, 1) draws
    assert random_scores(3) == pytest.approx([0.12573022, -0.13210486, 0.64042265], abs=1e-8)
    assert np.array_equal(random_scores(6), random_scores(6, seed=0))
