"""A tiny random VideoReward checkpoint in the released layout, built offline in well under a second.

Layout written (as the released KwaiVGI/VideoReward repository, keys in the transformers-4.45 Qwen2-VL layout on
purpose, so loaders are tested against the key mapping):

    <out_dir>/base/                      Qwen2-VL base model (config.json, model.safetensors, tokenizer)
    <out_dir>/videoreward/model_config.json   data / training / model / LoRA / inference configs
    <out_dir>/videoreward/prompt_template.txt a prompt template of our own (not the released one)
    <out_dir>/videoreward/checkpoint-2/  an older checkpoint with other weights (loaders must pick the highest)
    <out_dir>/videoreward/checkpoint-8/  variant "lora": adapter_config.json, adapter_model.safetensors,
                                         non_lora_state_dict.pth; variant "full": model.pth
                                         both: tokenizer with the three reward tokens, chat template

The numbers: vocabulary ~400 + 3 reward tokens, hidden 64, 2 layers, vision patch 8 (so frame sides are multiples
of 16, not 28 as in the real model).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

REWARD_TOKENS = ("<|VQ_reward|>", "<|MQ_reward|>", "<|TA_reward|>")
SPECIAL_TOKENS = (
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>",
)
#: Our own template (the released model was trained with VideoAlign's; users supply that one as a file).
TINY_TEMPLATE = (
    "Judge this video made from a text prompt. Quality: <|VQ_reward|> Motion: <|MQ_reward|>\n"
    "Prompt: {prompt}\nAlignment: <|TA_reward|>"
)
#: Chat format of Qwen2-VL (system turn by default, a video item renders as vision_start, video_pad, vision_end).
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for item in message['content'] %}"
    "{% if item['type'] == 'video' or 'video' in item %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif item['type'] == 'image' or 'image' in item %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif 'text' in item %}{{ item['text'] }}{% endif %}"
    "{% endfor %}<|im_end|>\n{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
CHECKPOINT_STEP = 8
MEAN_STD = {"VQ": (0.5, 2.0), "MQ": (-0.25, 0.5), "TA": (1.0, 4.0)}
LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")

_CORPUS = [
    "a cat walks on the beach at sunset", "a red car drives through a city at night", "the camera pans over mountains",
    "You are a helpful assistant.", "system user assistant", "Judge this video made from a text prompt.",
    "Quality Motion Prompt Alignment", "0123456789 .,:;!?'\"()[]{}-_/", "A dog runs in the snow, slow motion.",
]


def build_tiny_tokenizer(reward_tokens: bool = True) -> Any:
    """Byte-level BPE trained offline on a few strings, with Qwen2-VL's special tokens at ids 0-6."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=list(SPECIAL_TOKENS), show_progress=False, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(_CORPUS * 4, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    fast.chat_template = CHAT_TEMPLATE
    if reward_tokens:
        fast.add_special_tokens({"additional_special_tokens": list(REWARD_TOKENS)})
    return fast


def tiny_qwen2vl_config(vocab_size: int) -> Any:
    from transformers import Qwen2VLConfig

    return Qwen2VLConfig(
        text_config=dict(
            vocab_size=vocab_size, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=4096,
            rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]},
            bos_token_id=0, eos_token_id=2, pad_token_id=0,
        ),
        vision_config=dict(
            depth=2, embed_dim=32, hidden_size=64, num_heads=4, mlp_ratio=2, patch_size=8, spatial_merge_size=2,
            temporal_patch_size=2, in_channels=3,
        ),
        image_token_id=5, video_token_id=6, vision_start_token_id=3, vision_end_token_id=4, tie_word_embeddings=True,
    )


def to_legacy_key(key: str) -> str:
    """A transformers-5 Qwen2-VL key in the transformers-4.45 layout (the released checkpoint's)."""
    if key.startswith("model.language_model."):
        return "model." + key[len("model.language_model."):]
    if key.startswith("model.visual."):
        return key[len("model."):]
    return key


@dataclass
class TinyRewardModel:
    """The in-memory truth a tiny checkpoint is written from: backbone (LoRA merged), reward head, tokenizer."""

    backbone: Any
    rm_head: torch.nn.Linear
    tokenizer: Any
    lora_state: dict[str, torch.Tensor]


def make_tiny_reward_model(seed: int = 0) -> tuple[Any, TinyRewardModel]:
    """(base model, trained reward model): the reward model differs from the base in every part the real one does."""
    from peft import LoraConfig, inject_adapter_in_model
    from transformers import Qwen2VLForConditionalGeneration

    torch.manual_seed(seed)
    base_tok = build_tiny_tokenizer(reward_tokens=False)
    tokenizer = build_tiny_tokenizer(reward_tokens=True)
    # The base vocabulary is padded beyond the tokenizer, as Qwen2-VL-2B's (151936 rows for 151657 tokens).
    base = Qwen2VLForConditionalGeneration(tiny_qwen2vl_config(len(base_tok) + 13)).eval()
    with torch.no_grad():  # random init std 0.02 gives near-constant outputs; widen it so tests can tell models apart
        for p in base.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    trained = Qwen2VLForConditionalGeneration(copy.deepcopy(base.config)).eval()
    trained.load_state_dict(base.state_dict())
    trained.resize_token_embeddings(len(tokenizer))
    with torch.no_grad():
        for name, p in trained.named_parameters():
            if name.startswith("model.visual.") or "embed_tokens" in name:
                p.add_(torch.randn_like(p) * 0.05)  # the released run trained the vision tower and the embeddings
    lora = LoraConfig(r=4, lora_alpha=8, target_modules=list(LORA_TARGETS), lora_dropout=0.0, init_lora_weights=False)
    trained = inject_adapter_in_model(lora, trained, adapter_name="default")
    lora_state = {k: v.detach().clone() for k, v in trained.state_dict().items() if "lora_" in k}
    for module in trained.modules():
        if hasattr(module, "merge") and hasattr(module, "lora_A"):
            module.merge()
    rm_head = torch.nn.Linear(base.config.text_config.hidden_size, len(REWARD_TOKENS), bias=False)
    torch.nn.init.normal_(rm_head.weight, std=0.5)
    return base, TinyRewardModel(trained, rm_head.eval(), tokenizer, lora_state)


def _model_config(base_name: str) -> dict[str, Any]:
    inference = {}
    for dim, (mean, std) in MEAN_STD.items():
        inference[f"{dim}_mean"], inference[f"{dim}_std"] = mean, std
    return {
        "data_config": {"fps": 2.0, "num_frames": None, "max_frame_pixels": 64 * 64, "eval_dim": ["VQ", "MQ", "TA"],
                        "prompt_template_type": "tiny_test"},
        "training_args": {"output_dir": "videoreward", "bf16": False, "max_steps": CHECKPOINT_STEP},
        "model_config": {"model_name_or_path": base_name, "output_dim": 3, "use_special_tokens": True,
                         "special_tokens": list(REWARD_TOKENS), "reward_token": "special", "loss_type": "btt",
                         "torch_dtype": "float32", "trust_remote_code": False},
        "peft_lora_config": {"lora_enable": True, "vision_lora": False, "lora_r": 4, "lora_alpha": 8,
                             "lora_namespan_exclude": ["lm_head", "rm_head", "embed_tokens", "visual"]},
        "inference_config": inference,
    }


def _write_checkpoint(
    ckpt: Path, base: Any, model: TinyRewardModel, variant: str, non_lora_format: str
) -> None:
    from safetensors.torch import save_file

    ckpt.mkdir(parents=True, exist_ok=True)
    model.tokenizer.save_pretrained(ckpt)
    prefix = "base_model.model."
    merged = {k: v for k, v in model.backbone.state_dict().items() if "lora_" not in k}
    merged = {k.replace(".base_layer.", "."): v for k, v in merged.items()}
    if variant == "full":
        state = {to_legacy_key(k): v.detach().clone().contiguous() for k, v in merged.items()}  # untie for safetensors
        state["rm_head.weight"] = model.rm_head.weight.detach().clone()
        if non_lora_format == "safetensors":
            save_file(state, str(ckpt / "model.safetensors"))
        else:
            torch.save(state, ckpt / "model.pth")
        return
    non_lora = {prefix + to_legacy_key(k): v.clone() for k, v in merged.items()
                if k.startswith("model.visual.") or "embed_tokens" in k}
    non_lora[prefix + "rm_head.weight"] = model.rm_head.weight.detach().clone()
    if non_lora_format == "safetensors":
        save_file(non_lora, str(ckpt / "non_lora_state_dict.safetensors"))
    else:
        torch.save(non_lora, ckpt / "non_lora_state_dict.pth")
    # PEFT's saved adapter: no adapter name in the keys, base_model.model. prefix, old module paths.
    adapter = {prefix + to_legacy_key(k.replace(".default.", ".")): v.contiguous() for k, v in model.lora_state.items()}
    save_file(adapter, str(ckpt / "adapter_model.safetensors"))
    (ckpt / "adapter_config.json").write_text(json.dumps({
        "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": 4, "lora_alpha": 8, "lora_dropout": 0.0, "bias": "none",
        "target_modules": list(LORA_TARGETS), "fan_in_fan_out": False, "modules_to_save": None,
        "base_model_name_or_path": "base", "inference_mode": True, "use_rslora": False,
    }, indent=2))


def build_tiny_videoreward_checkpoint(
    out_dir: str | Path,
    variant: str = "lora",
    seed: int = 0,
    *,
    base_model_name: str | None = None,
    non_lora_format: str = "pth",
) -> Path:
    """Write a tiny base model and a VideoReward checkpoint of ``variant`` ("lora" or "full") under ``out_dir``.

    Returns the VideoReward folder (the one to pass as ``videoreward:PATH``). ``base_model_name`` is written as the
    config's ``model_name_or_path`` (default: the absolute path of the base folder written here).
    ``non_lora_format``: "pth" (as released) or "safetensors".
    """
    if variant not in ("lora", "full"):
        raise ValueError(f"variant must be 'lora' or 'full', got {variant!r}")
    out = Path(out_dir)
    base, model = make_tiny_reward_model(seed)
    base_dir = out / "base"
    base.save_pretrained(base_dir)
    build_tiny_tokenizer(reward_tokens=False).save_pretrained(base_dir)
    root = out / "videoreward"
    root.mkdir(parents=True, exist_ok=True)
    config = _model_config(base_model_name or str(base_dir.resolve()))
    config["peft_lora_config"]["lora_enable"] = variant == "lora"
    (root / "model_config.json").write_text(json.dumps(config, indent=2))
    (root / "prompt_template.txt").write_text(TINY_TEMPLATE)
    _write_checkpoint(root / f"checkpoint-{CHECKPOINT_STEP}", base, model, variant, non_lora_format)
    # An older checkpoint with other weights: a loader that picks it (e.g. by string sort) gives other scores.
    _, older = make_tiny_reward_model(seed + 1000)
    _write_checkpoint(root / "checkpoint-2", base, older, variant, non_lora_format)
    return root
