"""`videobench eval --model videoreward:DIR` from the command line on a checkpoint in VideoAlign's layout: it scores
end to end, and a broken checkpoint or a pickle-only base model ends in one line and exit code 2, no traceback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from clip_benches import pair_row, write_bench, write_clips

from videobench.cli import _register, app

_register()
runner = CliRunner()


@pytest.fixture(scope="module")
def small_bench(tmp_path_factory) -> Path:
    """4 real H.264 clips of 64x64 (VideoAlign's resize scales them up to the 128*28*28 floor: 336x336), 4 pairs."""
    root = tmp_path_factory.mktemp("bench")
    write_clips(root, 4, 64, np.random.default_rng(1), step=2)
    pairs = [(0, 1, "A"), (2, 3, "B"), (1, 2, "A"), (3, 0, "same")]
    return write_bench(root, [pair_row(a, b, f"a cat {k}", lab) for k, (a, b, lab) in enumerate(pairs)])


def _eval(bench: Path, spec: str, out: Path):
    return runner.invoke(app, ["eval", "--bench", str(bench), "--model", spec, "--n-resamples", "10", "--no-report",
                               "--quiet", "--no-cache", "-o", str(out)], env={"COLUMNS": "200"})


def test_eval_scores_a_videoalign_checkpoint(small_bench, tiny_lora, tmp_path):
    res = _eval(small_bench, f"videoreward:{tiny_lora}", tmp_path / "out")
    assert res.exit_code == 0, res.output
    result = json.loads(next((tmp_path / "out").glob("*.json")).read_text())
    videos = pd.read_parquet(next((tmp_path / "out").glob("*.videos.parquet")))
    assert len(videos) == 8 and np.isfinite(videos.select_dtypes("number").to_numpy()).all()  # (video, prompt) rows
    # causal attention: VQ and MQ are read before the prompt text in the template, TA after it
    v3 = videos[videos["video"].str.endswith("v3.mp4")]
    assert np.ptp(v3["VQ"]) < 1e-5 and np.ptp(v3["MQ"]) < 1e-5 and np.ptp(v3["TA"]) > 1e-4
    assert {"VQ", "MQ", "TA", "Overall"} <= set(result["dimensions"])


def _assert_clean_failure(res, *needles: str) -> None:
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)  # exited on purpose, not an escaped error
    for needle in needles:
        assert needle in res.output.replace("\n", " ")


def test_missing_full_weights_is_one_clean_line(small_bench, tiny_full, tmp_path):
    copy = shutil.copytree(tiny_full, tmp_path / "vr")
    (copy / "checkpoint-8" / "model.pth").unlink()
    _assert_clean_failure(_eval(small_bench, f"videoreward:{copy}", tmp_path / "out"), "missing model.pth")


def test_pickle_only_base_is_one_clean_line(small_bench, tiny_lora, tmp_path):
    from safetensors.torch import load_file

    work = shutil.copytree(tiny_lora.parent, tmp_path / "w")
    weights = work / "base" / "model.safetensors"
    torch.save(load_file(str(weights)), work / "base" / "pytorch_model.bin")
    weights.unlink()
    config = json.loads((work / "videoreward" / "model_config.json").read_text())
    config["model_config"]["model_name_or_path"] = str(work / "base")
    (work / "videoreward" / "model_config.json").write_text(json.dumps(config))
    _assert_clean_failure(_eval(small_bench, f"videoreward:{work / 'videoreward'}", tmp_path / "out"),
                          "only pickle weights")
