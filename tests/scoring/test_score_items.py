"""Dedupe, store hits, shared decoding and cache keys of the scoring engine, on real H.264 files."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest
from fakes import DIMS, CountingIO, CountingModel, PixelModel, item_score

from videobench.rewards.base import Sampling
from videobench.scoring import ScoreStore, score_benchmark, score_items
from videobench.scoring.videoio import DefaultVideoIO


def unique_items(bench):
    p = bench.pairs
    return set(zip(p.video_A, p.prompt)) | set(zip(p.video_B, p.prompt))


def test_each_unique_item_scored_once(bench, cache):
    model = CountingModel()
    tables = score_benchmark(bench, [model], cache_dir=cache, batch_size=4, show_progress=False)
    expected = unique_items(bench)
    assert len(model.calls) == len(set(model.calls)) == len(expected) < 2 * len(bench)
    table = tables["counting"]
    assert list(table.columns) == ["video", "prompt", "content_hash", *DIMS]
    assert set(zip(table.video, table.prompt)) == expected
    for row in table.itertuples():
        assert row.VQ == pytest.approx(item_score(row.content_hash, row.prompt, "VQ"))
    assert all(b <= 4 for b in model.batches)


def test_identical_files_share_one_score(clip_dir, cache):
    model = CountingModel()
    items = [("v00.mp4", "a cat"), ("copy_of_v00.mp4", "a cat"), ("v00.mp4", "a dog")]
    tables = score_items(items, [model], root=clip_dir, cache_dir=cache, show_progress=False)
    assert len(model.calls) == 2  # same bytes + same prompt: once; another prompt: again
    t = tables["counting"]
    assert len(t) == 3 and t.loc[0, "VQ"] == t.loc[1, "VQ"] != t.loc[2, "VQ"]


def test_rerun_hits_store_and_no_cache_bypasses_it(bench, cache):
    first = score_benchmark(bench, [CountingModel()], cache_dir=cache, show_progress=False)
    again = CountingModel()
    second = score_benchmark(bench, [again], cache_dir=cache, show_progress=False)
    assert again.calls == []
    assert second.stats.n_cached == len(unique_items(bench)) and second.stats.n_scored == 0
    pd.testing.assert_frame_equal(first["counting"], second["counting"])

    fresh = CountingModel()
    score_benchmark(bench, [fresh], cache_dir=cache, use_cache=False, show_progress=False)
    assert len(fresh.calls) == len(unique_items(bench))
    other = CountingModel(salt="v2")  # another fingerprint: nothing cached for it
    score_benchmark(bench, [other], cache_dir=cache, show_progress=False)
    assert len(other.calls) == len(unique_items(bench))


def test_models_with_equal_sampling_share_decoded_clips(bench, cache):
    io = CountingIO(DefaultVideoIO())
    a, b = PixelModel("a"), PixelModel("b")
    c = PixelModel("c", sampling=Sampling(fps=None, num_frames=4))
    tables = score_benchmark(bench, [a, b, c, CountingModel()], cache_dir=cache, show_progress=False, video_io=io)
    n_videos = len(set(bench.pairs.video_A) | set(bench.pairs.video_B))
    by_sampling = pd.Series([s for _, s in io.loads]).value_counts()
    # one decode per video per sampling, however many models and prompts use it
    expected = {Sampling(fps=2.0).key(): n_videos, Sampling(fps=None, num_frames=4).key(): n_videos}
    assert by_sampling.to_dict() == expected
    assert set(c.frame_counts) == {4} and set(a.frame_counts) == {4}  # 12 frames at 6 fps -> 2 s -> 4 frames at 2 fps
    pd.testing.assert_frame_equal(tables["a"], tables["b"])
    assert np.isfinite(tables["a"][["VQ", "MQ"]].to_numpy()).all()


def test_sampling_is_part_of_the_cache_key(bench, cache):
    score_benchmark(bench, [PixelModel(sampling=Sampling(fps=2.0))], cache_dir=cache, show_progress=False)
    other = PixelModel(sampling=Sampling(fps=1.0))
    score_benchmark(bench, [other], cache_dir=cache, show_progress=False)
    assert len(other.calls) == len(unique_items(bench))  # same fingerprint, other sampling: a miss
    with ScoreStore(cache) as store:
        assert store.count("pixel-v1") == 2 * len(unique_items(bench))
    assert Sampling(fps=2.0).key() != Sampling(fps=1.0).key() != Sampling(fps=1.0, max_pixels=448 * 448).key()


def test_partial_store_scores_only_the_rest(bench, cache):
    items = sorted(unique_items(bench))
    score_items(items[:10], [CountingModel()], root=bench.root, cache_dir=cache, show_progress=False)
    model = CountingModel()
    tables = score_items(items, [model], root=bench.root, cache_dir=cache, show_progress=False)
    assert len(model.calls) == len(items) - 10 and len(tables["counting"]) == len(items)


def test_decoding_runs_ahead_of_the_model(bench, cache):
    # Counted events, no clocks: the model's first batch blocks until a decode BEYOND that batch has started. With
    # decode workers that happens while the model waits; inline, no decode can start while the model holds the loop.
    import threading

    import torch

    from videobench.rewards.base import Clip

    class CountingLoadsIO(CountingIO):
        def __init__(self, inner):
            super().__init__(inner)
            self.lock, self.started, self.fifth_started = threading.Lock(), 0, threading.Event()

        def load_clip(self, path, sampling, content_hash):
            with self.lock:
                self.started += 1
                if self.started >= 5:
                    self.fifth_started.set()
            self.loads.append((str(path), sampling.key()))
            return Clip(path=str(path), content_hash=content_hash, frames=torch.zeros(4, 8, 8, 3, dtype=torch.uint8))

    class FirstBatchWaits(PixelModel):
        def __init__(self, io, wait_s):
            super().__init__()
            self.io, self.wait_s, self.seen = io, wait_s, None

        def score(self, clips, prompts):
            if self.seen is None:  # first batch: 2 clips decoded; does a 5th decode start while we wait?
                self.seen = (self.io.fifth_started.wait(self.wait_s), self.io.started)
            return super().score(clips, prompts)

    kwargs = dict(cache_dir=cache, use_cache=False, batch_size=2, show_progress=False)
    io = CountingLoadsIO(DefaultVideoIO())
    ahead = FirstBatchWaits(io, wait_s=60.0)  # only a broken prefetch ever waits this long
    tables = score_benchmark(bench, [ahead], num_workers=2, video_io=io, **kwargs)
    assert ahead.seen[0] and ahead.seen[1] >= 5 and tables.stats.n_decoded == 10
    io = CountingLoadsIO(DefaultVideoIO())
    inline = FirstBatchWaits(io, wait_s=0.2)  # inline the event cannot be set: the wait always times out
    tables = score_benchmark(bench, [inline], num_workers=0, video_io=io, **kwargs)
    assert inline.seen[0] is False and inline.seen[1] <= 2 and tables.stats.n_decoded == 10  # only the first batch


def test_prepare_runs_in_the_decoding_threads_and_a_failing_prepare_is_left_to_score(bench, cache):
    """A model's optional ``prepare(clip)`` runs once per decoded clip in a decoding thread, before ``score`` gets the
    clip; when it raises, ``score`` still gets the clip (it redoes the work and reports any error itself)."""
    import threading

    class Preparing(PixelModel):
        def __init__(self, fail: bool) -> None:
            super().__init__(name=f"preparing-{fail}")
            self.fail, self.prepared_in = fail, []

        def prepare(self, clip):
            self.prepared_in.append(threading.current_thread().name)
            if self.fail:
                raise ValueError("cannot prepare")
            clip.meta[self.name] = "prepared"

        def score(self, clips, prompts):
            assert all((self.name in c.meta) != self.fail for c in clips)
            return super().score(clips, prompts)

    good, bad = Preparing(fail=False), Preparing(fail=True)
    tables = score_benchmark(bench, [good, bad], cache_dir=cache, use_cache=False, batch_size=2, num_workers=2,
                             show_progress=False)
    n_videos = tables.stats.n_decoded
    assert len(good.prepared_in) == len(bad.prepared_in) == n_videos  # once per decode, shared by both models
    assert all(name.startswith("videobench-decode") for name in good.prepared_in)
    assert len(good.calls) == len(bad.calls) == len(unique_items(bench))
    np.testing.assert_array_equal(tables[good.name]["VQ"], tables[bad.name]["VQ"])


def test_bad_model_output_is_named(bench, cache):
    class Short(CountingModel):
        def score(self, clips, prompts):
            out = super().score(clips, prompts)
            return {d: v[:-1] for d, v in out.items()}

    with pytest.raises(ValueError, match="'short'.*values for"):
        score_benchmark(bench, [Short(name="short")], cache_dir=cache, show_progress=False)
    with pytest.raises(ValueError, match="unique"):
        score_benchmark(bench, [CountingModel(), CountingModel()], cache_dir=cache, show_progress=False)


def test_nan_scores_round_trip_and_exclude_pairs_per_dimension(bench, cache):
    class Partial(CountingModel):
        def score(self, clips, prompts):
            out = super().score(clips, prompts)
            out["TA"] = np.where([c.content_hash == first_hash for c in clips], np.nan, out["TA"])
            return out

    from videobench.video import content_hash

    first_hash = content_hash(bench.root / "v00.mp4")
    for _ in range(2):  # computed, then read back from the store
        tables = score_benchmark(bench, [Partial(name="partial")], cache_dir=cache, show_progress=False)
        uses_v00 = bench.pairs[(bench.pairs.video_A == "v00.mp4") | (bench.pairs.video_B == "v00.mp4")]
        assert tables.excluded_pairs("partial", "TA") == sorted(uses_v00.pair_id)
        assert tables.excluded_pairs("partial", "VQ") == []
