"""Plain pure-Python oracles for the metrics tests and bench/metrics.py (slow on purpose: one pair at a time).

``reference_python`` transcribes the published VideoAlign tie-calibration walk (Deutsch et al. 2023, Algorithm 1 as
released with VideoGen-RewardBench): start with no predicted ties, sort pairs by |margin| (Python's stable sort),
move each pair in turn from its no-tie cell to its tie cell, score after every move, keep the first best.
Checked against ``calc_accuracy_with_ties`` in KwaiVGI/VideoAlign's ``calc_accuracy.py`` (commit 219ab9d): the same
initial cells at eps = -1, the same strict ``<`` when a pair leaves its cell and ``<=`` when it enters the new one,
``acc > best`` (first best wins), accuracy (C + Thm) / N. Its ``eval_videogen_rewardbench.py`` passes the columns of
``pd.read_csv(videogen-rewardbench.csv)``, so the walk sees the pairs in the file's row order.
"""

from __future__ import annotations

import math


def _cell(h: int, m: float, eps: float) -> str:
    if h == 0 and abs(m) <= eps:
        return "thm"
    if h == 0:
        return "th"
    if abs(m) <= eps:
        return "tm"
    if h * m > 0:
        return "c"
    return "d"


def reference_python(labels, margins) -> tuple[float, float]:
    """(accuracy with ties, epsilon*) exactly as the published evaluation computes them; (-inf, 0) when empty."""
    best, eps_best, _ = reference_python_cells(labels, margins)
    return best, eps_best


def reference_python_cells(labels, margins) -> tuple[float, float, dict[str, int]]:
    """``reference_python`` plus the five cells (C, D, Th, Tm, Thm) at the first best threshold."""
    h = [int(x) for x in labels]
    m = [float(x) for x in margins]
    stat = {"c": 0, "d": 0, "th": 0, "tm": 0, "thm": 0}
    for hi, mi in zip(h, m):
        stat[_cell(hi, mi, -1.0)] += 1
    best, eps_best, eps, at_best = float("-inf"), 0.0, -1.0, dict(stat)
    for hi, mi in sorted(zip(h, m), key=lambda p: abs(p[1])):
        # take the pair out of the cell it sits in under the previous threshold (strict: it is not yet a tie) ...
        if hi == 0 and abs(mi) < eps:
            stat["thm"] -= 1
        elif hi == 0:
            stat["th"] -= 1
        elif abs(mi) < eps:
            stat["tm"] -= 1
        elif hi * mi > 0:
            stat["c"] -= 1
        else:
            stat["d"] -= 1
        # ... and put it into its cell under the new threshold |m_i| (always a tie cell).
        eps = abs(mi)
        stat[_cell(hi, mi, eps)] += 1
        acc = (stat["c"] + stat["thm"]) / sum(stat.values())
        if acc > best:
            best, eps_best, at_best = acc, eps, dict(stat)
    return best, eps_best, at_best


def brute_force_grouped(labels, margins) -> float:
    """max over every threshold in {-inf} U {|m_i|} of (C + Thm) / N, each evaluated from scratch: O(N^2)."""
    h = [int(x) for x in labels]
    m = [float(x) for x in margins]
    if not h:
        return math.nan
    best = float("-inf")
    for eps in [float("-inf")] + [abs(x) for x in m]:
        correct = sum(1 for hi, mi in zip(h, m) if _cell(hi, mi, eps) in ("c", "thm"))
        best = max(best, correct / len(h))
    return best


def weighted_loop(fn, labels, margins, weights):
    """Apply ``fn`` to each resample written out as explicit copies (pair i repeated w_i times, in pair order)."""
    out = []
    for w in weights:
        idx = [i for i, k in enumerate(w) for _ in range(int(k))]
        out.append(fn([labels[i] for i in idx], [margins[i] for i in idx]) if idx else math.nan)
    return out


def grouped_python(labels, margins) -> float:
    """Grouped tie calibration in plain Python, one pair at a time, scored only where |margin| changes: O(N log N)."""
    h = [int(x) for x in labels]
    m = [float(x) for x in margins]
    if not h:
        return math.nan
    correct = sum(1 for hi, mi in zip(h, m) if hi != 0 and hi * mi > 0)
    best = correct
    walk = sorted(zip(h, m), key=lambda p: abs(p[1]))
    for k, (hi, mi) in enumerate(walk):
        correct += (1 if hi == 0 else 0) - (1 if hi * mi > 0 else 0)
        if k + 1 == len(walk) or abs(walk[k + 1][1]) != abs(mi):
            best = max(best, correct)
    return best / len(h)


def without_ties_python(labels, margins) -> float:
    """Accuracy without ties in plain Python (zero margin wrong)."""
    good = total = 0
    for hi, mi in zip(labels, margins):
        if hi != 0:
            total += 1
            good += 1 if hi * mi > 0 else 0
    return good / total if total else math.nan
