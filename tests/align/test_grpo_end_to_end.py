"""Flow-GRPO end to end on tiny Wan: it beats the base through `videobench compare`, and the monitor catches reward
hacking (contrast trained, smoothness held out) unless a large KL keeps the policy at the base.

The tiny model's random VAE decoder washes its latents out; the tests make it informative
(``make_decoder_informative``) so a pixel reward follows the latents. With ``keep_architecture`` only weights change,
so the pipeline survives ``save_pretrained`` and `compare` can load it from disk.
"""

from __future__ import annotations

import copy

import pytest

from videobench.align import grpo
from videobench.compare import CompareConfig, run_compare
from videobench.testing.tiny_pipelines import make_decoder_informative

PROMPTS = ["a bright white light", "a dark black scene", "a red car at night", "a cat playing the piano"]
RENDER = dict(num_frames=9, height=32, width=32, num_inference_steps=4, guidance_scale=1.0)
#: measured on this configuration: the contrast of rollouts rises within 8 steps (K = 4 samples of 4 prompts)
TRAIN = dict(prompts=PROMPTS, reward="pixel:contrast", samples_per_prompt=4, prompts_per_step=4, lora_rank=8,
             lora_alpha=8, lora_targets=["to_q", "to_k", "to_v", "to_out.0", "proj_out"], lr=3e-2, batch_size=16,
             grpo_minibatches=2, grpo_inner_epochs=2, clip_range=0.2, max_steps=8, **RENDER)
HELD_OUT_SEEDS = [1000, 1001, 1002, 1003]


@pytest.mark.slow
def test_grpo_beats_the_base_through_compare_and_compare_ranks_its_checkpoints(wan, tmp_path):
    make_decoder_informative(wan, keep_architecture=True)
    wan.save_pretrained(str(tmp_path / "wan"))
    run = tmp_path / "run"
    # the pipeline's own text length, as compare renders with it
    grpo(pipe=wan, output_dir=str(run), kl_beta=0.0, checkpoint_every=4, **TRAIN)

    (tmp_path / "prompts.txt").write_text("\n".join(PROMPTS))
    spec = f"wan:{tmp_path / 'wan'}?steps=4&guidance=1&height=32&width=32&num_frames=9&fps=8"
    outcome = run_compare(CompareConfig(
        generators={"base": spec, "run": f"{spec}+lora:{run}/checkpoints/checkpoint-*", "grpo": f"{spec}+lora:{run}"},
        prompts=str(tmp_path / "prompts.txt"), rewards=["pixel:contrast"], output=str(tmp_path / "compare"),
        seeds=HELD_OUT_SEEDS, render_dir=str(tmp_path / "renders"), cache_dir=str(tmp_path / "scores"),
        num_workers=0, report=False))
    names = [c.name for c in outcome.result.checkpoints]
    assert names == ["base", "run-checkpoint-4", "grpo"]  # the glob: every checkpoint of the run, in step order
    stat = next(w for w in outcome.result.win_rates if w.checkpoint == "grpo" and w.dimension == "Overall")
    assert stat.wins + stat.losses + stat.ties == len(PROMPTS) * len(HELD_OUT_SEEDS)
    assert stat.win_rate.value > 0.5 and stat.win_rate.ci_low > 0.5, stat
    assert outcome.result.ranking["Overall"][-1].checkpoint == "base"


MONITOR = dict(eval_every=8, monitor_prompts=["a bird in the sky", "a green forest", "a city street"],
               monitor_seeds=[0, 1, 2, 3], monitor_rewards=["pixel:smoothness"], monitor_resamples=500,
               max_sequence_length=16)


@pytest.mark.slow
def test_the_monitor_flags_reward_hacking_and_a_large_kl_prevents_it(_wan_session, tmp_path):
    informative = make_decoder_informative(copy.deepcopy(_wan_session))
    hacked = grpo(pipe=copy.deepcopy(informative), output_dir=str(tmp_path / "free"), kl_beta=0.0, **TRAIN, **MONITOR)
    # pushing contrast up roughens the frames: smoothness, never optimised, falls beyond its CI
    assert hacked.monitor["diverged"] and hacked.monitor["diverged_rewards"] == ["pixel:smoothness"]
    assert hacked.monitor["first_divergence_step"] == 8
    assert hacked.monitor["last"]["pixel:contrast"]["delta_low"] > 0

    held = grpo(pipe=copy.deepcopy(informative), output_dir=str(tmp_path / "kl"), kl_beta=KL_BETA, **TRAIN,
                **MONITOR)
    assert not held.monitor["diverged"], held.monitor["last"]


KL_BETA = 50.0
