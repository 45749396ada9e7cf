"""A tiny random VideoReward checkpoint in the layout VideoAlign's trainer writes, built offline in about a second.

Layout written under ``out_dir`` (file and key names as VideoAlign's ``train_reward.py`` / ``trainer.py`` save them
with transformers 4.45, so loaders are tested against the key mapping):

    base/                          the base Qwen2-VL model, as a real base on the Hub: config.json, model.safetensors,
                                   a tokenizer WITHOUT the reward tokens, chat_template.json, preprocessor_config.json
    videoreward/model_config.json  data_config / training_args / model_config / peft_lora_config (VideoAlign's
                                   dataclass fields) + inference_config (mean/std); model_name_or_path -> the base
    videoreward/prompt_template.txt  a template of our own ({text_prompt}); VideoAlign keeps templates in code, so
                                   this file is our convention, read when no template= is passed
    videoreward/checkpoint-8/      variant "lora": adapter_config.json, adapter_model.safetensors,
                                   non_lora_state_dict.pth (keys base_model.model.{visual.* but the merger,
                                   model.embed_tokens.weight, rm_head.weight}), tokenizer/ (the trainer's copy, with
                                   the reward tokens); variant "full": model.pth (every weight, lm_head included),
                                   tokenizer/
    videoreward/checkpoint-2/      an older checkpoint with other weights (loaders must pick the highest step)

The trainer also writes files its inference never reads (README.md, optimizer.pt, scheduler.pt, rng_state.pth,
training_args.bin, a pickled TrainingArguments); they are left out. The numbers: vocabulary ~400 (+13 padding rows in
the base embeddings, as Qwen2-VL-2B pads 151657 tokens to 151936 rows) + 3 reward tokens, hidden 64, 2 layers, vision
patch 14 x merge 2 (frame sides multiples of 28, as the real model).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from videobench.rewards.videoreward_files import released_model_config, to_legacy_key

REWARD_TOKENS = ("<|VQ_reward|>", "<|MQ_reward|>", "<|TA_reward|>")
SPECIAL_TOKENS = (
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>",
)
#: Our own template, with VideoAlign's placeholder (the released model was trained with VideoAlign's own text).
TINY_TEMPLATE = (
    "Judge this video made from a text prompt. Quality: <|VQ_reward|> Motion: <|MQ_reward|>\n"
    "Prompt: {text_prompt}\nAlignment: <|TA_reward|>"
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
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
#: Qwen2-VL-2B's image processor settings (preprocessor_config.json), with the tiny model's patch geometry.
PREPROCESSOR_CONFIG = {
    "do_convert_rgb": True, "do_normalize": True, "do_rescale": True, "do_resize": True, "image_mean": CLIP_MEAN,
    "image_std": CLIP_STD, "image_processor_type": "Qwen2VLImageProcessor", "max_pixels": 12845056, "merge_size": 2,
    "min_pixels": 3136, "patch_size": 14, "processor_class": "Qwen2VLProcessor", "resample": 3,
    "rescale_factor": 0.00392156862745098, "temporal_patch_size": 2,
}
CHECKPOINT_STEP = 8
MEAN_STD = {"VQ": (0.5, 2.0), "MQ": (-0.25, 0.5), "TA": (1.0, 4.0)}
NUM_LAYERS = 2
LORA_MODULES = ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj",
                "mlp.up_proj", "mlp.down_proj")
#: What VideoAlign's find_target_linear_names gives with lm_head, rm_head, embed_tokens and visual excluded: every
#: Linear of the language model, by its full transformers-4.45 path.
LORA_TARGETS = tuple(f"model.layers.{i}.{m}" for i in range(NUM_LAYERS) for m in LORA_MODULES)
#: Pixel budget per frame in the tiny model_config.json: below the video minimum 128*28*28 on purpose (the rule
#: VideoAlign applies then: a larger frame is scaled down to the budget, a smaller one up to the minimum).
TINY_MAX_FRAME_PIXELS = 64 * 64

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
    if reward_tokens:  # as VideoAlign's create_model_and_processor does
        fast.add_special_tokens({"additional_special_tokens": list(REWARD_TOKENS)})
    return fast


def tiny_qwen2vl_config(vocab_size: int) -> Any:
    from transformers import Qwen2VLConfig

    return Qwen2VLConfig(
        text_config=dict(
            vocab_size=vocab_size, hidden_size=64, intermediate_size=128, num_hidden_layers=NUM_LAYERS,
            num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
            rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]},
            bos_token_id=0, eos_token_id=2, pad_token_id=0,
        ),
        vision_config=dict(
            depth=2, embed_dim=32, hidden_size=64, num_heads=4, mlp_ratio=2, patch_size=14, spatial_merge_size=2,
            temporal_patch_size=2, in_channels=3,
        ),
        image_token_id=5, video_token_id=6, vision_start_token_id=3, vision_end_token_id=4, tie_word_embeddings=True,
    )


@dataclass
class TinyRewardModel:
    """The in-memory truth a tiny checkpoint is written from: backbone (LoRA merged), reward head, tokenizer."""

    backbone: Any
    rm_head: torch.nn.Linear
    tokenizer: Any
    lora_state: dict[str, torch.Tensor]


def make_tiny_base(seed: int = 0) -> Any:
    """The tiny random Qwen2-VL base (embeddings 13 rows wider than its tokenizer, as the released base)."""
    from transformers import Qwen2VLForConditionalGeneration

    torch.manual_seed(seed)
    base_tok = build_tiny_tokenizer(reward_tokens=False)
    base = Qwen2VLForConditionalGeneration(tiny_qwen2vl_config(len(base_tok) + 13)).eval()
    with torch.no_grad():  # random init std 0.02 gives near-constant outputs; widen it so tests can tell models apart
        for p in base.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return base


def build_tiny_base(out_dir: str | Path, seed: int = 0) -> Path:
    """Write only the tiny base model (what ``videobench align reward-model`` trains from) to ``out_dir``."""
    out = Path(out_dir)
    write_base_model(make_tiny_base(seed), out)
    return out


def make_tiny_reward_model(seed: int = 0) -> tuple[Any, TinyRewardModel]:
    """(base model, trained reward model): the reward model differs from the base where VideoAlign's training changes
    it (vision tower but its merger, embeddings, LoRA on the language model, the head)."""
    from peft import LoraConfig, inject_adapter_in_model
    from transformers import Qwen2VLForConditionalGeneration

    base = make_tiny_base(seed)
    tokenizer = build_tiny_tokenizer(reward_tokens=True)
    trained = Qwen2VLForConditionalGeneration(copy.deepcopy(base.config)).eval()
    trained.load_state_dict(base.state_dict())
    trained.resize_token_embeddings(len(tokenizer))
    with torch.no_grad():
        for name, p in trained.named_parameters():
            if (name.startswith("model.visual.") and ".merger." not in name) or "embed_tokens" in name:
                p.add_(torch.randn_like(p) * 0.05)  # trained: the vision tower (not the merger) and the embeddings
    lora = LoraConfig(r=4, lora_alpha=8, target_modules=list(LORA_MODULES), lora_dropout=0.0, init_lora_weights=False)
    trained = inject_adapter_in_model(lora, trained, adapter_name="default")
    lora_state = {k: v.detach().clone() for k, v in trained.state_dict().items() if "lora_" in k}
    for module in trained.modules():
        if hasattr(module, "merge") and hasattr(module, "lora_A"):
            module.merge()
    rm_head = torch.nn.Linear(base.config.text_config.hidden_size, len(REWARD_TOKENS), bias=False)
    torch.nn.init.normal_(rm_head.weight, std=0.5)
    return base, TinyRewardModel(trained, rm_head.eval(), tokenizer, lora_state)


def videoalign_model_config(base_name: str, lora: bool) -> dict[str, Any]:
    """``model_config.json`` of the tiny checkpoint (``released_model_config`` with the tiny run's values)."""
    return released_model_config(
        base_name, lora=lora, mean_std=MEAN_STD, max_frame_pixels=TINY_MAX_FRAME_PIXELS, fps=2.0, lora_r=4,
        lora_alpha=8, training_args={"output_dir": "videoreward", "bf16": False, "max_steps": CHECKPOINT_STEP,
                                     "save_full_model": not lora, "load_from_pretrained": None},
        data_files={"meta_data": "train.csv", "data_dir": "videos"},
    )


def write_base_model(base: Any, base_dir: Path) -> None:
    """The base as a Qwen2-VL base repo holds it: weights, config, a tokenizer without the reward tokens, the
    processor's chat template and image-processor settings."""
    base.save_pretrained(base_dir)
    tok = build_tiny_tokenizer(reward_tokens=False)
    tok.save_pretrained(base_dir)
    (base_dir / "chat_template.json").write_text(json.dumps({"chat_template": CHAT_TEMPLATE}, indent=2))
    (base_dir / "preprocessor_config.json").write_text(json.dumps(PREPROCESSOR_CONFIG, indent=2))


def _write_checkpoint(ckpt: Path, model: TinyRewardModel, variant: str, base_name: str) -> None:
    from safetensors.torch import save_file

    ckpt.mkdir(parents=True, exist_ok=True)
    model.tokenizer.save_pretrained(ckpt / "tokenizer")  # the trainer's copy (Trainer._save)
    prefix = "base_model.model."
    merged = {k.replace(".base_layer.", "."): v for k, v in model.backbone.state_dict().items() if "lora_" not in k}
    if variant == "full":  # torch.save(state_dict, "model.pth"): every key, the tied lm_head included
        state = {to_legacy_key(k): v.detach().clone().contiguous() for k, v in merged.items()}
        state["rm_head.weight"] = model.rm_head.weight.detach().clone()
        torch.save(state, ckpt / "model.pth")
        return
    # get_peft_state_non_lora_maybe_zero_3(require_grad_only=True): the trained, non-LoRA parameters (tied lm_head
    # appears once, as embed_tokens; the merger is frozen unless tune_merger)
    non_lora = {prefix + to_legacy_key(k): v.detach().clone() for k, v in merged.items()
                if (k.startswith("model.visual.") and ".merger." not in k) or "embed_tokens" in k}
    non_lora[prefix + "rm_head.weight"] = model.rm_head.weight.detach().clone()
    torch.save(non_lora, ckpt / "non_lora_state_dict.pth")
    # PEFT's save_pretrained: no adapter name in the keys, base_model.model. prefix, 4.45 module paths.
    adapter = {prefix + to_legacy_key(k.replace(".default.", ".")): v.contiguous() for k, v in model.lora_state.items()}
    save_file(adapter, str(ckpt / "adapter_model.safetensors"), metadata={"format": "pt"})
    (ckpt / "adapter_config.json").write_text(json.dumps({
        "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": 4, "lora_alpha": 8, "lora_dropout": 0.0, "bias": "none",
        "target_modules": list(LORA_TARGETS), "fan_in_fan_out": False, "modules_to_save": None,
        "base_model_name_or_path": base_name, "inference_mode": True, "use_rslora": False, "use_dora": False,
        "init_lora_weights": True, "layers_to_transform": None, "layers_pattern": None, "rank_pattern": {},
        "alpha_pattern": {}, "revision": None,
    }, indent=2))


def build_tiny_videoreward_checkpoint(
    out_dir: str | Path,
    variant: str = "lora",
    seed: int = 0,
    *,
    base_model_name: str | None = None,
) -> Path:
    """Write a tiny base model and a VideoReward checkpoint of ``variant`` ("lora" or "full") under ``out_dir``.

    Returns the VideoReward folder (the one to pass as ``videoreward:PATH``); the base model is ``out_dir/base``.
    ``base_model_name`` is written as the config's ``model_name_or_path`` (default: the base folder's absolute path).
    """
    if variant not in ("lora", "full"):
        raise ValueError(f"variant must be 'lora' or 'full', got {variant!r}")
    out = Path(out_dir)
    base, model = make_tiny_reward_model(seed)
    base_dir = out / "base"
    write_base_model(base, base_dir)
    root = out / "videoreward"
    root.mkdir(parents=True, exist_ok=True)
    base_name = base_model_name or str(base_dir.resolve())
    config = videoalign_model_config(base_name, lora=variant == "lora")
    (root / "model_config.json").write_text(json.dumps(config, indent=4))
    (root / "prompt_template.txt").write_text(TINY_TEMPLATE)
    _write_checkpoint(root / f"checkpoint-{CHECKPOINT_STEP}", model, variant, base_name)
    # An older checkpoint with other weights: a loader that picks it (e.g. by string sort) gives other scores.
    _, older = make_tiny_reward_model(seed + 1000)
    _write_checkpoint(root / "checkpoint-2", older, variant, base_name)
    return root
