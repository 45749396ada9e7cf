"""A Qwen2.5-VL base for `videobench align reward-model`: it trains, the output loads with `videoreward:OUT` and no
options as a Qwen2.5-VL reward model, and scores real clips as the trained network did, with the seconds per temporal
patch its M-RoPE needs taken from each clip's own frame rate."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.align.rm_helpers import FIXTURE_CLIPS, TINY_SETTINGS, write_pair_csv

CLIPS = ("bikes", "bunny", "carphone")
VAL_PROMPT = "a man talks on a phone in a car"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from videobench.align.reward_model_train import train_reward_model
    from videobench.testing.tiny_vlm import build_tiny_vlm

    root = tmp_path_factory.mktemp("rm25")
    base = build_tiny_vlm(root / "base", arch="qwen2.5-vl")
    csv = write_pair_csv(root / "data")
    cfg = dict(TINY_SETTINGS, base_model=str(base), benchmark=str(csv), output_dir=str(root / "out"),
               val_groups=[VAL_PROMPT], max_steps=2, special_token_lr=5e-2, eval_every=2)
    return train_reward_model(cfg)


def test_trains_and_loads_with_no_options_as_qwen25(trained) -> None:
    from transformers import Qwen2_5_VLForConditionalGeneration

    from videobench.rewards.registry import load_reward_model

    log = [json.loads(line) for line in (trained.output_dir / "log.jsonl").read_text().splitlines()]
    assert [e["step"] for e in log] == [1, 2] and all(np.isfinite(e["loss"]) for e in log)
    model = load_reward_model(f"videoreward:{trained.output_dir}")
    assert isinstance(model.net.backbone, Qwen2_5_VLForConditionalGeneration) and model.net.mrope
    assert model.net.backbone.config.vision_config.fullatt_block_indexes == [1]  # the base's window attention
    assert isinstance(trained.model.net.backbone, Qwen2_5_VLForConditionalGeneration)


def test_loaded_scores_equal_the_trained_models_on_real_clips(trained) -> None:
    from videobench.rewards.videoreward import VideoRewardModel
    from videobench.video import load_clip

    loaded = VideoRewardModel.load(str(trained.output_dir))
    clips = [load_clip(FIXTURE_CLIPS / f"{c}.mp4", loaded.sampling) for c in CLIPS]
    prompts = ["people ride bikes in a street", "a rabbit in a meadow", VAL_PROMPT]
    trained.model.net.eval()
    ours, theirs = loaded.raw_rewards(clips, prompts), trained.model.raw_rewards(clips, prompts)
    assert np.isfinite(ours).all() and np.allclose(ours, theirs, rtol=0, atol=1e-5)
    assert np.ptp(ours, axis=0).max() > 1e-6  # different clips, different rewards
    scores = loaded.score(clips, prompts)  # normalised with the validation split's stats, Overall = their sum
    assert np.allclose(scores["Overall"], scores["VQ"] + scores["MQ"] + scores["TA"])


def test_seconds_per_temporal_patch_come_from_the_clips_frame_rate(trained, tmp_path: Path) -> None:
    from videobench.align.reward_model_data import FrameCache
    from videobench.rewards.videoreward import VideoRewardModel
    from videobench.video import load_clip

    model = VideoRewardModel.load(str(trained.output_dir))
    clip = load_clip(FIXTURE_CLIPS / "bikes.mp4", model.sampling)
    # 4 frames sampled over the whole file: the sampled rate is 4 / total frames x the file's rate (qwen-vl-utils);
    # a temporal patch holds 2 frames
    expected = 2 / (4 / clip.total_frames * clip.source_fps)
    batch = model.batch_inputs([clip], ["people ride bikes in a street"])
    assert batch["second_per_grid_ts"].tolist() == pytest.approx([expected])
    # training reads the same inputs from its frame cache, also when read back from disk
    for _ in range(2):
        cache = FrameCache(tmp_path, model.sampling, model.patch_spec, model.min_pixels, budget=model.pixel_budget)
        made = cache.inputs(FIXTURE_CLIPS / "bikes.mp4")
        assert made.seconds_per_grid == pytest.approx(expected)
        assert torch.equal(made.pixel_values, model.clip_inputs(clip).pixel_values)
    assert cache.decoded == 0  # the second cache read the file the first wrote
    # the time spacing reaches the model: M-RoPE positions differ, so do the rewards
    inputs = model.to_device(batch)
    with torch.inference_mode():
        base = model.net(**inputs)
        stretched = model.net(**{**inputs, "second_per_grid_ts": inputs["second_per_grid_ts"] * 10})
    assert not torch.allclose(base, stretched)
