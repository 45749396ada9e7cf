"""Loading as VideoAlign's inference does: the fixture is in its trainer's layout; the tokenizer comes from the base
model with the reward tokens added; the trainer's tokenizer copy is optional but checked; each missing file gets one
error naming the layout; pickle-only base weights are refused; both prompt placeholders work."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from reward_test_helpers import TINY_OPTIONS
from videobench.rewards.videoreward import CheckpointError, VideoRewardModel
from videobench.testing.tiny_qwen2vl import REWARD_TOKENS, build_tiny_tokenizer

TOKENIZER_FILES = {"tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt"}


def _tree(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_fixture_is_videoaligns_trainer_layout(tiny_lora, tiny_full):
    for root, weights in ((tiny_lora, {"adapter_config.json", "adapter_model.safetensors", "non_lora_state_dict.pth"}),
                          (tiny_full, {"model.pth"})):
        files = _tree(root)
        assert "model_config.json" in files
        for step in (2, 8):
            ckpt = {f.split("/", 1)[1] for f in files if f.startswith(f"checkpoint-{step}/")}
            assert weights <= ckpt and "tokenizer/tokenizer_config.json" in ckpt
            assert not {f for f in ckpt if "/" not in f} - weights  # nothing else beside the weights
        # a tokenizer only in checkpoint-N/tokenizer/ (and the separate base folder)
        assert all(f.split("/")[-2] == "tokenizer" for f in files if f.split("/")[-1] in TOKENIZER_FILES)
        base = root.parent / "base"
        assert {"config.json", "model.safetensors", "tokenizer.json", "preprocessor_config.json"} <= _tree(base)
        config = json.loads((root / "model_config.json").read_text())
        assert Path(config["model_config"]["model_name_or_path"]) == base.resolve()
        assert config["peft_lora_config"]["lora_enable"] is (root == tiny_lora)
    base_tok = json.loads((tiny_lora.parent / "base" / "tokenizer.json").read_text())
    assert not any(t["content"] in REWARD_TOKENS for t in base_tok["added_tokens"])  # as a real Qwen2-VL base
    non_lora = torch.load(tiny_lora / "checkpoint-8" / "non_lora_state_dict.pth", weights_only=True)
    assert "base_model.model.rm_head.weight" in non_lora and "base_model.model.model.embed_tokens.weight" in non_lora
    assert any(k.startswith("base_model.model.visual.blocks.") for k in non_lora)
    assert not any(".merger." in k for k in non_lora)  # tune_merger=False: the merger is frozen, not saved
    full = torch.load(tiny_full / "checkpoint-8" / "model.pth", weights_only=True)
    assert {"lm_head.weight", "rm_head.weight", "model.embed_tokens.weight", "visual.merger.mlp.0.weight"} <= set(full)


def test_trainer_tokenizer_copy_is_optional(tiny_lora, lora_model, clips, prompts, tmp_path):
    copy = shutil.copytree(tiny_lora, tmp_path / "vr")
    shutil.rmtree(copy / "checkpoint-8" / "tokenizer")
    model = VideoRewardModel.load(str(copy), **TINY_OPTIONS)
    assert model.reward_token_ids == lora_model.reward_token_ids
    assert model.fingerprint() == lora_model.fingerprint()
    np.testing.assert_allclose(model.score(clips[:2], prompts[:2])["Overall"],
                               lora_model.score(clips[:2], prompts[:2])["Overall"], atol=1e-6)


def test_trainer_tokenizer_copy_must_agree(tiny_lora, tmp_path):
    copy = shutil.copytree(tiny_lora, tmp_path / "vr")
    other = build_tiny_tokenizer(reward_tokens=False)
    other.add_special_tokens({"additional_special_tokens": ["<|extra|>", *REWARD_TOKENS]})  # ids shifted by one
    shutil.rmtree(copy / "checkpoint-8" / "tokenizer")
    other.save_pretrained(copy / "checkpoint-8" / "tokenizer")
    with pytest.raises(CheckpointError, match=r"checkpoint-8/tokenizer: maps the reward tokens .* but the base model"):
        VideoRewardModel.load(str(copy), **TINY_OPTIONS)


def test_base_without_tokenizer_falls_back_to_the_copy(tiny_lora, lora_model, tmp_path):
    work = tmp_path / "w"
    shutil.copytree(tiny_lora.parent, work)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (work / "base" / name).unlink()
    model = VideoRewardModel.load(str(work / "videoreward"), base_model=str(work / "base"), **TINY_OPTIONS)
    assert model.reward_token_ids == lora_model.reward_token_ids
    shutil.rmtree(work / "videoreward" / "checkpoint-8" / "tokenizer")
    with pytest.raises(CheckpointError, match="base: no tokenizer"):
        VideoRewardModel.load(str(work / "videoreward"), base_model=str(work / "base"), **TINY_OPTIONS)


@pytest.mark.parametrize(
    ("variant", "remove", "expected", "absent"),
    [
        ("full", ["model.pth"], "missing model.pth. model_config.json describes a full model", "non_lora"),
        ("lora", ["non_lora_state_dict.pth"], "missing non_lora_state_dict.pth. model_config.json describes a LoRA",
         "model.pth"),
        ("lora", ["adapter_config.json", "adapter_model.safetensors"],
         "missing adapter_config.json, adapter_model.safetensors. model_config.json describes a LoRA", "model.pth"),
    ],
)
def test_a_missing_file_gets_one_error_naming_the_layout(tiny_lora, tiny_full, tmp_path, variant, remove, expected,
                                                          absent):
    copy = shutil.copytree(tiny_lora if variant == "lora" else tiny_full, tmp_path / "vr")
    for name in remove:
        (copy / "checkpoint-8" / name).unlink()
    with pytest.raises(CheckpointError) as info:
        VideoRewardModel.load(str(copy), **TINY_OPTIONS)
    message = str(info.value)
    assert expected in message and "checkpoint-N/" in message and absent not in message


def test_missing_model_config_and_checkpoint_folders(tiny_lora, tmp_path):
    copy = shutil.copytree(tiny_lora, tmp_path / "vr")
    (copy / "model_config.json").unlink()
    with pytest.raises(CheckpointError, match="model_config.json: missing. VideoAlign's trainer writes"):
        VideoRewardModel.load(str(copy))
    empty = tmp_path / "empty"
    empty.mkdir()
    shutil.copy(tiny_lora / "model_config.json", empty)
    with pytest.raises(CheckpointError, match="no checkpoint-<step>/ folder"):
        VideoRewardModel.load(str(empty))


def test_step_option(tiny_lora, lora_model, clips, prompts):
    older = VideoRewardModel.load(str(tiny_lora), step=2, **TINY_OPTIONS)
    assert older.source.checkpoint.name == "checkpoint-2" and older.fingerprint() != lora_model.fingerprint()
    with pytest.raises(CheckpointError, match=r"no checkpoint-5/ \(steps present: 2, 8\)"):
        VideoRewardModel.load(str(tiny_lora), step=5)


def test_pickle_only_base_is_refused_before_loading(tiny_lora, tmp_path):
    from safetensors.torch import load_file

    work = tmp_path / "w"
    shutil.copytree(tiny_lora.parent, work)
    weights = work / "base" / "model.safetensors"
    torch.save(load_file(str(weights)), work / "base" / "pytorch_model.bin")
    weights.unlink()
    with pytest.raises(CheckpointError, match=r"only pickle weights \(pytorch_model.bin\).*safetensors only"):
        VideoRewardModel.load(str(work / "videoreward"), base_model=str(work / "base"), **TINY_OPTIONS)


def test_both_prompt_placeholders(tiny_lora, lora_model, clips, tmp_path):
    from videobench.testing.tiny_qwen2vl import TINY_TEMPLATE

    assert "{text_prompt}" in TINY_TEMPLATE  # the checkpoint's own template uses VideoAlign's placeholder
    renamed = tmp_path / "t.txt"
    renamed.write_text(TINY_TEMPLATE.replace("{text_prompt}", "{prompt}"))
    model = VideoRewardModel.load(str(tiny_lora), template=str(renamed), **TINY_OPTIONS)
    assert model.prompt_text("a cat") == lora_model.prompt_text("a cat")
    assert "Prompt: a cat\n" in model.prompt_text("a cat")
    assert model.fingerprint() != lora_model.fingerprint()  # the template text is part of it
    for bad in ("no placeholder <|VQ_reward|> <|MQ_reward|> <|TA_reward|>",
                "{prompt} {text_prompt} <|VQ_reward|> <|MQ_reward|> <|TA_reward|>"):
        renamed.write_text(bad)
        with pytest.raises(CheckpointError, match=r"\{text_prompt\} \(as in VideoAlign's templates\) or \{prompt\}"):
            VideoRewardModel.load(str(tiny_lora), template=str(renamed))


def test_pixel_budget_defaults(tiny_lora, tmp_path):
    copy = shutil.copytree(tiny_lora, tmp_path / "vr")
    config = json.loads((copy / "model_config.json").read_text())
    del config["data_config"]["max_frame_pixels"]  # VideoAlign's DataConfig default then: 240*320
    (copy / "model_config.json").write_text(json.dumps(config))
    assert VideoRewardModel.load(str(copy), **TINY_OPTIONS).sampling.max_pixels == 76800
    config["data_config"]["max_frame_pixels"] = None  # qwen-vl-utils' default for the clip's frame count
    (copy / "model_config.json").write_text(json.dumps(config))
    model = VideoRewardModel.load(str(copy), **TINY_OPTIONS)
    assert model.sampling.max_pixels is None
    # min_pixels 3136 here: max(min(768*784, 24576*784 / n * 2), int(3136 * 1.05)) = 602112 for 8 frames, and
    # 19267584 / 400 * 2 = 96337.92 for 400 frames
    assert model.pixel_budget(8) == 602112 and model.pixel_budget(400) == pytest.approx(96337.92)


def test_relative_base_name_is_found_beside_the_checkpoint(tiny_lora, lora_model, tmp_path, monkeypatch):
    work = shutil.copytree(tiny_lora.parent, tmp_path / "w")
    config = json.loads((work / "videoreward" / "model_config.json").read_text())
    config["model_config"]["model_name_or_path"] = "base"  # relative to the training run's working folder
    (work / "videoreward" / "model_config.json").write_text(json.dumps(config))
    monkeypatch.chdir(tmp_path)  # not the folder holding base/
    model = VideoRewardModel.load(str(work / "videoreward"), **TINY_OPTIONS)
    assert model.reward_token_ids == lora_model.reward_token_ids
