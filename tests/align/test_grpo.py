"""Flow-GRPO on tiny Wan: the SDE sampler against the pipeline, one training step's numbers, resume, rewards, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from videobench.align import grpo
from videobench.align.config import AlignConfig, ConfigError
from videobench.align.grpo_trainer import sample_sde
from videobench.align.lora import LoraSettings, add_lora, adapters_disabled
from videobench.align.models import family_for
from videobench.align.rewards import PixelReward

PROMPTS = ["a bright white light", "a dark black scene", "a red car at night"]
TINY = dict(prompts=PROMPTS, num_frames=5, height=16, width=16, num_inference_steps=3, guidance_scale=1.0,
            max_sequence_length=16, samples_per_prompt=2, prompts_per_step=2, lora_rank=4, lora_alpha=4, lr=1e-2,
            batch_size=4, reward="pixel:contrast")


@pytest.mark.parametrize("guidance", [1.0, 3.0])
def test_the_sampler_without_noise_renders_what_the_pipeline_renders(wan, guidance):
    """No stochastic step = the Euler ODE: with the same initial latents, our loop (σ grid, classifier-free
    guidance, decoding) gives the pipeline's own video."""
    family = family_for(wan)
    shape = family.latent_shape(5, 16, 16)
    x = torch.randn(1, *shape, generator=torch.Generator().manual_seed(3))
    cond = family.encode_prompts(wan, ["a cat"], 16)
    uncond = family.encode_prompts(wan, [""], 16)
    sigmas = family.sigmas(wan, 3, 5, 16, 16)
    predict = lambda x, t, c: family.predict(wan.transformer, x, t, c)  # noqa: E731
    traj = sample_sde(predict, x, cond, sigmas, 0.7, range(0), [torch.Generator()], uncond, guidance)
    assert traj.log_probs.shape == (1, 0)
    ours = family.decode(wan, traj.final)
    theirs = wan("a cat", latents=x.clone(), num_frames=5, height=16, width=16, num_inference_steps=3,
                 guidance_scale=guidance, max_sequence_length=16, output_type="np").frames
    np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_sde_rollouts_keep_the_window_and_its_log_probs(wan):
    family = family_for(wan)
    shape = family.latent_shape(5, 16, 16)
    x = torch.randn(2, *shape, generator=torch.Generator().manual_seed(0))
    cond = {k: v.expand(2, *v.shape[1:]) for k, v in family.encode_prompts(wan, ["a cat"], 16).items()}
    sigmas = family.sigmas(wan, 3, 5, 16, 16)
    predict = lambda x, t, c: family.predict(wan.transformer, x, t, c)  # noqa: E731
    gens = lambda: [torch.Generator().manual_seed(i) for i in range(2)]  # noqa: E731
    a = sample_sde(predict, x, cond, sigmas, 0.7, range(1, 3), gens())
    b = sample_sde(predict, x, cond, sigmas, 0.7, range(1, 3), gens())
    assert a.states.shape == (2, 3, *shape) and a.log_probs.shape == (2, 2)
    torch.testing.assert_close(a.final, b.final)  # a function of the generators only
    torch.testing.assert_close(a.states[:, -1], a.final)
    assert not torch.allclose(a.final[0], a.final[1])  # the SDE noise differs per sample


def test_kl_is_zero_at_the_start_because_the_disabled_adapter_is_the_policy(wan):
    family = family_for(wan)
    add_lora(wan.transformer, LoraSettings(rank=4, alpha=4))
    x = torch.randn(1, *family.latent_shape(5, 16, 16))
    cond = family.encode_prompts(wan, ["a cat"], 16)
    t = torch.tensor([500.0])
    with torch.no_grad():
        policy = family.predict(wan.transformer, x, t, cond)
        with adapters_disabled(wan.transformer):
            reference = family.predict(wan.transformer, x, t, cond)
    assert torch.equal(policy, reference)


def test_one_run_logs_every_reward_kl_and_ratios(wan, tmp_path):
    rewards = [{"spec": "pixel:contrast", "weight": 1.0}, {"spec": "pixel:brightness", "weight": 0.5,
                                                           "name": "bright"}]
    # with classifier-free guidance: sampling and training both run the guided velocity
    result = grpo(pipe=wan, output_dir=str(tmp_path), max_steps=2, kl_beta=0.1, rewards=rewards,
                  **{**TINY, "guidance_scale": 3.0, "negative_prompt": "blurry"})
    first, second = result.log
    assert first["kl"] == 0.0  # step 1 trains the untouched LoRA (B = 0): policy = reference
    assert second["kl"] > 0.0
    assert first["ratio_mean"] == pytest.approx(1.0, abs=1e-5) and first["clip_frac"] == 0.0
    assert first["reward"] == pytest.approx(first["reward/pixel:contrast"] + 0.5 * first["reward/bright"], rel=1e-6)
    for key in ("reward_std", "reward/bright/std", "ratio_min", "ratio_max", "approx_kl", "rollout_seconds",
                "reward_seconds", "train_seconds", "lr"):
        assert key in first
    lines = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [e["step"] for e in lines] == [1, 2]
    assert (tmp_path / "pytorch_lora_weights.safetensors").is_file()
    assert json.loads((tmp_path / "run.json").read_text())["rewards"] == ["pixel:contrast", "bright"]


def test_resume_equals_an_uninterrupted_run(_wan_session, tmp_path):
    import copy

    settings = dict(max_steps=3, checkpoint_every=1, sde_window=2, grpo_minibatches=2, kl_beta=0.01, **TINY)
    full = grpo(pipe=copy.deepcopy(_wan_session), output_dir=str(tmp_path / "full"), **settings)
    resumed_dir = tmp_path / "resumed"
    (resumed_dir / "checkpoints").mkdir(parents=True)
    import shutil

    shutil.copytree(tmp_path / "full" / "checkpoints" / "checkpoint-1", resumed_dir / "checkpoints" / "checkpoint-1")
    resumed = grpo(pipe=copy.deepcopy(_wan_session), output_dir=str(resumed_dir), resume_from="latest", **settings)
    assert [e["step"] for e in resumed.log] == [2, 3]
    a = load_file(str(tmp_path / "full" / "pytorch_lora_weights.safetensors"))
    b = load_file(str(resumed_dir / "pytorch_lora_weights.safetensors"))
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=1e-6)
    assert full.log[-1]["reward"] == pytest.approx(resumed.log[-1]["reward"], abs=1e-6)
    # the checkpoint holds a diffusers-format LoRA too (what `compare` loads)
    assert (tmp_path / "full" / "checkpoints" / "checkpoint-1" / "pytorch_lora_weights.safetensors").is_file()


def test_config_errors_name_the_setting():
    with pytest.raises(ConfigError, match="samples_per_prompt >= 2"):
        AlignConfig(method="grpo", samples_per_prompt=1)
    with pytest.raises(ConfigError, match=r"rewards\[1\]: needs `spec`"):
        AlignConfig(method="grpo", rewards=["pixel:contrast", {"weight": 2}])
    with pytest.raises(ConfigError, match="unknown: colour"):
        AlignConfig(method="grpo", rewards=[{"spec": "pixel:contrast", "colour": 1}])
    with pytest.raises(ConfigError, match="grpo_minibatches=3 must divide"):
        AlignConfig(method="grpo", prompts_per_step=2, samples_per_prompt=2, grpo_minibatches=3)
    with pytest.raises(ConfigError, match="monitor_prompts"):
        AlignConfig(method="dpo", eval_every=5)
    assert AlignConfig(method="grpo", kl_beta=0.0).kl_beta == 0.0


def test_smoothness_reward_by_hand():
    flat = np.full((2, 4, 4, 3), 0.5)
    assert PixelReward("smoothness")(flat) == 1.0
    stripes = np.zeros((1, 2, 2, 3))
    stripes[:, :, 1] = 1.0  # columns 0 | 1: every horizontal neighbour differs by 1, vertical ones by 0
    assert PixelReward("smoothness")(stripes) == pytest.approx(0.5)


def test_the_grpo_function_survives_importing_its_trainer_module():
    import videobench.align as align
    import videobench.align.grpo_trainer  # noqa: F401  (a submodule named `grpo` would replace the function)

    assert callable(align.grpo) and align.grpo.__module__ == "videobench.align"


def test_ltx_sampler_matches_its_pipeline_and_trains(ltx, tmp_path):
    """LTX: packed latents, its resolution-dependent σ shift and its decode, through the same loop."""
    family = family_for(ltx)
    x = torch.randn(1, *family.latent_shape(9, 32, 32), generator=torch.Generator().manual_seed(1))
    cond = family.encode_prompts(ltx, ["a cat"], 16)
    sigmas = family.sigmas(ltx, 3, 9, 32, 32)
    predict = lambda x, t, c: family.predict(ltx.transformer, x, t, c)  # noqa: E731
    traj = sample_sde(predict, x, cond, sigmas, 0.7, range(0), [torch.Generator()])
    packed = type(ltx)._pack_latents(x.clone(), family.patch_size, family.patch_size_t)
    theirs = ltx("a cat", latents=packed, num_frames=9, height=32, width=32, num_inference_steps=3, guidance_scale=1.0,
                 max_sequence_length=16, output_type="np").frames
    np.testing.assert_allclose(family.decode(ltx, traj.final), theirs, atol=1e-5)
    result = grpo(pipe=ltx, output_dir=str(tmp_path), max_steps=1, kl_beta=0.1,
                  **{**TINY, "num_frames": 9, "height": 32, "width": 32})
    assert result.family == "ltx" and result.log[0]["kl"] == 0.0


def test_grpo_only_settings_are_refused_elsewhere():
    with pytest.raises(ConfigError, match="rewards .* is for method=grpo"):
        AlignConfig(method="dpo", rewards=["pixel:contrast"])
    with pytest.raises(ConfigError, match="rollout_every does not apply"):
        AlignConfig(method="grpo", rollout_every=5)
