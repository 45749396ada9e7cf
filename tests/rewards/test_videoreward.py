"""The VideoReward adapter on tiny checkpoints in VideoAlign's trainer layout (old transformers-4.45 keys)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from reward_test_helpers import TINY_OPTIONS, frames_clip
from videobench.rewards.base import RewardModel, Sampling
from videobench.rewards.qwen2vl_inputs import PatchSpec, video_inputs
from videobench.rewards.videoreward import CheckpointError, VideoRewardModel, find_checkpoint
from videobench.testing.tiny_qwen2vl import MEAN_STD, REWARD_TOKENS, TINY_MAX_FRAME_PIXELS, TINY_TEMPLATE


def direct_forward(truth, clips, prompts) -> np.ndarray:
    """Raw (VQ, MQ, TA) computed straight through the in-memory model, without the adapter's loading or batching:
    the chat text written out by hand, one item at a time, the head applied to every position."""
    tok = truth.tokenizer
    out = []
    for clip, prompt in zip(clips, prompts):
        inputs = video_inputs(clip.frames, PatchSpec(), max_pixels=TINY_MAX_FRAME_PIXELS,
                              min_pixels=TINY_OPTIONS["min_pixels"])
        text = (
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n<|vision_start|>"
            + "<|video_pad|>" * inputs.num_tokens + "<|vision_end|>" + TINY_TEMPLATE.replace("{text_prompt}", prompt)
            + "<|im_end|>\n<|im_start|>assistant\n"
        )
        ids = torch.tensor([tok(text)["input_ids"]])
        with torch.no_grad():
            hidden = truth.backbone.model(
                input_ids=ids, position_ids=torch.arange(ids.shape[1])[None], attention_mask=torch.ones_like(ids),
                pixel_values_videos=inputs.pixel_values, video_grid_thw=torch.tensor([inputs.grid_thw]),
            ).last_hidden_state
            logits = truth.rm_head(hidden)[0]  # (L, 3)
        reward_ids = tok.convert_tokens_to_ids(list(REWARD_TOKENS))
        out.append([logits[(ids[0] == rid).nonzero()[0, 0], k].item() for k, rid in enumerate(reward_ids)])
    return np.array(out)


def test_protocol_and_sampling(lora_model):
    assert isinstance(lora_model, RewardModel)
    assert lora_model.dimensions == ("VQ", "MQ", "TA", "Overall")
    assert lora_model.needs_frames is True
    assert lora_model.sampling == Sampling(fps=2.0, num_frames=None, max_pixels=64 * 64)


def test_lora_scores_equal_direct_forward(lora_model, tiny_truth, clips, prompts):
    lora_model.use_norm = False
    try:
        scores = lora_model.score(clips, prompts)
    finally:
        lora_model.use_norm = True
    expected = direct_forward(tiny_truth, clips, prompts)
    for k, dim in enumerate(("VQ", "MQ", "TA")):
        np.testing.assert_allclose(scores[dim], expected[:, k], atol=2e-4, rtol=1e-4)
    np.testing.assert_allclose(scores["Overall"], expected.sum(axis=1), atol=6e-4)
    assert np.ptp(expected[:, 0]) > 1e-3  # different videos get different scores: the test can fail


def test_full_variant_equals_lora_variant(tiny_full, lora_model, clips, prompts):
    full = VideoRewardModel.load(str(tiny_full), **TINY_OPTIONS)
    a, b = full.score(clips, prompts), lora_model.score(clips, prompts)
    for dim in full.dimensions:
        np.testing.assert_allclose(a[dim], b[dim], atol=2e-4)
    assert full.fingerprint() != lora_model.fingerprint()


def test_deterministic_and_batch_invariant(lora_model, clips, prompts):
    first = lora_model.score(clips, prompts)
    lora_model.batch_size = 1
    try:
        single = lora_model.score(clips, prompts)
    finally:
        lora_model.batch_size = 4
    again = lora_model.score(clips[::-1], prompts[::-1])
    for dim in lora_model.dimensions:
        np.testing.assert_allclose(first[dim], single[dim], atol=1e-4)
        np.testing.assert_allclose(first[dim], again[dim][::-1], atol=1e-4)
    assert lora_model.score(clips, prompts)["VQ"].tolist() == first["VQ"].tolist()  # bit-identical rerun


def test_prepared_inputs_are_reused_and_give_the_same_scores(lora_model, clips, prompts):
    """``prepare`` (run by the engine in its decoding threads) stores what ``clip_inputs`` would compute; ``score``
    then uses it, with bit-identical results. A clip prepared by a model with another pixel budget is not reused."""
    import dataclasses

    plain = lora_model.score(clips, prompts)
    prepared = [dataclasses.replace(c, meta={}) for c in clips]
    for clip in prepared:
        lora_model.prepare(clip)
    [stored] = prepared[0].meta.values()
    fresh = lora_model.clip_inputs(clips[0])
    assert lora_model.clip_inputs(prepared[0]) is stored and stored.grid_thw == fresh.grid_thw
    assert torch.equal(stored.pixel_values, fresh.pixel_values)
    again = lora_model.score(prepared, prompts)
    assert all(again[d].tolist() == plain[d].tolist() for d in lora_model.dimensions)
    other = VideoRewardModel(lora_model.net, lora_model.tokenizer, lora_model.template, name="other",
                             dimensions=lora_model.reward_dimensions, reward_tokens=lora_model.reward_tokens,
                             norm=lora_model.norm, sampling=Sampling(fps=2.0, max_pixels=32 * 32),
                             min_pixels=lora_model.min_pixels)
    assert other.clip_inputs(prepared[0]) is not stored


def test_use_norm(lora_model, clips, prompts):
    normed = lora_model.score(clips[:2], prompts[:2])
    raw = lora_model.raw_rewards(clips[:2], prompts[:2])
    for k, dim in enumerate(("VQ", "MQ", "TA")):
        mean, std = MEAN_STD[dim]
        np.testing.assert_allclose(normed[dim], (raw[:, k] - mean) / std, atol=1e-6)
    np.testing.assert_allclose(normed["Overall"], sum(normed[d] for d in ("VQ", "MQ", "TA")), atol=1e-9)


def test_prompt_changes_text_alignment_only_through_the_text(lora_model, clips):
    a = lora_model.score(clips[:1], ["a cat"])
    b = lora_model.score(clips[:1], ["a red car at night"])
    assert a["TA"][0] != pytest.approx(b["TA"][0], abs=1e-6)
    with pytest.raises(ValueError, match="special token"):
        lora_model.score(clips[:1], ["sneaky <|video_pad|>"])


def test_highest_checkpoint_is_used(tiny_lora, tmp_path):
    assert find_checkpoint(tiny_lora).name == "checkpoint-8"
    copy = shutil.copytree(tiny_lora, tmp_path / "vr")
    shutil.copytree(copy / "checkpoint-2", copy / "checkpoint-10")  # numeric order: 10 > 8 > 2
    assert find_checkpoint(copy).name == "checkpoint-10"


def test_checkpoint_choice_changes_scores(tiny_lora, lora_model, clips, prompts, tmp_path):
    copy = shutil.copytree(tiny_lora, tmp_path / "vr")
    shutil.rmtree(copy / "checkpoint-8")  # only the older checkpoint-2 (other weights) remains
    older = VideoRewardModel.load(str(copy), **TINY_OPTIONS)
    assert not np.allclose(older.score(clips[:2], prompts[:2])["VQ"], lora_model.score(clips[:2], prompts[:2])["VQ"])
    assert older.fingerprint() != lora_model.fingerprint()


def _edit_state(path: Path, edit) -> None:
    state = torch.load(path, weights_only=True)
    edit(state)
    torch.save(state, path)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s.pop("base_model.model.visual.blocks.1.mlp.fc2.weight"),
         "weights missing from the checkpoint: backbone.model.visual.blocks.1.mlp.fc2.weight"),
        (lambda s: s.pop("base_model.model.rm_head.weight"), "weights missing from the checkpoint: rm_head.weight"),
        (lambda s: s.__setitem__("base_model.model.visual.extra.weight", torch.zeros(2)),
         "keys that match no weight of the model: visual.extra.weight"),
        (lambda s: s.__setitem__("base_model.model.rm_head.weight", torch.zeros(3, 5)), "rm_head.weight has shape"),
    ],
)
def test_bad_non_lora_state_fails_loudly(tiny_lora, tmp_path, edit, message):
    copy = shutil.copytree(tiny_lora, tmp_path / "vr")
    path = copy / "checkpoint-8" / "non_lora_state_dict.pth"
    _edit_state(path, edit)
    with pytest.raises(CheckpointError, match="non_lora_state_dict.pth") as info:
        VideoRewardModel.load(str(copy), **TINY_OPTIONS)
    assert message in str(info.value)


def test_bad_adapter_fails_loudly(tiny_lora, tmp_path):
    from safetensors.torch import load_file, save_file

    copy = shutil.copytree(tiny_lora, tmp_path / "vr")
    path = copy / "checkpoint-8" / "adapter_model.safetensors"
    state = load_file(str(path))
    key = "base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight"
    del state[key]
    save_file(state, str(path))
    with pytest.raises(CheckpointError, match="LoRA weights missing from the adapter: .*layers.1.self_attn.v_proj"):
        VideoRewardModel.load(str(copy), **TINY_OPTIONS)


def test_full_variant_missing_key(tiny_full, tmp_path):
    copy = shutil.copytree(tiny_full, tmp_path / "vr")
    _edit_state(copy / "checkpoint-8" / "model.pth", lambda s: s.pop("model.layers.0.mlp.up_proj.weight"))  # old key
    with pytest.raises(CheckpointError, match=r"model.pth: weights missing .*language_model.layers.0.mlp.up_proj"):
        VideoRewardModel.load(str(copy), **TINY_OPTIONS)


def test_no_pickle_beyond_tensors(tiny_lora, tmp_path):
    copy = shutil.copytree(tiny_lora, tmp_path / "vr")
    path = copy / "checkpoint-8" / "non_lora_state_dict.pth"
    torch.save({"x": torch.zeros(1), "evil": Path("/")}, path)  # not a plain tensor: weights_only refuses it
    with pytest.raises(CheckpointError, match="weights_only"):
        VideoRewardModel.load(str(copy), **TINY_OPTIONS)


def test_template_option_and_errors(tiny_lora, tmp_path, clips, prompts, lora_model):
    other = tmp_path / "template.txt"
    other.write_text("Rate: <|VQ_reward|> <|MQ_reward|> for {prompt} <|TA_reward|>")
    model = VideoRewardModel.load(str(tiny_lora), template=str(other), **TINY_OPTIONS)
    assert model.fingerprint() != lora_model.fingerprint()
    assert not np.allclose(model.score(clips[:1], prompts[:1])["TA"], lora_model.score(clips[:1], prompts[:1])["TA"])
    bad = tmp_path / "bad.txt"
    bad.write_text("<|MQ_reward|> <|VQ_reward|> {prompt} <|TA_reward|>")
    with pytest.raises(CheckpointError, match="order"):
        VideoRewardModel.load(str(tiny_lora), template=str(bad), **TINY_OPTIONS)
    copy = shutil.copytree(tiny_lora, tmp_path / "vr")
    (copy / "prompt_template.txt").unlink()
    with pytest.raises(CheckpointError, match="template=PATH"):
        VideoRewardModel.load(str(copy), **TINY_OPTIONS)


def test_config_errors_name_the_file(tiny_lora, tmp_path):
    copy = shutil.copytree(tiny_lora, tmp_path / "vr")
    config = json.loads((copy / "model_config.json").read_text())
    del config["inference_config"]["MQ_std"]
    (copy / "model_config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="model_config.json: inference_config lacks MQ_mean/MQ_std"):
        VideoRewardModel.load(str(copy), **TINY_OPTIONS)
    VideoRewardModel.load(str(copy), use_norm=False, **TINY_OPTIONS)  # not needed without normalisation
    with pytest.raises(CheckpointError, match="no such folder"):
        VideoRewardModel.load(str(tmp_path / "nothing"))


def test_options_reach_sampling_and_fingerprint(tiny_lora, lora_model):
    model = VideoRewardModel.load(str(tiny_lora), num_frames=6, max_pixels=32 * 32, min_pixels=16 * 16, use_norm=False)
    assert model.sampling == Sampling(fps=None, num_frames=6, max_pixels=32 * 32)
    with pytest.raises(CheckpointError, match="fps and num_frames cannot both be set"):
        VideoRewardModel.load(str(tiny_lora), num_frames=6, fps=2.0)
    assert model.fingerprint() != lora_model.fingerprint()
    frames = torch.randint(0, 256, (6, 40, 40, 3), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    out = model.score([frames_clip(frames)], ["x"])
    assert set(out) == {"VQ", "MQ", "TA", "Overall"} and np.isfinite(out["Overall"]).all()


def test_fingerprint_is_stable_across_copies(tiny_lora, lora_model, tmp_path):
    copy = shutil.copytree(tiny_lora, tmp_path / "vr")
    again = VideoRewardModel.load(str(copy), batch_size=4, **TINY_OPTIONS)
    assert again.fingerprint() == lora_model.fingerprint()  # names, sizes and bytes, not paths or mtimes


def test_single_output_head_reads_each_token(tiny_lora, tmp_path, clips, prompts):
    """A head with one output (shared by the three tokens) is sized from the weights, not from the config."""
    copy = shutil.copytree(tiny_lora, tmp_path / "vr")
    head = torch.randn(1, 64, generator=torch.Generator().manual_seed(5))
    _edit_state(copy / "checkpoint-8" / "non_lora_state_dict.pth",
                lambda s: s.__setitem__("base_model.model.rm_head.weight", head))
    model = VideoRewardModel.load(str(copy), use_norm=False, **TINY_OPTIONS)
    assert model.net.rm_head.weight.shape == (1, 64)
    batch = model.batch_inputs(clips[:2], prompts[:2])
    with torch.no_grad():
        hidden = model.net.hidden_states(batch["input_ids"], batch["attention_mask"], batch["pixel_values_videos"],
                                         batch["video_grid_thw"])
    expected = torch.stack([hidden[b, batch["reward_positions"][b]] @ head[0] for b in range(2)]).numpy()
    np.testing.assert_allclose(model.raw_rewards(clips[:2], prompts[:2]), expected, atol=1e-5)


def test_merged_lora_gives_the_same_scores_in_float32(tiny_lora, lora_model, clips, prompts):
    merged = VideoRewardModel.load(str(tiny_lora), merge_lora=True, **TINY_OPTIONS)
    assert all(m.merged for m in merged.net.modules() if hasattr(m, "lora_A"))
    assert any(hasattr(m, "lora_A") and not m.merged for m in lora_model.net.modules())  # the default runs it beside
    a, b = merged.score(clips, prompts), lora_model.score(clips, prompts)
    for dim in lora_model.dimensions:
        np.testing.assert_allclose(a[dim], b[dim], atol=1e-4)
    assert merged.fingerprint() != lora_model.fingerprint()


def test_null_max_frame_pixels_takes_the_qwen_vl_utils_budget(tiny_lora, tmp_path):
    # a checkpoint whose data_config says max_frame_pixels: null gets qwen-vl-utils' own per-clip default, written
    # out here from its documented constants: 768*28*28 per frame, 24576*28*28 in all per 2 frames (FRAME_FACTOR),
    # never below 1.05 * min_pixels (int)
    root = tmp_path / "null-budget"
    shutil.copytree(tiny_lora, root)
    config = json.loads((root / "model_config.json").read_text())
    config["data_config"]["max_frame_pixels"] = None
    (root / "model_config.json").write_text(json.dumps(config))
    model = VideoRewardModel.load(str(root), **TINY_OPTIONS)
    assert model.sampling.max_pixels is None

    def qwen_vl_utils_budget(nframes: int, min_pixels: int) -> float:
        return max(min(768 * 28 * 28, 24576 * 28 * 28 / nframes * 2), int(min_pixels * 1.05))

    for nframes in (8, 64, 100, 1_000, 20_000):  # capped, shared, shared, shared, at the model's floor
        assert model.pixel_budget(nframes) == qwen_vl_utils_budget(nframes, TINY_OPTIONS["min_pixels"])
    assert model.pixel_budget(20_000) == int(56 * 56 * 1.05)  # the model's floor, not the default 128*28*28


def test_score_count_mismatch_message(lora_model, clips, prompts):
    with pytest.raises(ValueError, match=r"^got 2 clips but 1 prompts$"):
        lora_model.score(clips[:2], prompts[:1])
