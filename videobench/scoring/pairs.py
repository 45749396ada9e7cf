"""Pairwise judging of a benchmark: a judge that sees both videos of a pair and gives a verdict, cached and resumable
like per-video scores.

A question is (first-shown video, second-shown video, prompt); order ``AB`` shows the benchmark's A first, ``BA``
shows B first (position-bias runs ask both). Questions are deduplicated by content (the BA question of pair (x, y) is
the AB question of pair (y, x)) and stored in the ``ScoreStore`` under the judge's fingerprint with the key
``"<hash first>|<hash second>"``, one transaction per batch: a killed run keeps every finished batch.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, Sequence

import numpy as np

from videobench.faults import fault_point
from videobench.rewards.base import Clip, Sampling
from videobench.scoring.preflight import PreflightError
from videobench.scoring.store import ScoreStore, default_cache_dir, prompt_hash
from videobench.scoring.videoio import DefaultVideoIO, VideoIO

ORDERS = ("AB", "BA")


class PairJudge(Protocol):
    name: str
    dimensions: tuple[str, ...]
    sampling: Sampling

    def fingerprint(self) -> str: ...

    def judge_pairs(self, first: Sequence[Clip], second: Sequence[Clip], prompts: Sequence[str]) -> dict[str, Any]:
        """Per dimension: +1 the first-shown video is better, -1 the second, 0 a tie, NaN no parseable verdict."""
        ...


@dataclass
class PairVerdicts:
    """The verdicts of one judge on a benchmark's pairs, in benchmark row order.

    ``verdicts[order][dim]``: as the judge gave them, relative to the FIRST-shown video (+1: first better). NaN where
    the answer did not parse or the pair has an unreadable video (those are listed in ``excluded_pair_ids``).
    """

    orders: tuple[str, ...]
    verdicts: dict[str, dict[str, np.ndarray]]
    unreadable: dict[str, str] = field(default_factory=dict)
    excluded_pair_ids: list[str] = field(default_factory=list)
    n_questions: int = 0
    n_cached: int = 0
    n_asked: int = 0
    wall_s: float = 0.0


def _question(order: str, hash_a: str, hash_b: str, prompt: str) -> tuple[str, str]:
    return (f"{hash_a}|{hash_b}" if order == "AB" else f"{hash_b}|{hash_a}", prompt)


def judge_benchmark_pairs(
    benchmark: Any,
    judge: PairJudge,
    *,
    orders: Sequence[str] = ("AB",),
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
    batch_size: int = 8,
    num_workers: int = 2,
    skip_unreadable: bool = False,
    show_progress: bool = True,
    video_io: VideoIO | None = None,
) -> PairVerdicts:
    """Ask ``judge`` about every pair of ``benchmark`` in each of ``orders``; stored answers are reused."""
    from tqdm.auto import tqdm

    from videobench.scoring.api import check_benchmark

    started = time.perf_counter()
    if any(o not in ORDERS for o in orders) or not orders:
        raise ValueError(f"orders must be among {ORDERS}, got {list(orders)}")
    io = video_io or DefaultVideoIO()
    checks = check_benchmark(benchmark, num_workers=num_workers, skip_unreadable=skip_unreadable, video_io=io)
    pairs = benchmark.pairs
    videos_a, videos_b = pairs["video_A"].astype(str).tolist(), pairs["video_B"].astype(str).tolist()
    prompts = pairs["prompt"].astype(str).tolist()
    unreadable = {v: c.error or "" for v, c in checks.items() if not c.ok}
    path_of = {c.content_hash: c.path for c in checks.values() if c.ok}

    def readable(i: int) -> bool:
        return videos_a[i] not in unreadable and videos_b[i] not in unreadable

    wanted: dict[tuple[str, str], None] = {}
    for order in orders:
        for i in range(len(pairs)):
            if readable(i):
                wanted[_question(order, checks[videos_a[i]].content_hash or "", checks[videos_b[i]].content_hash or "",
                                 prompts[i])] = None
    fingerprint, sampling_key = judge.fingerprint(), judge.sampling.key() + ";pairwise"
    store = ScoreStore(Path(cache_dir) if cache_dir is not None else default_cache_dir()) if use_cache else None
    answers: dict[tuple[str, str], dict[str, float]] = {}
    try:
        if store is not None:
            by_hash = {(key, prompt_hash(prompt)): (key, prompt) for key, prompt in wanted}
            found = store.get_many(fingerprint, sampling_key, by_hash)
            answers = {by_hash[k]: v for k, v in found.items() if all(d in v for d in judge.dimensions)}
        n_cached = len(answers)
        todo = [q for q in wanted if q not in answers]
        clips: OrderedDict[str, Clip] = OrderedDict()  # decoded videos, the most recent kept (pairs share videos)

        def clip(content_hash: str) -> Clip:
            if content_hash not in clips:
                path = path_of[content_hash]
                # a served judge sent file bytes or paths decodes on its side: no frames needed here
                clips[content_hash] = io.load_clip(path, judge.sampling, content_hash) \
                    if getattr(judge, "needs_frames", True) else Clip(str(path), content_hash)
                if len(clips) > 4 * batch_size:
                    clips.popitem(last=False)
            clips.move_to_end(content_hash)
            return clips[content_hash]

        with tqdm(total=len(todo), unit="pair", desc="judging", disable=not show_progress, dynamic_ncols=True) as bar:
            for start in range(0, len(todo), batch_size):
                batch = todo[start:start + batch_size]
                firsts, seconds = [], []
                for key, _ in batch:
                    first, second = key.split("|")
                    try:
                        firsts.append(clip(first))
                        seconds.append(clip(second))
                    except (ValueError, OSError) as exc:  # passed pre-flight, yet does not decode (truncated)
                        raise PreflightError({str(path_of.get(first)): str(exc)}, n_videos=len(checks),
                                             stage="decoding") from None
                raw = judge.judge_pairs(firsts, seconds, [prompt for _, prompt in batch])
                rows = []
                for k, question in enumerate(batch):
                    values = {d: float(np.asarray(raw[d], dtype=np.float64)[k]) for d in judge.dimensions}
                    answers[question] = values
                    rows.append((fingerprint, sampling_key, question[0], prompt_hash(question[1]), values))
                if store is not None:
                    store.put_batch(rows)  # one transaction per batch: a killed run keeps what it finished
                    fault_point("scoring:batch-stored")
                bar.update(len(batch))
    finally:
        if store is not None:
            store.close()

    verdicts: dict[str, dict[str, np.ndarray]] = {}
    for order in orders:
        table = {d: np.full(len(pairs), math.nan) for d in judge.dimensions}
        for i in range(len(pairs)):
            if readable(i):
                got = answers[_question(order, checks[videos_a[i]].content_hash or "",
                                        checks[videos_b[i]].content_hash or "", prompts[i])]
                for d in judge.dimensions:
                    table[d][i] = got[d]
        verdicts[order] = table
    ids = pairs["pair_id"].astype(str).tolist()
    excluded = sorted(ids[i] for i in range(len(pairs)) if not readable(i))
    return PairVerdicts(tuple(orders), verdicts, unreadable, excluded, n_questions=len(wanted), n_cached=n_cached,
                        n_asked=len(todo), wall_s=time.perf_counter() - started)
