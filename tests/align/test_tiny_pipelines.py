"""The tiny offline pipelines: deterministic and saveable. (Their speed is measured in bench/, not asserted here.)"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from videobench.testing.tiny_pipelines import build_tiny_ltx_pipeline, build_tiny_wan_pipeline, tiny_t5_tokenizer


def _render(pipe, size: int, seed: int = 0) -> np.ndarray:
    return pipe(
        "a cat playing the piano",
        num_frames=9,
        height=size,
        width=size,
        num_inference_steps=2,
        output_type="np",
        generator=torch.Generator().manual_seed(seed),
    ).frames[0]


@pytest.mark.parametrize("builder,size", [(build_tiny_wan_pipeline, 16), (build_tiny_ltx_pipeline, 32)])
def test_renders_frames_deterministically(builder, size):
    pipe = builder(seed=0)
    frames = _render(pipe, size)
    assert frames.shape == (9, size, size, 3)
    assert 0.0 <= frames.min() and frames.max() <= 1.0
    np.testing.assert_array_equal(frames, _render(builder(seed=0), size))
    assert not np.array_equal(frames, _render(builder(seed=1), size))


def test_save_and_load_round_trip(tmp_path):
    from diffusers import LTXPipeline, WanPipeline

    wan = build_tiny_wan_pipeline(out_dir=tmp_path / "wan")
    loaded = WanPipeline.from_pretrained(tmp_path / "wan")
    loaded.set_progress_bar_config(disable=True)
    np.testing.assert_allclose(_render(wan, 16), _render(loaded, 16), atol=1e-6)
    ltx = build_tiny_ltx_pipeline(out_dir=tmp_path / "ltx")
    loaded = LTXPipeline.from_pretrained(tmp_path / "ltx")
    loaded.set_progress_bar_config(disable=True)
    np.testing.assert_allclose(_render(ltx, 32), _render(loaded, 32), atol=1e-6)


def test_tokenizer_is_t5_style():
    tok = tiny_t5_tokenizer()
    ids = tok("a cat").input_ids
    assert ids[-1] == tok.eos_token_id == 1 and tok.pad_token_id == 0
