"""Pairwise judging of a benchmark: a judge that sees both videos of a pair and gives a verdict, cached and resumable
like per-video scores.

A question is (first-shown video, second-shown video, prompt); order ``AB`` shows the benchmark's A first, ``BA``
shows B first (position-bias runs ask both). Questions are deduplicated by content (the BA question of pair (x, y) is
the AB question of pair (y, x)) and stored in the ``ScoreStore`` under the judge's fingerprint with the key
``"<hash first>|<hash second>"``, one transaction per batch: a killed run keeps every finished batch. In a cluster
job array each job asks a slice of the sorted questions (``judge_pair_shard``) and the merge reads the verdicts back
(``verdicts_from_shards``).
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
from videobench.scoring.api import ScoreTables
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


@dataclass(frozen=True)
class _Question:
    """One question: the two videos in the order shown, as the benchmark writes them (``shown``, what shard files
    record) and by content (``key``, what the score store records: pairs showing the same files share an answer)."""

    shown: str
    key: str
    prompt: str


@dataclass
class _Plan:
    """What pre-flight allows to ask: ``asked[(order, pair row)]`` for the pairs whose videos are readable."""

    io: VideoIO
    checks: dict[str, Any]
    asked: dict[tuple[str, int], _Question]
    readable: list[bool]
    unreadable: dict[str, str]
    excluded_pair_ids: list[str]


def _plan(benchmark: Any, orders: Sequence[str], num_workers: int, skip_unreadable: bool,
          video_io: VideoIO | None) -> _Plan:
    from videobench.scoring.api import check_benchmark

    _check_orders(orders)
    io = video_io or DefaultVideoIO()
    checks = check_benchmark(benchmark, num_workers=num_workers, skip_unreadable=skip_unreadable, video_io=io)
    pairs = benchmark.pairs
    videos_a, videos_b = pairs["video_A"].astype(str).tolist(), pairs["video_B"].astype(str).tolist()
    prompts, ids = pairs["prompt"].astype(str).tolist(), pairs["pair_id"].astype(str).tolist()
    readable = [checks[a].ok and checks[b].ok for a, b in zip(videos_a, videos_b)]
    asked: dict[tuple[str, int], _Question] = {}
    for order in orders:
        for i, (a, b) in enumerate(zip(videos_a, videos_b)):
            if readable[i]:
                first, second = (a, b) if order == "AB" else (b, a)
                asked[order, i] = _Question(f"{first}|{second}", f"{checks[first].content_hash}|"
                                            f"{checks[second].content_hash}", prompts[i])
    return _Plan(io, checks, asked, readable, {v: c.error or "" for v, c in checks.items() if not c.ok},
                 sorted(ids[i] for i, ok in enumerate(readable) if not ok))


def _check_orders(orders: Sequence[str]) -> None:
    if any(o not in ORDERS for o in orders) or not orders:
        raise ValueError(f"orders must be among {ORDERS}, got {list(orders)}")


def _ask(judge: PairJudge, questions: Sequence[_Question], checks: dict[str, Any], io: VideoIO, *,
         cache_dir: str | Path | None, use_cache: bool, batch_size: int,
         show_progress: bool) -> tuple[dict[tuple[str, str], dict[str, float]], int, int]:
    """The judge's answers to ``questions`` by (content key, prompt): stored ones reused, the rest asked in batches
    (one store transaction each). Several processes (``accelerate launch``) each take a fixed share of the questions
    (not of what is left to ask: the ranks read the store at different moments) and every one returns all the
    answers; an error on one stops them all. Returns the answers, how many came from the store and how many were
    asked."""
    from videobench.scoring.distributed import current_process, gather_results, split

    proc = current_process()
    share = split(list(dict.fromkeys((q.key, q.prompt) for q in questions)), proc.world_size, proc.rank)
    shares = gather_results(lambda: _ask_share(judge, share, checks, io, cache_dir=cache_dir, use_cache=use_cache,
                                               batch_size=batch_size, show_progress=show_progress and proc.is_main),
                            proc)
    return ({q: a for answers, _, _ in shares for q, a in answers.items()}, sum(s[1] for s in shares),
            sum(s[2] for s in shares))


def _ask_share(judge: PairJudge, wanted: Sequence[tuple[str, str]], checks: dict[str, Any], io: VideoIO, *,
               cache_dir: str | Path | None, use_cache: bool, batch_size: int,
               show_progress: bool) -> tuple[dict[tuple[str, str], dict[str, float]], int, int]:
    from tqdm.auto import tqdm

    path_of = {c.content_hash: c.path for c in checks.values() if c.ok}
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
                try:  # a served judge sent file bytes or paths decodes on its side: no frames needed here
                    clips[content_hash] = io.load_clip(path, judge.sampling, content_hash) \
                        if getattr(judge, "needs_frames", True) else Clip(str(path), content_hash)
                except (ValueError, OSError) as exc:  # passed pre-flight, yet does not decode (truncated)
                    raise PreflightError({str(path): str(exc)}, n_videos=len(checks), stage="decoding") from None
                if len(clips) > 4 * batch_size:
                    clips.popitem(last=False)
            clips.move_to_end(content_hash)
            return clips[content_hash]

        with tqdm(total=len(todo), unit="pair", desc="judging", disable=not show_progress, dynamic_ncols=True) as bar:
            for start in range(0, len(todo), batch_size):
                batch = todo[start:start + batch_size]
                shown = [[clip(h) for h in key.split("|")] for key, _ in batch]
                raw = judge.judge_pairs([a for a, _ in shown], [b for _, b in shown], [prompt for _, prompt in batch])
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
    return answers, n_cached, len(todo)


def _verdicts(pairs: Any, orders: Sequence[str], dimensions: Sequence[str], readable: Sequence[bool],
              answer: Any) -> dict[str, dict[str, np.ndarray]]:
    """``verdicts[order][dim]`` in pair row order, ``answer(order, row)`` giving a readable pair's answer."""
    verdicts: dict[str, dict[str, np.ndarray]] = {}
    for order in orders:
        table = {d: np.full(len(pairs), math.nan) for d in dimensions}
        for i in range(len(pairs)):
            if readable[i]:
                got = answer(order, i)
                for d in dimensions:
                    table[d][i] = got[d]
        verdicts[order] = table
    return verdicts


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
    started = time.perf_counter()
    plan = _plan(benchmark, orders, num_workers, skip_unreadable, video_io)
    answers, n_cached, n_asked = _ask(judge, list(plan.asked.values()), plan.checks, plan.io, cache_dir=cache_dir,
                                      use_cache=use_cache, batch_size=batch_size, show_progress=show_progress)

    def answer(order: str, i: int) -> dict[str, float]:
        question = plan.asked[order, i]
        return answers[question.key, question.prompt]

    verdicts = _verdicts(benchmark.pairs, orders, judge.dimensions, plan.readable, answer)
    return PairVerdicts(tuple(orders), verdicts, plan.unreadable, plan.excluded_pair_ids, n_questions=len(answers),
                        n_cached=n_cached, n_asked=n_asked, wall_s=time.perf_counter() - started)


def judge_pair_shard(
    benchmark: Any,
    judge: PairJudge,
    *,
    num_shards: int,
    shard_index: int,
    orders: Sequence[str] = ("AB",),
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
    batch_size: int = 8,
    num_workers: int = 2,
    skip_unreadable: bool = False,
    show_progress: bool = True,
    video_io: VideoIO | None = None,
) -> ScoreTables:
    """One job's slice of a pairwise judge's questions (a cluster job array): the sorted questions of every order,
    the ``shard_index``-th of ``num_shards`` contiguous slices, asked (stored answers reused) and returned as a
    ``ScoreTables`` of one table named after the judge, ready for ``write_shard``: one row per question, ``video``
    the two videos in the order shown (``"first|second"``, as the benchmark writes them), ``prompt``,
    ``content_hash`` (``"hash|hash"``) and one verdict column per dimension (+1 the first shown is better)."""
    import pandas as pd

    from videobench.scoring.distributed import split

    plan = _plan(benchmark, orders, num_workers, skip_unreadable, video_io)
    mine = split(sorted(set(plan.asked.values()), key=lambda q: (q.shown, q.prompt)), num_shards, shard_index)
    answers, _, _ = _ask(judge, mine, plan.checks, plan.io, cache_dir=cache_dir, use_cache=use_cache,
                         batch_size=batch_size, show_progress=show_progress)
    table = pd.DataFrame({"video": [q.shown for q in mine], "prompt": [q.prompt for q in mine],
                          "content_hash": [q.key for q in mine],
                          **{d: np.array([answers[q.key, q.prompt][d] for q in mine], dtype=np.float64)
                             for d in judge.dimensions}})
    result = ScoreTables({judge.name: table})
    result.fingerprints[judge.name] = judge.fingerprint()
    result.dimensions[judge.name] = tuple(judge.dimensions)
    result.unreadable, result.excluded_pair_ids = plan.unreadable, plan.excluded_pair_ids
    result.shard = (shard_index, num_shards)
    return result


def verdicts_from_shards(benchmark: Any, table: Any, dimensions: Sequence[str], orders: Sequence[str],
                         excluded_pair_ids: Sequence[str]) -> PairVerdicts:
    """The verdicts of a judge's merged shard table (``judge_pair_shard``'s rows of every shard): no video is opened
    and nothing is asked. A pair left out of the shards (not among ``excluded_pair_ids``) is a ``ValueError``."""
    _check_orders(orders)
    pairs = benchmark.pairs
    excluded = set(map(str, excluded_pair_ids))
    ids = pairs["pair_id"].astype(str).tolist()
    readable = [pid not in excluded for pid in ids]
    values = table.set_index(["video", "prompt"])[list(dimensions)]
    found = {key: dict(zip(dimensions, row)) for key, row in zip(values.index, values.to_numpy(dtype=np.float64))}
    videos_a, videos_b = pairs["video_A"].astype(str).tolist(), pairs["video_B"].astype(str).tolist()
    prompts = pairs["prompt"].astype(str).tolist()

    def answer(order: str, i: int) -> dict[str, float]:
        first, second = (videos_a[i], videos_b[i]) if order == "AB" else (videos_b[i], videos_a[i])
        got = found.get((f"{first}|{second}", prompts[i]))
        if got is None:
            raise ValueError(f"the shards hold no answer for pair {ids[i]} shown {order} ({first} first): were they "
                             "made with the same judge options (swap) and benchmark?")
        return got

    verdicts = _verdicts(pairs, orders, dimensions, readable, answer)
    return PairVerdicts(tuple(orders), verdicts, {}, sorted(excluded & set(ids)), n_questions=len(found))
