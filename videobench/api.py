"""``videobench.evaluate``: one call from a reward model and a benchmark to an ``EvalResult`` and its tables.

The analogue of lm-evaluation-harness's ``simple_evaluate``: ``videobench eval`` and the leaderboard's evaluator call
the same code (``run_evaluation``), so loading, scoring, caching and metrics are wired once::

    ev = videobench.evaluate("random:0", "path/to/bench.csv", n_resamples=200)
    ev.result.dimensions["VQ"].accuracy_without_ties.value
    ev.pairs        # one row per pair: labels, margins, predictions
    ev.save("results/")

A model is a reward spec (``"videoreward:DIR?template=vr.txt"``, options as for ``--model``), a ``RewardModel``
object, or a file of precomputed scores (a ``Path``, an existing file name, or ``"scores:FILE"``). A benchmark is a
registered name, a file or folder, a Hub id, or a ``PairBenchmark``. Every other setting is a field of
:class:`EvalConfig` (also loadable from YAML), with the same defaults as the command line.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from videobench.settings import read_settings_yaml, settings_from_mapping

if TYPE_CHECKING:
    import pandas as pd

    from videobench.data.benchmark import PairBenchmark
    from videobench.results import EvalResult

__all__ = ["EvalConfig", "Evaluation", "evaluate", "run_evaluation", "save_evaluations", "score_shard"]


class EvalConfigError(ValueError):
    """A setting of an evaluation that is unknown or has an invalid value; the message names it."""


@dataclass
class EvalConfig:
    """Every setting of an evaluation: the keywords of ``videobench.evaluate``, the options of ``videobench eval``
    and the keys of an evaluation YAML file are the same names."""

    #: reward specs, RewardModel objects, or score files (Path / existing file / "scores:FILE")
    models: list[Any] = field(default_factory=list)
    #: a registered name, a CSV/JSONL/Parquet file, a datasets folder, a Hub id owner/name[@rev], or a PairBenchmark
    bench: Any = None
    #: also evaluate the seeded random baseline (N(0,1) per video, seeded by `seed`)
    random_baseline: bool = False

    # -- reading the benchmark
    columns: str | None = None
    format: str = "auto"
    split: str | None = None
    dedupe: bool = False
    allow_absolute_paths: bool = False
    #: a text file of pair ids (one a line): evaluate only those pairs of the benchmark
    subset: str | Path | None = None

    # -- metrics
    n_resamples: int = 1000
    level: float = 0.95
    folds: int = 5
    seed: int = 0
    #: also report accuracy with ties at this fixed, hand-set threshold (|margin| <= it is a predicted tie)
    tie_threshold: float | None = None
    #: benchmark dimension -> model dimension(s) ("PC=MQ,Overall=VQ+MQ" or a mapping; ``videobench.dimension_map``)
    dimension_map: Any = None

    # -- scoring (models that run on the videos)
    #: score cache folder (default $VIDEOBENCH_CACHE or ~/.cache/videobench/scores); reused across runs
    cache_dir: str | Path | None = None
    use_cache: bool = True
    batch_size: int = 8
    num_workers: int = 2
    skip_unreadable: bool = False
    show_progress: bool = False

    # -- job arrays
    num_shards: int = 1
    shard_index: int = 0
    shard_dir: str | Path | None = None
    #: evaluate from the score shards in this folder instead of scoring
    merge: str | Path | None = None

    #: the command line recorded in each result's provenance
    command: list[str] | None = None

    def __post_init__(self) -> None:
        if self.models is None:
            self.models = []
        elif isinstance(self.models, (str, os.PathLike)) or not isinstance(self.models, (list, tuple)):
            self.models = [self.models]
        self.models = list(self.models)
        self.validate()

    def validate(self) -> None:
        if self.n_resamples < 0:
            raise EvalConfigError(f"n_resamples must be >= 0, got {self.n_resamples}")
        if not 0.5 <= self.level < 1.0:
            raise EvalConfigError(f"level must be in [0.5, 1), got {self.level}")
        if self.folds < 2:
            raise EvalConfigError(f"folds must be >= 2, got {self.folds}")
        if self.tie_threshold is not None and not (
                isinstance(self.tie_threshold, (int, float)) and 0 <= self.tie_threshold < float("inf")):
            raise EvalConfigError(f"tie_threshold must be a finite number >= 0, got {self.tie_threshold!r}")
        from videobench.dimension_map import DimensionMapError, parse_dimension_map

        try:
            parse_dimension_map(self.dimension_map)
        except DimensionMapError as exc:
            raise EvalConfigError(str(exc)) from None
        if self.batch_size < 1 or self.num_workers < 0:
            raise EvalConfigError("batch_size must be >= 1 and num_workers >= 0")
        if self.num_shards < 1 or not 0 <= self.shard_index < self.num_shards:
            raise EvalConfigError(f"shard_index {self.shard_index} is out of range for num_shards {self.num_shards}")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "EvalConfig":
        return settings_from_mapping(cls, values, EvalConfigError)

    @classmethod
    def from_yaml(cls, path: str | os.PathLike, **overrides: Any) -> "EvalConfig":
        """Settings from a YAML mapping (``models: [...]``, ``bench: ...``, ``n_resamples: 200``, ...); ``overrides``
        replace keys of the file."""
        values = read_settings_yaml(path, EvalConfigError)
        values.update(overrides)
        try:
            return cls.from_dict(values)
        except EvalConfigError as exc:
            raise EvalConfigError(f"{path}: {exc}") from None

    def replace(self, **changes: Any) -> "EvalConfig":
        return dataclasses.replace(self, **changes)

    def metric_options(self) -> dict[str, Any]:
        return {"n_resamples": self.n_resamples, "level": self.level, "seed": self.seed, "folds": self.folds,
                "tie_threshold": self.tie_threshold, "command": self.command}


@dataclass
class Evaluation:
    """One model on one benchmark: the result, the per-pair table and (for per-video scores) the per-video table."""

    result: "EvalResult"
    #: one row per pair (None for a MOS benchmark, whose per-item table is ``videos``)
    pairs: "pd.DataFrame | None"
    videos: "pd.DataFrame | None" = None

    @property
    def name(self) -> str:
        return self.result.model.name

    def save(self, directory: str | os.PathLike, stem: str | None = None) -> Path:
        """Write ``<stem>.json``, ``<stem>.pairs.parquet`` and ``<stem>.videos.parquet`` (stem: the model's name,
        made file-safe) into ``directory``; returns the JSON's path."""
        from videobench.evaluation import save_evaluation

        return save_evaluation(self.result, self.pairs, directory, stem or slug(self.name), per_video=self.videos)


def slug(name: str) -> str:
    """A model name as a file stem."""
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "model"
    return text[:80]


def unique_names(names: Sequence[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}-{seen[n]}")
    return out


def save_evaluations(evaluations: Sequence[Evaluation], directory: str | os.PathLike, *,
                     report: bool = True) -> list[Path]:
    """Save several evaluations side by side (file stems made unique) and, with ``report``, ``report.html``."""
    written = []
    if report and evaluations:  # the old report describes results about to be replaced: none, not a stale one, on a kill
        (Path(directory) / "report.html").unlink(missing_ok=True)
    for ev, stem in zip(evaluations, unique_names([slug(e.name) for e in evaluations])):
        written.append(ev.save(directory, stem))
    if report and evaluations:
        from videobench.report import write_eval_report

        written.append(write_eval_report([e.result for e in evaluations], Path(directory) / "report.html"))
    return written


# ------------------------------------------------------------------------------------------------ what a model is


@dataclass
class _ScoresFile:
    """A file of precomputed scores: evaluated from its table, never through the scoring engine."""

    path: str


@dataclass
class _Entry:
    """One model of the run: what the user gave, resolved far enough to fail early (spec parsed)."""

    given: Any
    spec: Any = None  # RewardSpec, for spec strings
    name: str | None = None


def _is_scores_file(model: Any) -> bool:
    if isinstance(model, os.PathLike):
        return True
    if not isinstance(model, str) or not Path(model).is_file():
        return False
    from videobench.rewards.registry import available_reward_models

    prefix = re.split(r"[:?]", model.strip(), maxsplit=1)[0]
    return prefix not in available_reward_models()


def _entries(config: EvalConfig, names: Sequence[str | None] | None = None) -> list[_Entry]:
    from videobench.rewards.registry import RewardSpec, parse_reward_spec

    names = list(names) if names is not None else [None] * len(config.models)
    out = []
    for model, name in zip(config.models, names):
        if _is_scores_file(model):
            out.append(_Entry(_ScoresFile(os.fspath(model)), None, name))
        elif isinstance(model, (str, RewardSpec)):
            out.append(_Entry(model, parse_reward_spec(model), name))  # a bad spec fails before anything loads
        elif all(hasattr(model, a) for a in ("name", "dimensions", "score", "fingerprint")):
            out.append(_Entry(model, None, name))
        else:
            raise TypeError(f"a model is a reward spec, a RewardModel or a scores file path, got {type(model).__name__}")
    return out


def _load_benchmark(config: EvalConfig, need_videos: bool) -> "PairBenchmark":
    from videobench.data.benchmark import PairBenchmark
    from videobench.data.registry import load_benchmark

    from videobench.data.registry import apply_subset

    if isinstance(config.bench, PairBenchmark) or _is_mos(config.bench):
        bench = config.bench
    elif config.bench is None:
        raise EvalConfigError("no benchmark: give bench=NAME|PATH|HUB_ID (or a PairBenchmark)")
    else:
        bench = load_benchmark(config.bench, columns=config.columns, format=config.format, split=config.split,
                               dedupe=config.dedupe, allow_absolute=config.allow_absolute_paths,
                               need_videos=need_videos)
    if config.subset is not None and _is_mos(bench):
        raise EvalConfigError(f"subset: pair-id lists apply to pairwise benchmarks; {bench.name!r} rates single videos")
    return bench if config.subset is None else apply_subset(bench, config.subset)[0]


def _model_info(model: Any, spec: str, name: str | None, dims: Sequence[str]) -> Any:
    from videobench.results import ModelInfo

    return ModelInfo(name=name or model.name, spec=spec, fingerprint=model.fingerprint(), dimensions=list(dims),
                     sampling=model.sampling.as_dict(), revision=getattr(model, "revision", None))


def _spec_text(entry: _Entry, model: Any) -> str:
    if entry.spec is not None:
        # a Hub checkpoint: pinned to the commit it resolved to (a local folder has no commit and stays as it is)
        return str(entry.spec.pinned(getattr(model, "revision", None)))
    return f"python-object:{type(model).__module__}.{type(model).__qualname__}"


def _evaluate_table(bench: "PairBenchmark", model: Any, spec: str, name: str | None,
                    opts: dict[str, Any], dimension_map: Any = None) -> Evaluation:
    """A precomputed-scores model: per pair or per video, straight from its table."""
    from videobench.evaluation import evaluate_pair_scores
    from videobench.scores_file import pair_scores_for, video_scores_for

    info = _model_info(model, spec, name, model.dimensions)
    if model.per_pair:
        if _is_mos(bench):
            raise EvalConfigError(f"{model.name}: per-pair scores cannot be evaluated against the MOS benchmark "
                                  f"{bench.name!r} (it rates single videos: give per-video scores)")
        result, per_pair = evaluate_pair_scores(bench, pair_scores_for(model.table, bench), info, **opts)
        return Evaluation(result, per_pair, None)
    table = video_scores_for(model.table, bench)
    keep = ["video", "prompt", *model.dimensions]
    return evaluate_videos(bench, table[keep], info, opts, dimension_map=dimension_map)


def _is_mos(bench: Any) -> bool:
    return getattr(bench, "kind", "pairs") == "mos"


def evaluate_videos(bench: Any, table: "pd.DataFrame", info: Any, opts: dict[str, Any],
                    allow_missing: bool = False, dimension_map: Any = None) -> Evaluation:
    """Per-video scores against a benchmark of either kind: pairwise accuracy (``evaluate_video_scores``) or MOS
    correlations (``evaluate_mos_scores``; its per-video table is the evaluation's ``videos``). ``dimension_map``
    renames and combines the model's columns into the benchmark's dimensions first (``videobench.dimension_map``)."""
    from videobench.dimension_map import apply_dimension_map, parse_dimension_map

    mapping = parse_dimension_map(dimension_map)
    if mapping:
        table, dims, used = apply_dimension_map(table, info.dimensions, bench.dimensions, mapping)
        if not dims:
            raise EvalConfigError(f"{info.name}: the dimension map {dimension_map!r} maps none of its dimensions "
                                  f"{list(info.dimensions)} onto benchmark {bench.name!r} {list(bench.dimensions)}")
        info = dataclasses.replace(info, dimensions=dims)
        opts = {**opts, "extra_provenance": {**(opts.get("extra_provenance") or {}), "dimension_map": used}}
    if _is_mos(bench):
        from videobench.mos_evaluation import evaluate_mos_scores

        result, per_video = evaluate_mos_scores(bench, table, info, allow_missing=allow_missing, **opts)
        return Evaluation(result, None, per_video)
    from videobench.evaluation import evaluate_video_scores

    result, per_pair, per_video = evaluate_video_scores(bench, table, info, allow_missing=allow_missing, **opts)
    return Evaluation(result, per_pair, per_video)


def _random_baseline(bench: "PairBenchmark", seed: int, opts: dict[str, Any]) -> Evaluation:
    from videobench.evaluation import random_video_scores
    from videobench.results import ModelInfo

    info = ModelInfo(name="random", spec=f"random:{seed}", fingerprint=f"random:v1:seed={seed}",
                     dimensions=list(bench.dimensions), sampling={})
    return evaluate_videos(bench, random_video_scores(bench, seed), info, opts)


def _load(entry: _Entry, bench: "PairBenchmark") -> Any:
    from videobench.rewards.precomputed import PrecomputedScores

    if isinstance(entry.given, _ScoresFile):
        return PrecomputedScores(entry.given.path, name=Path(entry.given.path).name.split(".")[0])
    if entry.spec is not None:
        # A scores file names videos as the benchmark does: its root maps absolute clip paths back.
        return entry.spec.load(**({"root": bench.root} if entry.spec.prefix == "scores" else {}))
    return entry.given


def _scoring(config: EvalConfig) -> dict[str, Any]:
    return dict(cache_dir=config.cache_dir, use_cache=config.use_cache, batch_size=config.batch_size,
                num_workers=config.num_workers, skip_unreadable=config.skip_unreadable,
                show_progress=config.show_progress)


def _is_table_model(entry: _Entry) -> bool:
    return isinstance(entry.given, _ScoresFile) or (entry.spec is not None and entry.spec.prefix == "scores")


def run_evaluation(config: EvalConfig, names: Sequence[str | None] | None = None) -> list[Evaluation]:
    """Evaluate every model of ``config`` on its benchmark: score files first, then the random baseline, then the
    models that score the videos (all of them in one pass of the scoring engine, each video decoded once, scores
    cached in ``cache_dir``). ``names``: display names replacing the models' own (one per model, None keeps it)."""
    from videobench.scoring import check_benchmark, score_benchmark
    from videobench.scoring.shards import merge_shards

    if config.num_shards > 1:
        raise EvalConfigError("a sharded run only scores (score_shard); evaluate afterwards with merge=SHARD_DIR")
    entries = _entries(config, names)
    if not entries and not config.random_baseline:
        raise EvalConfigError("nothing to evaluate: give a model (spec, RewardModel or scores file) or "
                              "random_baseline=True")
    engine = [e for e in entries if not _is_table_model(e)]
    bench = _load_benchmark(config, need_videos=bool(engine) and config.merge is None)
    opts = config.metric_options()
    if config.subset is not None:
        from videobench.data.registry import read_subset_ids

        opts["extra_provenance"] = {"benchmark_subset": read_subset_ids(config.subset).provenance()}

    out = []
    table_entries = [e for e in entries if _is_table_model(e)]
    for entry in table_entries:
        model = _load(entry, bench)
        out.append(_evaluate_table(bench, model, _table_spec(entry), entry.name, opts, config.dimension_map))
    if config.random_baseline:
        out.append(_random_baseline(bench, config.seed, opts))
    if not engine:
        return out

    if config.merge is None:
        # Pre-flight before any model weights load: every video exists and its header decodes.
        check_benchmark(bench, num_workers=config.num_workers, skip_unreadable=config.skip_unreadable)
    models = [_load(e, bench) for e in engine]
    scorers = [m for m in models if not _is_pairwise(m)]
    if config.merge is not None:
        tables = merge_shards(config.merge)
        for model in models:
            if model.name not in tables:
                raise EvalConfigError(f"the merged shards hold no scores of {model.name!r} (they have "
                                      f"{sorted(tables)})")
    else:
        tables = score_benchmark(bench, scorers, **_scoring(config)) if scorers else {}
    for entry, model in zip(engine, models):
        if _is_pairwise(model):
            out.append(_evaluate_pairwise(bench, model, _spec_text(entry, model), entry.name, config, opts,
                                          merged=tables if config.merge is not None else None))
            continue
        table = tables[model.name]
        dims = [d for d in model.dimensions if d in table.columns]
        info = _model_info(model, _spec_text(entry, model), entry.name, dims)
        ev = evaluate_videos(bench, table[["video", "prompt", *dims]], info, opts,
                             allow_missing=config.skip_unreadable, dimension_map=config.dimension_map)
        judge = model.judge_provenance() if hasattr(model, "judge_provenance") else None
        if judge is not None:  # a generative judge: how many answers did not parse
            ev.result.provenance["judge"] = _score_judge_counts(model, judge, table, dims)
        out.append(ev)
    return out


def _is_pairwise(model: Any) -> bool:
    return bool(getattr(model, "pairwise", False)) and hasattr(model, "judge_pairs")


def _score_judge_counts(model: Any, judge: dict[str, Any], table: "pd.DataFrame",
                        dims: Sequence[str]) -> dict[str, Any]:
    """A scores-mode judge: per dimension, (video, prompt) items answered and how many answers gave no score (NaN:
    the items' pairs are excluded)."""
    answers = {d: {"answers": len(table), "unparseable": int(table[d].isna().sum()), "counted_as": "excluded"}
               for d in dims}
    return {**judge, "answers": answers, "unparseable_examples": list(model.unparsed_examples)}


def _judge_orders(model: Any) -> tuple[str, ...]:
    return ("AB", "BA") if getattr(model, "swap", False) else ("AB",)


def _check_pairwise_bench(bench: Any, model: Any, config: EvalConfig) -> None:
    if _is_mos(bench) or config.dimension_map:
        raise EvalConfigError(f"{model.name}: a pairwise judge needs a benchmark of pairs, and its verdicts are not "
                              "remapped (--dimension-map): use mode=scores, or name its dimensions= as the benchmark's")


def _evaluate_pairwise(bench: "PairBenchmark", model: Any, spec: str, name: str | None, config: EvalConfig,
                       opts: dict[str, Any], merged: Any = None) -> Evaluation:
    """A pairwise judge: verdicts per pair (both orders with its ``swap``), asked now or read from the ``merged``
    shards, then the metrics every model gets."""
    import numpy as np

    from videobench.evaluation import evaluate_verdicts
    from videobench.scoring.pairs import judge_benchmark_pairs, verdicts_from_shards

    _check_pairwise_bench(bench, model, config)
    if merged is not None:
        try:
            got = verdicts_from_shards(bench, merged[model.name], model.dimensions, _judge_orders(model),
                                       merged.excluded_pair_ids)
        except ValueError as exc:
            raise EvalConfigError(f"{config.merge}: {model.name}: {exc}") from None
        counts = {"questions": got.n_questions, "merged_from": str(config.merge)}
    else:
        got = judge_benchmark_pairs(bench, model, orders=_judge_orders(model), cache_dir=config.cache_dir,
                                    use_cache=config.use_cache, batch_size=config.batch_size,
                                    num_workers=config.num_workers, skip_unreadable=config.skip_unreadable,
                                    show_progress=config.show_progress)
        counts = {"questions": got.n_questions, "asked": got.n_asked, "cached": got.n_cached}
    dims = [d for d in model.dimensions if d in bench.dimensions]
    info = _model_info(model, spec, name, dims)
    unreadable = bench.pairs["pair_id"].astype(str).isin(got.excluded_pair_ids).to_numpy()
    judge = {**model.judge_provenance(), **counts, "unparseable_examples": list(model.unparsed_examples)}
    result, per_pair = evaluate_verdicts(bench, got.verdicts, info, unparseable=model.unparseable,
                                         unreadable=np.asarray(unreadable), judge=judge, **opts)
    return Evaluation(result, per_pair, None)


def _table_spec(entry: _Entry) -> str:
    """The spec a score file's result records: ``scores:ABSOLUTE_PATH`` (plus the spec's own options)."""
    if entry.spec is not None:
        return str(entry.spec)
    from videobench.rewards.registry import parse_reward_spec

    return str(parse_reward_spec(f"scores:{entry.given.path}"))  # the path absolute: reruns from any folder


def score_shard(config: EvalConfig) -> Path:
    """Score one shard (``shard_index`` of ``num_shards``) of the videos with the config's reward models and write it
    into ``shard_dir``; ``run_evaluation(config.replace(merge=shard_dir, num_shards=1, shard_index=0))`` evaluates
    once every shard is there. Returns ``shard_dir``."""
    from videobench.scoring import check_benchmark, score_benchmark

    from videobench.scoring.distributed import current_process
    from videobench.scoring.pairs import judge_pair_shard
    from videobench.scoring.shards import shard_tables, write_shard

    entries = [e for e in _entries(config) if not _is_table_model(e)]
    if not entries or config.shard_dir is None:
        raise EvalConfigError("a sharded run (num_shards > 1) scores reward models (not score files) into "
                              "shard_dir; evaluate afterwards with merge=SHARD_DIR")
    bench = _load_benchmark(config, need_videos=True)
    check_benchmark(bench, num_workers=config.num_workers, skip_unreadable=config.skip_unreadable)
    models = [_load(e, bench) for e in entries]
    judges = [m for m in models if _is_pairwise(m)]
    for judge in judges:
        _check_pairwise_bench(bench, judge, config)
    scorers = [m for m in models if not _is_pairwise(m)]
    shard = dict(num_shards=config.num_shards, shard_index=config.shard_index)
    parts = [score_benchmark(bench, scorers, **shard, **_scoring(config))] if scorers else []
    # a pairwise judge's slice is of its questions (pair x order), not of the videos; one file holds both
    parts += [judge_pair_shard(bench, j, orders=_judge_orders(j), **shard, **_scoring(config)) for j in judges]
    tables = shard_tables(bench, parts, config.shard_index, config.num_shards)
    if current_process().is_main:
        write_shard(tables, config.shard_dir)
    return Path(config.shard_dir)


_CONFIG_FIELDS = frozenset(f.name for f in fields(EvalConfig)) - {"models", "bench"}


def evaluate(model: Any = None, bench: Any = None, *, name: str | None = None,
             model_options: Mapping[str, Any] | None = None, config: EvalConfig | None = None,
             suite: Any = None, output: str | os.PathLike | None = None, **options: Any) -> Any:
    """Evaluate one reward model on one benchmark and return its :class:`Evaluation`.

    - ``model``: a reward spec (``"videoreward:DIR?template=vr.txt&fps=2"``), a ``RewardModel`` object, or a file of
      precomputed scores (a ``Path``, an existing file, or ``"scores:FILE"``); None with ``random_baseline=True``
      evaluates the random baseline alone.
    - ``bench``: a registered name (``sanity``), a file or folder, a Hub id ``owner/name[@rev]``, or a PairBenchmark.
    - ``name``: the name the result carries (default: the model's own).
    - ``model_options``: options for a spec's model, as if written in the spec (they are recorded in the result's
      spec; giving one both ways with different values is an error).
    - ``options``: any field of :class:`EvalConfig` (``n_resamples``, ``level``, ``folds``, ``seed``, ``cache_dir``,
      ``batch_size``, ``skip_unreadable``, ...); ``config`` supplies them all at once.
    - ``suite``: a suite name or YAML path instead of ``bench``: the model (or a list of models) is evaluated on
      every benchmark of the suite by ``videobench.suites.run_suite`` (what ``videobench eval --suite`` runs), which
      writes into ``output`` and returns its ``SuiteRun`` (joint table and per-benchmark results).
    """
    if suite is not None:
        from videobench.suites import run_suite

        if bench is not None or config is not None or model_options:
            raise TypeError("evaluate(suite=...) takes models, output and options; the suite names the benchmarks")
        if output is None:
            raise TypeError("evaluate(suite=...) needs output=FOLDER (the suite's results are written there)")
        models = list(model) if isinstance(model, (list, tuple)) else [model]
        return run_suite(models, suite, output, names=[name] * len(models) if name else None, **options)
    if output is not None:
        raise TypeError("output= goes with suite=; save one evaluation with Evaluation.save(folder)")
    unknown = sorted(set(options) - _CONFIG_FIELDS)
    if unknown:
        raise TypeError(f"evaluate() got unknown option(s) {unknown}; known: {', '.join(sorted(_CONFIG_FIELDS))}")
    if isinstance(model, (list, tuple)):
        raise TypeError("evaluate() takes one model; for several use run_evaluation(EvalConfig(models=[...]))")
    base = config or EvalConfig()
    if model_options:
        from videobench.rewards.registry import parse_reward_spec

        if not isinstance(model, str):
            raise TypeError("model_options apply to a reward spec string")
        model = parse_reward_spec(model, **model_options)
    models = [] if model is None else [model]
    cfg = base.replace(models=models, bench=bench if bench is not None else base.bench, **options)
    runs = run_evaluation(cfg, names=[name] * len(models))
    if len(runs) != 1:
        raise EvalConfigError("evaluate() evaluates one model: give a model, or random_baseline=True without one")
    if name and model is None:
        runs[0].result.model.name = name
    return runs[0]
