"""The scoring loop: store look-up, decoding ahead of the model in worker threads, batched scoring, per-batch commits.

Work is a list of unique (video content, prompt) items. Models are grouped by what they need from a video: models with
equal ``Sampling`` share one decode of each video; models with ``needs_frames=False`` get clips without frames and
trigger no decoding. A video used with several prompts is decoded once per sampling group.
"""

from __future__ import annotations

import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence, TypeVar

import numpy as np

from videobench.faults import fault_point
from videobench.rewards.base import Clip, ModelOutputError, RewardModel, Sampling
from videobench.scoring.store import Scores, ScoreStore, prompt_hash
from videobench.scoring.videoio import VideoIO

T = TypeVar("T")
R = TypeVar("R")

ItemKey = tuple[str, str]  # (content hash, prompt)


@dataclass(frozen=True)
class WorkItem:
    """One unique (video content, prompt) to score; ``path`` is one file holding that content."""

    content_hash: str
    prompt: str
    path: Path
    total_frames: int | None = None
    fps: float | None = None

    @property
    def key(self) -> ItemKey:
        return (self.content_hash, self.prompt)


@dataclass
class ScoringStats:
    """Where the time went. ``decode_wait_s`` is time the model loop sat waiting for a decoded clip (ideally ~0)."""

    n_items: int = 0
    n_cached: int = 0  # (item, model) scores found in the store
    n_scored: int = 0  # (item, model) scores computed
    n_decoded: int = 0  # clips decoded (one per video and sampling group)
    model_calls: int = 0
    decode_s: float = 0.0  # summed over worker threads
    prepare_s: float = 0.0  # models' prepare(clip) in the worker threads, summed over them
    decode_wait_s: float = 0.0
    model_s: float = 0.0
    store_s: float = 0.0
    preflight_s: float = 0.0
    wall_s: float = 0.0

    def merge(self, other: "ScoringStats") -> "ScoringStats":
        merged = ScoringStats()
        for name in self.__dataclass_fields__:
            if name == "wall_s":
                merged.wall_s = max(self.wall_s, other.wall_s)
            else:
                setattr(merged, name, getattr(self, name) + getattr(other, name))
        return merged


@dataclass
class EngineOutput:
    #: model name -> item key -> {dimension: score}
    scores: dict[str, dict[ItemKey, Scores]]
    #: content hash -> why decoding it failed (a file that passed pre-flight can still be truncated)
    failures: dict[str, str] = field(default_factory=dict)
    stats: ScoringStats = field(default_factory=ScoringStats)


@dataclass
class _Group:
    sampling: Sampling | None  # None: models that need no frames
    models: list[RewardModel]


def _groups(models: Sequence[RewardModel]) -> list[_Group]:
    groups: dict[Sampling | None, _Group] = {}
    for model in models:
        key = model.sampling if model.needs_frames else None
        groups.setdefault(key, _Group(key, [])).models.append(model)
    return list(groups.values())


def prefetch(
    fn: Callable[[T], R], inputs: Iterable[T], num_workers: int, depth: int
) -> Iterator[tuple[T, R | BaseException, float]]:
    """``fn`` over ``inputs`` in worker threads, at most ``depth`` results ahead of the consumer, in input order.

    Yields (input, result or the exception it raised, seconds the consumer waited for it). The bound keeps memory flat:
    decoded clips are large, and the model only needs the next batch.
    """

    def timed(x: T) -> tuple[R | BaseException, float]:
        start = time.perf_counter()
        try:
            out: R | BaseException = fn(x)
        except Exception as exc:  # handed to the consumer, which decides whether a bad file is fatal
            out = exc
        return out, time.perf_counter() - start

    if num_workers <= 0:
        for x in inputs:
            out, spent = timed(x)
            yield x, out, spent  # inline decoding: the model waits for all of it
        return
    pool = ThreadPoolExecutor(max_workers=num_workers, thread_name_prefix="videobench-decode")
    pending: deque[tuple[T, Future]] = deque()
    source = iter(inputs)
    try:
        for x in source:
            pending.append((x, pool.submit(timed, x)))
            if len(pending) >= depth:
                break
        while pending:
            x, future = pending.popleft()
            start = time.perf_counter()
            out, _ = future.result()
            waited = time.perf_counter() - start
            nxt = next(source, _END)
            if nxt is not _END:
                pending.append((nxt, pool.submit(timed, nxt)))  # type: ignore[arg-type]
            yield x, out, waited
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


_END = object()


class _ModelState:
    def __init__(self, model: RewardModel, fingerprint: str) -> None:
        self.model = model
        self.fingerprint = fingerprint
        self.sampling_key = model.sampling.key()
        self.missing: set[ItemKey] = set()


def _check_output(model: RewardModel, out: object, n: int) -> dict[str, np.ndarray]:
    where = f"reward model {model.name!r}"
    if not isinstance(out, dict):
        raise ModelOutputError(f"{where}: score() must return a dict {{dimension: array}}, got {type(out).__name__}")
    missing = [d for d in model.dimensions if d not in out]
    if missing:
        raise ModelOutputError(
            f"{where}: score() returned the dimension(s) {sorted(map(str, out))} but declares "
            f"{list(model.dimensions)}; {missing} are missing (return one array per declared dimension, or declare "
            "the ones it returns)")
    arrays = {}
    for dim in model.dimensions:
        try:
            arr = np.asarray(out[dim], dtype=np.float64).reshape(-1)
        except (TypeError, ValueError) as exc:
            raise ModelOutputError(f"{where}: score()[{dim!r}] is not an array of numbers ({exc})") from None
        if arr.shape[0] != n:
            raise ModelOutputError(f"{where}: score() returned {arr.shape[0]} {dim!r} values for {n} items")
        arrays[dim] = arr
    return arrays


def run_scoring(
    items: Sequence[WorkItem],
    models: Sequence[RewardModel],
    *,
    store: ScoreStore | None,
    io: VideoIO,
    batch_size: int = 8,
    num_workers: int = 2,
    progress: Callable[[int], None] | None = None,
    fingerprints: dict[str, str] | None = None,
) -> EngineOutput:
    """Score every item with every model; items already in ``store`` are read, the rest computed and stored per batch.

    ``progress(n)`` is called with the number of items finished (cached items count at once).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    wall = time.perf_counter()
    stats = ScoringStats(n_items=len(items))
    out = EngineOutput(scores={m.name: {} for m in models}, stats=stats)
    fingerprints = fingerprints or {m.name: m.fingerprint() for m in models}
    states = {m.name: _ModelState(m, fingerprints[m.name]) for m in models}
    keys = [item.key for item in items]

    t0 = time.perf_counter()
    for state in states.values():
        wanted = list(keys)
        cached: dict[ItemKey, Scores] = {}
        if store is not None:
            by_hash = {(h, prompt_hash(p)): (h, p) for h, p in wanted}
            found = store.get_many(state.fingerprint, state.sampling_key, by_hash)
            cached = {by_hash[k]: v for k, v in found.items()}
        # A store row written by an older adapter version may lack a dimension: recompute it then.
        cached = {k: v for k, v in cached.items() if all(d in v for d in state.model.dimensions)}
        out.scores[state.model.name].update(cached)
        state.missing = set(wanted) - set(cached)
        stats.n_cached += len(cached)
    stats.store_s += time.perf_counter() - t0

    groups = _groups(models)
    todo = {id(g): [it for it in items if any(it.key in states[m.name].missing for m in g.models)] for g in groups}
    remaining: dict[ItemKey, int] = {}
    for g in groups:
        for it in todo[id(g)]:
            remaining[it.key] = remaining.get(it.key, 0) + 1
    if progress is not None and len(items) > len(remaining):
        progress(len(items) - len(remaining))  # fully cached items are done before any work starts
    finished: set[ItemKey] = set()

    for group in groups:
        work = todo[id(group)]
        if not work:
            continue
        # Decode each video once per group, then score it with every prompt it is paired with.
        by_video: dict[str, list[WorkItem]] = {}
        for item in work:
            by_video.setdefault(item.content_hash, []).append(item)
        videos = [prompts[0] for prompts in by_video.values()]

        def load(item: WorkItem, sampling: Sampling | None = group.sampling) -> Clip:
            if sampling is None:
                return Clip(
                    path=str(item.path), content_hash=item.content_hash, source_fps=item.fps,
                    total_frames=item.total_frames,
                )
            start = time.perf_counter()
            clip = io.load_clip(item.path, sampling, item.content_hash)
            stats.decode_s += time.perf_counter() - start  # float += under the GIL: good enough for a statistic
            start = time.perf_counter()
            _prepare(clip, group.models)
            stats.prepare_s += time.perf_counter() - start
            return clip

        workers = num_workers if group.sampling is not None else 0
        batch: list[tuple[Clip, WorkItem]] = []
        for video, clip, waited in prefetch(load, videos, workers, depth=max(batch_size, 1) + max(workers, 1) * 2):
            stats.decode_wait_s += waited
            if isinstance(clip, BaseException):
                if not isinstance(clip, (ValueError, OSError)):
                    raise clip
                reason = str(clip)
                out.failures[video.content_hash] = reason if str(video.path) in reason else f"{video.path}: {reason}"
                for item in by_video[video.content_hash]:
                    _finish(item.key, remaining, finished, progress)
                continue
            if group.sampling is not None:
                stats.n_decoded += 1
            for item in by_video[video.content_hash]:
                batch.append((clip, item))
                if len(batch) >= batch_size:
                    _score_batch(batch, group, states, store, out, stats)
                    for _, done in batch:
                        _finish(done.key, remaining, finished, progress)
                    batch = []
        if batch:
            _score_batch(batch, group, states, store, out, stats)
            for _, done in batch:
                _finish(done.key, remaining, finished, progress)
    stats.wall_s = time.perf_counter() - wall
    return out


def _prepare(clip: Clip, models: Sequence[RewardModel]) -> None:
    """Per-clip work a model offers to do ahead (``prepare(clip)``: resize, patchify), in the decoding thread, so it
    overlaps the model's previous batch instead of running on the scoring thread."""
    for model in models:
        prepare = getattr(model, "prepare", None)
        if prepare is None:
            continue
        try:
            prepare(clip)
        except Exception:  # noqa: BLE001  score() redoes this work on the scoring thread and reports the error there
            pass


def _finish(
    key: ItemKey, remaining: dict[ItemKey, int], finished: set[ItemKey], progress: Callable[[int], None] | None
) -> None:
    # An item counts as done when every sampling group that needed it has scored it.
    remaining[key] -= 1
    if remaining[key] == 0 and key not in finished:
        finished.add(key)
        if progress is not None:
            progress(1)


def _score_batch(
    batch: list[tuple[Clip, WorkItem]],
    group: _Group,
    states: dict[str, _ModelState],
    store: ScoreStore | None,
    out: EngineOutput,
    stats: ScoringStats,
) -> None:
    rows: list[tuple[str, str, str, str, Scores]] = []
    for model in group.models:
        state = states[model.name]
        todo = [(clip, item) for clip, item in batch if item.key in state.missing]
        if not todo:
            continue
        start = time.perf_counter()
        raw = model.score([clip for clip, _ in todo], [item.prompt for _, item in todo])
        stats.model_s += time.perf_counter() - start
        stats.model_calls += 1
        arrays = _check_output(model, raw, len(todo))
        for i, (_, item) in enumerate(todo):
            scores = {dim: float(arrays[dim][i]) for dim in model.dimensions}
            out.scores[model.name][item.key] = scores
            state.missing.discard(item.key)
            rows.append((state.fingerprint, state.sampling_key, item.content_hash, prompt_hash(item.prompt), scores))
        stats.n_scored += len(todo)
    if store is not None and rows:
        start = time.perf_counter()
        store.put_batch(rows)  # one transaction per batch: what a killed run finished stays finished
        stats.store_s += time.perf_counter() - start
        fault_point("scoring:batch-stored")
