"""`videobench eval --model` end to end on real mp4 files: scoring, cache, job-array shards, pre-flight errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from clip_benches import random_clip_bench

from videobench.cli import _register, app

_register()
runner = CliRunner()


@pytest.fixture(scope="module")
def video_bench(tmp_path_factory) -> Path:
    """A VideoGen-RewardBench-style CSV over 6 small real H.264 clips."""
    return random_clip_bench(tmp_path_factory.mktemp("vbench"))


def _eval(*args: str) -> object:
    return runner.invoke(app, ["eval", "--n-resamples", "20", "--no-report", "--quiet", *args], env={"COLUMNS": "160"})


def test_model_run_equals_sharded_run_merged(video_bench: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    whole = _eval("--bench", str(video_bench), "--model", "random:3", "--cache-dir", str(cache), "-o", str(tmp_path / "whole"))
    assert whole.exit_code == 0, whole.output
    shards = tmp_path / "shards"
    for index in range(2):
        res = _eval("--bench", str(video_bench), "--model", "random:3", "--no-cache", "--num-shards", "2",
                    "--shard-index", str(index), "--shard-dir", str(shards))
        assert res.exit_code == 0, res.output
    assert len(list(shards.glob("scores-*.parquet"))) == 2
    merged = _eval("--bench", str(video_bench), "--model", "random:3", "--merge", str(shards), "-o", str(tmp_path / "merged"))
    assert merged.exit_code == 0, merged.output
    a = json.loads(next((tmp_path / "whole").glob("*.json")).read_text())
    b = json.loads(next((tmp_path / "merged").glob("*.json")).read_text())
    assert a["dimensions"] == b["dimensions"]


def test_sharded_run_needs_shard_dir(video_bench: Path) -> None:
    res = _eval("--bench", str(video_bench), "--model", "random", "--num-shards", "2")
    assert res.exit_code == 2 and "--shard-dir" in res.output


def test_missing_videos_are_listed_before_any_scoring(video_bench: Path, tmp_path: Path) -> None:
    broken = pd.read_csv(video_bench)
    broken.loc[0, "path_A"] = "missing-1.mp4"
    broken.loc[1, "path_B"] = "missing-2.mp4"
    path = video_bench.parent / "broken.csv"
    broken.to_csv(path, index=False)
    res = _eval("--bench", str(path), "--model", "random", "--no-cache", "-o", str(tmp_path / "out"))
    assert res.exit_code == 2
    assert "missing-1.mp4" in res.output and "missing-2.mp4" in res.output
    assert not (tmp_path / "out").exists()
    skipped = _eval("--bench", str(path), "--model", "random", "--no-cache", "--skip-unreadable", "-o", str(tmp_path / "out"))
    assert skipped.exit_code == 0, skipped.output
    result = json.loads(next((tmp_path / "out").glob("*.json")).read_text())
    assert result["dimensions"]["VQ"]["n_excluded"] == 2


def test_model_options_in_the_spec_and_the_recorded_spec_reruns(video_bench: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """`--model 'videoreward:DIR?template=FILE&...'` from the command line, with relative paths; the spec the
    result records, run again from another folder, gives the same numbers."""
    from videobench.testing.tiny_qwen2vl import build_tiny_videoreward_checkpoint

    work = tmp_path / "work"
    work.mkdir()
    ckpt = build_tiny_videoreward_checkpoint(work / "tiny", "lora", seed=0)
    template = ckpt / "prompt_template.txt"
    (work / "vr.txt").write_text(template.read_text())
    template.unlink()  # only the option can supply it now
    monkeypatch.chdir(work)
    rel = ckpt.relative_to(work)
    spec = f"videoreward:{rel}?template=vr.txt&max_pixels=4096&min_pixels=1024&batch_size=3"
    first = _eval("--bench", str(video_bench), "--model", spec, "--no-cache", "-o", "out1")
    assert first.exit_code == 0, first.output
    result = json.loads(next((work / "out1").glob("*.json")).read_text())
    recorded = result["model"]["spec"]
    assert recorded == (f"videoreward:{ckpt}?template={work / 'vr.txt'}&max_pixels=4096&min_pixels=1024&batch_size=3")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    again = _eval("--bench", str(video_bench), "--model", recorded, "--no-cache", "-o", "out2")
    assert again.exit_code == 0, again.output
    rerun = json.loads(next((elsewhere / "out2").glob("*.json")).read_text())
    assert rerun["model"]["spec"] == recorded and rerun["model"]["fingerprint"] == result["model"]["fingerprint"]
    assert rerun["dimensions"] == result["dimensions"]
    pairs = [pd.read_parquet(d / f"{next(d.glob('*.json')).stem}.pairs.parquet") for d in (work / "out1", elsewhere / "out2")]
    pd.testing.assert_frame_equal(*pairs)
    assert not pairs[0]["margin_VQ"].isna().any()

    bad = _eval("--bench", str(video_bench), "--model", f"videoreward:{ckpt}?templat=vr.txt", "--no-cache", "-o", "x")
    assert bad.exit_code == 2
    assert "unknown option 'templat'; valid options:" in bad.output and "template" in bad.output
    assert "Traceback" not in bad.output
