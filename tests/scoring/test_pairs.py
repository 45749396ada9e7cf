"""Pairwise judging of a benchmark (videobench/scoring/pairs.py) with a fake judge and hand-built pair tables: which
questions are asked (by content, in each order), what the store keeps, what unreadable videos exclude, and the job
array path (a slice of the sorted questions per job, verdicts read back from the merged rows)."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pandas as pd
import pytest
from fakes import CountingPairJudge, item_score

from videobench.data.benchmark import PairBenchmark
from videobench.scoring import PreflightError
from videobench.scoring.pairs import judge_benchmark_pairs, judge_pair_shard, verdicts_from_shards
from videobench.video import content_hash


def _bench(root, rows) -> PairBenchmark:
    pairs = pd.DataFrame([{"pair_id": pid, "video_A": a, "video_B": b, "prompt": p, "label_Overall": 1}
                          for pid, a, b, p in rows])
    return PairBenchmark(name="hand", pairs=pairs, dimensions=("Overall",), root=root)


def _rule(root, first: str, second: str, prompt: str) -> float:
    """The fake judge's verdict worked out here from the files: +1 when the first shown scores higher."""
    a, b = (item_score(content_hash(root / v), prompt, "Overall") for v in (first, second))
    return 1.0 if a > b else -1.0


#: p3 shows the same two files as p0 in the other order with the same prompt (its AB question is p0's BA question);
#: p4 shows copy_of_v00 (v00's bytes) against v01 under p0's prompt: the same question as p0 by content.
ROWS = [("p0", "v00.mp4", "v01.mp4", "a cat"), ("p1", "v02.mp4", "v03.mp4", "a dog"),
        ("p2", "v01.mp4", "v02.mp4", "a cat"), ("p3", "v01.mp4", "v00.mp4", "a cat"),
        ("p4", "copy_of_v00.mp4", "v01.mp4", "a cat")]


def test_each_question_is_asked_once_by_content_and_read_back_for_a(clip_dir, cache):
    bench = _bench(clip_dir, ROWS)
    judge = CountingPairJudge()
    got = judge_benchmark_pairs(bench, judge, orders=("AB", "BA"), cache_dir=cache, batch_size=2,
                                show_progress=False)
    h = {v: content_hash(clip_dir / v) for v in ("v00.mp4", "v01.mp4", "v02.mp4", "v03.mp4")}
    # distinct (first, second, prompt) by content: v00|v01 cat, v01|v00 cat, v02|v03 dog, v03|v02 dog, v01|v02 cat,
    # v02|v01 cat; p3 and p4 add nothing
    asked = sorted(judge.calls)
    assert asked == sorted([(h["v00.mp4"], h["v01.mp4"], "a cat"), (h["v01.mp4"], h["v00.mp4"], "a cat"),
                            (h["v02.mp4"], h["v03.mp4"], "a dog"), (h["v03.mp4"], h["v02.mp4"], "a dog"),
                            (h["v01.mp4"], h["v02.mp4"], "a cat"), (h["v02.mp4"], h["v01.mp4"], "a cat")])
    assert (got.n_questions, got.n_asked, got.n_cached) == (6, 6, 0)
    assert got.orders == ("AB", "BA") and got.excluded_pair_ids == [] and got.unreadable == {}
    ab = [_rule(clip_dir, a, b, p) for _, a, b, p in ROWS]
    ba = [_rule(clip_dir, b, a, p) for _, a, b, p in ROWS]
    assert got.verdicts["AB"]["Overall"].tolist() == ab and got.verdicts["BA"]["Overall"].tolist() == ba
    assert ab[3] == -ab[0] and ab[4] == ab[0]  # p3 is p0 turned round, p4 is p0 by content

    # batches of 2, in the order the questions first appear: AB of p0, p1, p2, then BA of p0, p1, p2
    assert judge.calls[:2] == [(h["v00.mp4"], h["v01.mp4"], "a cat"), (h["v02.mp4"], h["v03.mp4"], "a dog")]

    again_judge = CountingPairJudge()
    again = judge_benchmark_pairs(bench, again_judge, orders=("AB", "BA"), cache_dir=cache, show_progress=False)
    assert again_judge.calls == [] and (again.n_questions, again.n_asked, again.n_cached) == (6, 0, 6)
    assert again.verdicts["AB"]["Overall"].tolist() == ab
    # one order only: the AB questions, all stored already
    one = judge_benchmark_pairs(bench, CountingPairJudge(), cache_dir=cache, show_progress=False)
    assert one.orders == ("AB",) and list(one.verdicts) == ["AB"]
    assert (one.n_questions, one.n_asked, one.n_cached) == (4, 0, 4)  # p0/p4 share one question; p3 is p0's BA


def test_without_a_store_everything_is_asked_and_nothing_is_kept(clip_dir, tmp_path):
    bench = _bench(clip_dir, ROWS[:2])
    for _ in range(2):
        judge = CountingPairJudge()
        got = judge_benchmark_pairs(bench, judge, use_cache=False, cache_dir=tmp_path / "c", show_progress=False)
        assert len(judge.calls) == 2 and got.n_asked == 2
    assert not (tmp_path / "c").exists()


def test_unreadable_videos_exclude_their_pairs_or_stop_the_run(clip_dir, tmp_path):
    root = tmp_path / "clips"
    shutil.copytree(clip_dir, root)
    (root / "v03.mp4").write_bytes(b"not a video")
    bench = _bench(root, ROWS[:3])
    with pytest.raises(PreflightError, match="v03.mp4"):
        judge_benchmark_pairs(bench, CountingPairJudge(), use_cache=False, show_progress=False)
    judge = CountingPairJudge()
    got = judge_benchmark_pairs(bench, judge, orders=("AB", "BA"), use_cache=False, skip_unreadable=True,
                                show_progress=False)
    from videobench.scoring import check_benchmark

    why = check_benchmark(bench, skip_unreadable=True)["v03.mp4"].error  # what pre-flight says, asked directly
    assert why and got.excluded_pair_ids == ["p1"] and got.unreadable == {"v03.mp4": why}
    assert len(judge.calls) == 4  # p0 and p2, both orders
    verdicts = got.verdicts["AB"]["Overall"]
    assert math.isnan(verdicts[1]) and verdicts[0] == _rule(root, "v00.mp4", "v01.mp4", "a cat")


def test_a_verdict_the_judge_could_not_give_stays_nan(clip_dir):
    class Unsure(CountingPairJudge):
        def judge_pairs(self, first, second, prompts):
            out = super().judge_pairs(first, second, prompts)
            return {"Overall": np.where(np.array([p == "a dog" for p in prompts]), np.nan, out["Overall"])}

    got = judge_benchmark_pairs(_bench(clip_dir, ROWS[:3]), Unsure(), use_cache=False, show_progress=False)
    v = got.verdicts["AB"]["Overall"]
    assert not math.isnan(v[0]) and math.isnan(v[1]) and not math.isnan(v[2])


@pytest.mark.parametrize("orders", [(), ("XY",), ("AB", "ab")])
def test_unknown_orders_are_refused(clip_dir, orders):
    with pytest.raises(ValueError, match=r"^orders must be among \('AB', 'BA'\), got "):
        judge_benchmark_pairs(_bench(clip_dir, ROWS[:1]), CountingPairJudge(), orders=orders, use_cache=False)


def test_job_array_slices_cover_the_sorted_questions_once_and_merge_to_the_same_verdicts(clip_dir, tmp_path):
    bench = _bench(clip_dir, ROWS)
    # by name (what shard rows record): p0 and p4 are different questions here, p3's AB is p0's BA
    shown = sorted({(f"{a}|{b}", p) for _, a, b, p in ROWS} | {(f"{b}|{a}", p) for _, a, b, p in ROWS})
    assert len(shown) == 8
    tables, judges = [], []
    for index in range(3):
        judge = CountingPairJudge()
        part = judge_pair_shard(bench, judge, num_shards=3, shard_index=index, orders=("AB", "BA"), use_cache=False,
                                show_progress=False)
        judges.append(judge)
        assert part.shard == (index, 3) and list(part) == ["pair-judge"]
        assert part.fingerprints == {"pair-judge": "counting-pair-judge-v1"}
        assert part.dimensions == {"pair-judge": ("Overall",)}
        table = part["pair-judge"]
        assert list(table.columns) == ["video", "prompt", "content_hash", "Overall"]
        tables.append(table)
    # contiguous near-equal slices of the sorted questions: 3 + 3 + 2
    assert [list(zip(t["video"], t["prompt"])) for t in tables] == [shown[:3], shown[3:6], shown[6:]]
    # shard 0 holds copy_of_v00|v01 and v00|v01 (same bytes, same prompt): one question by content, asked once
    assert [len(j.calls) for j in judges] == [2, 3, 2]
    first = tables[0].iloc[0]
    assert first["content_hash"] == f"{content_hash(clip_dir / 'copy_of_v00.mp4')}|{content_hash(clip_dir / 'v01.mp4')}"
    assert first["Overall"] == _rule(clip_dir, "copy_of_v00.mp4", "v01.mp4", "a cat")

    merged = pd.concat(tables, ignore_index=True)
    back = verdicts_from_shards(bench, merged, ["Overall"], ("AB", "BA"), [])
    whole = judge_benchmark_pairs(bench, CountingPairJudge(), orders=("AB", "BA"), use_cache=False,
                                  show_progress=False)
    for order in ("AB", "BA"):
        assert back.verdicts[order]["Overall"].tolist() == whole.verdicts[order]["Overall"].tolist()
    assert back.n_questions == 8 and back.orders == ("AB", "BA") and back.unreadable == {}

    # a pair the shards excluded (unreadable) reads NaN; a pair they never answered is an error naming it
    excluded = verdicts_from_shards(bench, merged[merged["video"] != "v02.mp4|v03.mp4"], ["Overall"], ("AB",), ["p1"])
    assert math.isnan(excluded.verdicts["AB"]["Overall"][1]) and excluded.excluded_pair_ids == ["p1"]
    with pytest.raises(ValueError, match=r"^the shards hold no answer for pair p1 shown AB \(v02\.mp4 first\): were "
                                         r"they made with the same judge options \(swap\) and benchmark\?$"):
        verdicts_from_shards(bench, merged[merged["video"] != "v02.mp4|v03.mp4"], ["Overall"], ("AB",), [])
    with pytest.raises(ValueError, match=r"shown BA \(v03\.mp4 first\)"):
        verdicts_from_shards(bench, merged[merged["video"] != "v03.mp4|v02.mp4"], ["Overall"], ("AB", "BA"), [])


def test_a_shard_records_what_pre_flight_excluded(clip_dir, tmp_path):
    root = tmp_path / "clips"
    shutil.copytree(clip_dir, root)
    (root / "v03.mp4").write_bytes(b"not a video")
    part = judge_pair_shard(_bench(root, ROWS[:3]), CountingPairJudge(), num_shards=2, shard_index=1,
                            use_cache=False, skip_unreadable=True, show_progress=False)
    assert part.excluded_pair_ids == ["p1"] and list(part.unreadable) == ["v03.mp4"]
    # AB questions of the readable pairs p0 and p2, sorted: v00|v01, v01|v02; shard 1 of 2 holds the second
    assert part["pair-judge"]["video"].tolist() == ["v01.mp4|v02.mp4"]


# ------------------------------------------------------------------------------------------- the video reader, decoding


class MarkedIO:
    """Reads as the default reader does, hashes as ``io:<sha>`` (so a content key shows which reader hashed it) and
    counts every clip it decodes, per file name."""

    def __init__(self, fail_on: str | None = None) -> None:
        from videobench.scoring import DefaultVideoIO

        self.inner, self.fail_on, self.loads = DefaultVideoIO(), fail_on, []

    def probe(self, path):
        return self.inner.probe(path)

    def content_hash(self, path):
        return "io:" + self.inner.content_hash(path)

    def load_clip(self, path, sampling, content_hash):
        if path.name == self.fail_on:
            raise ValueError("truncated stream")
        self.loads.append(path.name)
        return self.inner.load_clip(path, sampling, content_hash)


class FramesJudge(CountingPairJudge):
    """A judge that needs frames: +1 when the first shown video is brighter; records what it was shown."""

    needs_frames = True

    def __init__(self) -> None:
        super().__init__("frames-judge")
        self.shown: list[tuple[str, str, tuple[int, ...], float]] = []

    def judge_pairs(self, first, second, prompts):
        for a in (*first, *second):
            self.shown.append((a.path, a.content_hash, tuple(a.frames.shape), float(a.frames.float().mean())))
        return {"Overall": np.array([1.0 if a.frames.float().mean() > b.frames.float().mean() else -1.0
                                     for a, b in zip(first, second)])}


def test_a_judge_that_needs_frames_gets_them_decoded_by_the_given_reader(clip_dir):
    from videobench.video import load_clip

    io, judge = MarkedIO(), FramesJudge()
    got = judge_benchmark_pairs(_bench(clip_dir, ROWS[:2]), judge, video_io=io, use_cache=False, show_progress=False)
    assert io.loads == ["v00.mp4", "v01.mp4", "v02.mp4", "v03.mp4"]
    path, key, shape, mean = judge.shown[0]
    reference = load_clip(clip_dir / "v00.mp4", judge.sampling)  # the default sampling, read here independently
    assert path == str(clip_dir / "v00.mp4") and key == "io:" + content_hash(clip_dir / "v00.mp4")
    assert shape == tuple(reference.frames.shape) and mean == pytest.approx(float(reference.frames.float().mean()))
    brighter = [float(load_clip(clip_dir / v, judge.sampling).frames.float().mean()) for v in ("v00.mp4", "v01.mp4")]
    assert got.verdicts["AB"]["Overall"][0] == (1.0 if brighter[0] > brighter[1] else -1.0)


def test_a_judge_that_needs_no_frames_gets_the_file_and_nothing_is_decoded(clip_dir):
    io, shown = MarkedIO(), []

    class FileJudge(CountingPairJudge):
        def judge_pairs(self, first, second, prompts):
            shown.extend((c.path, c.frames) for c in (*first, *second))
            return super().judge_pairs(first, second, prompts)

    judge_benchmark_pairs(_bench(clip_dir, ROWS[:1]), FileJudge(), video_io=io, use_cache=False, show_progress=False)
    assert io.loads == [] and shown == [(str(clip_dir / "v00.mp4"), None), (str(clip_dir / "v01.mp4"), None)]


def test_decoded_videos_are_kept_for_the_next_questions_four_per_batch_item(clip_dir):
    # batch_size 1 keeps 4 clips, the least recently used one dropped. Worked by hand:
    # q1 v00|v01 -> [v00 v01]; q2 v02|v03 -> [v00 v01 v02 v03]; q3 v00|v04: v00 kept and made recent
    # -> [v01 v02 v03 v00], v04 drops v01 -> [v02 v03 v00 v04]; q4 v01|v02: v01 decoded again (drops v02), v02 again.
    rows = [("q1", "v00.mp4", "v01.mp4", "p"), ("q2", "v02.mp4", "v03.mp4", "p"), ("q3", "v00.mp4", "v04.mp4", "p"),
            ("q4", "v01.mp4", "v02.mp4", "p")]
    io = MarkedIO()
    judge_benchmark_pairs(_bench(clip_dir, rows), FramesJudge(), video_io=io, batch_size=1, use_cache=False,
                          show_progress=False)
    assert io.loads == ["v00.mp4", "v01.mp4", "v02.mp4", "v03.mp4", "v04.mp4", "v01.mp4", "v02.mp4"]


def test_a_video_that_passed_pre_flight_but_does_not_decode_names_itself(clip_dir):
    with pytest.raises(PreflightError) as caught:
        judge_benchmark_pairs(_bench(clip_dir, ROWS[:2]), FramesJudge(), video_io=MarkedIO(fail_on="v03.mp4"),
                              use_cache=False, show_progress=False)
    assert caught.value.failures == {str(clip_dir / "v03.mp4"): "truncated stream"}
    assert str(caught.value).startswith(f"decoding: 1 of 4 videos cannot be read:\n  {clip_dir / 'v03.mp4'}: "
                                        "truncated stream\n")


# ------------------------------------------------------------------------------------------------ store and defaults


def test_answers_are_stored_under_the_judges_fingerprint_and_a_pairwise_sampling_key(clip_dir, cache):
    from videobench.rewards.base import Sampling
    from videobench.scoring import ScoreStore, prompt_hash

    judge_benchmark_pairs(_bench(clip_dir, ROWS[:1]), CountingPairJudge(), cache_dir=cache, show_progress=False)
    key = f"{content_hash(clip_dir / 'v00.mp4')}|{content_hash(clip_dir / 'v01.mp4')}"
    store = ScoreStore(cache)
    try:
        found = store.get_many("counting-pair-judge-v1", Sampling().key() + ";pairwise",
                               {(key, prompt_hash("a cat")): None})
        as_scores = store.get_many("counting-pair-judge-v1", Sampling().key(), {(key, prompt_hash("a cat")): None})
    finally:
        store.close()
    assert found == {(key, prompt_hash("a cat")): {"Overall": _rule(clip_dir, "v00.mp4", "v01.mp4", "a cat")}}
    assert as_scores == {}  # a per-video score of the same key can never be read as a verdict, nor the reverse


def test_by_default_the_store_is_used_where_videobench_cache_points(clip_dir, tmp_path, monkeypatch, capsys):
    import inspect

    monkeypatch.setenv("VIDEOBENCH_CACHE", str(tmp_path / "default-cache"))
    bench = _bench(clip_dir, ROWS[:3])
    judge = CountingPairJudge()
    batches = []
    judge.judge_pairs = lambda f, s, p, inner=judge.judge_pairs: batches.append(len(p)) or inner(f, s, p)
    got = judge_benchmark_pairs(bench, judge, orders=("AB", "BA"))
    assert batches == [6]  # one batch of the default 8
    assert (tmp_path / "default-cache").is_dir() and got.n_asked == 6 and 0 < got.wall_s < 60
    err = capsys.readouterr().err
    assert "judging: 100%" in err and "6/6" in err and "pair" in err  # the progress bar is on by default
    again = judge_benchmark_pairs(bench, CountingPairJudge(), orders=("AB", "BA"), show_progress=False)
    assert again.n_asked == 0 and capsys.readouterr().err == ""
    shard = judge_pair_shard(bench, CountingPairJudge(), num_shards=1, shard_index=0)  # the store again
    assert len(shard["pair-judge"]) == 3 and "judging: 0pair" in capsys.readouterr().err
    for fn in (judge_benchmark_pairs, judge_pair_shard):
        assert inspect.signature(fn).parameters["num_workers"].default == 2  # threads for pre-flight only


def test_a_shard_reads_and_writes_the_given_store(clip_dir, cache):
    bench = _bench(clip_dir, ROWS[:2])
    judge_pair_shard(bench, CountingPairJudge(), num_shards=2, shard_index=0, cache_dir=cache, show_progress=False)
    judge = CountingPairJudge()
    whole = judge_benchmark_pairs(bench, judge, cache_dir=cache, show_progress=False)
    assert (whole.n_cached, whole.n_asked) == (1, 1)  # the shard's question came from the store
    no_store = CountingPairJudge()
    judge_pair_shard(bench, no_store, num_shards=2, shard_index=0, cache_dir=cache, use_cache=False,
                     show_progress=False)
    assert len(no_store.calls) == 1
    with pytest.raises(PreflightError):  # like judge_benchmark_pairs: an unreadable video stops a shard by default
        root = cache.parent / "broken"
        shutil.copytree(clip_dir, root)
        (root / "v01.mp4").write_bytes(b"x")
        judge_pair_shard(_bench(root, ROWS[:1]), CountingPairJudge(), num_shards=1, shard_index=0, use_cache=False)


def test_a_run_killed_after_a_stored_batch_resumes_from_it(clip_dir, tmp_path):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    bench = _bench(clip_dir, ROWS[:3])
    bench.pairs.to_json(tmp_path / "pairs.json")
    script = f"""
import sys, pandas as pd
sys.path.insert(0, {str(Path(__file__).parent)!r})
from fakes import CountingPairJudge
from videobench.data.benchmark import PairBenchmark
from videobench.scoring.pairs import judge_benchmark_pairs
bench = PairBenchmark(name="hand", pairs=pd.read_json({str(tmp_path / 'pairs.json')!r}), dimensions=("Overall",),
                      root={str(clip_dir)!r})
judge_benchmark_pairs(bench, CountingPairJudge(), cache_dir={str(tmp_path / 'cache')!r}, batch_size=2,
                      show_progress=False)
"""
    env = {**os.environ, "VIDEOBENCH_FAULT": "scoring:batch-stored"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 137, done.stderr[-2000:]
    judge = CountingPairJudge()
    got = judge_benchmark_pairs(bench, judge, cache_dir=tmp_path / "cache", show_progress=False)
    assert (got.n_cached, got.n_asked) == (2, 1)  # the first batch of 2 was stored before the kill
    assert json.dumps(got.verdicts["AB"]["Overall"].tolist()) == json.dumps(
        [_rule(clip_dir, a, b, p) for _, a, b, p in ROWS[:3]])
