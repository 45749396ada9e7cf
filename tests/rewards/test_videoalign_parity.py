"""Parity with the reference: videobench's VideoReward adapter against KwaiVGI/VideoAlign's own inference code.

The fixture (tests/fixtures/videoalign_reference/, README.md there) holds a tiny random Qwen2-VL base, a LoRA and a
full checkpoint saved by VideoAlign's own trainer code, three real clips, and every score VideoAlign's
``VideoVLMRewardInference.reward`` gave for them (transformers 4.45.2, float32, CPU), together with the frame indices
and uint8 checksums of the frames VideoAlign's decoder handed to the model. Every score must agree to 1e-4.
"""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "videoalign_reference"
REFERENCE = json.loads((FIXTURE / "scores.json").read_text())
TOL = 1e-4
DIMS = ("VQ", "MQ", "TA", "Overall")
MIN_PIXELS = 128 * 28 * 28  # VideoAlign's video minimum (vision_process.VIDEO_MIN_PIXELS)


def _case_id(case: dict) -> str:
    return f"{case['variant']}-{case['name']}"


def _params(variants=("lora", "full"), unique_settings=False):
    """One param per reference case (with ``unique_settings``: one per sampling setting)."""
    out, seen = [], set()
    for case in REFERENCE["cases"]:
        setting = (case["fps"], case["num_frames"], case["max_pixels"])
        if case["variant"] not in variants or (unique_settings and setting in seen):
            continue
        seen.add(setting)
        out.append(pytest.param(case, id=_case_id(case)))
    return out


def _sampling(case: dict):
    from videobench.rewards.base import Sampling

    cfg = json.loads((FIXTURE / case["variant"] / "model_config.json").read_text())["data_config"]
    pixels = case["max_pixels"] or cfg["max_frame_pixels"]
    if case["num_frames"] is not None:
        return Sampling(fps=None, num_frames=case["num_frames"], max_pixels=pixels)
    return Sampling(fps=case["fps"] or cfg["fps"], num_frames=None, max_pixels=pixels)


@functools.lru_cache(maxsize=None)
def _model(variant: str, fps, num_frames, max_pixels, use_norm: bool):
    from videobench.rewards.videoreward import VideoRewardModel

    return VideoRewardModel.load(
        str(FIXTURE / variant), template=FIXTURE / "template.txt", base_model=FIXTURE / "base", device="cpu",
        dtype="float32", fps=fps, num_frames=num_frames, max_pixels=max_pixels, use_norm=use_norm, batch_size=4,
    )


@functools.lru_cache(maxsize=None)
def _clip(name: str, sampling):
    from videobench.video import load_clip

    return load_clip(FIXTURE / "clips" / name, sampling)


def _sha256(frames) -> str:
    return hashlib.sha256(np.ascontiguousarray(np.asarray(frames, dtype=np.uint8)).tobytes()).hexdigest()


def test_fixture_is_what_videoalign_trainer_writes():
    """The layouts of issue 12: tokenizer only under checkpoint-N/tokenizer/, base processor files beside the base."""
    lora, full = FIXTURE / "lora", FIXTURE / "full"
    for root in (lora, full):
        assert (root / "model_config.json").is_file()
        assert not any(p.name.startswith("tokenizer") for p in root.iterdir() if p.is_file())
    assert {p.name for p in (lora / "checkpoint-3").iterdir()} >= {
        "adapter_config.json", "adapter_model.safetensors", "non_lora_state_dict.pth", "tokenizer"}
    assert {p.name for p in (full / "checkpoint-5").iterdir()} >= {"model.pth", "tokenizer"}
    assert not (full / "checkpoint-5" / "config.json").exists()
    assert (FIXTURE / "base" / "preprocessor_config.json").is_file()
    cfg = json.loads((lora / "model_config.json").read_text())
    assert cfg["model_config"]["model_name_or_path"] == "base"
    assert cfg["inference_config"]["VQ_std"] != 1.0  # normalisation is exercised


def test_reference_scores_are_not_degenerate():
    """Scores move across clips and prompts, so a parity pass means something."""
    for case in REFERENCE["cases"]:
        overall = [item["scores"]["Overall"] for item in case["items"]]
        assert len({round(v, 3) for v in overall}) == len(overall), case["name"]


@pytest.mark.parametrize("case", _params(variants=("lora",), unique_settings=True))
def test_decoded_frames_match_videoalign_decoder(case):
    """Our decoder picks the same frame indices and yields the same uint8 pixels as VideoAlign's (decord)."""
    sampling = _sampling(case)
    for item in case["items"]:
        clip = _clip(item["clip"], sampling)
        seen = item["frames"]
        assert np.asarray(clip.indices).tolist() == seen["indices"], item["clip"]
        assert list(np.asarray(clip.frames).shape[1:3]) == seen["decoded_hw"], item["clip"]
        assert _sha256(clip.frames) == seen["decoded_sha256"], f"{item['clip']}: decoded pixels differ"


@pytest.mark.parametrize("case", _params(variants=("lora",), unique_settings=True))
def test_resize_matches_videoalign(case):
    """VideoAlign's resize rule (budget tested before the minimum) and its bicubic uint8 resize, pixel for pixel."""
    import torch

    from videobench.video.resize import resize_frames, smart_resize

    sampling = _sampling(case)
    for item in case["items"]:
        frames = torch.as_tensor(_clip(item["clip"], sampling).frames)
        size = smart_resize(frames.shape[1], frames.shape[2], min_pixels=MIN_PIXELS, max_pixels=sampling.max_pixels)
        assert list(size) == item["frames"]["resized_hw"], item["clip"]
        assert _sha256(resize_frames(frames, *size)) == item["frames"]["resized_sha256"], item["clip"]


@pytest.mark.parametrize("case", _params())
def test_scores_match_videoalign(case):
    model = _model(case["variant"], case["fps"], case["num_frames"], case["max_pixels"], case["use_norm"])
    clips = [_clip(item["clip"], model.sampling) for item in case["items"]]
    prompts = [item["prompt"] for item in case["items"]]
    if case["batched"]:
        got = model.score(clips, prompts)
    else:
        singles = [model.score([c], [p]) for c, p in zip(clips, prompts)]
        got = {d: np.concatenate([s[d] for s in singles]) for d in DIMS}
    want = {d: np.array([item["scores"][d] for item in case["items"]]) for d in DIMS}
    for d in DIMS:
        np.testing.assert_allclose(got[d], want[d], rtol=0, atol=TOL, err_msg=f"{_case_id(case)} {d}")


def test_cli_eval_scores_match_videoalign(tmp_path: Path):
    """``videobench eval --model 'videoreward:RUN?template=...'`` on a two-pair benchmark of the fixture's clips: the
    per-video scores it writes are VideoAlign's (the base model is found from model_config.json's relative name)."""
    from typer.testing import CliRunner

    from videobench.cli import _register, app

    case = next(c for c in REFERENCE["cases"] if c["variant"] == "lora" and c["name"] == "pairs_batched")
    items = case["items"]
    shutil.copytree(FIXTURE / "clips", tmp_path / "clips")
    rows = [{"pair_id": f"p{k}", "prompt": a["prompt"], "video_A": f"clips/{a['clip']}",
             "video_B": f"clips/{b['clip']}", "label_Overall": 1} for k, (a, b) in enumerate(zip(items[::2], items[1::2]))]
    assert all(a["prompt"] == b["prompt"] for a, b in zip(items[::2], items[1::2]))
    pd.DataFrame(rows).to_csv(tmp_path / "bench.csv", index=False)
    spec = f"videoreward:{FIXTURE / 'lora'}?template={FIXTURE / 'template.txt'}&device=cpu&dtype=float32"
    _register()
    result = CliRunner().invoke(app, ["eval", "--bench", str(tmp_path / "bench.csv"), "--model", spec,
                                      "--output", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    [videos_file] = (tmp_path / "out").glob("*.videos.parquet")
    got = pd.read_parquet(videos_file)
    got["clip"] = got["video"].map(lambda v: Path(v).name)
    for item in items:
        row = got[(got["clip"] == item["clip"]) & (got["prompt"] == item["prompt"])]
        assert len(row) == 1, (item["clip"], item["prompt"])
        for d in DIMS:
            assert abs(float(row[d].iloc[0]) - item["scores"][d]) <= TOL, (item["clip"], d)
