"""``run_compare``: prompts × seeds -> every checkpoint renders (store-backed, resumable) -> scored like ``eval`` ->
paired win rates and a Bradley-Terry ranking -> ``CompareResult`` JSON, per-item tables, HTML report."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import pandas as pd

from videobench import provenance
from videobench.compare import analysis
from videobench.compare.generators import GeneratorLoadError, build_generators
from videobench.compare.render import RenderStats, plan, render_missing
from videobench.compare.scoring import resolve_rewards, score_renders
from videobench.compare.spec import RenderSettings, SpecError, expand_checkpoint_globs
from videobench.compare.store import RenderStore, default_render_dir
from videobench.prompts import PromptSuite, load_prompts
from videobench.evaluation import parquet_bytes
from videobench.results import CheckpointInfo, CompareResult, ModelInfo, save_result_set
from videobench.rewards.base import RewardModel
from videobench.scoring.distributed import current_process, gather_results

RESULT_FILE = "compare.json"
ITEMS_FILE = "items.parquet"


@dataclass
class CompareConfig:
    """Everything ``run_compare`` needs. ``generators`` maps display names to spec strings (first = default baseline)."""

    generators: dict[str, str]
    prompts: str | os.PathLike | PromptSuite
    rewards: Sequence[str | RewardModel]
    output: str | os.PathLike
    baseline: str | None = None
    seeds: Sequence[int] = (0,)
    num_prompts: int | None = None
    prompt_column: str = "prompt"
    weights: dict[str, float] | None = None
    settings: RenderSettings | None = None  # sampling overrides for every generator (CLI options)
    render_dir: str | os.PathLike | None = None
    cache_dir: str | os.PathLike | None = None
    device: str | None = None
    trust_remote_code: bool = False
    n_resamples: int = 1000
    level: float = 0.95
    bootstrap_seed: int = 0
    tie_tolerance: float = 0.0
    batch_size: int = 8
    num_workers: int = 2
    report: bool = True
    report_prompts: int = 8
    embed_videos: bool = False
    show_progress: bool = False
    command: list[str] | None = None


@dataclass
class CompareOutcome:
    result: CompareResult | None  # None on non-main ranks
    table: pd.DataFrame | None
    output: Path
    render_stats: RenderStats
    timings: dict[str, float] = field(default_factory=dict)
    result_path: Path | None = None
    report_path: Path | None = None


def default_device() -> str:
    import torch

    if torch.cuda.is_available():
        return f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
    return "cpu"


def _reward_info(model: RewardModel, spec: str | RewardModel) -> ModelInfo:
    return ModelInfo(name=model.name, spec=spec if isinstance(spec, str) else type(model).__name__,
                     fingerprint=model.fingerprint(), dimensions=list(model.dimensions),
                     sampling=model.sampling.as_dict())


def run_compare(cfg: CompareConfig) -> CompareOutcome:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    specs = expand_checkpoint_globs(cfg.generators)  # RUN/checkpoints/checkpoint-*: every checkpoint of a run
    if len(specs) < 2:
        raise SpecError("compare needs at least two generators (--generator NAME=SPEC, twice or more)")
    seeds = list(dict.fromkeys(int(s) for s in cfg.seeds))
    if not seeds:
        raise SpecError("give at least one seed")
    suite = cfg.prompts if isinstance(cfg.prompts, PromptSuite) else load_prompts(cfg.prompts, column=cfg.prompt_column)
    suite = suite.subset(cfg.num_prompts)
    generators = build_generators(specs, cfg.trust_remote_code, cfg.settings)
    names = list(generators)
    baseline = cfg.baseline or names[0]
    if baseline not in generators:
        raise SpecError(f"--baseline {baseline!r} is not one of the generators ({', '.join(names)})")
    rewards = resolve_rewards(cfg.rewards)
    store = RenderStore(cfg.render_dir if cfg.render_dir is not None else default_render_dir())
    items = plan(generators, suite.prompts, seeds, store)
    timings["prepare"] = time.perf_counter() - t0

    proc = current_process()
    from tqdm.auto import tqdm

    with tqdm(unit="video", desc="rendering", disable=not (cfg.show_progress and proc.is_main)) as bar:
        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        def render_share() -> tuple[RenderStats, dict[str, str]]:
            try:
                return render_missing(items, generators, store, cfg.device or default_device(), proc.world_size,
                                      proc.rank, progress=progress), {}
            except GeneratorLoadError as exc:
                if not proc.distributed:
                    raise
                return exc.stats, exc.failures

        # also the barrier: every render exists after this. A load failure on any rank stops every rank with the
        # same error naming them all; any other error stops the others with RankFailedError
        parts = gather_results(render_share, proc)
    if proc.distributed:
        failures = {k: v for _, f in parts for k, v in f.items()}
        if failures:
            rendered = sum(p.rendered for p, _ in parts)
            raise GeneratorLoadError(failures, note=f"{rendered} other video(s) were rendered and kept")
    own = parts[proc.rank][0] if proc.distributed else parts[0][0]
    stats = RenderStats(own.planned, own.reused, sum(p.rendered for p, _ in parts),
                        max(p.load_seconds for p, _ in parts), max(p.render_seconds for p, _ in parts))
    timings["load"], timings["render"] = stats.load_seconds, stats.render_seconds  # (every pipeline is released)

    t0 = time.perf_counter()
    scored = score_renders([(str(it.path), it.prompt.text) for it in items], rewards, cache_dir=cfg.cache_dir,
                           batch_size=cfg.batch_size, num_workers=cfg.num_workers, show_progress=cfg.show_progress)
    timings["score"] = time.perf_counter() - t0
    out_dir = Path(cfg.output)
    if not proc.is_main:
        return CompareOutcome(None, None, out_dir, stats, timings)

    t0 = time.perf_counter()
    table = pd.DataFrame({
        "generator": [it.generator for it in items],
        "prompt_id": [it.prompt.id for it in items],
        "prompt": [it.prompt.text for it in items],
        "seed": [it.seed for it in items],
        "video": [str(Path(it.path).resolve()) for it in items],
    })
    out_dir.mkdir(parents=True, exist_ok=True)
    table.insert(5, "video_rel", [os.path.relpath(v, out_dir.resolve()) for v in table["video"]])
    columns = analysis.score_columns(rewards)
    for model in rewards:
        df = scored[model.name]
        if "content_hash" in df and "content_hash" not in table:
            table["content_hash"] = df["content_hash"].to_numpy()
        for dim in model.dimensions:
            table[columns[(model.name, dim)]] = df[dim].to_numpy(dtype=float)
    score_cols = list(columns.values())
    weights = analysis.resolve_weights(cfg.weights, score_cols)
    table = analysis.add_overall(table, weights)
    dims = [*score_cols, analysis.OVERALL]
    common = dict(n_resamples=cfg.n_resamples, level=cfg.level, seed=cfg.bootstrap_seed, tie_tolerance=cfg.tie_tolerance)
    wins = analysis.win_rates(table, names, baseline, dims, **common)
    ranks = analysis.ranking(table, names, baseline, dims, **common)
    timings["analysis"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    prov = provenance.collect(cfg.command, seeds={"bootstrap": cfg.bootstrap_seed})
    prov.update({"render_store": str(store.root), "tie_tolerance": cfg.tie_tolerance, "n_resamples": cfg.n_resamples,
                 "renders": {"planned": stats.planned, "reused": stats.reused, "rendered": stats.rendered}})
    result = CompareResult(
        checkpoints=[CheckpointInfo(n, g.spec.raw, g.fingerprint, g.info()) for n, g in generators.items()],
        baseline=baseline,
        prompts={**suite.info(), "column": cfg.prompt_column},
        seeds=seeds,
        rewards=[_reward_info(m, s) for m, s in zip(rewards, cfg.rewards)],
        weights=weights,
        win_rates=wins,
        ranking=ranks,
        provenance=prov,
        per_item_file=ITEMS_FILE,
    )
    (out_dir / "report.html").unlink(missing_ok=True)  # the old report describes the result about to be replaced
    # compare.json and the tables it describes are replaced as one set (see save_result_set)
    result_path = save_result_set(result, out_dir / RESULT_FILE, {
        ITEMS_FILE: parquet_bytes(table),
        "items.csv": table.to_csv(index=False).encode("utf-8"),
        "per_prompt.csv": analysis.per_prompt(table, names, baseline, dims).to_csv(index=False).encode("utf-8"),
    })
    report_path = None
    if cfg.report:
        from videobench.compare.report import write_report

        report_path = write_report(result, table, out_dir / "report.html", n_prompts=cfg.report_prompts,
                                   embed_videos=cfg.embed_videos)
    timings["write"] = time.perf_counter() - t0
    return CompareOutcome(result, table, out_dir, stats, timings, result_path, report_path)


__all__ = ["CompareConfig", "CompareOutcome", "run_compare", "GeneratorLoadError"]
