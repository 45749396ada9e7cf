"""Every benchmark loader on files written here, and every bad-input case with its row/column in the error."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from data_helpers import VGRB_HEADER, vgrb_row, write_csv

from videobench.data import (
    BenchmarkError,
    PathEscapeError,
    content_pair_id,
    load_benchmark,
    load_genai_bench,
    load_table_benchmark,
    load_videoalign,
    load_videogen_rewardbench,
    register_benchmark,
)
from videobench.data import registry as registry_module

# VideoAlign's example CSV, kept in the repository with its licence (tests/fixtures/videoalign/SOURCE.md).
SHARED_VIDEOALIGN = Path(__file__).resolve().parents[1] / "fixtures" / "videoalign" / "train_example.csv"


def test_videogen_rewardbench_csv(vgrb_csv: Path) -> None:
    bench = load_videogen_rewardbench(vgrb_csv)
    assert bench.dimensions == ("VQ", "MQ", "TA", "Overall")
    assert len(bench) == 4 and bench.root == vgrb_csv.parent.resolve()
    assert bench.labels("VQ").tolist() == [1, -1, 0, 1]
    assert bench.labels("TA").tolist() == [0, 1, -1, 1]
    assert bench.labels("VQ").dtype == np.int8
    row = bench.pairs.iloc[0]
    assert (row.video_A, row.video_B, row.generator_A, row.generator_B) == (
        "videos/0_a.mp4", "videos/0_b.mp4", "gen-x", "gen-y")
    assert (row.fps_A, row.num_frames_A, row.fps_B, row.num_frames_B) == (24.0, 120.0, 16.0, 64.0)
    assert row.pair_id == content_pair_id("prompt number 0", "videos/0_a.mp4", "videos/0_b.mp4")
    assert bench.excluded == {}
    # auto-detection picks the same preset
    assert load_benchmark(vgrb_csv).pairs.equals(bench.pairs)


def test_videogen_rewardbench_missing_columns_listed(tmp_path: Path) -> None:
    header = [c for c in VGRB_HEADER if c not in ("B_model", "Overall")]
    rows = [[v for c, v in zip(VGRB_HEADER, vgrb_row(0)) if c in header]]
    path = write_csv(tmp_path / "b.csv", header, rows)
    with pytest.raises(BenchmarkError) as err:
        load_videogen_rewardbench(path)
    msg = str(err.value)
    assert str(path) in msg and "'B_model'" in msg and "'Overall'" in msg and "missing column" in msg


def test_pair_ids_are_stable_under_row_order(vgrb_csv: Path, tmp_path: Path) -> None:
    lines = vgrb_csv.read_text().splitlines()
    reordered = tmp_path / "other" / "bench.csv"
    reordered.parent.mkdir()
    reordered.write_text("\n".join([lines[0], *reversed(lines[1:])]) + "\n")
    a = load_benchmark(vgrb_csv).pairs.set_index("pair_id").sort_index()
    b = load_benchmark(reordered).pairs.set_index("pair_id").sort_index()
    pd.testing.assert_frame_equal(a.drop(columns="row"), b.drop(columns="row"))
    # only the recorded file order differs: 4 data rows, reversed
    assert (a["row"] + b["row"]).tolist() == [3] * 4
    assert load_benchmark(vgrb_csv).fingerprint() == load_benchmark(reordered).fingerprint()


def test_videoalign_shared_example_duplicates() -> None:
    with pytest.raises(BenchmarkError) as err:
        load_videoalign(SHARED_VIDEOALIGN)
    msg = str(err.value)
    # All 12 rows are named, grouped by pair: lines 2, 5, 8, 11 repeat one pair.
    assert "lines 2, 5, 8, 11" in msg and "lines 3, 6, 9, 12" in msg and "lines 4, 7, 10, 13" in msg
    assert "dedupe" in msg
    bench = load_videoalign(SHARED_VIDEOALIGN, dedupe=True)
    assert len(bench) == 3 and bench.excluded == {"duplicate_rows": 9}
    assert bench.dimensions == ("VQ", "MQ", "TA")
    # "videos/x" and "./videos/x" are the same file
    assert bench.pairs["video_B"].tolist() == [f"videos/example_{i}_B.mp4" for i in (1, 2, 3)]
    assert bench.pairs["generator_A"].isna().all()
    assert bench.labels("VQ").tolist() == [-1, 0, 1]


def test_videoalign_mos_and_conflicting_duplicates(tmp_path: Path) -> None:
    header = ["path_A", "path_B", "prompt", "VQ", "MQ", "TA", "MOS_A_VQ", "MOS_B_VQ"]
    rows = [["v/a.mp4", "v/b.mp4", "p one", "A", "B", "same", 3.5, 2.0],
            ["v/c.mp4", "v/d.mp4", "p two", "B", "B", "A", "", 4.0],
            ["v/a.mp4", "./v/b.mp4", "p one", "B", "B", "same", 3.5, 2.0]]
    path = write_csv(tmp_path / "train.csv", header, rows)
    with pytest.raises(BenchmarkError) as err:
        load_videoalign(path, dedupe=True)  # dedupe never hides a conflict
    assert "lines 2, 4" in str(err.value) and "different contents" in str(err.value)
    bench = load_videoalign(write_csv(tmp_path / "ok.csv", header, rows[:2]))
    assert bench.pairs["mos_A_VQ"].tolist()[0] == 3.5 and np.isnan(bench.pairs["mos_A_VQ"].tolist()[1])
    assert bench.pairs["mos_B_VQ"].tolist() == [2.0, 4.0]


def test_genai_bench_votes(tmp_path: Path) -> None:
    header = ["prompt", "left_model", "left_video", "right_model", "right_video", "vote_type"]
    rows = [["a cat", "m1", "v/1.mp4", "m2", "v/2.mp4", "leftvote"],
            ["a dog", "m1", "v/3.mp4", "m2", "v/4.mp4", "rightvote"],
            ["a cow", "m1", "v/5.mp4", "m2", "v/6.mp4", "tievote"],
            ["a pig", "m1", "v/7.mp4", "m2", "v/8.mp4", "bothbad_vote"]]
    path = write_csv(tmp_path / "votes.csv", header, rows)
    bench = load_genai_bench(path)
    assert bench.dimensions == ("Overall",)
    assert bench.labels("Overall").tolist() == [1, -1, 0, 0]  # both-bad counts as a tie
    assert bench.pairs["generator_A"].tolist() == ["m1"] * 4
    assert load_benchmark(path).pairs.equals(bench.pairs)  # detected from the header

    rows.append(["a hen", "m1", "v/9.mp4", "m2", "v/10.mp4", "maybe"])
    with pytest.raises(BenchmarkError, match=r"line 6: column 'vote_type': unknown label value 'maybe'"):
        load_genai_bench(write_csv(tmp_path / "bad.csv", header, rows))


def test_generic_with_column_mapping_csv_jsonl_parquet(tmp_path: Path) -> None:
    records = [{"id": 7, "text": "a boat", "left": "x/1.mp4", "right": "x/2.mp4", "vq": 1, "ta": -1},
               {"id": 8, "text": "a tree", "left": "x/3.mp4", "right": "x/4.mp4", "vq": 0, "ta": 1}]
    frame = pd.DataFrame(records)
    frame.to_csv(tmp_path / "g.csv", index=False)
    (tmp_path / "g.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    frame.to_parquet(tmp_path / "g.parquet")
    mapping = "pair_id=id,prompt=text,video_A=left,video_B=right,label_VQ=vq,label_TA=ta"
    loaded = [load_table_benchmark(tmp_path / f"g.{ext}", columns=mapping) for ext in ("csv", "jsonl", "parquet")]
    for bench in loaded:
        assert bench.dimensions == ("VQ", "TA")
        assert bench.pairs["pair_id"].tolist() == ["7", "8"]
        assert bench.labels("VQ").tolist() == [1, 0] and bench.labels("TA").tolist() == [-1, 1]
    assert loaded[0].fingerprint() == loaded[1].fingerprint() == loaded[2].fingerprint()
    # A mapped column that is not in the file is named.
    with pytest.raises(BenchmarkError, match=r"'nope' \(for label_MQ\)"):
        load_table_benchmark(tmp_path / "g.csv", columns=mapping + ",label_MQ=nope")
    with pytest.raises(BenchmarkError, match="unknown contract column"):
        load_table_benchmark(tmp_path / "g.csv", columns="video_C=left")


def test_every_bad_input_is_listed_in_one_error(tmp_path: Path) -> None:
    header = ["pair_id", "prompt", "video_A", "video_B", "label_VQ", "fps_A"]
    rows = [
        ["p1", "fine", "a.mp4", "b.mp4", "A", "24"],  # line 2
        ["p2", "", "a.mp4", "b.mp4", "B", "24"],  # line 3: empty prompt
        ["p3", "x", "a.mp4", "b.mp4", "C", "24"],  # line 4: unknown label
        ["p1", "y", "c.mp4", "d.mp4", "A", "24"],  # line 5: duplicate id with other content
        ["p5", "z", "a.mp4", "b.mp4", "", "24"],  # line 6: missing label
        ["p6", "w", "a.mp4", "b.mp4", "A", "fast"],  # line 7: not a number
        ["", "v", "a.mp4", "", "A", "24"],  # line 8: missing id and video
    ]
    path = write_csv(tmp_path / "bad.csv", header, rows)
    with pytest.raises(BenchmarkError) as err:
        load_table_benchmark(path)
    msg = str(err.value)
    expected = [
        "line 3: column 'prompt': empty or missing prompt",
        "line 4: column 'label_VQ': unknown label value 'C'",
        "lines 2, 5: column 'pair_id': duplicate pair id 'p1' with different contents",
        "line 6: column 'label_VQ': missing label",
        "line 7: column 'fps_A': not a number: 'fast'",
        "line 8: column 'pair_id': missing pair id",
        "line 8: column 'video_B': missing video path",
    ]
    for piece in expected:
        assert piece in msg, (piece, msg)
    assert msg.startswith(str(path))


def test_nan_in_parquet_named_by_row(tmp_path: Path) -> None:
    frame = pd.DataFrame({"prompt": ["a", None, "c"], "video_A": ["1.mp4", "2.mp4", "3.mp4"],
                          "video_B": ["4.mp4", "5.mp4", "6.mp4"], "label_MQ": [1.0, -1.0, np.nan]})
    frame.to_parquet(tmp_path / "t.parquet")
    with pytest.raises(BenchmarkError) as err:
        load_table_benchmark(tmp_path / "t.parquet")
    assert "row 2: column 'prompt'" in str(err.value) and "row 3: column 'label_MQ': missing label" in str(err.value)


def test_line_numbers_follow_multiline_prompts(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text('prompt,video_A,video_B,label_TA\n"two\nlines",a.mp4,b.mp4,A\nok,a.mp4,b.mp4,Q\n')
    with pytest.raises(BenchmarkError, match=r"line 4: column 'label_TA': unknown label value 'Q'"):
        load_table_benchmark(path)


def test_path_escape_and_absolute_paths(tmp_path: Path) -> None:
    root = tmp_path / "bench"
    root.mkdir()
    header = ["prompt", "video_A", "video_B", "label_VQ"]
    escaping = write_csv(root / "e.csv", header, [["p", "ok/a.mp4", "videos/../../secret.mp4", "A"]])
    with pytest.raises(PathEscapeError, match=r"line 2: column 'video_B': video path escapes"):
        load_table_benchmark(escaping)

    inside, outside = root / "videos" / "a.mp4", tmp_path / "elsewhere" / "b.mp4"
    absolute = write_csv(root / "abs.csv", header, [["p", str(inside), "rel/b.mp4", "A"]])
    with pytest.raises(BenchmarkError, match="absolute video path refused"):
        load_table_benchmark(absolute)
    bench = load_table_benchmark(absolute, allow_absolute=True)
    assert bench.pairs["video_A"].tolist() == ["videos/a.mp4"] and bench.root == root.resolve()
    mixed = write_csv(root / "mixed.csv", header, [["p", str(outside), "rel/b.mp4", "A"]])
    bench = load_table_benchmark(mixed, allow_absolute=True)
    assert bench.root is None
    assert bench.pairs["video_A"].tolist() == [str(outside)]
    assert bench.pairs["video_B"].tolist() == [str(root.resolve() / "rel/b.mp4")]


def test_benchmark_video_path_refuses_escape(vgrb_csv: Path) -> None:
    bench = load_benchmark(vgrb_csv)
    assert bench.video_path("videos/0_a.mp4") == vgrb_csv.parent.resolve() / "videos/0_a.mp4"
    with pytest.raises(PathEscapeError):
        bench.video_path("../x.mp4")


def test_datasets_save_to_disk_folder(vgrb_csv: Path, tmp_path: Path) -> None:
    import datasets

    frame = pd.read_csv(vgrb_csv)
    folder = tmp_path / "saved"
    datasets.DatasetDict({"test": datasets.Dataset.from_pandas(frame)}).save_to_disk(str(folder))
    bench = load_benchmark(folder)
    assert bench.root == folder.resolve() and bench.dimensions == ("VQ", "MQ", "TA", "Overall")
    assert bench.pairs["pair_id"].tolist() == load_benchmark(vgrb_csv).pairs["pair_id"].tolist()
    single = tmp_path / "single"
    datasets.Dataset.from_pandas(frame).save_to_disk(str(single))
    assert len(load_benchmark(single)) == 4


def test_local_data_folder_via_load_dataset(vgrb_csv: Path, tmp_path: Path) -> None:
    folder = tmp_path / "repo"
    (folder / "data").mkdir(parents=True)
    pd.read_csv(vgrb_csv).to_parquet(folder / "data" / "test-00000-of-00001.parquet")
    bench = load_benchmark(folder)
    assert len(bench) == 4 and bench.root == folder.resolve()
    csv_folder = tmp_path / "csvrepo"
    csv_folder.mkdir()
    shutil.copy(vgrb_csv, csv_folder / "videogen-rewardbench.csv")
    assert load_benchmark(csv_folder).labels("Overall").tolist() == [1, -1, 0, 1]
    with pytest.raises(BenchmarkError, match="dev"):
        load_benchmark(folder, split="dev")


def test_hub_id_goes_through_load_dataset_with_revision(monkeypatch: pytest.MonkeyPatch, vgrb_csv: Path) -> None:
    import datasets

    calls = []

    def fake_load_dataset(repo_id, config=None, revision=None, split=None):
        calls.append((repo_id, config, revision, split))
        return datasets.Dataset.from_pandas(pd.read_csv(vgrb_csv))

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    bench = load_benchmark("someone/some-bench@v1.0", split="test")
    assert calls == [("someone/some-bench", None, "v1.0", "test")]
    assert bench.revision == "v1.0" and bench.source == "someone/some-bench@v1.0" and len(bench) == 4


def test_registry_names_and_unknown_specs(monkeypatch: pytest.MonkeyPatch, vgrb_csv: Path) -> None:
    monkeypatch.setattr(registry_module, "_REGISTRY", dict(registry_module._REGISTRY))
    assert "videogen-rewardbench" in registry_module.registered_benchmarks()
    seen = {}

    def loader(revision, **options):
        seen.update(revision=revision, **options)
        return load_benchmark(vgrb_csv)

    register_benchmark("tiny-test", loader)
    assert len(load_benchmark("tiny-test@r2", dedupe=True)) == 4
    assert seen == {"revision": "r2", "dedupe": True}
    with pytest.raises(ValueError, match="already registered"):
        register_benchmark("tiny-test", loader)
    with pytest.raises(BenchmarkError, match="not a registered name"):
        load_benchmark("./no/such/folder")
    with pytest.raises(BenchmarkError, match="no/such.csv: no such file"):
        load_benchmark("no/such.csv")


def test_videogen_rewardbench_name_downloads_the_csv(monkeypatch: pytest.MonkeyPatch, vgrb_csv: Path,
                                                     tmp_path: Path) -> None:
    from videobench.data import hf

    commit = "0123456789abcdef0123456789abcdef01234567"
    snapshot = tmp_path / commit  # the Hub cache names a snapshot folder by its commit
    snapshot.mkdir()
    shutil.copy(vgrb_csv, snapshot / "videogen-rewardbench.csv")
    calls, archives = [], []

    def fake_snapshot_root(repo_id, revision, allow_patterns=None):
        calls.append((repo_id, revision, allow_patterns))
        return snapshot

    def fake_archive_root(repo_id, revision):
        archives.append((repo_id, revision))
        return tmp_path / "extracted"

    monkeypatch.setattr(hf, "snapshot_root", fake_snapshot_root)
    monkeypatch.setattr(hf, "archive_video_root", fake_archive_root)
    bench = load_benchmark("videogen-rewardbench@v1")
    # the table and card only: the 13 GB videos.zip is not needed for precomputed scores
    assert calls == [("KwaiVGI/VideoGen-RewardBench", "v1", ["videogen-rewardbench.csv", "README.md"])]
    assert archives == []
    assert bench.name == "videogen-rewardbench" and bench.revision == commit and bench.root == snapshot.resolve()
    with_videos = load_benchmark("videogen-rewardbench", need_videos=True)
    assert archives == [("KwaiVGI/VideoGen-RewardBench", commit)]  # the zip at the CSV's commit
    assert with_videos.root == (tmp_path / "extracted").resolve()


def test_empty_and_malformed_files(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(BenchmarkError, match="empty"):
        load_table_benchmark(tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("prompt,video_A,video_B,label_VQ\n")
    with pytest.raises(BenchmarkError, match="no rows"):
        load_table_benchmark(tmp_path / "header.csv")
    (tmp_path / "ragged.csv").write_text("prompt,video_A,video_B,label_VQ\na,b,c\n")
    with pytest.raises(BenchmarkError, match="line 2: 3 fields"):
        load_table_benchmark(tmp_path / "ragged.csv")
    (tmp_path / "bad.jsonl").write_text('{"prompt": "a"}\nnot json\n')
    with pytest.raises(BenchmarkError, match="line 2: not valid JSON"):
        load_table_benchmark(tmp_path / "bad.jsonl")
    with pytest.raises(BenchmarkError, match="cannot tell the table format"):
        load_table_benchmark(tmp_path / "x.txt") if (tmp_path / "x.txt").write_text("a") else None
