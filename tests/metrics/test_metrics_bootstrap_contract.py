"""Bootstrap contracts: the seeded resample stream against a plain loop, chunk and cache sizing, defaults, the
fields of the results and the exact error messages (written from the mutation survivors of ``bootstrap.py``)."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from videobench.metrics import accuracy_with_ties, accuracy_without_ties, bootstrap_ci, paired_difference
from videobench.metrics import bootstrap as bs
from videobench.metrics.bootstrap import bootstrap_items_ci, resample_counts

# 4 pairs, hand-worked: h*m > 0 for pairs 0, 2, 3 -> accuracy without ties 3/4; grouped tie-calibrated accuracy is
# also 3/4 (threshold 0; any threshold >= 0.5 turns pair 0 into a wrong predicted tie). M2 flips pair 0: 2/4.
H = [1, 1, -1, 1]
M1 = [0.5, -1.0, -2.0, 3.0]
M2 = [-0.5, -1.0, -2.0, 3.0]


def loop_counts(n_clusters: int, n_resamples: int, seed: int) -> np.ndarray:
    """The documented stream, one resample at a time: C uniform cluster indices (int32) from default_rng(seed),
    counted with a Counter."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n_resamples):
        drawn = Counter(int(j) for j in rng.integers(0, n_clusters, size=n_clusters, dtype=np.int32))
        rows.append([drawn[j] for j in range(n_clusters)])
    return np.array(rows, dtype=np.int64).reshape(n_resamples, n_clusters)


def message(exc_type, fn, *args, **kwargs) -> str:
    with pytest.raises(exc_type) as info:
        fn(*args, **kwargs)
    return str(info.value)


# codes, _CHUNK_ELEMENTS, n_resamples, expected chunk rows: rows = max(1, CHUNK // max(N, C, 1))
CHUNKING = [
    (np.array([0, 0, 0, 1, 1, 1]), 12, 5, [2, 2, 1]),  # N = 6 pairs in C = 2 clusters: N bounds the weights
    (np.array([0, 9]), 20, 3, [2, 1]),  # C = 10 > N = 2 (cluster ids without items): C bounds the counts
    (np.array([0]), 3, 4, [3, 1]),  # one pair: 3 resamples per chunk
    (np.arange(20), 10, 2, [1, 1]),  # more pairs than the chunk budget: still one resample per chunk
    (np.zeros(0, dtype=np.int64), 10, 3, [3]),  # no pairs: 3 empty rows
]


@pytest.mark.parametrize("cache", ["cached", "uncached"])
@pytest.mark.parametrize("codes,chunk,n_resamples,rows", CHUNKING)
def test_resample_counts_chunks_equal_looped_stream(monkeypatch, codes, chunk, n_resamples, rows, cache):
    monkeypatch.setattr(bs, "_CHUNK_ELEMENTS", chunk)
    if cache == "uncached":
        monkeypatch.setattr(bs, "_CACHE_ELEMENTS", -1)
    n_clusters = int(codes.max()) + 1 if codes.size else 0
    chunks = list(resample_counts(codes, n_resamples, seed=7))
    assert [c.shape for c in chunks] == [(r, n_clusters) for r in rows]
    np.testing.assert_array_equal(np.concatenate(chunks), loop_counts(n_clusters, n_resamples, 7))


def test_only_small_count_matrices_are_cached(monkeypatch):
    monkeypatch.setattr(bs, "_CACHE_ELEMENTS", 12)
    codes = np.arange(3)
    bs._cached_counts.cache_clear()
    list(resample_counts(codes, 4, seed=0))  # 4 x 3 = 12 entries: kept
    assert bs._cached_counts.cache_info().currsize == 1
    list(resample_counts(codes, 5, seed=0))  # 15 entries: drawn afresh, not kept
    assert bs._cached_counts.cache_info().currsize == 1
    bs._cached_counts.cache_clear()


def test_bootstrap_items_ci_equals_looped_oracle():
    x = np.array([0.3, 1.7, -0.4, 2.2, 0.9, 5.0])
    clusters = ["a", "b", "a", "c", "b", "c"]  # codes a=0, b=1, c=2
    members = {0: [0, 2], 1: [1, 4], 2: [3, 5]}
    ci = bootstrap_items_ci(np.mean, (x,), clusters, n_resamples=40, level=0.8, seed=3, name="mean")
    values = []
    for row in loop_counts(3, 40, 3):
        idx = [i for c in range(3) for i in members[c] * int(row[c])]
        values.append(sum(x[i] for i in idx) / len(idx))
    low, high = np.quantile(values, [0.1, 0.9])
    assert (ci.low, ci.high) == pytest.approx((low, high), abs=1e-12)
    assert (ci.level, ci.n_resamples, ci.statistic) == (0.8, 40, "mean")
    assert ci.point == pytest.approx(9.7 / 6)


def product_mean(h, m):
    """A statistic that is continuous in the resample, so two seeds give two different intervals."""
    return float(np.mean(np.asarray(h) * np.asarray(m)))


def test_bootstrap_ci_defaults():
    h, m = H * 3, M1 + M2 + M1
    default = bootstrap_ci(product_mean, h, m)
    assert default == bootstrap_ci(product_mean, h, m, None, 1000, 0.95, 0, None)
    assert (default.level, default.n_resamples, default.statistic) == (0.95, 1000, "callable")
    assert default != bootstrap_ci(product_mean, h, m, seed=1)


def test_bootstrap_items_ci_defaults():
    x = np.array([0.3, 1.7, -0.4, 2.2, 0.9, 5.0])
    default = bootstrap_items_ci(np.mean, (x,))
    assert default == bootstrap_items_ci(np.mean, (x,), None, 1000, 0.95, 0, "callable")
    assert (default.level, default.n_resamples, default.statistic) == (0.95, 1000, "callable")
    assert default != bootstrap_items_ci(np.mean, (x,), seed=1)


def test_paired_difference_defaults():
    h, m1, m2 = H * 3, M1 + M2 + M1, M2 + M2 + M1
    default = paired_difference(h, m1, m2, product_mean)
    assert default == paired_difference(h, m1, m2, product_mean, None, 1000, 0.95, 0, None)
    assert (default.level, default.n_resamples) == (0.95, 1000)
    assert default != paired_difference(h, m1, m2, product_mean, seed=1)


def test_result_fields_and_names():
    ci = bootstrap_ci(accuracy_without_ties, H, M1, n_resamples=20, level=0.8)
    assert (ci.statistic, ci.level, ci.n_resamples, ci.point) == ("accuracy_without_ties", 0.8, 20, 0.75)
    assert bootstrap_ci(accuracy_with_ties, H, M1, n_resamples=5).statistic == "accuracy_with_ties"


def test_callable_returning_tie_calibrated_accuracy():
    # a callable (not the function object itself) runs the looped path; its TieCalibratedAccuracy is read as .value
    ci = bootstrap_ci(lambda h, m: accuracy_with_ties(h, m), H, M1, n_resamples=30, seed=2)
    named = bootstrap_ci("accuracy_with_ties", H, M1, n_resamples=30, seed=2)
    assert ci.point == 0.75 and ci.statistic == "callable"
    assert (ci.low, ci.high) == pytest.approx((named.low, named.high), abs=1e-12)


def test_paired_difference_with_a_callable():
    d = paired_difference(H, M1, M2, lambda h, m: accuracy_without_ties(h, m), n_resamples=30, seed=5)
    named = paired_difference(H, M1, M2, "accuracy_without_ties", n_resamples=30, seed=5)
    assert d.difference == 0.25  # 3/4 - 2/4
    assert (d.ci_low, d.ci_high, d.p_value) == pytest.approx((named.ci_low, named.ci_high, named.p_value), abs=1e-12)


def test_single_resample_and_single_pair():
    ci = bootstrap_ci("accuracy_without_ties", H, M1, n_resamples=1)
    assert ci.n_resamples == 1 and ci.low == ci.high
    # one resample: one difference d, tail = min(#{d <= 0}, #{d >= 0}) <= 1, p = min(1, 2 (tail + 1) / 2) = 1
    assert paired_difference(H, M1, M2, "accuracy_without_ties", n_resamples=1).p_value == 1.0
    # one pair, always drawn: every difference is 1 - 0, tail = 0, p = 2 / (9 + 1)
    one = paired_difference([1], [1.0], [-1.0], "accuracy_without_ties", n_resamples=9)
    assert (one.difference, one.ci_low, one.ci_high, one.p_value) == (1.0, 1.0, 1.0, 0.2)
    item = bootstrap_items_ci(np.mean, (np.array([2.0]),), n_resamples=5)
    assert (item.low, item.high, item.point) == (2.0, 2.0, 2.0)


def test_paired_difference_without_any_defined_resample():
    d = paired_difference([0, 0, 0], [1.0, 2.0, 3.0], [3.0, 2.0, 1.0], "accuracy_without_ties", n_resamples=5)
    assert math.isnan(d.p_value) and math.isnan(d.ci_low) and math.isnan(d.ci_high) and math.isnan(d.difference)


def test_level_and_resample_bounds():
    for level in (0, 1, 1.5):
        assert message(ValueError, bootstrap_ci, "accuracy_with_ties", H, M1, level=level) == (
            f"level must be in (0, 1), got {level}")
    assert message(ValueError, bootstrap_ci, "accuracy_with_ties", H, M1, n_resamples=0) == (
        "n_resamples must be >= 1, got 0")


def test_statistic_messages():
    assert message(ValueError, bootstrap_ci, "f1", H, M1) == (
        "unknown statistic 'f1'; expected one of accuracy_without_ties, accuracy_with_ties, "
        "accuracy_with_ties_reference, accuracy_with_ties_fixed or a callable")
    assert message(TypeError, bootstrap_ci, 3, H, M1) == "statistic must be a metric name or a callable, got int"
    fixed = "threshold is required with statistic 'accuracy_with_ties_fixed' and only allowed with it"
    assert message(ValueError, bootstrap_ci, "accuracy_with_ties_fixed", H, M1) == fixed
    assert message(ValueError, bootstrap_ci, "accuracy_with_ties", H, M1, threshold=0.5) == fixed


def test_input_messages():
    assert message(ValueError, bootstrap_ci, "accuracy_with_ties", H, [0.5, math.nan, 1.0, 2.0]) == (
        "margins contain NaN at positions [1]")
    assert message(ValueError, bootstrap_ci, "accuracy_with_ties", H, M1[:3]) == (
        "length mismatch: labels=4, margins=3")
    assert message(ValueError, bootstrap_ci, "accuracy_with_ties", [], []) == "cannot bootstrap an empty set of pairs"
    assert message(ValueError, bootstrap_items_ci, np.mean, (np.zeros(0),)) == "cannot bootstrap an empty set of items"
    assert message(ValueError, paired_difference, H, [math.nan, 1.0, 1.0, 1.0], M2, "accuracy_with_ties") == (
        "margins_1 contain NaN at positions [0]")
    assert message(ValueError, paired_difference, H[:3], M1, M2, "accuracy_with_ties") == (
        "length mismatch: labels=3, margins_1=4, margins_2=4")
    assert message(ValueError, paired_difference, H, M1[:3], M2, "accuracy_with_ties") == (
        "length mismatch: labels=4, margins_1=3, margins_2=4")
    assert message(ValueError, paired_difference, H, M1, M2[:3], "accuracy_with_ties") == (
        "length mismatch: labels=4, margins_1=4, margins_2=3")
    assert message(ValueError, paired_difference, [], [], [], "accuracy_with_ties") == (
        "cannot compare on an empty set of pairs")
