"""Loaders for other groups' benchmarks, on small files in exactly their released formats: MJ-Bench-Video's
``test.json``, GenAI-Bench's ``video_generation`` parquet, VideoPhy-2's test CSV, T2VQA-DB's annotation lines and a
generic MOS table. Expected values are written out by hand from the files' rows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from videobench.data import registry
from videobench.data.benchmark import BenchmarkError, PairBenchmark
from videobench.data.mos import MosBenchmark, mos_to_pairs
from videobench.data.registry import load_benchmark

MINI = Path(__file__).resolve().parents[2] / "videobench" / "resources" / "suites" / "mini"


def _mj_record(caption: str, overall: str, fineness: str = "Same", discard: bool = False, v: int = 0) -> dict:
    return {"caption": caption, "video_0_path": f"test/{v}_0.mp4", "video_1_path": f"test/{v}_1.mp4",
            "video_0_label": {"object": 1}, "video_0_overall_score": {"Alignment": 1},
            "video_1_label": {"object": 1}, "video_1_overall_score": {"Alignment": 1},
            "category_preference": {"Alignment": "Same", "Safety": "Same", "Fineness": fineness,
                                    "Coherence & Consistency": "Video 2 better", "Bias": "Same"},
            "overall_preference": overall, "discard": discard, "video_0_total_score": 1, "video_1_total_score": 0}


def test_mjbench_video_maps_video_1_to_a_and_leaves_out_undecided_and_discarded(tmp_path: Path) -> None:
    records = [_mj_record("p0", "Video 1 better", "Video 1 Better", v=0), _mj_record("p1", "Video 2 better", v=1),
               _mj_record("p2", "Same", v=2), _mj_record("p3", "Hard to judge", v=3),
               _mj_record("p4", "Video 1 better", "Hard to judge", v=4), _mj_record("p5", "Same", discard=True, v=5)]
    path = tmp_path / "test.json"
    path.write_text(json.dumps(records, indent=4))
    bench = load_benchmark(path)
    assert isinstance(bench, PairBenchmark)
    assert bench.excluded == {"hard to judge": 2, "discarded by the authors": 1}
    assert list(bench.pairs["prompt"]) == ["p0", "p1", "p2"]
    assert list(bench.labels("Overall")) == [1, -1, 0]
    assert list(bench.labels("Fineness")) == [1, 0, 0]  # "Video 1 Better" (capital B, as released) is A
    assert list(bench.labels("Coherence")) == [-1, -1, -1]
    assert set(bench.dimensions) == {"Overall", "Alignment", "Safety", "Fineness", "Coherence", "Bias"}
    assert list(bench.pairs["video_A"]) == ["test/0_0.mp4", "test/1_0.mp4", "test/2_0.mp4"]
    assert bench.root == (tmp_path / "videos").resolve()


def test_mjbench_video_errors_name_the_record_and_field(tmp_path: Path) -> None:
    bad = [_mj_record("p0", "Video 3 better"), "not a record"]
    path = tmp_path / "test.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(BenchmarkError, match=r"record 2: expected a JSON object"):
        load_benchmark(path)
    path.write_text(json.dumps([_mj_record("p0", "Video 3 better"), _mj_record("", "Same", v=1)]))
    with pytest.raises(BenchmarkError) as err:
        load_benchmark(path)
    text = str(err.value)
    assert "record 1: column 'label_Overall': unknown label value 'Video 3 better'" in text
    assert "record 2: column 'prompt': empty or missing prompt" in text
    path.write_text('{"caption": "not an array"}')
    with pytest.raises(BenchmarkError, match="expected a JSON array"):
        load_benchmark(path, format="mjbench-video")


def test_genai_bench_video_parquet_in_the_released_columns() -> None:
    frame = pd.read_parquet(MINI / "genai-bench-video.parquet")
    assert list(frame.columns) == ["prompt", "left_model", "left_video", "right_model", "right_video", "vote_type"]
    bench = load_benchmark(MINI / "genai-bench-video.parquet")
    assert bench.dimensions == ("Overall",)
    votes = {"leftvote": 1, "rightvote": -1, "tievote": 0, "bothbad_vote": 0}
    assert list(bench.labels("Overall")) == [votes[v] for v in frame["vote_type"]]
    assert list(bench.pairs["generator_B"]) == list(frame["right_model"])


def test_videophy2_csv_is_mos_data_with_urls_mapped_under_videos(tmp_path: Path) -> None:
    path = tmp_path / "videophy2_test.csv"
    path.write_text("caption,video_url,sa,pc,joint,action,is_hard,model_name\n"
                    "a ball bounces,https://host.example/bucket/cogvideo/a.mp4,4,2,0,bouncing,1,cogvideo\n"
                    "a ball bounces,https://host.example/bucket/wan/a.mp4,5,5,1,bouncing,1,wan\n"
                    "water pours,https://host.example/bucket/wan/b.mp4,3,4,0,pouring,0,wan\n")
    bench = load_benchmark(path)
    assert isinstance(bench, MosBenchmark)
    assert bench.dimensions == ("PC", "SA")
    assert list(bench.videos["video"]) == ["videos/bucket/cogvideo/a.mp4", "videos/bucket/wan/a.mp4",
                                           "videos/bucket/wan/b.mp4"]
    assert list(bench.mos("SA")) == [4.0, 5.0, 3.0] and list(bench.mos("PC")) == [2.0, 5.0, 4.0]
    assert list(bench.videos["generator"]) == ["cogvideo", "wan", "wan"]
    assert bench.videos["source_url"][0] == "https://host.example/bucket/cogvideo/a.mp4"

    pairs = mos_to_pairs(bench)  # one prompt has two videos: one pair, A = the earlier row
    assert len(pairs) == 1
    assert pairs.labels("SA").tolist() == [-1] and pairs.labels("PC").tolist() == [-1]
    assert pairs.pairs["mos_A_PC"].tolist() == [2.0] and pairs.pairs["mos_B_PC"].tolist() == [5.0]


def test_mos_errors_list_every_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "videophy2_test.csv"
    path.write_text("caption,video_url,sa,pc,model_name\n"
                    "a,https://h/x/a.mp4,five,2,m\n"
                    ",https://h/x/b.mp4,4,,m\n"
                    "c,../up.mp4,4,4,m\n")
    with pytest.raises(BenchmarkError) as err:
        load_benchmark(path)
    text = str(err.value)
    assert "line 2: column 'sa': not a finite number: 'five'" in text
    assert "line 3: column 'caption': empty or missing prompt" in text
    assert "line 3: column 'pc': missing score" in text
    assert "line 4: column 'video_url': video path escapes the benchmark root" in text


def test_t2vqa_annotation_lines(tmp_path: Path) -> None:
    path = tmp_path / "database_standard.txt"
    path.write_text("videos/0001.mp4|a cat on a sofa|63.25\nvideos/0002.mp4|a dog in snow|41.5\n\n")
    bench = load_benchmark(path)
    assert isinstance(bench, MosBenchmark) and bench.dimensions == ("Overall",)
    assert list(bench.videos["video"]) == ["videos/0001.mp4", "videos/0002.mp4"]
    assert list(bench.mos("Overall")) == [63.25, 41.5]
    path.write_text("videos/0001.mp4|a cat|63.25\nvideos/0002.mp4|a dog|x\nvideos/0003.mp4 only\n")
    with pytest.raises(BenchmarkError, match=r"line 3: 1 '\|'-separated field\(s\), expected 3"):
        load_benchmark(path)
    path.write_text("videos/0001.mp4|a cat|63.25\nvideos/0002.mp4|a dog|x\n")
    with pytest.raises(BenchmarkError, match=r"line 2: column 'mos': not a finite number: 'x'"):
        load_benchmark(path)


def test_generic_mos_table_with_a_column_mapping(tmp_path: Path) -> None:
    path = tmp_path / "ratings.csv"
    path.write_text("clip,text,score,aesthetic\nv/a.mp4,p one,3.5,2\nv/b.mp4,p one,1.0,4\n")
    bench = load_benchmark(path, format="mos", columns="video=clip,prompt=text,mos_Overall=score,mos_Aesthetic=aesthetic")
    assert bench.dimensions == ("Overall", "Aesthetic")
    assert list(bench.mos("Aesthetic")) == [2.0, 4.0]
    path.write_text("video,prompt,mos\nv/a.mp4,p,1\nv/a.mp4,p,2\n")
    with pytest.raises(BenchmarkError, match="line 3: column 'video': repeats the video and prompt of line 2"):
        load_benchmark(path)


def test_mini_files_load_as_their_formats() -> None:
    mj = load_benchmark(MINI / "mjbench-video.json")
    assert len(mj) == 6 and mj.excluded == {"hard to judge": 1}
    assert all((mj.root / v).is_file() for v in [*mj.pairs["video_A"], *mj.pairs["video_B"]])
    for name in ("videophy2_test.csv", "t2vqa.txt"):
        bench = load_benchmark(MINI / name)
        assert isinstance(bench, MosBenchmark) and len(bench) == 12
        assert all((bench.root / v).is_file() for v in bench.videos["video"])


def test_registered_names_read_the_released_hub_layout(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``mjbench-video`` and ``videophy2`` fetch the released files of their dataset repos (a local snapshot here)."""
    import shutil

    from videobench.data import hf

    snap = tmp_path / "snap" / ("0" * 40)
    snap.mkdir(parents=True)
    shutil.copy(MINI / "mjbench-video.json", snap / "test.json")
    shutil.copy(MINI / "videophy2_test.csv", snap / "videophy2_test.csv")
    asked = []
    monkeypatch.setattr(hf, "snapshot_root", lambda repo, rev, allow_patterns=None: asked.append((repo, allow_patterns))
                        or snap)
    mj = load_benchmark("mjbench-video")
    assert mj.name == "mjbench-video" and mj.revision == "0" * 40 and len(mj) == 6
    assert asked[-1] == ("MJ-Bench/MJ-Bench-Video", ["test.json", "README.md"])
    phy = load_benchmark("videophy2")
    assert isinstance(phy, MosBenchmark) and phy.source.endswith("videophysics/videophy2_test/videophy2_test.csv")
    pairs = load_benchmark("videophy2-pairs")
    assert pairs.name == "videophy2-pairs" and len(pairs) == 6 * 1  # six captions, two videos each

    calls = {}
    monkeypatch.setattr(hf, "load_hub_dataset", lambda repo, **kw: calls.update(repo=repo, **kw) or "bench")
    assert load_benchmark("genai-bench-video") == "bench"
    assert calls["repo"] == "TIGER-Lab/GenAI-Bench" and calls["config"] == "video_generation"
    assert calls["split"] == "test_v1" and calls["format"] == "genai-bench"
    assert {"mjbench-video", "videophy2", "videophy2-pairs", "genai-bench-video"} <= set(registry.registered_benchmarks())


def test_mos_to_pairs_labels_by_hand() -> None:
    frame = pd.DataFrame({"item_id": ["a", "b", "c"], "row": [0, 1, 2], "prompt": ["p", "p", "p"],
                          "video": ["a.mp4", "b.mp4", "c.mp4"], "generator": [None] * 3, "source_url": [None] * 3,
                          "mos_Overall": [3.0, 3.0, 4.5]})
    pairs = mos_to_pairs(MosBenchmark("m", frame, ("Overall",)))
    assert pairs.pairs["pair_id"].tolist() == ["a~b", "a~c", "b~c"]
    assert pairs.labels("Overall").tolist() == [0, -1, -1]
    assert np.isnan(pairs.pairs["fps_A"]).all()
