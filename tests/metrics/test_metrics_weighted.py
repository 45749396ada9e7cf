"""The weighted bootstrap kernels of pairwise.py by hand: the walk units, the per-cluster table, and the kernels'
edges (empty input, zero resamples, weights past float32's exact range, the default mode) against hand values and
the looped oracle that writes each resample out as explicit copies."""

from __future__ import annotations

import math

import numpy as np
import pytest
from metrics_reference import brute_force_grouped, reference_python, weighted_loop

from videobench.metrics.pairwise import (
    PairTable,
    _grouped_units,
    weighted_fixed,
    weighted_with_ties,
    weighted_without_ties,
)


def test_grouped_units_by_hand():
    # |margin| groups and their deltas; zero-delta groups are skipped, so runs of one sign merge across them,
    # a group holding both signs is a unit of its own (two mixed groups in a row stay two units)
    abs_sorted = np.array([.1, .1, .2, .3, .3, .4, .5, .5, .6, .7, .7, .8, .9, .9, 1., 1.])
    delta = np.array([1, 0, 1, 0, 0, 1, 1, -1, -1, 0, -1, 1, 1, -1, -1, 1])
    unit = _grouped_units(abs_sorted, delta)
    np.testing.assert_array_equal(unit, [0, -1, 0, -1, -1, 0, 1, 1, 2, -1, 2, 3, 4, 4, 5, 5])
    assert unit.dtype == np.int64
    empty = _grouped_units(np.zeros(0), np.zeros(0, dtype=np.int64))
    assert empty.shape == (0,) and empty.dtype == np.int64


def test_pair_table_by_hand():
    # pair: 0 concordant (delta -1), 1 and 3 discordant (0), 2 and 4 human ties with a non-zero margin (+1)
    h = np.array([1, -1, 0, 1, 0])
    m = np.array([0.5, 0.2, -0.2, -0.1, 0.5])
    t = PairTable(h, m, np.array([0, 1, 1, 2, 2]))
    # stable order by |m|: pairs 3, 1, 2, 0, 4 (clusters 2, 1, 1, 0, 2)
    assert t.n_clusters == 3
    np.testing.assert_array_equal(t.size_c, [1, 2, 2])
    np.testing.assert_array_equal(t.concordant_c, [1, 0, 0])
    np.testing.assert_array_equal(t.nontie_c, [1, 1, 1])
    np.testing.assert_array_equal(t.delta_sorted, [0, 0, 1, -1, 1])
    # grouped units: |m| 0.2 (+1, cluster 1) and |m| 0.5 (mixed: -1 in cluster 0, +1 in cluster 2)
    np.testing.assert_array_equal(t.group_delta.toarray(), [[0, 1, 0], [-1, 0, 1]])
    # reference units: one per non-zero pair (signs +, -, + do not merge)
    np.testing.assert_array_equal(t.pair_delta.toarray(), [[0, 1, 0], [-1, 0, 0], [0, 0, 1]])
    np.testing.assert_array_equal(t.unit_end, [2, 3, 4])
    np.testing.assert_array_equal(t.first_sorted_c, [3, 1, 0])
    # every pair discordant: no unit at all
    t = PairTable(np.array([1, -1]), np.array([-0.5, 0.3]), np.array([0, 0]))
    assert t.group_delta.shape == (0, 1) and t.pair_delta.shape == (0, 1) and t.unit_end.shape == (0,)


def test_pair_table_matrix_keeps_one_copy_per_dtype():
    t = PairTable(np.array([1, 0]), np.array([0.5, 0.2]), np.array([0, 1]))
    assert t.matrix("grouped", np.float32).dtype == np.float32
    assert t.matrix("grouped", np.float64).dtype == np.float64  # not the float32 copy from the cache
    assert t.matrix("grouped", np.float32).dtype == np.float32
    np.testing.assert_array_equal(t.matrix("reference", np.float64).toarray(), t.pair_delta.toarray())


def test_weighted_kernels_on_empty_input_and_zero_resamples():
    t = PairTable(np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0, dtype=np.int64))
    assert t.n_clusters == 0
    counts = np.zeros((2, 0), dtype=np.int64)
    for got in (weighted_with_ties(t, counts, "grouped"), weighted_with_ties(t, counts, "reference"),
                weighted_without_ties(t, counts), weighted_fixed(t, counts, 0.25)):
        assert got.shape == (2,) and np.isnan(got).all()
    t = PairTable(np.array([1, 0]), np.array([0.5, 0.2]), np.array([0, 1]))
    none = np.zeros((0, 2), dtype=np.int64)
    for mode in ("grouped", "reference"):
        assert weighted_with_ties(t, none, mode).shape == (0,)


def test_weighted_with_ties_defaults_to_grouped():
    # one concordant pair drawn twice: grouped keeps "no ties" (2/2), the reference walk never scores that state
    # and is best after the first copy (1/2)
    t = PairTable(np.array([1]), np.array([0.5]), np.array([0]))
    counts = np.array([[2]])
    np.testing.assert_array_equal(weighted_with_ties(t, counts), [1.0])
    np.testing.assert_array_equal(weighted_with_ties(t, counts, "reference"), [0.5])
    assert weighted_loop(lambda a, b: reference_python(a, b)[0], [1], [0.5], counts) == [0.5]


def test_weighted_reference_skips_units_before_the_first_drawn_pair():
    # sorted: a human tie (+1, its own unit ending at position 0) then two concordant pairs (-1, one merged unit);
    # drawn without the tie, the walk is 1/2 after the first concordant pair and 0/2 after the second: best 1/2;
    # drawn with it, all three are right once the tie is a predicted tie: 3/3
    h, m = np.array([0, 1, 1]), np.array([0.1, 0.2, 0.3])
    t = PairTable(h, m, np.arange(3))
    np.testing.assert_array_equal(t.unit_end, [0, 2])
    weights = np.array([[0, 1, 1], [1, 1, 1]])
    got = weighted_with_ties(t, weights, "reference")
    np.testing.assert_array_equal(got, [0.5, 1.0])
    np.testing.assert_array_equal(got, weighted_loop(lambda a, b: reference_python(a, b)[0], h.tolist(),
                                                     m.tolist(), weights))


def test_weighted_with_ties_exact_past_float32_range():
    # 2**24 + 1 copies of a human tie with a non-zero margin: calibrated, every copy is a predicted tie (1.0);
    # float32 would hold the count as 2**24 and give 2**24 / (2**24 + 1)
    t = PairTable(np.array([0]), np.array([0.5]), np.array([0]))
    counts = np.array([[2**24 + 1]])
    assert weighted_with_ties(t, counts, "grouped")[0] == 1.0
    assert weighted_with_ties(t, counts, "reference")[0] == 1.0
    # and the same kernels on small draws equal the looped oracle
    assert weighted_with_ties(t, np.array([[3]]), "grouped")[0] == brute_force_grouped([0] * 3, [0.5] * 3) == 1.0
    assert math.isnan(weighted_with_ties(t, np.array([[0]]), "grouped")[0])


def test_weighted_sweeps_refuse_a_mode_without_a_sweep():
    t = PairTable(np.array([1, -1]), np.array([-0.5, 0.3]), np.array([0, 0]))
    counts = np.ones((1, 1), dtype=np.int64)
    for mode in ("fixed", "REFERENCE", None):
        with pytest.raises(ValueError, match=rf"^the weighted sweep is 'grouped' or 'reference', got {mode!r}$"):
            weighted_with_ties(t, counts, mode)
        with pytest.raises(ValueError, match=rf"^the weighted sweep is 'grouped' or 'reference', got {mode!r}$"):
            t.matrix(mode, np.float64)
