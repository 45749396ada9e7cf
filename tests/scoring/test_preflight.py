"""Pre-flight: every missing or corrupt video is named in one error before any scoring; skip_unreadable accounting."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from fakes import CountingModel, PixelModel

from videobench.data.benchmark import PairBenchmark, PathEscapeError
from videobench.scoring import PreflightError, score_benchmark


@pytest.fixture
def broken_bench(clip_dir, tmp_path):
    root = tmp_path / "videos"
    shutil.copytree(clip_dir, root)
    (root / "garbage.mp4").write_bytes(b"this is not a video at all" * 10)
    data = (root / "v01.mp4").read_bytes()
    (root / "truncated.mp4").write_bytes(data[: len(data) // 3])
    pairs = pd.DataFrame([
        {"pair_id": "ok1", "prompt": "x", "video_A": "v02.mp4", "video_B": "v03.mp4"},
        {"pair_id": "ok2", "prompt": "y", "video_A": "v02.mp4", "video_B": "v04.mp4"},
        {"pair_id": "bad_missing", "prompt": "x", "video_A": "v02.mp4", "video_B": "nope/missing.mp4"},
        {"pair_id": "bad_garbage", "prompt": "x", "video_A": "garbage.mp4", "video_B": "v03.mp4"},
        {"pair_id": "bad_trunc", "prompt": "z", "video_A": "v05.mp4", "video_B": "truncated.mp4"},
        {"pair_id": "bad_dir", "prompt": "z", "video_A": "v05.mp4", "video_B": "nope"},
    ])
    (root / "nope").mkdir()
    return PairBenchmark(name="broken", pairs=pairs, dimensions=("Overall",), root=root)


BAD = {"nope/missing.mp4", "garbage.mp4", "truncated.mp4", "nope"}


def test_all_failures_listed_together_before_any_scoring(broken_bench, tmp_path):
    model = CountingModel()
    with pytest.raises(PreflightError) as info:
        score_benchmark(broken_bench, [model], cache_dir=tmp_path / "c", show_progress=False)
    assert set(info.value.failures) == BAD
    message = str(info.value)
    for video in BAD:
        assert f"{video}:" in message
    assert "file not found" in info.value.failures["nope/missing.mp4"]
    assert "4 of 8 videos" in message and "--skip-unreadable" in message
    assert model.calls == []  # nothing scored


@pytest.mark.parametrize("model_cls", [CountingModel, PixelModel])
def test_skip_unreadable_reports_excluded_videos_and_pairs(broken_bench, tmp_path, model_cls):
    model = model_cls()
    tables = score_benchmark(broken_bench, [model], cache_dir=tmp_path / "c", skip_unreadable=True, show_progress=False)
    assert set(tables.unreadable) == BAD
    assert tables.excluded_pair_ids == ["bad_dir", "bad_garbage", "bad_missing", "bad_trunc"]
    for dim in model.dimensions:
        assert tables.excluded_pairs(model.name, dim) == tables.excluded_pair_ids
    table = tables[model.name]
    assert not set(table.video) & BAD
    assert set(zip(table.video, table.prompt)) == {
        ("v02.mp4", "x"), ("v03.mp4", "x"), ("v02.mp4", "y"), ("v04.mp4", "y"), ("v05.mp4", "z")
    }


def test_truncated_file_that_passes_probe_fails_at_decode(clip_dir, tmp_path):
    # Cut the tail of a file whose index sits at the front: the header probes fine, the frames do not decode.
    from videobench.video import write_video, probe
    import numpy as np

    root = tmp_path / "v"
    root.mkdir()
    frames = np.random.default_rng(0).integers(0, 255, size=(24, 64, 64, 3), dtype=np.uint8)
    path = write_video(root / "cut.mp4", frames, fps=6, faststart=True)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.5)])
    shutil.copy(clip_dir / "v01.mp4", root / "v01.mp4")
    probe(path)  # the premise: the header still probes fine with either decoder (checked for PyAV and torchcodec)
    pairs = pd.DataFrame([{"pair_id": "p", "prompt": "x", "video_A": "cut.mp4", "video_B": "v01.mp4"}])
    bench = PairBenchmark("cut", pairs, ("Overall",), root=root)
    with pytest.raises(PreflightError, match="(?s)decoding: 1 of 2.*cut.mp4.*truncated"):
        score_benchmark(bench, [PixelModel()], cache_dir=tmp_path / "c", show_progress=False)
    tables = score_benchmark(bench, [PixelModel()], cache_dir=tmp_path / "c", show_progress=False, skip_unreadable=True)
    assert list(tables.unreadable) == ["cut.mp4"] and tables.excluded_pair_ids == ["p"]


def test_paths_escaping_the_root_are_refused(clip_dir, tmp_path):
    pairs = pd.DataFrame([{"pair_id": "p", "prompt": "x", "video_A": "../../etc/passwd", "video_B": "v01.mp4"}])
    bench = PairBenchmark("esc", pairs, ("Overall",), root=clip_dir)
    with pytest.raises(PathEscapeError, match="passwd"):
        score_benchmark(bench, [CountingModel()], cache_dir=tmp_path / "c", skip_unreadable=True, show_progress=False)


def test_check_benchmark_before_loading_models_is_not_repeated(broken_bench, tmp_path):
    from fakes import CountingIO

    from videobench.scoring import check_benchmark, clear_check_cache
    from videobench.scoring.videoio import DefaultVideoIO

    class ProbeCounter(CountingIO):
        probes = 0

        def probe(self, path):
            ProbeCounter.probes += 1
            return super().probe(path)

    clear_check_cache()
    with pytest.raises(PreflightError):
        check_benchmark(broken_bench, video_io=ProbeCounter(DefaultVideoIO()))
    checks = check_benchmark(broken_bench, skip_unreadable=True, video_io=ProbeCounter(DefaultVideoIO()))
    assert {v for v, c in checks.items() if not c.ok} == BAD
    before = ProbeCounter.probes
    score_benchmark(broken_bench, [CountingModel()], cache_dir=tmp_path / "c", skip_unreadable=True,
                    show_progress=False, video_io=ProbeCounter(DefaultVideoIO()))
    assert ProbeCounter.probes - before == 2  # only garbage.mp4 and truncated.mp4 (failed before) are probed again


def test_store_remembers_checks_of_unchanged_files(clip_dir, tmp_path):
    from fakes import CountingIO

    from videobench.scoring import clear_check_cache, score_items
    from videobench.scoring.videoio import DefaultVideoIO
    from videobench.video import content_hash

    class ProbeLog(CountingIO):
        def __init__(self):
            super().__init__(DefaultVideoIO())
            self.probed = []

        def probe(self, path):
            self.probed.append(path.name)
            return super().probe(path)

    root = tmp_path / "v"
    shutil.copytree(clip_dir, root)
    items = [(f"v0{i}.mp4", "x") for i in range(4)]
    kwargs = dict(root=root, cache_dir=tmp_path / "c", show_progress=False)
    score_items(items, [CountingModel()], video_io=ProbeLog(), **kwargs)
    clear_check_cache()  # as a new process
    warm = ProbeLog()
    score_items(items, [CountingModel()], video_io=warm, **kwargs)
    assert warm.probed == []
    shutil.copy(clip_dir / "v09.mp4", root / "v02.mp4")  # new content under an old name
    clear_check_cache()
    changed, model = ProbeLog(), CountingModel()
    tables = score_items(items, [model], video_io=changed, **kwargs)
    assert changed.probed == ["v02.mp4"] and len(model.calls) == 1
    hashes = tables["counting"].set_index("video")["content_hash"]
    assert hashes["v02.mp4"] == content_hash(clip_dir / "v09.mp4")
    clear_check_cache()
    uncached = ProbeLog()
    score_items(items, [CountingModel()], video_io=uncached, use_cache=False, root=root, show_progress=False)
    assert sorted(uncached.probed) == [name for name, _ in items]
