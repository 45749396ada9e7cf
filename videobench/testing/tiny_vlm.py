"""Tiny random instruction VLMs (Qwen2-VL and Qwen2.5-VL classes of transformers), built offline in well under a
second, in the layout of a Hub repo: config.json, model.safetensors, tokenizer files with the chat template,
preprocessor_config.json. They load with ``judge:DIR``; random weights answer garbage, which is the point of the
tests that count unparseable answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from videobench.testing.tiny_qwen2vl import PREPROCESSOR_CONFIG, build_tiny_tokenizer, tiny_qwen2vl_config

ARCHS = ("qwen2-vl", "qwen2.5-vl")


def tiny_qwen25vl_config(vocab_size: int) -> Any:
    from transformers import Qwen2_5_VLConfig

    text = tiny_qwen2vl_config(vocab_size).text_config.to_dict()
    keep = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
            "num_key_value_heads", "max_position_embeddings", "rope_parameters", "bos_token_id", "eos_token_id",
            "pad_token_id")
    return Qwen2_5_VLConfig(
        text_config={k: text[k] for k in keep},
        vision_config=dict(depth=2, hidden_size=32, intermediate_size=64, num_heads=4, patch_size=14,
                           spatial_merge_size=2, temporal_patch_size=2, out_hidden_size=text["hidden_size"],
                           window_size=56, fullatt_block_indexes=[1], tokens_per_second=2),
        image_token_id=5, video_token_id=6, vision_start_token_id=3, vision_end_token_id=4, tie_word_embeddings=True,
    )


def build_tiny_vlm(out_dir: str | Path, arch: str = "qwen2.5-vl", seed: int = 0) -> Path:
    """Write a tiny random ``arch`` model (``qwen2-vl`` or ``qwen2.5-vl``) into ``out_dir``; returns it."""
    from transformers import Qwen2_5_VLForConditionalGeneration, Qwen2VLForConditionalGeneration

    if arch not in ARCHS:
        raise ValueError(f"arch {arch!r}: choose one of {', '.join(ARCHS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    tokenizer = build_tiny_tokenizer(reward_tokens=False)
    if arch == "qwen2-vl":
        model = Qwen2VLForConditionalGeneration(tiny_qwen2vl_config(len(tokenizer)))
    else:
        model = Qwen2_5_VLForConditionalGeneration(tiny_qwen25vl_config(len(tokenizer)))
    with torch.no_grad():  # init std 0.02 answers the same token whatever the video; wider weights vary more
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    model.eval().save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    (out / "preprocessor_config.json").write_text(json.dumps(PREPROCESSOR_CONFIG, indent=2))
    return out
