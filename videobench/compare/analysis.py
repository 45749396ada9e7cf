"""From per-render scores to paired win rates, a weighted Overall and a Bradley-Terry ranking.

- Score columns: a reward's dimension names when one reward is used, ``<reward>.<dim>`` with several; a reward's own
  ``Overall`` is always ``<reward>.Overall`` so that ``Overall`` means the weighted combination below.
- Weighted Overall: every score column is standardised over all renders of all checkpoints (z = (x - mean) / std),
  so dimensions on different scales weigh what the user says; Overall = sum(w * z) / sum(|w|). Default weights: 1
  for every score column except a reward's own Overall (the paper's VQ:MQ:TA = 1:1:1).
- Win rate of a checkpoint against the baseline on one dimension: over paired (prompt, seed) items, a win when its
  score is higher by more than ``tie_tolerance``, a tie within it; ties count half. 95% CI by bootstrap over prompts;
  p-value of the two-sided sign test on non-tied items. (``videobench.metrics.win_rate``.)
- Bradley-Terry: every pair of checkpoints on every (prompt, seed) item is one comparison (ties are half a win each);
  strengths are log-odds with the baseline at 0, CIs by bootstrap over prompts (``videobench.metrics``).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from videobench.metrics import bradley_terry_ci, win_rate
from videobench.results import Estimate, RankEntry, WinRate
from videobench.rewards.base import RewardModel

OVERALL = "Overall"
KEY = ["prompt_id", "seed"]


def score_columns(models: Sequence[RewardModel]) -> dict[tuple[str, str], str]:
    """(reward name, dimension) -> column name."""
    cols = {}
    for m in models:
        for dim in m.dimensions:
            cols[(m.name, dim)] = dim if len(models) == 1 and dim != OVERALL else f"{m.name}.{dim}"
    return cols


def parse_weights(text: str | None) -> dict[str, float] | None:
    """``"VQ=1,MQ=1,TA=1"`` -> dict; None or empty -> None (defaults)."""
    if not text:
        return None
    out: dict[str, float] = {}
    for item in text.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep or not key:
            raise ValueError(f"--weights item {item!r} is not DIM=NUMBER")
        try:
            out[key.strip()] = float(value)
        except ValueError:
            raise ValueError(f"--weights {key}={value!r}: not a number") from None
    return out


def resolve_weights(weights: dict[str, float] | None, columns: Sequence[str]) -> dict[str, float]:
    """Weights per score column. A key names a column, or a bare dimension that matches every ``*.DIM`` column."""
    if weights is None:
        resolved = {c: 1.0 for c in columns if c.split(".")[-1] != OVERALL}
        return resolved or {c: 1.0 for c in columns}
    resolved = {}
    for key, w in weights.items():
        if not np.isfinite(w):
            raise ValueError(f"--weights {key}: weight must be finite")
        matches = [c for c in columns if c == key or c.endswith(f".{key}")]
        if not matches:
            raise ValueError(f"--weights {key}: no such score dimension (have: {', '.join(columns)})")
        for c in matches:
            resolved[c] = float(w)
    if not any(resolved.values()):
        raise ValueError("--weights: at least one weight must be non-zero")
    return resolved


def add_overall(table: pd.DataFrame, weights: dict[str, float]) -> pd.DataFrame:
    """Append ``z:<col>`` standardised columns and the weighted ``Overall`` (see the module docstring)."""
    table = table.copy()
    total = np.zeros(len(table))
    for col, w in weights.items():
        x = table[col].to_numpy(dtype=float)
        std = np.nanstd(x)
        z = (x - np.nanmean(x)) / std if std > 0 else np.zeros_like(x)
        table[f"z:{col}"] = z
        total = total + w * z
    table[OVERALL] = total / sum(abs(w) for w in weights.values())
    return table


def _paired(table: pd.DataFrame, dim: str, a: str, b: str) -> pd.DataFrame:
    left = table.loc[table["generator"] == a, KEY + [dim]]
    right = table.loc[table["generator"] == b, KEY + [dim]]
    both = left.merge(right, on=KEY, suffixes=("_a", "_b"))
    return both.dropna(subset=[f"{dim}_a", f"{dim}_b"])


def win_rates(table: pd.DataFrame, generators: Sequence[str], baseline: str, dims: Sequence[str],
              n_resamples: int = 1000, level: float = 0.95, seed: int = 0,
              tie_tolerance: float = 0.0) -> list[WinRate]:
    out = []
    for name in generators:
        if name == baseline:
            continue
        for dim in dims:
            pairs = _paired(table, dim, name, baseline)
            if pairs.empty:
                out.append(WinRate(name, baseline, dim, Estimate(None, level=level), 0, 0, 0, None))
                continue
            stat = win_rate(pairs[f"{dim}_a"].to_numpy(float), pairs[f"{dim}_b"].to_numpy(float),
                            clusters=pairs["prompt_id"].to_numpy(), n_resamples=n_resamples, level=level,
                            seed=seed, tie_tolerance=tie_tolerance)
            out.append(WinRate(name, baseline, dim, Estimate(stat.value, stat.ci_low, stat.ci_high, level),
                               stat.wins, stat.losses, stat.ties, stat.p_value))
    return out


def comparisons(table: pd.DataFrame, generators: Sequence[str], dim: str,
                tie_tolerance: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """All pairwise outcomes (i, j, outcome) on shared items, and their prompt ids (the bootstrap clusters)."""
    wide = table.pivot_table(index=KEY, columns="generator", values=dim, aggfunc="first")
    rows, clusters = [], []
    for a in range(len(generators)):
        for b in range(a + 1, len(generators)):
            ga, gb = generators[a], generators[b]
            if ga not in wide or gb not in wide:
                continue
            pair = wide[[ga, gb]].dropna()
            d = pair[ga].to_numpy() - pair[gb].to_numpy()
            outcome = np.where(d > tie_tolerance, 1.0, np.where(d < -tie_tolerance, 0.0, 0.5))
            rows.append(np.column_stack([np.full(len(d), a), np.full(len(d), b), outcome]))
            clusters.extend(pair.index.get_level_values("prompt_id"))
    if not rows:
        return np.zeros((0, 3)), np.array([], dtype=object)
    return np.concatenate(rows), np.asarray(clusters, dtype=object)


def ranking(table: pd.DataFrame, generators: Sequence[str], baseline: str, dims: Sequence[str],
            n_resamples: int = 1000, level: float = 0.95, seed: int = 0,
            tie_tolerance: float = 0.0) -> dict[str, list[RankEntry]]:
    out: dict[str, list[RankEntry]] = {}
    ref = list(generators).index(baseline)
    for dim in dims:
        comp, clusters = comparisons(table, generators, dim, tie_tolerance)
        if len(comp) == 0:
            continue
        fit = bradley_terry_ci(comp, clusters=clusters, n_items=len(generators), n_resamples=n_resamples,
                               level=level, seed=seed, reference=ref)
        order = np.argsort(-fit.strengths, kind="stable")
        out[dim] = [RankEntry(generators[k], r + 1, Estimate(float(fit.strengths[k]), float(fit.ci_low[k]),
                                                              float(fit.ci_high[k]), level))
                    for r, k in enumerate(order)]
    return out


def per_prompt(table: pd.DataFrame, generators: Sequence[str], baseline: str, dims: Sequence[str]) -> pd.DataFrame:
    """One row per prompt: mean score per checkpoint and dimension (over seeds), and the difference to the baseline."""
    means = table.groupby(["prompt_id", "generator"], sort=False)[list(dims)].mean().unstack("generator")
    out = pd.DataFrame(index=means.index)
    for dim in dims:
        for g in generators:
            out[f"{dim}:{g}"] = means[(dim, g)]
            if g != baseline:
                out[f"{dim}:{g}-{baseline}"] = means[(dim, g)] - means[(dim, baseline)]
    prompts = table.drop_duplicates("prompt_id").set_index("prompt_id")["prompt"]
    out.insert(0, "prompt", prompts.reindex(out.index))
    return out.reset_index()
