"""videobench.metrics: pairwise accuracy, tie calibration, MOS correlations, bootstrap CIs, checkpoint comparison.

Pure functions on numpy arrays (numpy and scipy only; importing this package never imports torch).
Labels are +1 (A better), -1 (B better), 0 (tie); margins are score(A) - score(B).
"""

from .baselines import random_scores
from .bootstrap import (
    STATISTICS,
    ConfidenceInterval,
    PairedDifference,
    bootstrap_ci,
    bootstrap_items_ci,
    paired_difference,
)
from .compare import BradleyTerryCI, WinRateStat, bradley_terry, bradley_terry_ci, win_rate
from .correlation import kendall, spearman
from .mos import MOS_METRICS, Logistic4Fit, fit_logistic4, krcc, logistic4, mos_metrics, plcc, srcc
from .pairwise import (
    NO_TIES_EPSILON,
    TieCalibratedAccuracy,
    accuracy_with_ties,
    accuracy_with_ties_crossfit,
    accuracy_without_ties,
    tie_counts,
)

__all__ = [
    "MOS_METRICS",
    "NO_TIES_EPSILON",
    "Logistic4Fit",
    "STATISTICS",
    "BradleyTerryCI",
    "ConfidenceInterval",
    "PairedDifference",
    "TieCalibratedAccuracy",
    "WinRateStat",
    "accuracy_with_ties",
    "accuracy_with_ties_crossfit",
    "accuracy_without_ties",
    "bootstrap_ci",
    "bootstrap_items_ci",
    "bradley_terry",
    "bradley_terry_ci",
    "fit_logistic4",
    "kendall",
    "krcc",
    "logistic4",
    "mos_metrics",
    "paired_difference",
    "plcc",
    "random_scores",
    "spearman",
    "srcc",
    "tie_counts",
    "win_rate",
]
