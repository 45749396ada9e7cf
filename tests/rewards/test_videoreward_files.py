"""How a released VideoReward folder is found and read, on hand-written folders (no model is built: milliseconds).

The expected ``model_config.json`` comes from the one VideoAlign's own trainer wrote for the reference fixture
(tests/fixtures/videoalign_reference/, made by its make_reference.py) and from VideoAlign's dataclass defaults written
out by hand; the folders follow its trainer's layout (DESIGN.md §5b).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from videobench.rewards.videoreward_files import (
    CheckpointError,
    _chat_template,
    _has_tokenizer,
    _looks_like_hub_id,
    _weights_file,
    check_base_weights,
    checkpoint_files,
    find_checkpoint,
    read_json,
    released_model_config,
    to_legacy_key,
)

REFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "videoalign_reference"
LORA_LAYOUT = "checkpoint-N/{adapter_config.json, adapter_model.safetensors, non_lora_state_dict.pth}"


def _touch(folder: Path, *names: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"x")
    return folder


def _error(call, *args) -> str:
    with pytest.raises(CheckpointError) as info:
        call(*args)
    return str(info.value)


# ------------------------------------------------------------------------------------------------- model_config.json


def test_released_model_config_matches_what_videoaligns_trainer_wrote():
    written = json.loads((REFERENCE / "lora" / "model_config.json").read_text("utf-8"))
    ours = released_model_config(
        "base", mean_std={"VQ": (0.35, 1.7), "MQ": (-0.8, 0.6), "TA": (1.25, 2.3)}, max_frame_pixels=200704,
        lora_r=4, lora_alpha=8, lora_dropout=0.05, tune_merger=True, training_args=written["training_args"],
        data_files={"meta_data": "train.csv", "data_dir": "."},
    )
    assert ours == written
    assert list(ours["inference_config"]) == ["VQ_mean", "VQ_std", "MQ_mean", "MQ_std", "TA_mean", "TA_std"]


def test_released_model_config_defaults_are_videoaligns():
    # VideoAlign's DataConfig / ModelConfig / PEFTLoraConfig defaults, with the released run's pixel budget, by hand
    expected = {
        "data_config": {
            "meta_data": None, "data_dir": None, "meta_data_test": None, "max_frame_pixels": 76800, "num_frames": None,
            "fps": 2.0, "p_shuffle_frames": 0.0, "p_color_jitter": 0.0, "eval_dim": ["VQ", "MQ", "TA"],
            "prompt_template_type": "detailed_special", "add_noise": False, "sample_type": "uniform",
            "use_tied_data": True,
        },
        "training_args": {},
        "model_config": {
            "model_name_or_path": "Qwen/Qwen2-VL-2B-Instruct", "model_revision": "main", "output_dim": 3,
            "use_special_tokens": True, "freeze_vision_tower": False, "freeze_llm": False, "tune_merger": False,
            "torch_dtype": "float32", "trust_remote_code": False, "attn_implementation": None, "load_in_8bit": False,
            "load_in_4bit": False, "bnb_4bit_quant_type": "nf4", "use_bnb_nested_quant": False,
            "reward_token": "special", "loss_type": "btt",
        },
        "peft_lora_config": {
            "lora_enable": True, "vision_lora": False, "lora_r": 64, "lora_alpha": 128, "lora_dropout": 0.0,
            "lora_target_modules": None, "lora_namespan_exclude": ["lm_head", "rm_head", "embed_tokens", "visual"],
            "lora_modules_to_save": None, "lora_task_type": "CAUSAL_LM", "use_rslora": False, "num_lora_modules": -1,
        },
        "inference_config": {},
    }
    assert released_model_config("Qwen/Qwen2-VL-2B-Instruct") == expected


def test_released_model_config_options_land_in_their_fields():
    config = released_model_config(
        "b", lora=False, mean_std={"VQ": (1, 2)}, max_frame_pixels=None, fps=None, num_frames=8,
        freeze_vision_tower=True, loss_type="bt", use_tied_data=False, torch_dtype="bfloat16", model_revision=None,
        data_files={"meta_data_test": "test.csv"}, extra={"note": "x"},
    )
    assert config["inference_config"] == {"VQ_mean": 1.0, "VQ_std": 2.0}
    assert all(type(v) is float for v in config["inference_config"].values())  # ints from a caller become floats
    data, model = config["data_config"], config["model_config"]
    assert (data["meta_data"], data["meta_data_test"], data["max_frame_pixels"], data["fps"], data["num_frames"],
            data["use_tied_data"]) == (None, "test.csv", None, None, 8, False)
    assert (model["freeze_vision_tower"], model["loss_type"], model["torch_dtype"], model["model_revision"]) == (
        True, "bt", "bfloat16", None)
    assert config["peft_lora_config"]["lora_enable"] is False and config["note"] == "x"
    args = {"bf16": True}
    assert released_model_config("b", training_args=args)["training_args"] == {"bf16": True}


@pytest.mark.parametrize(("key", "legacy"), [
    ("model.language_model.layers.0.mlp.up_proj.weight", "model.layers.0.mlp.up_proj.weight"),
    ("model.language_model.embed_tokens.weight", "model.embed_tokens.weight"),
    ("model.visual.blocks.1.attn.qkv.weight", "visual.blocks.1.attn.qkv.weight"),
    ("lm_head.weight", "lm_head.weight"),
    ("model.layers.0.mlp.up_proj.weight", "model.layers.0.mlp.up_proj.weight"),  # already 4.45
    ("rm_head.weight", "rm_head.weight"),
])
def test_to_legacy_key(key, legacy):
    assert to_legacy_key(key) == legacy


# -------------------------------------------------------------------------------------------------- locating files


@pytest.mark.parametrize(("name", "hub"), [
    ("KwaiVGI/VideoReward", True), ("Qwen/Qwen2-VL-2B-Instruct", True), ("gpt2", True), ("a_b/c.d-e", True),
    ("./VideoReward", False), ("/VideoReward", False), ("/models/VideoReward", False), ("~/VideoReward", False),
    (".hidden", False),
    ("a/b/c", False), ("owner/na me", False), ("owner/name!", False), ("", False),
])
def test_looks_like_hub_id(name, hub):
    assert _looks_like_hub_id(name) is hub


def test_find_checkpoint_takes_the_highest_step_in_numeric_order(tmp_path):
    for step in (2, 10, 9):
        (tmp_path / f"checkpoint-{step}").mkdir()
    (tmp_path / "checkpoint-100").write_text("a file, not a step folder")
    (tmp_path / "runs").mkdir()  # the trainer's other folders
    (tmp_path / "checkpoint-final").mkdir()
    assert find_checkpoint(tmp_path) == tmp_path / "checkpoint-10"
    assert find_checkpoint(tmp_path, 9) == tmp_path / "checkpoint-9"
    assert find_checkpoint(tmp_path, "2") == tmp_path / "checkpoint-2"
    assert _error(find_checkpoint, tmp_path, 100) == f"{tmp_path}: no checkpoint-100/ (steps present: 2, 9, 10)"


def test_find_checkpoint_without_step_folders(tmp_path):
    (tmp_path / "model_config.json").write_text("{}")
    assert _error(find_checkpoint, tmp_path, 3) == f"{tmp_path}: no checkpoint-3/ (steps present: none)"
    assert _error(find_checkpoint, tmp_path) == (
        f"{tmp_path}: no checkpoint-<step>/ folder. VideoAlign's trainer writes model_config.json at the root and one "
        f"folder per saved step: {LORA_LAYOUT} (LoRA) or checkpoint-N/model.pth (full)"
    )


def test_read_json(tmp_path):
    path = tmp_path / "model_config.json"
    path.write_text('{"model_config": {"model_name_or_path": "Qwen/Qwen2-VL-2B-Instruct"}, "note": "\u00e9t\u00e9"}',
                    encoding="utf-8")
    assert read_json(path, "x") == {"model_config": {"model_name_or_path": "Qwen/Qwen2-VL-2B-Instruct"},
                                    "note": "\u00e9t\u00e9"}
    missing = tmp_path / "none.json"
    assert _error(read_json, missing, "the model config").startswith(
        f"{missing}: cannot read the model config: [Errno 2] No such file or directory")
    path.write_text('{"a": 1,}')
    assert _error(read_json, path, "x") == (
        f"{path}: not valid JSON: Expecting property name enclosed in double quotes: line 1 column 9 (char 8)")
    path.write_text("[1, 2]")
    assert _error(read_json, path, "x") == f"{path}: expected a JSON object"


# ------------------------------------------------------------------------------------------------- checkpoint files


def test_checkpoint_files_lora_layout(tmp_path):
    ckpt = _touch(tmp_path / "checkpoint-3", "adapter_config.json", "adapter_model.safetensors",
                  "non_lora_state_dict.pth")
    expected = (True, ckpt / "non_lora_state_dict.pth", ckpt / "adapter_model.safetensors",
                ckpt / "adapter_config.json")
    for lora_enable in (True, None):  # None: no model.pth, so the files say LoRA
        files = checkpoint_files(ckpt, lora_enable)
        assert (files.lora, files.weights, files.adapter, files.adapter_config) == expected
        assert files.all() == [ckpt / "non_lora_state_dict.pth", ckpt / "adapter_model.safetensors"]


def test_checkpoint_files_full_layout(tmp_path):
    ckpt = _touch(tmp_path / "checkpoint-5", "model.pth")
    for lora_enable in (False, None):  # None: model.pth means full, as VideoAlign's loader decides
        files = checkpoint_files(ckpt, lora_enable)
        assert (files.lora, files.weights, files.adapter, files.adapter_config) == (False, ckpt / "model.pth", None,
                                                                                    None)
        assert files.all() == [ckpt / "model.pth"]


def test_checkpoint_files_reads_safetensors_weights_too(tmp_path):
    full = _touch(tmp_path / "full", "model.safetensors")
    assert checkpoint_files(full, None).weights == full / "model.safetensors"
    lora = _touch(tmp_path / "lora", "adapter_config.json", "adapter_model.safetensors",
                  "non_lora_state_dict.safetensors")
    assert checkpoint_files(lora, True).weights == lora / "non_lora_state_dict.safetensors"


def test_weights_file_prefers_videoaligns_pth(tmp_path):
    _touch(tmp_path, "model.pth", "model.safetensors", "other.safetensors")
    (tmp_path / "non_lora_state_dict.pth").mkdir()  # a folder is not a weights file
    assert _weights_file(tmp_path, "model") == tmp_path / "model.pth"
    assert _weights_file(tmp_path, "other") == tmp_path / "other.safetensors"
    assert _weights_file(tmp_path, "non_lora_state_dict") is None


def test_checkpoint_files_full_config_on_a_lora_folder(tmp_path):
    ckpt = _touch(tmp_path / "checkpoint-3", "adapter_config.json", "adapter_model.safetensors",
                  "non_lora_state_dict.pth")
    full_message = (f"{ckpt}: missing model.pth. model_config.json describes a full model "
                    "(peft_lora_config.lora_enable is false), whose layout is checkpoint-N/model.pth")
    hint = " (this folder holds adapter files of the LoRA layout)"
    assert _error(checkpoint_files, ckpt, False) == full_message + hint
    (ckpt / "adapter_config.json").unlink()
    assert _error(checkpoint_files, ckpt, False) == full_message


def test_checkpoint_files_lora_config_on_a_full_folder(tmp_path):
    ckpt = _touch(tmp_path / "checkpoint-5", "model.pth")
    lora_message = (f"{ckpt}: missing adapter_config.json, adapter_model.safetensors, non_lora_state_dict.pth. "
                    "model_config.json describes a LoRA model (peft_lora_config.lora_enable is true), whose layout is "
                    f"{LORA_LAYOUT}")
    assert _error(checkpoint_files, ckpt, True) == lora_message + " (this folder holds model.pth of the full layout)"
    (ckpt / "model.pth").unlink()
    assert _error(checkpoint_files, ckpt, True) == lora_message
    assert _error(checkpoint_files, ckpt, None) == lora_message  # an empty folder: the LoRA layout is expected


# ---------------------------------------------------------------------------------------------------- base folder


def test_check_base_weights_lists_safetensors_in_order(tmp_path):
    _touch(tmp_path, "model-00002-of-00002.safetensors", "model-00001-of-00002.safetensors", "pytorch_model.bin")
    assert check_base_weights(tmp_path) == [tmp_path / "model-00001-of-00002.safetensors",
                                            tmp_path / "model-00002-of-00002.safetensors"]


def test_check_base_weights_refuses_pickles(tmp_path):
    tail = ("; videobench loads base weights from .safetensors only (unpickling can run code). Convert them (load "
            "with transformers, save_pretrained(safe_serialization=True)) and pass base_model=PATH")
    _touch(tmp_path, *(f"pytorch_model-0000{i}-of-00004.bin" for i in (4, 3, 2, 1)))
    assert _error(check_base_weights, tmp_path) == (
        f"{tmp_path}: the base model has only pickle weights (pytorch_model-00001-of-00004.bin, "
        f"pytorch_model-00002-of-00004.bin, pytorch_model-00003-of-00004.bin){tail}")
    index = _touch(tmp_path / "index_only", "pytorch_model.bin.index.json")
    assert _error(check_base_weights, index) == (
        f"{index}: the base model has only pickle weights (pytorch_model.bin.index.json){tail}")
    empty = _touch(tmp_path / "empty", "config.json")
    assert _error(check_base_weights, empty) == (
        f"{empty}: the base model has no .safetensors weights (pickle weights such as pytorch_model.bin are not "
        "loaded, nor downloaded from the Hub); pass base_model=PATH to a copy with safetensors weights")


@pytest.mark.parametrize("name", ["tokenizer.json", "tokenizer_config.json", "vocab.json"])
def test_has_tokenizer_on_any_one_file(tmp_path, name):
    assert not _has_tokenizer(_touch(tmp_path, "config.json", "merges.txt"))
    (tmp_path / name).write_text("{}")
    assert _has_tokenizer(tmp_path)


def test_chat_template_from_json_then_jinja(tmp_path):
    # chat_template.json as a Qwen2-VL processor saves it (the reference base has one)
    reference = json.loads((REFERENCE / "base" / "chat_template.json").read_text("utf-8"))["chat_template"]
    assert _chat_template(REFERENCE / "base") == reference and "<|im_start|>" in reference
    assert _chat_template(tmp_path) is None
    (tmp_path / "chat_template.jinja").write_text("{{ messages }} \u2014 jinja", encoding="utf-8")
    assert _chat_template(tmp_path) == "{{ messages }} \u2014 jinja"
    (tmp_path / "chat_template.json").write_text(json.dumps({"chat_template": "{{ json }}"}))
    assert _chat_template(tmp_path) == "{{ json }}"
    for unusable in ({"chat_template": ""}, {"chat_template": ["a"]}, {"template": "{{ json }}"}):
        (tmp_path / "chat_template.json").write_text(json.dumps(unusable))
        assert _chat_template(tmp_path) == "{{ messages }} \u2014 jinja"  # falls through to the .jinja file
    (tmp_path / "chat_template.json").write_text("[]")
    assert _error(_chat_template, tmp_path) == f"{tmp_path / 'chat_template.json'}: expected a JSON object"


def test_an_unreadable_chat_template_is_named(tmp_path, monkeypatch):
    path = _touch(tmp_path, "chat_template.json") / "chat_template.json"
    real = Path.read_text

    def read_text(self, *args, **kwargs):  # as root a chmod does not stop reading: the read fails here instead
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", read_text)
    assert _error(_chat_template, tmp_path) == (
        f"{path}: cannot read the chat template: [Errno 13] Permission denied: '{path}'")


def test_read_json_names_a_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "model_config.json"
    path.write_bytes('{"note": "\u00e9t\u00e9"}'.encode("latin-1"))  # a config saved in another encoding
    assert _error(read_json, path, "the model config") == (
        f"{path}: not UTF-8 text: 'utf-8' codec can't decode byte 0xe9 in position 10: invalid continuation byte")
