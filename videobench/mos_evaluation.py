"""Score a reward model against a MOS benchmark (rated single videos): per-video scores -> SRCC / KRCC / PLCC with
prompt-clustered bootstrap CIs -> ``EvalResult`` (its ``correlations``) plus the per-video table.

The metrics are ``videobench.metrics.mos``; this module only aligns scores with the rated videos, derives Overall
when asked for it, handles exclusions and records how the result was made. Videos are put in ``item_id`` order before
the seeded bootstrap, so results never depend on the file's row order.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from videobench.data.mos import OVERALL, MosBenchmark, mos_column
from videobench.evaluation import OVERALL_RULE, _video_table, derive_overall
from videobench.metrics import mos as mos_metrics
from videobench.provenance import collect
from videobench.results import BenchmarkInfo, CorrelationResult, Estimate, EvalResult, ModelInfo
from videobench.scores_file import ScoresFileError


def mos_benchmark_info(benchmark: MosBenchmark) -> BenchmarkInfo:
    return BenchmarkInfo(name=benchmark.name, fingerprint=benchmark.fingerprint(), n_pairs=0,
                         dimensions=list(benchmark.dimensions), source=benchmark.source, revision=benchmark.revision,
                         kind="mos", n_videos=len(benchmark))


def _estimate(value: float, ci: Any, level: float) -> Estimate:
    def clean(x: float | None) -> float | None:
        return None if x is None or not math.isfinite(x) else float(x)

    if ci is None:
        return Estimate(clean(value), level=level)
    return Estimate(clean(value), clean(ci.low), clean(ci.high), level)


def correlation_result(scores: np.ndarray, mos: np.ndarray, clusters: np.ndarray, excluded: list[str], *,
                       n_resamples: int, level: float, seed: int) -> CorrelationResult:
    """SRCC, KRCC and PLCC of one dimension; every video counts once, prompts are the bootstrap's clusters."""
    n = int(scores.size)
    if n < 2:
        none = Estimate(None, level=level)
        return CorrelationResult(n, none, none, none, None, len(excluded), excluded)
    points = {"srcc": mos_metrics.srcc(scores, mos), "krcc": mos_metrics.krcc(scores, mos),
              "plcc": mos_metrics.plcc(scores, mos)}
    cis: Mapping[str, Any] = {}
    if n_resamples > 0:
        cis = mos_metrics.mos_metrics(scores, mos, clusters, n_resamples=n_resamples, level=level, seed=seed)
    fit = mos_metrics.fit_logistic4(scores, mos)
    return CorrelationResult(
        n_videos=n, srcc=_estimate(points["srcc"], cis.get("srcc"), level),
        krcc=_estimate(points["krcc"], cis.get("krcc"), level), plcc=_estimate(points["plcc"], cis.get("plcc"), level),
        logistic_params=[float(p) for p in fit.params] if fit.converged else None,
        n_excluded=len(excluded), excluded_item_ids=excluded)


def _check_dimensions(benchmark: MosBenchmark, model_dims: Sequence[str], derived: bool, name: str) -> None:
    if derived or any(d in benchmark.dimensions for d in model_dims):
        return
    why = " (and Overall cannot be derived from fewer than two dimensions)" if OVERALL in benchmark.dimensions else ""
    raise ScoresFileError(
        f"{name}: none of its dimensions {list(model_dims)} is a dimension of MOS benchmark {benchmark.name!r} "
        f"{list(benchmark.dimensions)}{why}: rename the score columns, or map them (--dimension-map "
        "BENCH_DIM=MODEL_DIM, e.g. PC=MQ)")


def evaluate_mos_scores(
    benchmark: MosBenchmark,
    video_scores: pd.DataFrame | Mapping[str, Mapping[str, float]],
    model_info: ModelInfo,
    *,
    n_resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    command: list[str] | None = None,
    extra_provenance: Mapping[str, Any] | None = None,
    allow_missing: bool = False,
    derive_overall_score: bool = True,
    **_pairwise_only: Any,
) -> tuple[EvalResult, pd.DataFrame]:
    """Evaluate per-video scores (``video``, optional ``prompt``, one column per model dimension) against the MOS.

    When the benchmark rates ``Overall`` and the model has no Overall but two or more dimensions, Overall is derived
    by the paper's rule (sum of z-scores over the rated videos). A video without a score is an error listing the
    videos, or, with ``allow_missing`` (unreadable files skipped by the scoring engine), excluded and counted.
    Pairwise-only options (``folds``, ``tie_threshold``) are accepted and ignored. Returns the result and the
    per-video table (one row per rated video: MOS and scores)."""
    table = _video_table(video_scores)
    model_dims = [d for d in model_info.dimensions if d in table.columns]
    absent = [d for d in model_info.dimensions if d not in table.columns]
    if absent:
        raise ScoresFileError(f"video scores lack the column(s) {absent} that model {model_info.name!r} declares")
    sources = [d for d in model_dims if d != OVERALL]
    derive = (derive_overall_score and OVERALL in benchmark.dimensions and OVERALL not in model_dims
              and len(sources) >= 2)
    _check_dimensions(benchmark, model_dims, derive, model_info.spec or model_info.name)

    videos = benchmark.videos.sort_values("item_id", kind="stable").reset_index(drop=True)
    with_prompt = "prompt" in table.columns
    keys = ["video", "prompt"] if with_prompt else ["video"]
    lookup = table.drop_duplicates(subset=keys).set_index(keys)[model_dims]
    index = pd.MultiIndex.from_frame(videos[keys]) if with_prompt else pd.Index(videos["video"])
    found = index.isin(lookup.index)
    if not found.all() and not allow_missing:
        missing = list(dict.fromkeys(videos.loc[~found, "video"].astype(str)))
        raise ScoresFileError(f"no scores for {len(missing)} of {len(videos)} rated videos for model "
                              f"{model_info.name!r}: " + ", ".join(repr(x) for x in missing[:20])
                              + (" ..." if len(missing) > 20 else ""))
    per_video = videos[["item_id", "video", "prompt", *(mos_column(d) for d in benchmark.dimensions)]].copy()
    values = lookup.reindex(index).to_numpy(dtype=float)
    for j, d in enumerate(model_dims):
        per_video[f"score_{d}"] = values[:, j]
    extra: dict[str, Any] = dict(extra_provenance or {})
    if derive:
        # standardised over the rated videos, as the pairwise Overall is over the evaluated videos
        scored = pd.DataFrame({d: per_video[f"score_{d}"] for d in sources})
        per_video[f"score_{OVERALL}"] = derive_overall(scored, sources)
        extra["overall_rule"] = {"derived_from": sources, "rule": OVERALL_RULE}

    _, clusters_all = np.unique(per_video["prompt"].astype(str).to_numpy(), return_inverse=True)
    ids = per_video["item_id"].astype(str).to_numpy()
    correlations: dict[str, CorrelationResult] = {}
    for dim in benchmark.dimensions:
        column = f"score_{dim}"
        mos = per_video[mos_column(dim)].to_numpy(dtype=float)
        if column not in per_video.columns:
            none = Estimate(None, level=level)
            correlations[dim] = CorrelationResult(len(per_video), none, none, none, available=False)
            continue
        scores = per_video[column].to_numpy(dtype=float)
        valid = np.isfinite(scores)
        correlations[dim] = correlation_result(
            scores[valid], mos[valid], clusters_all[valid].astype(np.int64), sorted(ids[~valid].tolist()),
            n_resamples=n_resamples, level=level, seed=seed)

    provenance = collect(command, seeds={"bootstrap": seed})
    provenance.update({"n_resamples": n_resamples, "level": level, "benchmark_excluded": dict(benchmark.excluded),
                       "mos_scale": dict(benchmark.scale),
                       "plcc": "Pearson r of MOS and logistic4(score), b1..b4 fitted by least squares"})
    provenance.update(extra)
    result = EvalResult(model=model_info, benchmark=mos_benchmark_info(benchmark), dimensions={},
                        averages=mos_averages(correlations), provenance=provenance, correlations=correlations)
    return result, per_video


def mos_averages(correlations: Mapping[str, CorrelationResult]) -> dict[str, float | None]:
    """Mean SRCC / KRCC / PLCC over the benchmark's dimensions; None when any dimension is n/a."""
    out: dict[str, float | None] = {}
    for metric in ("srcc", "krcc", "plcc"):
        values = [getattr(c, metric).value for c in correlations.values()]
        ok = values and all(c.available for c in correlations.values()) and all(v is not None for v in values)
        out[metric] = float(np.mean(values)) if ok else None
    return out

