"""Synthetic but well-formed results, for demos, tests and the benchmark (never published as real numbers)."""

from __future__ import annotations

import numpy as np

from videobench.labels import PAPER_DIMENSIONS
from videobench.results import (
    BenchmarkInfo, CheckpointInfo, CompareResult, CorrelationResult, DimensionResult, Estimate, EvalResult, ModelInfo,
    RankEntry, WinRate,
)

TIE_RATES = {"VQ": 0.25, "MQ": 0.5, "TA": 0.3, "Overall": 0.15}


def eval_result(model: str, benchmark: str = "videogen-rewardbench", skill: float = 0.7, seed: int = 0,
                n_pairs: int = 1000, revision: str | None = "0" * 40, spec: str | None = None,
                dimensions: tuple[str, ...] = PAPER_DIMENSIONS, per_pair_file: str | None = None) -> EvalResult:
    rng = np.random.default_rng(seed)
    half = 1.96 * 0.5 / np.sqrt(n_pairs)
    dims = {}
    for dim in dimensions:
        h = TIE_RATES.get(dim, 0.2)
        wo = float(np.clip(skill + rng.normal(0, 0.03), 0.3, 0.99))
        w = float(np.clip(wo * (1 - h) + h * 0.4 + rng.normal(0, 0.01), 0.2, 0.99))
        dims[dim] = DimensionResult(
            n_pairs=n_pairs, n_ties=int(h * n_pairs), human_tie_rate=h,
            accuracy_without_ties=Estimate(wo, wo - half, wo + half),
            accuracy_with_ties=Estimate(w, w - half, w + half), epsilon=0.1,
        )
    wo_avg = float(np.mean([d.accuracy_without_ties.value for d in dims.values()]))
    w_avg = float(np.mean([d.accuracy_with_ties.value for d in dims.values()]))
    return EvalResult(
        model=ModelInfo(name=model, spec=spec or f"videoreward:{model}", fingerprint=f"sha256:{seed:032x}",
                        dimensions=list(dimensions), sampling={"fps": 2.0, "max_pixels": 200704}, revision=revision),
        benchmark=BenchmarkInfo(name=benchmark, fingerprint="sha256:" + "b" * 32, n_pairs=n_pairs,
                                dimensions=list(dimensions)),
        dimensions=dims,
        averages={"without_ties": wo_avg, "with_ties": w_avg, "mean": (wo_avg + w_avg) / 2},
        provenance={"command": ["synthetic"], "seeds": {"bootstrap": seed}},
        per_pair_file=per_pair_file,
    )


def mos_result(model: str, benchmark: str = "t2vqa", correlations: dict[str, float | None] | None = None,
               half: float = 0.1, n_videos: int = 100, name: str | None = None) -> EvalResult:
    """A MOS benchmark's result: per dimension, SRCC = the given value, KRCC = 0.8 x it, PLCC = 0.9 x it (None: the
    model does not score that dimension), each with a CI of +/- ``half`` clipped to [-1, 1]."""
    correlations = {"Overall": 0.5} if correlations is None else correlations

    def est(v: float) -> Estimate:
        return Estimate(v, max(-1.0, v - half), min(1.0, v + half))

    corr = {}
    for dim, v in correlations.items():
        if v is None:
            none = Estimate(None)
            corr[dim] = CorrelationResult(n_videos, none, none, none, available=False)
        else:
            corr[dim] = CorrelationResult(n_videos, est(v), est(0.8 * v), est(0.9 * v))
    return EvalResult(
        model=ModelInfo(name=name or model, spec=f"videoreward:{model}", fingerprint="sha256:" + "c" * 32,
                        dimensions=list(correlations)),
        benchmark=BenchmarkInfo(name=benchmark, fingerprint="sha256:" + "d" * 32, n_pairs=0,
                                dimensions=list(correlations), kind="mos", n_videos=n_videos),
        dimensions={}, averages={}, correlations=corr, provenance={"command": ["synthetic"]},
    )


def compare_result(checkpoints: list[str], baseline: str | None = None, seed: int = 0,
                   dimensions: tuple[str, ...] = ("VQ", "MQ", "TA", "Overall")) -> CompareResult:
    rng = np.random.default_rng(seed)
    baseline = baseline or checkpoints[0]
    win_rates, ranking = [], {}
    for dim in dimensions:
        strengths = {c: (0.0 if c == baseline else float(rng.normal(0.3, 0.2))) for c in checkpoints}
        order = sorted(checkpoints, key=lambda c: -strengths[c])
        ranking[dim] = [RankEntry(c, i + 1, Estimate(strengths[c], strengths[c] - 0.1, strengths[c] + 0.1))
                        for i, c in enumerate(order)]
        for c in checkpoints:
            if c == baseline:
                continue
            p = float(1 / (1 + np.exp(-strengths[c])))
            win_rates.append(WinRate(c, baseline, dim, Estimate(p, p - 0.05, p + 0.05), int(p * 100), int((1 - p) * 100), 5, 0.01))
    return CompareResult(
        checkpoints=[CheckpointInfo(c, f"wan:{c}", f"sha256:{i:032x}") for i, c in enumerate(checkpoints)],
        baseline=baseline, prompts={"suite": "videogen-eval", "n": 100}, seeds=[0, 1], rewards=[], weights={},
        win_rates=win_rates, ranking=ranking, provenance={"command": ["synthetic"]},
    )
