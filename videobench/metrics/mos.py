"""Agreement of pointwise scores with mean opinion scores (MOS): SRCC, KRCC and PLCC after a logistic fit.

The usual protocol of video quality assessment (VQEG FR-TV Phase II; used by T2VQA-DB and the VQA literature):

- SRCC: Spearman's rank correlation of scores and MOS (as ``correlation.spearman``).
- KRCC: Kendall's tau-b (``correlation.kendall``).
- PLCC: Pearson's linear correlation of MOS and f(score), where f is the 4-parameter logistic

      f(x) = (b1 - b2) / (1 + exp(-(x - b3) / |b4|)) + b2

  fitted by least squares (``scipy.optimize.curve_fit``) from the initial values b1 = max(MOS), b2 = min(MOS),
  b3 = mean(score), b4 = std(score) (1 when the scores are constant). The fit maps a model's score scale onto the
  MOS scale monotonically, so PLCC measures agreement up to that mapping. A fit that does not converge gives
  PLCC = nan (never a silent fallback to the unfitted correlation).
  Direction: the fit is free to come out decreasing (b1 < b2), and then r(MOS, f(score)) would be positive for a
  model that ranks videos backwards. A reward's claim is "higher is better", so PLCC is taken with the increasing
  map -f in that case: a model that ranks backwards gets a negative PLCC, as its SRCC and KRCC are negative.

Each comes with a percentile bootstrap CI from ``bootstrap.bootstrap_items_ci``: items (videos) or their clusters
(prompts) are resampled, and the statistic, including the logistic fit, is recomputed on every resample.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ._validate import as_values, same_length
from .bootstrap import ConfidenceInterval, bootstrap_items_ci
from .correlation import kendall

#: The MOS metrics ``mos_metrics`` reports, in order.
MOS_METRICS = ("srcc", "krcc", "plcc")


def logistic4(x: ArrayLike, b1: float, b2: float, b3: float, b4: float) -> np.ndarray:
    """f(x) = (b1 - b2) / (1 + exp(-(x - b3) / |b4|)) + b2, written with ``expit`` so large |x| cannot overflow."""
    from scipy.special import expit

    return (b1 - b2) * expit((np.asarray(x, dtype=np.float64) - b3) / abs(b4)) + b2


def logistic4_initial(scores: np.ndarray, mos: np.ndarray) -> tuple[float, float, float, float]:
    """The documented starting point of the fit: (max MOS, min MOS, mean score, std score or 1)."""
    spread = float(np.std(scores))
    return float(np.max(mos)), float(np.min(mos)), float(np.mean(scores)), spread if spread > 0 else 1.0


@dataclass(frozen=True)
class Logistic4Fit:
    """Fitted parameters (b1, b2, b3, b4) of ``logistic4``; ``converged`` is False when the fit failed."""

    params: tuple[float, float, float, float]
    converged: bool

    def __call__(self, x: ArrayLike) -> np.ndarray:
        return logistic4(x, *self.params)


def fit_logistic4(scores: ArrayLike, mos: ArrayLike, max_evaluations: int = 10_000) -> Logistic4Fit:
    """Least-squares fit of ``logistic4`` mapping ``scores`` to ``mos`` (see the module docstring)."""
    from scipy.optimize import OptimizeWarning, curve_fit

    s = as_values(scores, "scores")
    t = as_values(mos, "mos")
    same_length(scores=s, mos=t)
    p0 = logistic4_initial(s, t)
    if s.size < 4:
        return Logistic4Fit(p0, False)  # 4 parameters need at least 4 points
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            params, _ = curve_fit(logistic4, s, t, p0=p0, maxfev=max_evaluations)
        except (RuntimeError, ValueError):  # no convergence within max_evaluations
            return Logistic4Fit(p0, False)
    ok = bool(np.all(np.isfinite(params)))
    return Logistic4Fit(tuple(float(p) for p in params), ok)  # type: ignore[arg-type]


def srcc(scores: ArrayLike, mos: ArrayLike) -> float:
    """Spearman's rank correlation coefficient (SRCC): Pearson's r of the average ranks (ties share their mean rank),
    the value of ``correlation.spearman``, computed directly because the bootstrap calls it once per resample and
    ``scipy.stats.spearmanr`` costs milliseconds of overhead per call."""
    from scipy.stats import rankdata

    s = as_values(scores, "scores")
    t = as_values(mos, "mos")
    same_length(scores=s, mos=t)
    return pearson(rankdata(s), rankdata(t))


def krcc(scores: ArrayLike, mos: ArrayLike) -> float:
    """Kendall's rank correlation coefficient (KRCC, tau-b) of scores and MOS."""
    return kendall(scores, mos)


def pearson(x: ArrayLike, y: ArrayLike) -> float:
    """Pearson's r; nan for fewer than 2 items or a constant input."""
    a = as_values(x, "x")
    b = as_values(y, "y")
    same_length(x=a, y=b)
    if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan
    a, b = a - a.mean(), b - b.mean()
    return float(np.dot(a, b) / math.sqrt(np.dot(a, a) * np.dot(b, b)))


def plcc(scores: ArrayLike, mos: ArrayLike) -> float:
    """PLCC: Pearson's r of MOS and the fitted ``logistic4``(scores); nan when the fit does not converge."""
    fit = fit_logistic4(scores, mos)
    if not fit.converged:
        return math.nan
    b1, b2 = fit.params[:2]
    direction = 1.0 if b1 >= b2 else -1.0  # see the module docstring: the increasing map of the score
    return direction * pearson(fit(as_values(scores, "scores")), mos)


def mos_metrics(
    scores: ArrayLike,
    mos: ArrayLike,
    clusters: ArrayLike | None = None,
    n_resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> dict[str, ConfidenceInterval]:
    """SRCC, KRCC and PLCC of ``scores`` against ``mos``, each with a percentile bootstrap CI (``point`` is the value
    on all items). ``clusters`` (e.g. prompts) are resampled with replacement when given, items otherwise; every
    metric sees the same resamples. Resamples where a metric is undefined (nan) are left out of its interval."""
    s = as_values(scores, "scores")
    t = as_values(mos, "mos")
    same_length(scores=s, mos=t)
    functions = {"srcc": srcc, "krcc": krcc, "plcc": plcc}
    return {
        name: bootstrap_items_ci(functions[name], (s, t), clusters, n_resamples, level, seed, name=name)
        for name in MOS_METRICS
    }
