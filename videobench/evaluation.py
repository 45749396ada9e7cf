"""Score a reward model against a pairwise benchmark: margins -> metrics -> ``EvalResult`` (+ per-pair table).

All metrics come from ``videobench.metrics``; this module only aligns scores with pairs, handles exclusions and
missing dimensions, and records how the result was made.

Results never depend on the order of the pairs, with one deliberate exception: pairs are put in ``pair_id`` order
before any seeded step (bootstrap resamples, cross-fitting folds), and prompt clusters are numbered in sorted order;
only the point value of ``reference``-mode tie calibration walks the pairs in the benchmark file's row order, as the
published VideoAlign script walks its CSV (that mode is order dependent by construction).
"""

from __future__ import annotations

import hashlib
import io
import math
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from videobench import metrics
from videobench.data.benchmark import PairBenchmark, label_column
from videobench.provenance import collect
from videobench.results import BenchmarkInfo, DimensionResult, Estimate, EvalResult, ModelInfo, save_result_set
from videobench.scores_file import ScoresFileError, benchmark_items, clashing_repeats

OVERALL = "Overall"
#: How a multi-dimension model's Overall is made when it has none (the paper's rule), as recorded in results.
OVERALL_RULE = "sum of the model's per-dimension scores, each standardised (z-score) over the evaluated videos"


def _none_if_nan(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _unavailable(n_pairs: int, n_ties: int) -> DimensionResult:
    return DimensionResult(
        n_pairs=n_pairs,
        n_ties=n_ties,
        human_tie_rate=n_ties / n_pairs if n_pairs else math.nan,
        accuracy_without_ties=Estimate(None),
        accuracy_with_ties=Estimate(None),
        epsilon=None,
        accuracy_with_ties_reference=None,
        epsilon_reference=None,
        accuracy_with_ties_crossfit=None,
        available=False,
    )


def _estimate(statistic: str, value: float, h: np.ndarray, m: np.ndarray, codes: np.ndarray,
              n_resamples: int, level: float, seed: int, threshold: float | None = None) -> Estimate:
    value_or_none = _none_if_nan(value)
    if value_or_none is None or n_resamples <= 0:
        return Estimate(value_or_none, level=level)
    ci = metrics.bootstrap_ci(statistic, h, m, clusters=codes, n_resamples=n_resamples, level=level, seed=seed,
                              threshold=threshold)
    return Estimate(value_or_none, _none_if_nan(ci.low), _none_if_nan(ci.high), level)


def _dimension(h: np.ndarray, m: np.ndarray, codes: np.ndarray, excluded: list[str],
               in_file_order: tuple[np.ndarray, np.ndarray], *, n_resamples: int, level: float, seed: int,
               folds: int, tie_threshold: float | None = None) -> DimensionResult:
    """Metrics of one dimension; ``h, m, codes`` in ``pair_id`` order, ``in_file_order`` = the same (h, m) in the
    file's row order for the reference-mode point value."""
    n = int(h.size)
    n_ties = int(np.count_nonzero(h == 0))
    if n == 0:  # every pair excluded: available, but nothing to measure
        res = _unavailable(0, 0)
        res.available, res.n_excluded, res.excluded_pair_ids = True, len(excluded), excluded
        return res
    stats: dict[str, Any] = {"n_resamples": n_resamples, "level": level, "seed": seed}
    without = _estimate("accuracy_without_ties", metrics.accuracy_without_ties(h, m), h, m, codes, **stats)
    grouped = metrics.accuracy_with_ties(h, m, mode="grouped")
    reference = metrics.accuracy_with_ties(*in_file_order, mode="reference")
    fixed = None
    if tie_threshold is not None:
        value = metrics.accuracy_with_ties(h, m, mode="fixed", threshold=tie_threshold).value
        fixed = _estimate("accuracy_with_ties_fixed", value, h, m, codes, threshold=tie_threshold, **stats)
    try:
        crossfit = _none_if_nan(metrics.accuracy_with_ties_crossfit(h, m, codes, folds=folds, seed=seed))
    except ValueError:  # fewer prompts than folds: no honest split exists
        crossfit = None
    return DimensionResult(
        n_pairs=n,
        n_ties=n_ties,
        human_tie_rate=n_ties / n,
        accuracy_without_ties=without,
        accuracy_with_ties=_estimate("accuracy_with_ties", grouped.value, h, m, codes, **stats),
        epsilon=_none_if_nan(grouped.epsilon) if math.isfinite(grouped.epsilon) else None,
        accuracy_with_ties_reference=_estimate("accuracy_with_ties_reference", reference.value, h, m, codes, **stats),
        epsilon_reference=float(reference.epsilon) if math.isfinite(reference.epsilon) else None,
        accuracy_with_ties_crossfit=Estimate(crossfit, level=level),
        accuracy_with_ties_fixed=fixed,
        tie_threshold=tie_threshold,
        n_excluded=len(excluded),
        excluded_pair_ids=excluded,
        available=True,
    )


def leaderboard_averages(dimensions: Mapping[str, DimensionResult]) -> dict[str, float | None]:
    """The VideoGen-RewardBench averages over the benchmark's dimensions; None when any dimension is n/a, since an
    average over fewer dimensions would not be comparable."""
    def mean(attr: str) -> float | None:
        values = []
        for d in dimensions.values():
            est = getattr(d, attr)
            if not d.available or est is None or est.value is None:
                return None
            values.append(est.value)
        return float(np.mean(values)) if values else None

    without, with_ties, reference = mean("accuracy_without_ties"), mean("accuracy_with_ties"), mean(
        "accuracy_with_ties_reference")
    both = None if without is None or with_ties is None else (without + with_ties) / 2
    both_ref = None if without is None or reference is None else (without + reference) / 2
    averages = {"without_ties": without, "with_ties": with_ties, "overall": both,
                "with_ties_reference": reference, "overall_reference": both_ref}
    if any(d.tie_threshold is not None for d in dimensions.values()):  # only when asked for: old keys unchanged
        fixed = mean("accuracy_with_ties_fixed")
        averages["with_ties_fixed"] = fixed
        averages["overall_fixed"] = None if without is None or fixed is None else (without + fixed) / 2
    return averages


def benchmark_info(benchmark: PairBenchmark) -> BenchmarkInfo:
    return BenchmarkInfo(
        name=benchmark.name,
        fingerprint=benchmark.fingerprint(),
        n_pairs=len(benchmark),
        dimensions=list(benchmark.dimensions),
        source=benchmark.source,
        revision=benchmark.revision,
    )


def evaluate_margins(
    benchmark: PairBenchmark,
    margins: Mapping[str, Sequence[float] | np.ndarray],
    model_info: ModelInfo,
    *,
    n_resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    folds: int = 5,
    tie_threshold: float | None = None,
    command: list[str] | None = None,
    extra_provenance: Mapping[str, Any] | None = None,
) -> tuple[EvalResult, pd.DataFrame]:
    """Metrics per benchmark dimension from margins = score(A) - score(B), aligned with ``benchmark.pairs``.

    A dimension missing from ``margins`` is reported unavailable (never a made-up 50%). Pairs whose margin is NaN
    (a video the model could not score) are excluded and counted per dimension. Returns the result and a per-pair
    table (benchmark order) with labels, margins and predictions.

    ``tie_threshold``: also report accuracy with ties at this hand-set threshold (|margin| <= it is a predicted tie),
    beside the calibrated and cross-fitted numbers.
    """
    if tie_threshold is not None:
        tie_threshold = metrics.pairwise.check_threshold(tie_threshold)
    pairs = benchmark.pairs
    n = len(pairs)
    ids = pairs["pair_id"].astype(str).to_numpy()
    order = np.argsort(ids, kind="stable")
    file_order = benchmark.file_order()
    unknown = [d for d in margins if d not in benchmark.dimensions]
    if unknown:
        raise ValueError(f"margins for dimension(s) {unknown} that the benchmark lacks ({list(benchmark.dimensions)})")

    per_pair = pd.DataFrame({"pair_id": pairs["pair_id"], "prompt": pairs["prompt"],
                             "video_A": pairs["video_A"], "video_B": pairs["video_B"]})
    dims: dict[str, DimensionResult] = {}
    for dim in benchmark.dimensions:
        labels = benchmark.labels(dim)
        per_pair[label_column(dim)] = labels
        if dim not in margins:
            dims[dim] = _unavailable(n, int(np.count_nonzero(labels == 0)))
            continue
        m = np.asarray(margins[dim], dtype=float)
        if m.shape != (n,):
            raise ValueError(f"margins[{dim!r}] has shape {m.shape}; the benchmark has {n} pairs")
        valid = np.isfinite(m)
        excluded = sorted(ids[~valid].tolist())
        keep = order[valid[order]]
        _, codes = np.unique(pairs["prompt"].astype(str).to_numpy()[keep], return_inverse=True)
        keep_file = file_order[valid[file_order]]
        dims[dim] = _dimension(labels[keep], m[keep], codes.astype(np.int64), excluded,
                               (labels[keep_file], m[keep_file]), n_resamples=n_resamples, level=level, seed=seed,
                               folds=folds, tie_threshold=tie_threshold)
        eps = dims[dim].epsilon
        sign = np.sign(np.where(valid, m, 0.0)).astype(np.int8)
        tie_pred = np.where(np.abs(m) <= eps, 0, sign).astype(np.int8) if eps is not None else sign
        per_pair[f"margin_{dim}"] = m
        # Predictions: +1 / -1 / 0 (0 = predicted tie); <NA> where the pair was excluded.
        per_pair[f"prediction_{dim}"] = pd.Series(sign, dtype="Int8").where(valid)
        per_pair[f"prediction_ties_{dim}"] = pd.Series(tie_pred, dtype="Int8").where(valid)
        if tie_threshold is not None:
            fixed_pred = np.where(np.abs(m) <= tie_threshold, 0, sign).astype(np.int8)
            per_pair[f"prediction_fixed_{dim}"] = pd.Series(fixed_pred, dtype="Int8").where(valid)

    provenance = collect(command, seeds={"bootstrap": seed, "crossfit": seed})
    provenance.update({"n_resamples": n_resamples, "level": level, "folds": folds,
                       "benchmark_excluded": dict(benchmark.excluded)})
    if tie_threshold is not None:
        provenance["tie_threshold"] = tie_threshold
    provenance.update(extra_provenance or {})
    result = EvalResult(
        model=model_info,
        benchmark=benchmark_info(benchmark),
        dimensions=dims,
        averages=leaderboard_averages(dims),
        provenance=provenance,
    )
    return result, per_pair


def _video_table(video_scores: pd.DataFrame | Mapping[str, Mapping[str, float]]) -> pd.DataFrame:
    """Accept a DataFrame (``video``, optional ``prompt``, one column per dimension) or ``{dim: {video: score}}``."""
    if isinstance(video_scores, pd.DataFrame):
        if "video" not in video_scores.columns:
            raise ScoresFileError(f"video scores need a 'video' column; got {list(video_scores.columns)}")
        return video_scores.reset_index(drop=True)
    frame = pd.DataFrame({dim: pd.Series(dict(values), dtype=float) for dim, values in video_scores.items()})
    return frame.rename_axis("video").reset_index()


def _check_repeats(table: pd.DataFrame, key_cols: list[str], dims: list[str]) -> None:
    """A (video[, prompt]) key may repeat only with the same scores (read_scores holds files to the same rule)."""
    clashes = [label for label, _ in clashing_repeats(table, key_cols, dims)]
    if clashes:
        raise ScoresFileError(f"video scores give {len(clashes)} key(s) different scores more than once: "
                              + ", ".join(repr(c) for c in clashes[:20]) + (" ..." if len(clashes) > 20 else ""))


def derive_overall(scores: pd.DataFrame, dimensions: Sequence[str]) -> np.ndarray:
    """The paper's Overall for a model without one: sum over ``dimensions`` of z-scores over the rows given."""
    total = np.zeros(len(scores))
    for d in dimensions:
        x = scores[d].to_numpy(dtype=float)
        if not np.isfinite(x).any():  # no score at all (a judge whose answers never parsed): nothing to standardise
            return np.full(len(scores), np.nan)
        std = np.nanstd(x)
        total += (x - np.nanmean(x)) / (std if std > 0 else 1.0)  # a constant dimension adds nothing
    return total


def _overall_sources(benchmark: PairBenchmark, model_dims: Sequence[str]) -> list[str]:
    if OVERALL not in benchmark.dimensions or OVERALL in model_dims:
        return []
    sources = [d for d in model_dims if d in benchmark.dimensions and d != OVERALL]
    return sources if len(sources) >= 2 else []


def check_dimensions(benchmark: PairBenchmark, model_dims: Sequence[str], model_name: str) -> None:
    """A model must score at least one of the benchmark's dimensions, under its exact name; otherwise every cell would
    be n/a and the run would look like a result. Names that differ only in case are refused with the fix (they are
    not matched silently: ``vq`` may be a different quantity, and a result must say what it measured)."""
    bench_dims = list(benchmark.dimensions)
    by_lower = {d.lower(): d for d in bench_dims}
    near = {d: by_lower[d.lower()] for d in model_dims if d not in bench_dims and d.lower() in by_lower}
    if near:
        raise ScoresFileError(
            f"{model_name}: column(s) {list(near)} differ from the benchmark's dimension(s) {list(near.values())} only "
            "in case; dimension names are case-sensitive: rename them")
    if not any(d in bench_dims for d in model_dims):
        raise ScoresFileError(
            f"{model_name}: none of its dimensions {list(model_dims)} is a dimension of benchmark {benchmark.name!r} "
            f"{bench_dims}: rename the score columns to the benchmark's names")


def evaluate_video_scores(
    benchmark: PairBenchmark,
    video_scores: pd.DataFrame | Mapping[str, Mapping[str, float]],
    model_info: ModelInfo,
    *,
    derive_overall_score: bool = True,
    allow_missing: bool = False,
    **options: Any,
) -> tuple[EvalResult, pd.DataFrame, pd.DataFrame]:
    """Evaluate per-video scores: look each pair's videos up (by ``video``, and ``prompt`` when the table has it),
    derive Overall by the paper's rule when the model has several dimensions but no Overall, then
    ``evaluate_margins``. Returns the result, the per-pair table and the per-video table (the items used).

    NaN scores exclude their pairs (counted); a video the table lacks is an error listing the missing videos, or,
    with ``allow_missing`` (the scoring engine skipping unreadable files), a NaN that excludes its pairs.
    """
    check_dimensions(benchmark, model_info.dimensions, model_info.spec or model_info.name)
    table = _video_table(video_scores)
    with_prompt = "prompt" in table.columns
    model_dims = [d for d in model_info.dimensions if d in table.columns]
    absent = [d for d in model_info.dimensions if d not in table.columns]
    if absent:
        raise ScoresFileError(f"video scores lack the column(s) {absent} that model {model_info.name!r} declares")
    items = benchmark_items(benchmark)
    key_cols = ["video", "prompt"] if with_prompt else ["video"]
    _check_repeats(table, key_cols, model_dims)
    lookup = table.drop_duplicates(subset=key_cols).set_index(key_cols)[model_dims]
    item_keys = pd.MultiIndex.from_frame(items[key_cols]) if with_prompt else pd.Index(items["video"])
    found = item_keys.isin(lookup.index)
    if not found.all() and not allow_missing:
        missing = list(dict.fromkeys(" / ".join(k) if isinstance(k, tuple) else str(k) for k in item_keys[~found]))
        raise ScoresFileError(
            f"no scores for {len(missing)} of {len(items)} benchmark videos for model {model_info.name!r}: "
            + ", ".join(repr(x) for x in missing[:20]) + (" ..." if len(missing) > 20 else "")
        )
    per_video = items.copy()
    values = lookup.reindex(item_keys).to_numpy(dtype=float)
    for j, d in enumerate(model_dims):
        per_video[d] = values[:, j]

    extra: dict[str, Any] = dict(options.pop("extra_provenance", None) or {})
    sources = _overall_sources(benchmark, model_dims) if derive_overall_score else []
    if sources:
        # Standardise over the videos this benchmark evaluates, not over whatever else the file holds.
        per_video[OVERALL] = derive_overall(per_video, sources)
        extra["overall_rule"] = {"derived_from": sources, "rule": OVERALL_RULE}
    eval_dims = [d for d in benchmark.dimensions if d in per_video.columns and d not in ("video", "prompt")]

    pairs = benchmark.pairs
    video_index = per_video.set_index(["video", "prompt"])
    margins = {}
    for d in eval_dims:
        a = video_index[d].reindex(pd.MultiIndex.from_arrays([pairs["video_A"], pairs["prompt"]])).to_numpy(float)
        b = video_index[d].reindex(pd.MultiIndex.from_arrays([pairs["video_B"], pairs["prompt"]])).to_numpy(float)
        margins[d] = a - b
    result, per_pair = evaluate_margins(benchmark, margins, model_info, extra_provenance=extra, **options)
    return result, per_pair, per_video


def evaluate_pair_scores(
    benchmark: PairBenchmark,
    pair_scores: Mapping[str, tuple[np.ndarray, np.ndarray]],
    model_info: ModelInfo,
    *,
    derive_overall_score: bool = True,
    **options: Any,
) -> tuple[EvalResult, pd.DataFrame]:
    """Evaluate ``{dim: (score_A, score_B)}`` aligned with the benchmark's rows (per-pair score files).

    A derived Overall standardises each dimension over all 2N scores (the evaluated set of this layout).
    """
    check_dimensions(benchmark, list(pair_scores), model_info.spec or model_info.name)
    scores = {d: v for d, v in pair_scores.items() if d in benchmark.dimensions}
    extra: dict[str, Any] = dict(options.pop("extra_provenance", None) or {})
    sources = _overall_sources(benchmark, list(scores)) if derive_overall_score else []
    if sources:
        n = len(benchmark)
        stacked = pd.DataFrame({d: np.concatenate(scores[d]) for d in sources})
        overall = derive_overall(stacked, sources)
        scores[OVERALL] = (overall[:n], overall[n:])
        extra["overall_rule"] = {"derived_from": sources, "rule": OVERALL_RULE.replace("videos", "pair scores")}
    margins = {d: np.asarray(a, float) - np.asarray(b, float) for d, (a, b) in scores.items()}
    result, per_pair = evaluate_margins(benchmark, margins, model_info, extra_provenance=extra, **options)
    for d, (a, b) in scores.items():
        per_pair[f"score_A_{d}"] = np.asarray(a, float)
        per_pair[f"score_B_{d}"] = np.asarray(b, float)
    return result, per_pair


def _share(mask: np.ndarray) -> float | None:
    return float(mask.mean()) if mask.size else None


def evaluate_verdicts(
    benchmark: PairBenchmark,
    verdicts: Mapping[str, Mapping[str, np.ndarray]],
    model_info: ModelInfo,
    *,
    unparseable: str = "exclude",
    unreadable: np.ndarray | None = None,
    judge: Mapping[str, Any] | None = None,
    **options: Any,
) -> tuple[EvalResult, pd.DataFrame]:
    """Evaluate a pairwise judge: ``{order: {dim: verdict per pair}}`` with verdicts relative to the FIRST-shown
    video (+1 first better, -1 second, 0 tie, NaN unparseable); order ``AB`` shows the benchmark's A first, ``BA``
    shows B first. The margin of a pair is the mean of its verdicts for A over the orders asked (both orders agree:
    ±1; one says tie: ±0.5; they disagree: 0, a tie), then the metrics of ``evaluate_margins`` as for any model.

    ``unparseable``: ``exclude`` (an unparseable verdict is left out; a pair with none left is excluded, counted
    per dimension) or ``tie`` (it counts as a tie). ``unreadable``: pairs whose videos could not be read (excluded,
    not counted as unparseable). Counts, and with two orders the position bias, go into ``provenance["judge"]``.
    """
    if unparseable not in ("exclude", "tie"):
        raise ValueError(f"unparseable={unparseable!r}: choose exclude or tie")
    if not verdicts or any(order not in ("AB", "BA") for order in verdicts):
        raise ValueError(f"verdicts are keyed by order AB / BA, got {list(verdicts)}")
    dims = list(dict.fromkeys(d for table in verdicts.values() for d in table))
    check_dimensions(benchmark, dims, model_info.spec or model_info.name)
    n = len(benchmark)
    skip = np.zeros(n, bool) if unreadable is None else np.asarray(unreadable, bool)
    margins: dict[str, np.ndarray] = {}
    answers: dict[str, Any] = {}
    columns: dict[str, np.ndarray] = {}
    for dim in (d for d in benchmark.dimensions if d in dims):
        for_a, failed = {}, {}
        for order, table in verdicts.items():
            raw = np.asarray(table[dim], dtype=float)
            if raw.shape != (n,):
                raise ValueError(f"verdicts[{order!r}][{dim!r}] has shape {raw.shape}; the benchmark has {n} pairs")
            for_a[order] = raw if order == "AB" else -raw
            failed[order] = np.isnan(raw) & ~skip
            columns[f"verdict_{order}_{dim}"] = for_a[order]
        counted = {o: np.where(failed[o], 0.0, v) if unparseable == "tie" else v for o, v in for_a.items()}
        stacked = np.vstack(list(counted.values()))
        present = np.isfinite(stacked)
        total = np.where(present, stacked, 0.0).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            margin = np.where(present.any(axis=0), total / present.sum(axis=0), np.nan)
        margin[skip] = np.nan
        margins[dim] = margin
        stat: dict[str, Any] = {"answers": int((~skip).sum()) * len(verdicts),
                                "unparseable": int(sum(f.sum() for f in failed.values())),
                                "unparseable_by_order": {o: int(f.sum()) for o, f in failed.items()},
                                "counted_as": "tie" if unparseable == "tie" else "excluded"}
        if len(verdicts) == 2:
            both = np.isfinite(for_a["AB"]) & np.isfinite(for_a["BA"])
            firsts = np.concatenate([for_a["AB"][np.isfinite(for_a["AB"])], -for_a["BA"][np.isfinite(for_a["BA"])]])
            decided = firsts[firsts != 0]
            stat["position"] = {
                "pairs_with_both_orders": int(both.sum()),
                # the same verdict for A whichever video was shown first
                "consistency": _share(for_a["AB"][both] == for_a["BA"][both]),
                # of the verdicts that chose a video, the share choosing the one shown first (0.5: no position bias)
                "first_shown_preferred": _share(decided > 0),
            }
        answers[dim] = stat
    extra: dict[str, Any] = dict(options.pop("extra_provenance", None) or {})
    extra["judge"] = {**dict(judge or {}), "unparseable": unparseable, "orders": list(verdicts), "answers": answers}
    result, per_pair = evaluate_margins(benchmark, margins, model_info, extra_provenance=extra, **options)
    for name, values in columns.items():
        per_pair[name] = values
    return result, per_pair


def random_video_scores(benchmark: PairBenchmark, seed: int = 0,
                        dimensions: Sequence[str] | None = None) -> pd.DataFrame:
    """The ``random`` baseline's per-video scores: N(0, 1) from ``metrics.random_scores``, seeded per (seed, video),
    so a video's scores never depend on which other videos are in the benchmark or their order. One draw per
    dimension, in the order given; every prompt of a video gets the same scores (the baseline ignores text)."""
    items = benchmark_items(benchmark)
    dims = list(dimensions or benchmark.dimensions)
    videos = pd.unique(items["video"])
    draws = np.vstack([metrics.random_scores(len(dims), seed=_video_seed(seed, v)) for v in videos]) if len(videos) \
        else np.zeros((0, len(dims)))
    by_video = pd.DataFrame(draws, index=videos, columns=dims)
    out = items.copy()
    values = by_video.loc[items["video"]].to_numpy()
    for j, d in enumerate(dims):
        out[d] = values[:, j]
    return out


def _video_seed(seed: int, video: str) -> int:
    digest = hashlib.sha256(f"{seed}\x1f{video}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def save_evaluation(
    result: EvalResult,
    per_pair: pd.DataFrame | None,
    directory: str | os.PathLike,
    stem: str,
    per_video: pd.DataFrame | None = None,
) -> Path:
    """Write ``<stem>.json`` with ``<stem>.pairs.parquet`` and ``<stem>.videos.parquet`` (when given) as one set
    (``save_result_set``): a kill at any point leaves the old set, no JSON, or the new set, never a JSON beside tables
    of another run. The JSON names the tables relative to itself."""
    directory = Path(directory)
    tables = {}
    if per_pair is not None:  # None: a MOS benchmark's result, whose per-item table is the per-video one
        tables[f"{stem}.pairs.parquet"] = per_pair
        result.per_pair_file = f"{stem}.pairs.parquet"
    if per_video is not None:
        tables[f"{stem}.videos.parquet"] = per_video
        result.per_video_file = f"{stem}.videos.parquet"
    return save_result_set(result, directory / f"{stem}.json", {n: parquet_bytes(t) for n, t in tables.items()})
