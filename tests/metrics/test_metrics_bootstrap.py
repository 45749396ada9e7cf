"""Bootstrap CIs and paired differences: the vectorised weighted kernels equal loops over explicit resamples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from metrics_reference import brute_force_grouped, reference_python, weighted_loop

from videobench.metrics import (
    accuracy_with_ties,
    accuracy_without_ties,
    bootstrap_ci,
    paired_difference,
)
from videobench.metrics._validate import as_clusters
from videobench.metrics.bootstrap import resample_counts, resample_weights
from videobench.metrics.pairwise import PairTable, weighted_with_ties, weighted_without_ties


def small_data(seed: int, n: int = 40):
    rng = np.random.default_rng(seed)
    h = rng.choice([-1, 0, 1], size=n)
    m = rng.choice([0.0, 0.5, -0.5, 1.0, -1.0, 2.0], size=n)  # many repeated |margin| values
    clusters = rng.integers(0, 9, size=n)
    return h, m, clusters


@pytest.mark.parametrize("seed", range(4))
def test_weighted_kernels_equal_looped_oracles(seed):
    h, m, clusters = small_data(seed)
    codes = as_clusters(clusters, h.size)
    counts = np.concatenate(list(resample_counts(codes, 30, seed)))
    weights = counts[:, codes]
    table = PairTable(h, m, codes)
    hl, ml = h.tolist(), m.tolist()
    np.testing.assert_array_equal(weighted_with_ties(table, counts, "reference"),
                                  weighted_loop(lambda a, b: reference_python(a, b)[0], hl, ml, weights))
    np.testing.assert_allclose(weighted_with_ties(table, counts, "grouped"),
                               weighted_loop(brute_force_grouped, hl, ml, weights), rtol=0, atol=1e-15)
    np.testing.assert_array_equal(weighted_without_ties(table, counts),
                                  weighted_loop(accuracy_without_ties, hl, ml, weights))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(-1, 1), st.sampled_from([0.0, 0.5, -0.5, 1.0, -1.0, 2.0]),
                          st.lists(st.integers(0, 3), min_size=3, max_size=3)), min_size=1, max_size=25))
def test_weighted_kernels_on_arbitrary_weights(rows):
    # each pair its own cluster, arbitrary weights (zeros included): the merged-unit sweeps must equal the walks
    h = np.array([r[0] for r in rows])
    m = np.array([r[1] for r in rows])
    weights = np.array([r[2] for r in rows]).T  # (3 resamples, N)
    table = PairTable(h, m, np.arange(h.size))
    hl, ml = h.tolist(), m.tolist()
    np.testing.assert_array_equal(weighted_with_ties(table, weights, "reference"),
                                  weighted_loop(lambda a, b: reference_python(a, b)[0], hl, ml, weights))
    np.testing.assert_allclose(weighted_with_ties(table, weights, "grouped"),
                               weighted_loop(brute_force_grouped, hl, ml, weights), rtol=0, atol=1e-15)


def test_weighted_reference_first_pair_repeated():
    # sorted first pair is a non-tie concordant pair drawn 3 times: the walk scores after its first copy (4/5),
    # which beats every later state; zero-weight pairs before it must not count as scored states
    h = np.array([1, 1, -1])
    m = np.array([0.1, 0.2, -0.3])
    weights = np.array([[0, 3, 2], [3, 0, 0], [1, 1, 1], [0, 0, 0]])
    got = weighted_with_ties(PairTable(h, m, np.arange(3)), weights, "reference")  # each pair its own cluster
    expected = weighted_loop(lambda a, b: reference_python(a, b)[0], h.tolist(), m.tolist(), weights)
    np.testing.assert_array_equal(got, expected)
    assert got[0] == 4 / 5 and math.isnan(got[3])


@pytest.mark.parametrize("statistic,oracle", [
    ("accuracy_without_ties", lambda a, b: accuracy_without_ties(a, b)),
    ("accuracy_with_ties", lambda a, b: accuracy_with_ties(a, b).value),
    ("accuracy_with_ties_reference", lambda a, b: reference_python(a, b)[0]),
])
def test_bootstrap_ci_equals_looped_callable(statistic, oracle):
    h, m, clusters = small_data(11, n=60)
    fast = bootstrap_ci(statistic, h, m, clusters=clusters, n_resamples=200, seed=5)
    slow = bootstrap_ci(oracle, h, m, clusters=clusters, n_resamples=200, seed=5)  # looped fallback
    assert (fast.low, fast.high) == pytest.approx((slow.low, slow.high), abs=1e-12)
    # Independent of bootstrap_ci: expand each resample's cluster counts into explicit pair copies, apply the
    # oracle, and take the percentile interval.
    codes = as_clusters(clusters, h.size)
    looped = []
    for chunk in resample_counts(codes, 200, 5):
        for c in chunk:
            idx = np.repeat(np.arange(h.size), c[codes])
            looped.append(oracle(h[idx], m[idx]))
    assert (fast.low, fast.high) == pytest.approx(tuple(np.nanquantile(looped, [0.025, 0.975])), abs=1e-12)
    assert fast.point == pytest.approx(oracle(h, m))
    assert fast.low <= fast.point <= fast.high
    assert fast.statistic == statistic and slow.statistic == "callable"


def test_function_statistics_map_to_vectorised_names():
    h, m, clusters = small_data(2)
    a = bootstrap_ci(accuracy_with_ties, h, m, clusters, n_resamples=100)
    b = bootstrap_ci("accuracy_with_ties", h, m, clusters, n_resamples=100)
    assert a == b


def test_resample_counts_are_multinomial_and_seeded():
    codes = np.repeat(np.arange(7), 3)
    counts = np.concatenate(list(resample_counts(codes, 50, seed=1)))
    assert counts.shape == (50, 7) and np.all(counts.sum(axis=1) == 7)
    again = np.concatenate(list(resample_counts(codes, 50, seed=1)))
    assert np.array_equal(counts, again)
    weights = np.concatenate(list(resample_weights(codes, 50, seed=1)))
    assert np.array_equal(weights, counts[:, codes])


def test_cluster_bootstrap_is_wider_when_pairs_in_a_cluster_are_correlated():
    rng = np.random.default_rng(0)
    n_clusters, per = 150, 20
    clusters = np.repeat(np.arange(n_clusters), per)
    skill = rng.normal(0, 1.5, size=n_clusters)[clusters]  # whole prompts are easy or hard for the model
    h = rng.choice([-1, 1], size=clusters.size)
    m = h * (skill + rng.normal(0, 0.3, size=clusters.size))
    pair = bootstrap_ci("accuracy_without_ties", h, m, n_resamples=400)
    clus = bootstrap_ci("accuracy_without_ties", h, m, clusters=clusters, n_resamples=400)
    assert clus.half_width > 2 * pair.half_width


def test_paired_difference():
    rng = np.random.default_rng(4)
    n = 3000
    h = rng.choice([-1, 0, 1], size=n)
    good = h * 1.0 + rng.normal(size=n)
    bad = h * 0.2 + rng.normal(size=n)
    groups = rng.integers(0, 300, size=n)
    res = paired_difference(h, good, bad, "accuracy_without_ties", clusters=groups, n_resamples=300)
    assert res.difference == pytest.approx(accuracy_without_ties(h, good) - accuracy_without_ties(h, bad))
    assert 0 < res.ci_low <= res.difference <= res.ci_high
    assert res.p_value == pytest.approx(2 / 301)
    same = paired_difference(h, good, good, "accuracy_with_ties", n_resamples=100)
    assert (same.difference, same.ci_low, same.ci_high, same.p_value) == (0.0, 0.0, 0.0, 1.0)
    # the resamples are shared: the difference CI is narrower than the sum of the two separate half-widths
    ci_g = bootstrap_ci("accuracy_with_ties", h, good, groups, n_resamples=300)
    ci_b = bootstrap_ci("accuracy_with_ties", h, bad, groups, n_resamples=300)
    d = paired_difference(h, good, bad, accuracy_with_ties, groups, n_resamples=300)
    assert d.ci_high - d.ci_low < (ci_g.high - ci_g.low) + (ci_b.high - ci_b.low)


def test_bootstrap_errors():
    h, m, clusters = small_data(0)
    with pytest.raises(ValueError, match="unknown statistic 'f1'"):
        bootstrap_ci("f1", h, m)
    with pytest.raises(TypeError, match="metric name or a callable"):
        bootstrap_ci(3, h, m)
    with pytest.raises(ValueError, match="n_resamples must be >= 1"):
        bootstrap_ci("accuracy_with_ties", h, m, n_resamples=0)
    with pytest.raises(ValueError, match=r"level must be in \(0, 1\)"):
        bootstrap_ci("accuracy_with_ties", h, m, level=95)
    with pytest.raises(ValueError, match="length mismatch: clusters=3"):
        bootstrap_ci("accuracy_with_ties", h, m, clusters=[1, 2, 3])
    with pytest.raises(ValueError, match="empty"):
        bootstrap_ci("accuracy_with_ties", [], [])
    with pytest.raises(ValueError, match="margins_2 contain NaN at positions"):
        paired_difference(h, m, np.full(h.size, np.nan), "accuracy_with_ties")


def test_all_ties_gives_nan_interval_without_ties():
    ci = bootstrap_ci("accuracy_without_ties", [0, 0, 0], [1.0, 2.0, 3.0], n_resamples=20)
    assert math.isnan(ci.low) and math.isnan(ci.point)


def test_string_clusters():
    h, m, clusters = small_data(5)
    prompts = np.array([f"prompt {c}" for c in clusters], dtype=object)
    by_name = bootstrap_ci("accuracy_with_ties", h, m, prompts, 50)
    assert by_name == bootstrap_ci("accuracy_with_ties", h, m, clusters, 50)


@pytest.mark.parametrize("statistic,oracle", [
    ("accuracy_with_ties", lambda a, b: brute_force_grouped(a, b)),
    ("accuracy_with_ties_reference", lambda a, b: reference_python(a, b)[0]),
])
def test_paired_difference_equals_looped_oracle(statistic, oracle):
    # Independent of paired_difference: expand each resample into pair copies, take oracle(m1) - oracle(m2), then
    # the percentile interval and the +1 sign-test p-value of the docstring.
    h, m1, clusters = small_data(12, n=50)
    m2 = small_data(13, n=50)[1]
    res = paired_difference(h, m1, m2, statistic, clusters=clusters, n_resamples=150, level=0.9, seed=4)
    codes = as_clusters(clusters, h.size)
    diffs = []
    for chunk in resample_counts(codes, 150, 4):
        for c in chunk:
            idx = np.repeat(np.arange(h.size), c[codes])
            diffs.append(oracle(h[idx], m1[idx]) - oracle(h[idx], m2[idx]))
    diffs = np.array(diffs)
    assert (res.ci_low, res.ci_high) == pytest.approx(tuple(np.quantile(diffs, [0.05, 0.95])), abs=1e-12)
    tail = min(np.sum(diffs <= 0), np.sum(diffs >= 0))
    assert res.p_value == pytest.approx(min(1.0, 2 * (tail + 1) / (diffs.size + 1)))
    assert res.difference == pytest.approx(oracle(h, m1) - oracle(h, m2))
    assert res.level == 0.9 and res.n_resamples == 150
