"""Fixed-threshold accuracy with ties (VideoScore2's protocol): hand-worked numbers, a brute-force oracle, the
bootstrap kernel against the looped bootstrap on the same resamples, and input errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from metrics_reference import _cell
from videobench.metrics import accuracy_with_ties, bootstrap_ci, paired_difference, tie_counts
from videobench.metrics.pairwise import fixed_correct

# Worked by hand at t = 0.25 (|m| <= 0.25 is a predicted tie):
#   pair  h    m      |m|<=t   cell
#   0     +1   0.50   no       concordant
#   1     +1   0.10   yes      model tie   (wrong)
#   2      0   0.20   yes      both tie    (right)
#   3     -1  -1.00   no       concordant
#   4      0   0.90   no       human tie   (wrong)
#   5     +1  -0.30   no       discordant
#   6     -1   0.25   yes      model tie   (wrong: exactly at t is a tie)
#   7      0  -0.25   yes      both tie    (right)
# C = 2, D = 1, Th = 1, Tm = 2, Thm = 2 -> accuracy = (C + Thm) / N = 4 / 8 = 0.5.
H = np.array([1, 1, 0, -1, 0, 1, -1, 0])
M = np.array([0.5, 0.1, 0.2, -1.0, 0.9, -0.3, 0.25, -0.25])


def test_hand_worked_table() -> None:
    res = accuracy_with_ties(H, M, mode="fixed", threshold=0.25)
    assert res.value == 0.5
    assert res.epsilon == 0.25 and res.mode == "fixed"
    assert res.counts == {"n": 8, "concordant": 2, "discordant": 1, "human_tie": 1, "model_tie": 2, "both_tie": 2,
                          "predicted_ties": 4}
    # threshold 0: only exact zeros would be ties (none here) -> C = 3 (pairs 0, 1, 3), no tie is right: 3 / 8
    assert accuracy_with_ties(H, M, mode="fixed", threshold=0.0).value == 3 / 8
    # threshold 1: everything is a predicted tie -> right exactly on the 3 human ties
    assert accuracy_with_ties(H, M, mode="fixed", threshold=1.0).value == 3 / 8


def _oracle(h, m, t) -> float:
    cells = [_cell(int(a), float(b), t) for a, b in zip(h, m)]
    return sum(c in ("c", "thm") for c in cells) / len(cells)


@pytest.mark.parametrize("seed", range(20))
def test_brute_force_oracle(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))
    h = rng.choice([-1, 0, 1], size=n)
    m = np.round(rng.normal(size=n), 1)  # coarse values: many margins sit exactly on the threshold
    for t in (0.0, 0.1, 0.3, 0.5, 2.0):
        res = accuracy_with_ties(h, m, mode="fixed", threshold=t)
        assert res.value == pytest.approx(_oracle(h, m, t), abs=1e-15)
        assert res.counts == tie_counts(h, m, t)


def test_fixed_never_beats_the_calibrated_optimum() -> None:
    rng = np.random.default_rng(3)
    h = rng.choice([-1, 0, 1], size=200)
    m = rng.normal(size=200) + 0.5 * h
    best = accuracy_with_ties(h, m).value
    for t in np.linspace(0, 2, 21):
        assert accuracy_with_ties(h, m, mode="fixed", threshold=t).value <= best + 1e-12
    # at the calibrated threshold itself the fixed mode gives the calibrated value
    eps = accuracy_with_ties(h, m).epsilon
    assert accuracy_with_ties(h, m, mode="fixed", threshold=max(eps, 0.0)).value == pytest.approx(best)


def test_bootstrap_kernel_equals_looped_bootstrap_on_the_same_resamples() -> None:
    rng = np.random.default_rng(7)
    h = rng.choice([-1, 0, 1], size=80)
    m = np.round(rng.normal(size=80) + 0.4 * h, 2)
    clusters = rng.integers(0, 15, size=80)
    fast = bootstrap_ci("accuracy_with_ties_fixed", h, m, clusters, n_resamples=300, seed=4, threshold=0.3)
    looped = bootstrap_ci(lambda a, b: accuracy_with_ties(a, b, mode="fixed", threshold=0.3).value, h, m, clusters,
                          n_resamples=300, seed=4)
    assert fast.point == _oracle(h, m, 0.3)
    assert (fast.low, fast.high) == pytest.approx((looped.low, looped.high), abs=1e-12)
    assert fast.low <= fast.point <= fast.high


def test_paired_difference_with_a_threshold() -> None:
    same = paired_difference(H, M, M, "accuracy_with_ties_fixed", n_resamples=50, threshold=0.25)
    assert same.difference == 0 and same.p_value == 1.0
    flipped = paired_difference(H, M, -M, "accuracy_with_ties_fixed", n_resamples=50, threshold=0.25)
    # -M: concordant <-> discordant swap (2 <-> 1), ties unchanged: 3/8 - ... -> 0.5 - (1 + 2) / 8
    assert flipped.difference == pytest.approx(0.5 - 3 / 8)


def test_bad_thresholds() -> None:
    with pytest.raises(ValueError, match="^threshold is required with mode='fixed' and only allowed with it$"):
        accuracy_with_ties(H, M, mode="fixed")
    with pytest.raises(ValueError, match="only allowed"):
        accuracy_with_ties(H, M, threshold=0.2)
    for bad in (-0.1, math.inf, math.nan):
        with pytest.raises(ValueError, match="finite number >= 0"):
            accuracy_with_ties(H, M, mode="fixed", threshold=bad)
    with pytest.raises(ValueError, match="threshold is required"):
        bootstrap_ci("accuracy_with_ties_fixed", H, M, n_resamples=10)
    with pytest.raises(ValueError, match="mode must be one of"):
        accuracy_with_ties(H, M, mode="fixd")  # type: ignore[arg-type]


def test_empty_input_is_nan() -> None:
    assert math.isnan(accuracy_with_ties([], [], mode="fixed", threshold=0.25).value)


def test_fixed_correct_by_hand_and_without_warnings() -> None:
    # t = 0.25: |m| <= t is a predicted tie, right only for h == 0; otherwise right when sign(m) == h.
    # Exact-zero margins (identical scores) are common and must not raise numpy's divide/invalid warnings.
    h = np.array([0, 1, 1, -1, 0, -1])
    m = np.array([0.0, 0.0, 0.5, 0.5, -0.3, -0.26])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fixed_correct(h, m, 0.25).tolist() == [True, False, True, False, False, True]
