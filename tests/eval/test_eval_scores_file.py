"""Precomputed score files and the ``PrecomputedScores`` reward model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from videobench.data import load_table_benchmark
from videobench.rewards.base import Clip, RewardModel
from videobench.rewards.precomputed import PrecomputedScores
from videobench.scores_file import ScoresFileError, file_sha256, pair_scores_for, read_scores, video_scores_for


@pytest.fixture
def bench(tmp_path: Path):
    frame = pd.DataFrame({
        "pair_id": ["a", "b", "c"],
        "prompt": ["p1", "p1", "p2"],
        "video_A": ["v/1.mp4", "v/1.mp4", "v/3.mp4"],
        "video_B": ["v/2.mp4", "v/3.mp4", "v/4.mp4"],
        "label_VQ": [1, -1, 0],
        "label_MQ": [1, 1, -1],
    })
    frame.to_csv(tmp_path / "b.csv", index=False)
    return load_table_benchmark(tmp_path / "b.csv")


@pytest.mark.parametrize("ext", ["csv", "jsonl", "parquet"])
def test_per_video_file_formats(tmp_path: Path, bench, ext: str) -> None:
    scores = pd.DataFrame({"video": ["./v/1.mp4", "v/2.mp4", "v/3.mp4", "v/4.mp4"], "VQ": [1.0, 0.5, 2.0, 0.0],
                           "MQ": [0.1, 0.2, 0.3, 0.4]})
    path = tmp_path / f"s.{ext}"
    if ext == "csv":
        scores.to_csv(path, index=False)
    elif ext == "jsonl":
        path.write_text("\n".join(json.dumps(r) for r in scores.to_dict("records")))
    else:
        scores.to_parquet(path)
    table = read_scores(path)
    assert table.kind == "video" and table.dimensions == ("VQ", "MQ") and not table.has_prompt
    assert table.fingerprint == file_sha256(path)
    per_video = video_scores_for(table, bench)
    assert per_video.set_index("video").loc["v/1.mp4", "VQ"] == 1.0  # "./v/1.mp4" normalised


def test_per_video_with_prompt_keys(tmp_path: Path, bench) -> None:
    path = tmp_path / "s.csv"
    pd.DataFrame({"video": ["v/1.mp4", "v/1.mp4", "v/2.mp4", "v/3.mp4", "v/3.mp4", "v/4.mp4"],
                  "prompt": ["p1", "p9", "p1", "p1", "p2", "p2"],
                  "TA": [1.0, -5.0, 0.0, 2.0, 3.0, 4.0]}).to_csv(path, index=False)
    model = PrecomputedScores(path)
    out = model.score([Clip("v/1.mp4", "h"), Clip("v/1.mp4", "h")], ["p1", "p9"])
    assert out["TA"].tolist() == [1.0, -5.0]
    with pytest.raises(ScoresFileError, match=r"v/2.mp4 / p2"):
        model.score([Clip("v/2.mp4", "h")], ["p2"])


def test_per_video_file_errors_name_rows(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("video,VQ,MQ\nv/1.mp4,1.0,x\n,2.0,3\nv/3.mp4,,1\nv/4.mp4,inf,1\nv/1.mp4,9,9\n")
    with pytest.raises(ScoresFileError) as err:
        read_scores(path)
    msg = str(err.value)
    for piece in ["line 2: column 'MQ': not a number: 'x'", "line 3: column 'video': missing video path",
                  "line 4: column 'VQ': missing score", "line 5: column 'VQ': not a finite number",
                  "lines 2, 6: column 'video': 'v/1.mp4' appears more than once with different scores"]:
        assert piece in msg, (piece, msg)
    assert msg.startswith(str(path))
    no_key = tmp_path / "k.csv"
    no_key.write_text("path,VQ\na,1\n")
    with pytest.raises(ScoresFileError, match="needs a 'video' column"):
        read_scores(no_key)


def test_identical_repeats_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("video,VQ\na.mp4,1\na.mp4,1\nb.mp4,2\n")
    assert len(read_scores(path).frame) == 2


def test_missing_videos_listed(tmp_path: Path, bench) -> None:
    path = tmp_path / "s.csv"
    path.write_text("video,VQ\nv/1.mp4,1\nv/2.mp4,2\n")
    with pytest.raises(ScoresFileError, match=r"no scores for 2 videos.*'v/3.mp4', 'v/4.mp4'"):
        video_scores_for(read_scores(path), bench)


def test_per_pair_file(tmp_path: Path, bench) -> None:
    path = tmp_path / "pairs.csv"
    path.write_text("pair_id,score_A_VQ,score_B_VQ\nc,0.5,0.1\na,1,2\nb,3,3\n")
    table = read_scores(path)
    assert table.kind == "pair" and table.dimensions == ("VQ",)
    a, b = pair_scores_for(table, bench)["VQ"]
    assert a.tolist() == [1.0, 3.0, 0.5] and b.tolist() == [2.0, 3.0, 0.1]  # benchmark order
    model = PrecomputedScores(path)
    with pytest.raises(ScoresFileError, match="per-pair"):
        model.score([Clip("v/1.mp4", "h")], ["p1"])
    bad = tmp_path / "bad.csv"
    bad.write_text("pair_id,score_A_VQ\na,1\n")
    with pytest.raises(ScoresFileError, match="score_B_VQ"):
        read_scores(bad)
    short = tmp_path / "short.csv"
    short.write_text("pair_id,score_A_VQ,score_B_VQ\na,1,2\n")
    with pytest.raises(ScoresFileError, match=r"no scores for 2 pairs.*'b', 'c'"):
        pair_scores_for(read_scores(short), bench)


def test_precomputed_scores_is_a_reward_model(tmp_path: Path) -> None:
    path = tmp_path / "model.scores.csv"
    path.write_text("video,VQ,MQ\nv/1.mp4,1,2\nv/2.mp4,3,4\n")
    model = PrecomputedScores(str(path), name="mine", dimensions="MQ")
    assert isinstance(model, RewardModel)
    assert model.needs_frames is False and model.name == "mine" and model.dimensions == ("MQ",)
    assert model.fingerprint() == file_sha256(path)
    out = model.score([Clip("./v/2.mp4", "h"), Clip("v/1.mp4", "h")], ["x", "y"])
    assert list(out) == ["MQ"] and out["MQ"].tolist() == [4.0, 2.0]
    # Absolute paths under a benchmark root map back to the relative names in the file.
    rooted = PrecomputedScores(path, root=tmp_path)
    assert rooted.score([Clip(str(tmp_path / "v" / "1.mp4"), "h")], ["p"])["VQ"].tolist() == [1.0]
    # The benchmark's own path in meta wins over a resolved path.
    assert model.score([Clip("/abs/x.mp4", "h", meta={"video": "v/1.mp4"})], ["p"])["MQ"].tolist() == [2.0]
    with pytest.raises(ScoresFileError, match="no score column"):
        PrecomputedScores(path, dimensions=["TA"])
    with pytest.raises(TypeError, match="unknown option"):
        PrecomputedScores(path, colour="red")
    path.write_text("video,VQ,MQ\nv/1.mp4,1,2\nv/2.mp4,3,5\n")
    assert PrecomputedScores(path).fingerprint() != model.fingerprint()
    assert np.isfinite(model.score([], [])["MQ"]).all()
