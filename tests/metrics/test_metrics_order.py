"""The fast stable sort behind tie calibration, on the inputs that stress it: |margin| values that differ only in
their last bits (differences of rounded scores, 0.3 - 0.2 against 0.1), exact repeats, zeros, -0.0 and inf."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from metrics_reference import reference_python_cells

from videobench.metrics import accuracy_with_ties
from videobench.metrics.pairwise import stable_order

# Scores on a 0.1 grid: their differences repeat exactly *and* nearly (a few ulps apart), like real rounded scores.
score_st = st.integers(-30, 30).map(lambda k: k / 10)
rounded_pairs_st = st.lists(st.tuples(st.integers(-1, 1), score_st, score_st), min_size=1, max_size=60)


def _argsort_cases():
    rng = np.random.default_rng(7)
    one = np.nextafter(1.0, 2.0)
    yield np.abs(rng.normal(size=500))  # continuous: one sort suffices
    yield np.abs(np.round(rng.normal(size=800), 1) - np.round(rng.normal(size=800), 1))  # near repeats: repaired
    yield np.abs(rng.integers(0, 4, size=300).astype(float))  # exact repeats only
    yield np.array([one, 1.0, one, 1.0, 1.0 + 4 * 2.0**-52, 1.0])  # values a few ulps apart, interleaved
    yield np.abs(np.array([-0.0, 0.0, np.inf, 3.0, -np.inf, 0.0, 5e-324, 1.7e308]))
    yield np.array([2.5])
    yield np.zeros(0)


@pytest.mark.parametrize("values", list(_argsort_cases()), ids=lambda v: f"n{v.size}")
def test_stable_order_is_numpys_stable_argsort(values):
    order, ordered = stable_order(values)
    expected = np.argsort(values, kind="stable")
    np.testing.assert_array_equal(order, expected)
    np.testing.assert_array_equal(ordered, values[expected])


def test_stable_order_beyond_packed_keys_falls_back():
    # 2**21 + 1 positions need 22 bits; three fields of 22 bits no longer fit in a uint64 key
    values = np.abs(np.round(np.random.default_rng(0).normal(size=2**21 + 1), 2))
    order, _ = stable_order(values)
    np.testing.assert_array_equal(order, np.argsort(values, kind="stable"))


@settings(max_examples=150, deadline=None)
@given(rounded_pairs_st)
def test_reference_mode_on_near_repeats_equals_published_walk(rows):
    h = [r[0] for r in rows]
    m = [r[1] - r[2] for r in rows]
    res = accuracy_with_ties(h, m, mode="reference")
    value, eps, cells = reference_python_cells(h, m)
    assert (res.value, res.epsilon) == (value, eps)  # bit for bit
    c = res.counts
    assert (c["concordant"], c["discordant"], c["human_tie"], c["model_tie"], c["both_tie"]) == (
        cells["c"], cells["d"], cells["th"], cells["tm"], cells["thm"])


def test_stable_order_of_non_float64_falls_back():
    # the packed keys read float64 bits; any other dtype takes numpy's stable argsort
    values = np.array([0.5, 0.25, 0.5, 0.0, 0.25], dtype=np.float32)
    order, ordered = stable_order(values)
    np.testing.assert_array_equal(order, [3, 1, 4, 0, 2])
    np.testing.assert_array_equal(ordered, [0.0, 0.25, 0.25, 0.5, 0.5])


@pytest.mark.parametrize("n", [100_000, 2**21 + 1])
def test_stable_order_with_many_blocks_to_repair(n):
    # every value its own block (distinct high bits) and one near repeat out of order, so the repair sort runs
    # with ~n block numbers: they must fit above the two k-bit fields (n = 2**21 + 1 is past the packed keys)
    values = np.arange(1, n + 1, dtype=np.float64)
    values[0] = np.nextafter(2.0, 3.0)  # above values[1] = 2.0 by one ulp
    order, ordered = stable_order(values)
    expected = np.concatenate(([1, 0], np.arange(2, n)))
    np.testing.assert_array_equal(order, expected)
    np.testing.assert_array_equal(ordered, values[expected])
