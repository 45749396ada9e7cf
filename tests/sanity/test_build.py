"""The sanity benchmark: the recipe's labels, a real (small) build, determinism, loading, the cache, the card."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from videobench.sanity import build as B
from videobench.sanity.recipe import DIMENSIONS, MQ_LEVELS, VQ_LEVELS, make_plan, overall, pair_table
from videobench.sanity.sources import SOURCE_CLIPS


REPO = Path(__file__).resolve().parents[2]


def _table(plan=None) -> pd.DataFrame:
    plan = plan or make_plan()
    return pair_table(plan, {v.path: (25.0, 50) for v in plan.videos})


def _level(condition: str) -> int:
    """Strength of a condition name: clean 0, blur-2 2, noise-2b 2, real 0 / distorted 1 are handled by callers."""
    return 0 if condition in ("clean", "twin") else int(condition.split("-")[1].rstrip("b"))


def test_plan_size_and_ids() -> None:
    plan = make_plan()
    assert 300 <= len(plan.pairs) <= 500
    ids = [p.pair_id for p in plan.pairs]
    assert len(set(ids)) == len(ids)
    assert len({v.path for v in plan.videos}) == len(plan.videos)
    subsets = {p.subset for p in plan.pairs}
    assert {f"vq-{k}" for k in VQ_LEVELS} | {f"mq-{k}" for k in MQ_LEVELS} <= subsets
    assert {"ta-swap", "tie-twin", "tie-vq-noise", "tie-mq-jitter", "tie-mq-shuffle", "vq-real"} <= subsets


def test_labels_follow_the_construction() -> None:
    table = _table()
    for row in table.itertuples():
        labels = {d: getattr(row, f"label_{d}") for d in DIMENSIONS}
        assert row.label_Overall == overall(labels)
        kind = row.subset.split("-")[0]
        if kind in ("vq", "mq") and row.subset != "vq-real":
            dim = kind.upper()
            others = [d for d in DIMENSIONS if d != dim]
            assert all(labels[d] == 0 for d in others), row.pair_id
            # The less degraded side wins its dimension.
            expected = np.sign(_level(row.generator_B) - _level(row.generator_A))
            assert labels[dim] == expected != 0, row.pair_id
        elif row.subset == "vq-real":
            assert labels == {"VQ": 1 if row.video_A.endswith("pristine.mp4") else -1, "MQ": 0, "TA": 0}
        elif row.subset == "ta-swap":
            own = f"videos/{row.source_clip}/clean.mp4"
            assert labels["VQ"] == labels["MQ"] == 0
            assert labels["TA"] == (1 if row.video_A == own else -1)
            other = row.video_B if row.video_A == own else row.video_A
            source = {c.clip_id: c.source for c in SOURCE_CLIPS}
            assert source[other.split("/")[1]] != source[row.source_clip]
        else:
            assert row.subset.startswith("tie-") and all(v == 0 for v in labels.values()) and row.label_Overall == 0
            if row.subset != "tie-twin":
                assert row.generator_A.rstrip("b") == row.generator_B.rstrip("b")
                assert row.generator_A != row.generator_B


def test_prompts_are_the_clip_captions() -> None:
    caption = {c.clip_id: c.caption for c in SOURCE_CLIPS}
    table = _table()
    own = table[table.subset != "vq-real"]
    assert (own.prompt == own.source_clip.map(caption)).all()


def test_ab_order_is_randomised_but_seeded() -> None:
    table = _table()
    decided = table[table.label_Overall != 0]
    share_a = (decided.label_Overall == 1).mean()
    assert 0.4 < share_a < 0.6
    for subset, rows in decided.groupby("subset"):
        if len(rows) >= 20:
            assert 0.25 < (rows.label_Overall == 1).mean() < 0.75, subset
    assert _table().equals(table)  # a second plan is identical


def test_small_build_layout_and_labels_on_real_files(small_build: Path, small_bench) -> None:
    manifest = json.loads((small_build / B.MANIFEST).read_text())
    assert manifest["version"] == B.SANITY_VERSION
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((small_build / name).read_bytes()).hexdigest() == digest
    pairs = small_bench.pairs
    assert small_bench.dimensions == ("VQ", "MQ", "TA", "Overall")
    assert set(pairs.columns) >= {"pair_id", "prompt", "video_A", "video_B", "subset", "label_Overall"}
    assert all(pairs[f"label_{d}"].dtype == np.int8 for d in small_bench.dimensions)
    for side in ("A", "B"):
        assert all(small_bench.video_path(v).is_file() for v in pairs[f"video_{side}"])
    twins = pairs[pairs.subset == "tie-twin"]
    for a, b in zip(twins.video_A, twins.video_B):
        assert (small_build / a).read_bytes() == (small_build / b).read_bytes()
    real = pairs[pairs.subset == "vq-real"]
    assert len(real) == 1 and real.num_frames_A.iloc[0] == 120


def test_vq_labels_agree_with_distance_from_the_clean_clip(small_build: Path, small_bench) -> None:
    """On decoded files, the side labelled worse on VQ is further (lower PSNR) from the clean clip."""
    from videobench.rewards.base import Sampling
    from videobench.video import load_clip

    cache: dict[str, np.ndarray] = {}

    def frames(rel: str) -> np.ndarray:
        if rel not in cache:
            clip = load_clip(small_build / rel, Sampling(fps=None, num_frames=60))
            cache[rel] = clip.frames.numpy().astype(np.float64)
        return cache[rel]

    clean = frames("videos/carphone-0/clean.mp4")

    def psnr(rel: str) -> float:
        mse = ((frames(rel) - clean) ** 2).mean()
        return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)

    rows = small_bench.pairs[small_bench.pairs.subset.str.startswith("vq-") & (small_bench.pairs.subset != "vq-real")]
    assert len(rows) == 24
    for row in rows.itertuples():
        better, worse = (row.video_A, row.video_B) if row.label_VQ == 1 else (row.video_B, row.video_A)
        assert psnr(better) > psnr(worse), row.pair_id


def test_build_is_deterministic(small_build: Path, small_clips: tuple, tmp_path: Path) -> None:
    """Rendering again gives byte-identical videos (random ones included) and an identical table."""
    from videobench.sanity.sources import decode_canvases, source_fps

    clip = small_clips[0]
    plan = make_plan(small_clips)
    canvas = decode_canvases(small_clips)[clip.clip_id]
    again = [v for v in plan.videos if v.condition in ("clean", "noise-3", "jitter-2b", "shuffle-3", "blocky-3")]
    assert len(again) == 5
    for spec in again:
        out = tmp_path / spec.path
        B.encode_h264(out, B.render(spec, clip, canvas), source_fps(clip.source))
        assert out.read_bytes() == (small_build / spec.path).read_bytes(), spec.path
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    _table().to_parquet(first, index=False)
    _table().to_parquet(second, index=False)
    assert first.read_bytes() == second.read_bytes()


def test_datasets_loads_the_folder(small_build: Path, tmp_path: Path) -> None:
    import datasets

    cache = str(tmp_path / "hf-cache")  # a fresh datasets cache: never a stale table from an earlier run
    rows = len(pd.read_parquet(small_build / B.TABLE_PATH))
    folder = datasets.load_dataset(str(small_build), split="test", cache_dir=cache)
    assert folder.num_rows == rows and "subset" in folder.column_names
    parquet = datasets.load_dataset("parquet", data_files=str(small_build / B.TABLE_PATH), split="train",
                                    cache_dir=cache)
    assert parquet.num_rows == rows
    assert sorted(folder["pair_id"]) == sorted(parquet["pair_id"])


def test_videobench_loads_the_folder_as_a_benchmark(small_build: Path, small_bench) -> None:
    from videobench.data.registry import load_benchmark

    bench = load_benchmark(str(small_build))
    mine = small_bench.pairs.set_index("pair_id")
    theirs = bench.pairs.set_index("pair_id").loc[mine.index]
    for d in small_bench.dimensions:
        assert (theirs[f"label_{d}"].to_numpy() == mine[f"label_{d}"].to_numpy()).all()


def test_out_folder_is_not_overwritten_by_accident(small_clips: tuple, tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not empty"):
        B.build_sanity(tmp_path, clips=small_clips)
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_cache_is_built_once_atomically(small_clips: tuple, one_pair_plan, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from videobench.sanity import load_sanity_benchmark, sanity_loader
    from videobench.data.benchmark import BenchmarkError

    monkeypatch.setattr(B, "SOURCE_CLIPS", small_clips)
    monkeypatch.setattr(B, "make_plan", one_pair_plan)

    def crash(folder: Path, plan, clips, progress: bool = False) -> None:
        (folder / "videos").mkdir()
        (folder / "videos" / "half.mp4").write_bytes(b"x")
        raise KeyboardInterrupt

    real_write = B._write_into
    monkeypatch.setattr(B, "_write_into", crash)
    with pytest.raises(KeyboardInterrupt):
        load_sanity_benchmark(tmp_path)
    assert list(tmp_path.iterdir()) == []  # no half-built cache, no temporary folder left

    monkeypatch.setattr(B, "_write_into", real_write)
    monkeypatch.setenv(B.CACHE_ENV, str(tmp_path))
    bench = load_sanity_benchmark()
    folder = tmp_path / f"sanity-v{B.SANITY_VERSION}"
    assert bench.root == folder.resolve() and len(bench) == 1
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]
    stamp = (folder / B.MANIFEST).stat().st_mtime_ns
    monkeypatch.setattr(B, "_write_into", crash)  # a second load must not build again
    assert len(sanity_loader(None, cache_dir=tmp_path)) == len(bench)
    assert (folder / B.MANIFEST).stat().st_mtime_ns == stamp
    with pytest.raises(BenchmarkError, match="version"):
        sanity_loader("v0", cache_dir=tmp_path)


def test_the_card_in_the_repository_matches_the_recipe() -> None:
    from videobench.sanity.card import card_text

    text = card_text()
    assert "labels come from construction, not from people" in text
    assert "path: data/test.parquet" in text
    card = REPO / "datasets_cards" / "videobench-sanity" / "README.md"
    assert card.read_text(encoding="utf-8") == text, "regenerate: python -m videobench.sanity.card > " + str(card)
