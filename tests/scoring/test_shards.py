"""Job-array shards: slices cover every item once and merged equal a single run; bad shard sets fail clearly."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from fakes import CountingModel, PixelModel

from videobench.scoring import ShardError, merge_shards, score_benchmark, shard_filename
from videobench.scoring.distributed import split


def by_key(table: pd.DataFrame) -> pd.DataFrame:
    return table.sort_values(["video", "prompt"]).reset_index(drop=True)


@given(n=st.integers(0, 200), parts=st.integers(1, 40))
def test_split_is_a_balanced_partition(n, parts):
    seq = list(range(n))
    slices = [split(seq, parts, i) for i in range(parts)]
    assert sum(slices, []) == seq
    assert max(map(len, slices)) - min(map(len, slices)) <= 1


def test_split_refuses_bad_indices():
    with pytest.raises(ValueError, match="outside"):
        split([1, 2], 5, 5)


@pytest.fixture
def shards(bench, tmp_path):
    out = tmp_path / "shards"
    models = [CountingModel(), PixelModel()]
    for i in range(3):
        part = score_benchmark(bench, models, cache_dir=tmp_path / "c", num_shards=3, shard_index=i,
                               shard_dir=out, show_progress=False)
        assert part.shard == (i, 3)
    return out


def test_merged_shards_equal_a_single_run(bench, shards, tmp_path):
    whole = score_benchmark(bench, [CountingModel(), PixelModel()], use_cache=False, show_progress=False)
    merged = merge_shards(shards)
    assert sorted(merged) == sorted(whole)
    for name in whole:
        pd.testing.assert_frame_equal(by_key(merged[name]), by_key(whole[name]))
    assert merged.fingerprints == whole.fingerprints and merged.items_fingerprint == whole.items_fingerprint


def test_missing_duplicated_and_foreign_shards_are_refused(bench, shards, tmp_path):
    (shards / shard_filename(1, 3)).rename(tmp_path / "moved.parquet")
    with pytest.raises(ShardError, match="1 of 3 shards missing.*scores-00001-of-00003"):
        merge_shards(shards)
    shutil.copy(tmp_path / "moved.parquet", shards / shard_filename(1, 3))
    shutil.copy(shards / shard_filename(2, 3), shards / "scores-00002-of-00003-copy.parquet")
    with pytest.raises(ShardError, match="duplicated shards.*shard 2"):
        merge_shards(shards)
    (shards / "scores-00002-of-00003-copy.parquet").unlink()

    other = bench.pairs.copy()
    other.loc[0, "prompt"] = "a different prompt"
    bench.pairs = other
    score_benchmark(bench, [CountingModel(), PixelModel()], use_cache=False, num_shards=3, shard_index=0,
                    shard_dir=tmp_path / "other", show_progress=False)
    shutil.copy(tmp_path / "other" / shard_filename(0, 3), shards / shard_filename(0, 3))
    with pytest.raises(ShardError, match="different runs"):
        merge_shards(shards)
    with pytest.raises(ShardError, match="no score shards"):
        merge_shards(tmp_path / "empty")


def test_shards_carry_their_unreadable_videos(bench, tmp_path):
    pairs = bench.pairs.copy()
    pairs.loc[0, "video_B"] = "missing.mp4"
    bench.pairs = pairs
    for i in range(2):
        score_benchmark(bench, [CountingModel()], use_cache=False, num_shards=2, shard_index=i, skip_unreadable=True,
                        shard_dir=tmp_path / "s", show_progress=False)
    merged = merge_shards(tmp_path / "s")
    assert list(merged.unreadable) == ["missing.mp4"] and merged.excluded_pair_ids == [pairs.loc[0, "pair_id"]]
