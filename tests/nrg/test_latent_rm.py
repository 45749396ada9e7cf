"""The latent reward model: a faithful copy of the transformer's first blocks, serialisation, layouts, errors."""

from __future__ import annotations

import pytest
import torch

from videobench.align.latent_rm import LatentRewardModel
from videobench.align.models import family_for


def _block_output(transformer, blocks_attr: str, call):
    """Hidden states after the transformer's last block (captured with a forward hook)."""
    seen = {}
    handle = getattr(transformer, blocks_attr)[-1].register_forward_hook(lambda m, a, out: seen.setdefault("h", out))
    try:
        call()
    finally:
        handle.remove()
    return seen["h"]


@pytest.mark.parametrize("name", ["wan", "ltx"])
def test_trunk_reproduces_the_transformers_blocks(name, wan, ltx):
    pipe = wan if name == "wan" else ltx
    fam = family_for(pipe)
    n_layers = len(pipe.transformer.blocks if name == "wan" else pipe.transformer.transformer_blocks)
    rm = LatentRewardModel.from_pipeline(pipe, num_blocks=n_layers)
    cond = fam.encode_prompts(pipe, ["a cat", "a red car at night"], 16)
    x = torch.randn(2, fam.channels, 2, 4, 4, generator=torch.Generator().manual_seed(0))
    sigma = torch.tensor([0.3, 0.8])
    inputs = rm.forward_inputs(x, sigma, cond)
    with torch.no_grad():
        expected = _block_output(pipe.transformer, "blocks" if name == "wan" else "transformer_blocks",
                                 lambda: fam.predict(pipe.transformer, x, 1000 * sigma, cond))
        trunk = rm._wan_trunk if name == "wan" else rm._ltx_trunk
        args = [inputs[k] for k in ("hidden_states", "timestep", "encoder_hidden_states")]
        if name == "ltx":
            args += [inputs[k] for k in ("encoder_attention_mask", "num_frames", "height", "width",
                                         "rope_interpolation_scale")]
        got, _ = trunk(*args)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_scores_start_at_zero_depend_on_sigma_and_prompt_and_round_trip(wan, tmp_path):
    fam = family_for(wan)
    rm = LatentRewardModel.from_pipeline(wan, num_blocks=1, dimensions=("VQ", "MQ"))
    cond = fam.encode_prompts(wan, ["a cat", "a dog"], 16)
    x = torch.randn(2, 16, 2, 4, 4)
    with torch.no_grad():
        assert torch.equal(rm.score_latents(x, torch.tensor([0.5, 0.5]), cond), torch.zeros(2, 2))  # zero-init head
        torch.nn.init.normal_(rm.head[2].weight)
        s = rm.score_latents(x, torch.tensor([0.5, 0.5]), cond)
        assert not torch.allclose(s, rm.score_latents(x, torch.tensor([0.1, 0.1]), cond))  # time-conditioned
        swapped = {"prompt_embeds": cond["prompt_embeds"].flip(0)}
        assert not torch.allclose(s, rm.score_latents(x, torch.tensor([0.5, 0.5]), swapped))  # prompt-conditioned
    rm.save_pretrained(tmp_path / "rm")
    assert {p.name for p in (tmp_path / "rm").iterdir()} == {"config.json", "diffusion_pytorch_model.safetensors"}
    loaded = LatentRewardModel.from_pretrained(tmp_path / "rm")
    assert loaded.dimensions == ("VQ", "MQ") and loaded.family == "wan"
    with torch.no_grad():
        assert torch.equal(loaded.score_latents(x, torch.tensor([0.5, 0.5]), cond), s)
    assert rm.weighted(s, {"MQ": 2.0}).tolist() == pytest.approx((2 * s[:, 1]).tolist())
    with pytest.raises(ValueError, match="unknown reward dimension"):
        rm.weighted(s, {"TA": 1.0})


def test_ltx_model_takes_packed_latents(ltx):
    fam = family_for(ltx)
    rm = LatentRewardModel.from_pipeline(ltx, num_blocks=1)
    torch.nn.init.normal_(rm.head[2].weight)
    cond = fam.encode_prompts(ltx, ["a cat"], 16)
    x = torch.randn(1, 8, 2, 3, 4)
    inputs = rm.forward_inputs(x, torch.tensor([0.4]), cond)
    assert inputs["hidden_states"].shape == (1, 2 * 3 * 4, 8)  # (B, tokens, C)
    assert (inputs["num_frames"], inputs["height"], inputs["width"]) == (2, 3, 4)
    with torch.no_grad():
        assert torch.equal(rm(**inputs), rm.score_latents(x, torch.tensor([0.4]), cond))
    with pytest.raises(ValueError, match="needs encoder_attention_mask"):
        rm(inputs["hidden_states"], inputs["timestep"], inputs["encoder_hidden_states"])


def test_clear_errors(wan):
    with pytest.raises(ValueError, match="only 2 blocks"):
        LatentRewardModel.from_pipeline(wan, num_blocks=3)
    with pytest.raises(ValueError, match="unknown family"):
        LatentRewardModel(family="cogvideo", transformer_config={"a": 1})
    with pytest.raises(ValueError, match="distinct"):
        LatentRewardModel.from_pipeline(wan, dimensions=("VQ", "VQ"))
    with pytest.raises(ValueError, match="unpacked latents"):
        LatentRewardModel.from_pipeline(wan).forward_inputs(torch.zeros(1, 16, 4), torch.zeros(1), {})
