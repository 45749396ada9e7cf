"""Flow-NRG on real tiny Wan / LTX pipelines: w = 0 is bit-identical, the latent reward rises with w."""

from __future__ import annotations

import pytest
import torch

from videobench.align.latent_rm import LatentRewardModel
from videobench.align.models import NotFlowMatchingError, family_for
from videobench.align.nrg import NRGFlowMatchScheduler, apply_nrg, remove_nrg

CALL = dict(prompt="a cat playing the piano", num_frames=9, height=32, width=32, num_inference_steps=4,
            max_sequence_length=16, output_type="latent")


def _random_head_rm(pipe, seed=0):
    rm = LatentRewardModel.from_pipeline(pipe, num_blocks=1, dimensions=("VQ", "MQ"))
    with torch.no_grad():
        torch.nn.init.normal_(rm.head[2].weight, std=0.5, generator=torch.Generator().manual_seed(seed))
    return rm


def _sample(pipe, seed=0, guidance_scale=3.0):
    with torch.inference_mode():  # as `videobench compare` renders
        return pipe(generator=torch.Generator().manual_seed(seed), guidance_scale=guidance_scale, **CALL).frames


@pytest.mark.parametrize("name", ["wan", "ltx"])
@pytest.mark.parametrize("guidance_scale", [1.0, 3.0])
def test_w_zero_is_bit_identical_to_the_stock_pipeline(name, guidance_scale, wan, ltx):
    pipe = wan if name == "wan" else ltx
    base = _sample(pipe, guidance_scale=guidance_scale)
    handle = apply_nrg(pipe, _random_head_rm(pipe), w=0.0, weights="VQ=1")
    assert isinstance(pipe.scheduler, NRGFlowMatchScheduler)
    assert torch.equal(_sample(pipe, guidance_scale=guidance_scale), base)
    handle.remove()
    assert type(pipe.scheduler).__name__ == "FlowMatchEulerDiscreteScheduler"
    assert not pipe.transformer._forward_pre_hooks
    apply_nrg(pipe, _random_head_rm(pipe), w=5.0, weights="VQ=1")
    assert not torch.equal(_sample(pipe, guidance_scale=guidance_scale), base)  # the guidance does act
    remove_nrg(pipe)
    assert torch.equal(_sample(pipe, guidance_scale=guidance_scale), base)


@pytest.mark.parametrize("name", ["wan", "ltx"])
def test_latent_reward_of_guided_samples_rises_with_w(name, wan, ltx):
    pipe = wan if name == "wan" else ltx
    fam = family_for(pipe)
    rm = _random_head_rm(pipe)
    cond = fam.encode_prompts(pipe, [CALL["prompt"]], 16)
    for seed in (0, 1):
        rewards = []
        for w in (0.0, 1.0, 3.0, 10.0, 30.0):
            handle = apply_nrg(pipe, rm, w=w, weights="VQ=1")
            x0 = fam.final_latents(_sample(pipe, seed), CALL["num_frames"], CALL["height"], CALL["width"])
            with torch.no_grad():
                rewards.append(float(rm.score_latents(x0, torch.zeros(1), cond)[0, 0]))
            if w:
                assert [round(h["sigma"], 4) for h in handle.guidance.history] == \
                    [round(float(s), 4) for s in pipe.scheduler.sigmas[:-1]]  # guided at every step
            handle.remove()
        assert all(b > a for a, b in zip(rewards, rewards[1:])), f"{name} seed {seed}: {rewards}"


def test_sigma_window_and_clipping_limit_the_change(wan):
    rm = _random_head_rm(wan)
    base = _sample(wan)
    h = apply_nrg(wan, rm, w=30.0, weights="VQ=1", sigma_min=0.0, sigma_max=0.0)  # window excludes every step
    assert torch.equal(_sample(wan), base) and h.guidance.history == []
    h = apply_nrg(wan, rm, w=30.0, weights="VQ=1")
    free = (_sample(wan) - base).norm()
    h = apply_nrg(wan, rm, w=30.0, weights="VQ=1", max_grad_norm=1e-3)
    clipped = (_sample(wan) - base).norm()
    h.remove()
    assert 0 < clipped < free


def test_errors_name_the_problem(wan, ltx, tmp_path):
    with pytest.raises(ValueError, match="built from a ltx transformer"):
        apply_nrg(wan, _random_head_rm(ltx))
    with pytest.raises(ValueError, match="unknown dimension"):
        apply_nrg(wan, _random_head_rm(wan), weights="TA=1")
    with pytest.raises(FileNotFoundError, match="not a latent reward model folder"):
        apply_nrg(wan, tmp_path)
    from diffusers import DDIMScheduler

    wan.scheduler = DDIMScheduler()
    with pytest.raises(NotFlowMatchingError):
        apply_nrg(wan, _random_head_rm(ltx))


@pytest.mark.parametrize("name", ["wan", "ltx"])
def test_pixel_space_guidance_baseline_raises_decoded_brightness(name, wan, ltx):
    from videobench.align.nrg_pixel import apply_pixel_guidance

    pipe = wan if name == "wan" else ltx
    call = {**CALL, "output_type": "np", "num_inference_steps": 3, "height": 32, "width": 32}

    def brightness():
        with torch.inference_mode():
            return float(pipe(generator=torch.Generator().manual_seed(0), guidance_scale=1.0, **call).frames.mean())

    base = brightness()
    handle = apply_pixel_guidance(pipe, "brightness", w=5.0)
    guided = brightness()
    assert len(handle.guidance.history) == 3
    handle.remove()
    assert guided > base
