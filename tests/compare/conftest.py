"""Fixtures for compare tests: tiny Wan / LTX pipeline folders, a LoRA, a pixel reward (helpers in compare_helpers)."""

from __future__ import annotations

from pathlib import Path

import pytest
from compare_helpers import SharpnessReward

@pytest.fixture(scope="session")
def tiny_wan(tmp_path_factory) -> Path:
    from videobench.testing.tiny_pipelines import build_tiny_wan_pipeline

    out = tmp_path_factory.mktemp("models") / "tiny-wan"
    build_tiny_wan_pipeline(out_dir=out, seed=0)
    return out


@pytest.fixture(scope="session")
def tiny_wan_b(tmp_path_factory) -> Path:
    from videobench.testing.tiny_pipelines import build_tiny_wan_pipeline

    out = tmp_path_factory.mktemp("models") / "tiny-wan-b"
    build_tiny_wan_pipeline(out_dir=out, seed=1)
    return out


@pytest.fixture(scope="session")
def tiny_ltx(tmp_path_factory) -> Path:
    from videobench.testing.tiny_pipelines import build_tiny_ltx_pipeline

    out = tmp_path_factory.mktemp("models") / "tiny-ltx"
    build_tiny_ltx_pipeline(out_dir=out, seed=0)
    return out


@pytest.fixture(scope="session")
def tiny_lora(tmp_path_factory, tiny_wan) -> Path:
    """A random (non-zero) LoRA for the tiny Wan transformer, saved in diffusers' LoRA format."""
    import torch
    from diffusers import WanPipeline
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    pipe = WanPipeline.from_pretrained(str(tiny_wan))
    torch.manual_seed(0)
    pipe.transformer.add_adapter(LoraConfig(r=4, lora_alpha=4, init_lora_weights=False,
                                            target_modules=["to_q", "to_k", "to_v", "to_out.0"]))
    out = tmp_path_factory.mktemp("loras") / "lora"
    WanPipeline.save_lora_weights(out, transformer_lora_layers=get_peft_model_state_dict(pipe.transformer))
    return out


@pytest.fixture()
def sharpness() -> SharpnessReward:
    return SharpnessReward()
