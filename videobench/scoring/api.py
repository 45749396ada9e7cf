"""``score_benchmark`` and ``score_items``: per-video scores for every reward model, deduplicated, cached, resumable.

Steps: unique (video, prompt) rows -> pre-flight (every file exists and its header decodes; failures raised together)
-> unique (content hash, prompt) work items -> split across ranks / job-array shards -> ``engine.run_scoring`` (store
look-up, decoding ahead in threads, batched scoring, per-batch commits) -> ranks gathered -> one table per model.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from videobench.data.benchmark import PairBenchmark, PathEscapeError, resolve_under_root
from videobench.rewards.base import RewardModel
from videobench.scoring.distributed import ProcessInfo, current_process, gather_results, split
from videobench.scoring.engine import EngineOutput, ScoringStats, WorkItem, run_scoring
from videobench.scoring.preflight import PreflightError, VideoCheck, check_videos
from videobench.scoring.store import ScoreStore, default_cache_dir
from videobench.scoring.videoio import DefaultVideoIO, VideoIO

#: Columns every per-model table starts with; one float column per model dimension follows.
KEY_COLUMNS = ("video", "prompt", "content_hash")


class ScoreTables(dict[str, pd.DataFrame]):
    """Per-model score tables (``{model name: DataFrame}``) plus what was left out and why.

    Each table has one row per unique (video, prompt) that was scored: ``video`` as the benchmark writes it,
    ``prompt``, ``content_hash``, and one float column per dimension of that model (NaN where the model gave none).

    - ``unreadable``: video (as written) -> reason, for files skipped with ``skip_unreadable=True``.
    - ``excluded_pair_ids``: pairs with an unreadable video; they are excluded from every dimension.
    - ``excluded_pairs(model, dimension)``: those plus pairs where the model returned NaN for either video on that
      dimension: what the evaluator leaves out of that dimension's accuracy.
    """

    def __init__(self, tables: dict[str, pd.DataFrame] | None = None) -> None:
        super().__init__(tables or {})
        self.unreadable: dict[str, str] = {}
        self.excluded_pair_ids: list[str] = []
        self.fingerprints: dict[str, str] = {}
        self.dimensions: dict[str, tuple[str, ...]] = {}
        self.stats = ScoringStats()
        self.pairs: pd.DataFrame | None = None
        #: Hash of the full (unsharded) list of (video, prompt) rows: shards of one run share it.
        self.items_fingerprint: str = ""
        self.shard: tuple[int, int] | None = None  # (shard_index, num_shards)

    def excluded_pairs(self, model: str, dimension: str, pairs: pd.DataFrame | None = None) -> list[str]:
        pairs = self.pairs if pairs is None else pairs
        excluded = set(self.excluded_pair_ids)
        table = self[model]
        if pairs is not None and dimension in table.columns and len(pairs):
            keys = pd.MultiIndex.from_arrays([table["video"], table["prompt"]])
            lookup = pd.Series(table[dimension].to_numpy(), index=keys)
            for side in ("video_A", "video_B"):
                idx = pd.MultiIndex.from_arrays([pairs[side].astype(str), pairs["prompt"].astype(str)])
                values = lookup.reindex(idx).to_numpy(dtype=np.float64)
                excluded.update(pairs["pair_id"].astype(str).to_numpy()[np.isnan(values)])
        return sorted(excluded)


def benchmark_items_fingerprint(benchmark: Any) -> str:
    """The fingerprint of a benchmark's (video, prompt) rows that every shard of one run records."""
    return _items_fingerprint(list(dict.fromkeys(_benchmark_rows(benchmark))))


def _items_fingerprint(rows: Sequence[tuple[str, str]]) -> str:
    digest = hashlib.sha256()
    for video, prompt in sorted(rows):
        digest.update(json.dumps([video, prompt]).encode("utf-8"))
    return "sha256:" + digest.hexdigest()[:32]


def _check_models(models: Sequence[RewardModel]) -> None:
    if not models:
        raise ValueError("no reward models to score with")
    names = [m.name for m in models]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"reward model names must be unique within one run, got {dupes} more than once")


def _resolve(videos: Iterable[str], root: Path | None) -> dict[str, Path]:
    resolved, escapes = {}, []
    for video in videos:
        try:
            resolved[video] = resolve_under_root(root, video)
        except PathEscapeError:
            escapes.append(video)
    if escapes:
        raise PathEscapeError(f"{len(escapes)} video paths escape the benchmark root {root}: {escapes[:20]}")
    return resolved


def _preflight(
    paths: dict[str, Path], io: VideoIO, proc: ProcessInfo, num_workers: int, store: ScoreStore | None = None
) -> dict[str, VideoCheck]:
    # Each rank probes its slice of the files; everyone then sees every finding, so all ranks fail or go on together.
    unique = sorted(set(paths.values()))
    found: dict[Path, VideoCheck] = {}
    for part in gather_results(lambda: _check_with_store(split(unique, proc.world_size, proc.rank), io,
                                                         max(num_workers, 1), store), proc):
        found.update(part)
    return {video: found[path] for video, path in paths.items()}


def _check_with_store(
    paths: list[Path], io: VideoIO, num_workers: int, store: ScoreStore | None
) -> dict[Path, VideoCheck]:
    """Pre-flight facts of files unchanged since a past run come from the store: a warm rerun reads no video."""
    if store is None:
        return check_videos(paths, io, num_workers)
    reader = f"{type(io).__module__}.{type(io).__qualname__}"  # another reader may hash differently
    stats = {}
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            continue
        stats[str(path)] = (st.st_ino, st.st_size, st.st_mtime_ns)
    known = store.get_files(reader, stats)
    result = {p: VideoCheck(p, *known[str(p)]) for p in paths if str(p) in known}
    fresh = check_videos([p for p in paths if p not in result], io, num_workers)
    store.put_files(reader, [
        (str(p), stats[str(p)], (c.content_hash or "", c.total_frames, c.fps))
        for p, c in fresh.items() if c.ok and str(p) in stats
    ])
    result.update(fresh)
    return {p: result[p] for p in paths}


def check_benchmark(
    benchmark: PairBenchmark,
    *,
    num_workers: int = 2,
    skip_unreadable: bool = False,
    video_io: VideoIO | None = None,
) -> dict[str, VideoCheck]:
    """Pre-flight alone, for callers that load models afterwards: ``{video as written: VideoCheck}``.

    Raises ``PreflightError`` listing every unreadable video unless ``skip_unreadable``. The findings are remembered,
    so the ``score_benchmark`` call that follows does not probe or hash the files again.
    """
    videos = dict.fromkeys(v for v, _ in _benchmark_rows(benchmark))
    paths = _resolve(videos, benchmark.root)
    checks = _preflight(paths, video_io or DefaultVideoIO(), current_process(), num_workers)
    bad = {video: check.error or "" for video, check in checks.items() if not check.ok}
    if bad and not skip_unreadable:
        raise PreflightError(bad, n_videos=len(checks))
    return checks


def score_items(
    items: Sequence[tuple[str | os.PathLike, str]],
    models: Sequence[RewardModel],
    *,
    root: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    use_cache: bool = True,
    batch_size: int = 8,
    num_workers: int = 2,
    skip_unreadable: bool = False,
    show_progress: bool = True,
    num_shards: int = 1,
    shard_index: int = 0,
    pairs: pd.DataFrame | None = None,
    video_io: VideoIO | None = None,
) -> ScoreTables:
    """Score (video path, prompt) items with every model; see ``score_benchmark`` for the options.

    ``root``: resolve relative video paths under it (paths escaping it are refused). ``pairs``: a table with
    ``pair_id, prompt, video_A, video_B`` used to name the pairs that unreadable videos exclude. ``video_io``: replaces
    ``videobench.video`` (tests, benchmarks).
    """
    _check_models(models)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    rows = list(dict.fromkeys((os.fspath(v), str(p)) for v, p in items))
    result = ScoreTables()
    result.items_fingerprint = _items_fingerprint(rows)
    if num_shards != 1 or shard_index != 0:
        mine = set(split(sorted(rows), num_shards, shard_index))
        rows = [r for r in rows if r in mine]
        result.shard = (shard_index, num_shards)

    io = video_io or DefaultVideoIO()
    proc = current_process()
    paths = _resolve(dict.fromkeys(v for v, _ in rows), Path(root) if root is not None else None)
    store = ScoreStore(Path(cache_dir) if cache_dir is not None else default_cache_dir()) if use_cache else None
    try:
        return _score_rows(rows, models, paths, io, proc, store, result, batch_size, num_workers,
                           skip_unreadable, show_progress, pairs)
    finally:
        if store is not None:
            store.close()


def _score_rows(
    rows: list[tuple[str, str]],
    models: Sequence[RewardModel],
    paths: dict[str, Path],
    io: VideoIO,
    proc: ProcessInfo,
    store: ScoreStore | None,
    result: ScoreTables,
    batch_size: int,
    num_workers: int,
    skip_unreadable: bool,
    show_progress: bool,
    pairs: pd.DataFrame | None,
) -> ScoreTables:
    started = time.perf_counter()
    checks = _preflight(paths, io, proc, num_workers, store)
    preflight_s = time.perf_counter() - started
    bad = {video: check.error or "" for video, check in checks.items() if not check.ok}
    if bad and not skip_unreadable:
        raise PreflightError(bad, n_videos=len(checks))

    # Unique work by content: two files with equal bytes and the same prompt are scored once.
    work_by_key: dict[tuple[str, str], WorkItem] = {}
    for video, prompt in rows:
        check = checks[video]
        if check.ok:
            key = (check.content_hash or "", prompt)
            if key not in work_by_key:
                work_by_key[key] = WorkItem(check.content_hash or "", prompt, check.path, check.total_frames, check.fps)
    work = [work_by_key[k] for k in sorted(work_by_key)]
    my_work = split(work, proc.world_size, proc.rank)

    fingerprints = {m.name: m.fingerprint() for m in models}
    show = show_progress and proc.is_main
    output = _gather(gather_results(
        lambda: _run_with_progress(my_work, models, store, io, batch_size, num_workers, show, fingerprints), proc))

    hash_to_videos: dict[str, list[str]] = {}
    for video, check in checks.items():
        if check.ok:
            hash_to_videos.setdefault(check.content_hash or "", []).append(video)
    decode_bad = {v: reason for h, reason in output.failures.items() for v in hash_to_videos.get(h, [])}
    if decode_bad and not skip_unreadable:
        raise PreflightError(decode_bad, n_videos=len(checks), stage="decoding")
    bad.update(decode_bad)

    for model in models:
        scores = output.scores[model.name]
        records: list[dict[str, Any]] = []
        for video, prompt in rows:
            if video in bad:
                continue
            h = checks[video].content_hash or ""
            record: dict[str, Any] = {"video": video, "prompt": prompt, "content_hash": h}
            record.update(scores[(h, prompt)])
            records.append(record)
        columns = [*KEY_COLUMNS, *model.dimensions]
        table = pd.DataFrame.from_records(records, columns=columns)
        result[model.name] = table.astype({d: np.float64 for d in model.dimensions})
    result.unreadable = bad
    result.fingerprints = fingerprints
    result.dimensions = {m.name: tuple(m.dimensions) for m in models}
    result.stats = output.stats
    result.stats.preflight_s = preflight_s
    if pairs is not None:
        slim = pairs[["pair_id", "prompt", "video_A", "video_B"]].astype(str).reset_index(drop=True)
        if bad:
            hit = slim["video_A"].isin(bad.keys()) | slim["video_B"].isin(bad.keys())
            result.excluded_pair_ids = sorted(slim.loc[hit, "pair_id"])
        # A shard holds part of the videos: NaN look-ups against it would be meaningless, so keep pairs only when whole.
        result.pairs = slim if result.shard is None else None
    return result


def _run_with_progress(
    work: list[WorkItem],
    models: Sequence[RewardModel],
    store: ScoreStore | None,
    io: VideoIO,
    batch_size: int,
    num_workers: int,
    show: bool,
    fingerprints: dict[str, str],
) -> EngineOutput:
    from tqdm.auto import tqdm

    with tqdm(total=len(work), unit="item", desc="scoring", disable=not show, dynamic_ncols=True) as bar:
        return run_scoring(
            work, models, store=store, io=io, batch_size=batch_size, num_workers=num_workers,
            progress=bar.update, fingerprints=fingerprints,
        )


def _gather(parts: list[EngineOutput]) -> EngineOutput:
    """One rank's output as it is; several ranks' outputs merged."""
    if len(parts) == 1:
        return parts[0]
    merged = EngineOutput(scores={name: {} for name in parts[0].scores})
    for part in parts:
        for name, scores in part.scores.items():
            merged.scores[name].update(scores)
        merged.failures.update(part.failures)
        merged.stats = merged.stats.merge(part.stats)
    return merged


def _benchmark_rows(benchmark: Any) -> list[tuple[str, str]]:
    """(video, prompt) of every video a benchmark asks scores for: each pair's A and B, or each rated video."""
    if getattr(benchmark, "kind", "pairs") == "mos":
        videos = benchmark.videos
        return list(zip(videos["video"].astype(str), videos["prompt"].astype(str)))
    pairs = benchmark.pairs
    items: list[tuple[str, str]] = []
    for a, b, prompt in zip(pairs["video_A"].astype(str), pairs["video_B"].astype(str), pairs["prompt"].astype(str)):
        items.append((a, prompt))
        items.append((b, prompt))
    return items


def score_benchmark(
    benchmark: PairBenchmark,
    models: list[RewardModel],
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
    batch_size: int = 8,
    num_workers: int = 2,
    skip_unreadable: bool = False,
    show_progress: bool = True,
    num_shards: int = 1,
    shard_index: int = 0,
    *,
    shard_dir: str | Path | None = None,
    video_io: VideoIO | None = None,
) -> ScoreTables:
    """Per-video scores of every model on every video of ``benchmark`` (a ``ScoreTables``: ``{model name: DataFrame}``).

    - ``cache_dir``: where the ``ScoreStore`` lives (default ``$VIDEOBENCH_CACHE`` or ``~/.cache/videobench/scores``);
      ``use_cache=False`` neither reads nor writes it.
    - ``batch_size``: items per ``RewardModel.score`` call (and per store transaction); ``num_workers``: decoding
      threads running ahead of the model (0 decodes inline).
    - ``skip_unreadable``: score the readable videos and report the rest in ``.unreadable`` / ``.excluded_pair_ids``
      instead of raising ``PreflightError``.
    - ``num_shards`` / ``shard_index``: score one deterministic slice (cluster job arrays); with ``shard_dir`` the
      slice is also written there as a Parquet shard for ``merge_shards``.
    - Under ``accelerate launch`` / ``torchrun`` the work is split across ranks and every rank returns the full tables.
    """
    pairs = getattr(benchmark, "pairs", None)  # a MOS benchmark (single rated videos) has none
    result = score_items(
        _benchmark_rows(benchmark), models, root=benchmark.root, cache_dir=cache_dir, use_cache=use_cache, batch_size=batch_size,
        num_workers=num_workers, skip_unreadable=skip_unreadable, show_progress=show_progress,
        num_shards=num_shards, shard_index=shard_index, pairs=pairs, video_io=video_io,
    )
    if shard_dir is not None and (num_shards != 1 or shard_index != 0) and current_process().is_main:
        from videobench.scoring.shards import write_shard

        write_shard(result, shard_dir)
    return result
