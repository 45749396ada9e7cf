"""Flow-GRPO end to end on tiny Wan: it beats the base through `videobench compare`, and the monitor catches the
reward hacking that comes with it (contrast trained, smoothness held out) unless a large KL keeps the policy at the
base.

The tiny model's random VAE decoder washes its latents out; the tests make it informative
(``make_decoder_informative``) so a pixel reward follows the latents. With ``keep_architecture`` only weights change,
so the pipeline survives ``save_pretrained`` and `compare` can load it from disk.
"""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

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


MONITOR = dict(eval_every=8, monitor_prompts=["a bird in the sky", "a green forest", "a city street"],
               monitor_seeds=[0, 1, 2, 3], monitor_rewards=["pixel:smoothness"], monitor_resamples=500)


@pytest.mark.slow
def test_grpo_beats_the_base_through_compare_and_the_monitor_flags_its_reward_hacking(wan, tmp_path):
    make_decoder_informative(wan, keep_architecture=True)
    wan.save_pretrained(str(tmp_path / "wan"))
    run = tmp_path / "run"
    # the pipeline's own text length (no max_sequence_length), as compare renders with it
    result = grpo(pipe=wan, output_dir=str(run), kl_beta=0.0, checkpoint_every=4, **TRAIN, **MONITOR)
    # pushing contrast up roughens the frames: smoothness, never optimised, falls beyond its CI
    assert result.monitor["diverged"] and result.monitor["diverged_rewards"] == ["pixel:smoothness"]
    assert result.monitor["first_divergence_step"] == 8
    assert result.monitor["last"]["pixel:contrast"]["delta_low"] > 0

    (tmp_path / "prompts.txt").write_text("\n".join(PROMPTS))
    spec = f"wan:{tmp_path / 'wan'}?steps=4&guidance=1&height=32&width=32&num_frames=9&fps=8"
    outcome = run_compare(CompareConfig(
        generators={"base": spec, "run": f"{spec}+lora:{run}/checkpoints/checkpoint-*"},
        prompts=str(tmp_path / "prompts.txt"), rewards=["pixel:contrast"], output=str(tmp_path / "compare"),
        seeds=HELD_OUT_SEEDS, render_dir=str(tmp_path / "renders"), cache_dir=str(tmp_path / "scores"),
        num_workers=0, report=False))
    names = [c.name for c in outcome.result.checkpoints]
    assert names == ["base", "run-checkpoint-4", "run-checkpoint-8"]  # the glob: every checkpoint, in step order
    # the last checkpoint is the final LoRA, tensor for tensor
    final = load_file(str(run / "pytorch_lora_weights.safetensors"))
    last = load_file(str(run / "checkpoints" / "checkpoint-8" / "pytorch_lora_weights.safetensors"))
    assert final.keys() == last.keys() and all(torch.equal(final[k], last[k]) for k in final)
    stat = next(w for w in outcome.result.win_rates if w.checkpoint == "run-checkpoint-8" and w.dimension == "Overall")
    assert stat.wins + stat.losses + stat.ties == len(PROMPTS) * len(HELD_OUT_SEEDS)
    assert stat.win_rate.value > 0.5 and stat.win_rate.ci_low > 0.5, stat
    assert outcome.result.ranking["Overall"][-1].checkpoint == "base"


@pytest.mark.slow
def test_a_large_kl_keeps_the_policy_at_the_base_and_the_monitor_quiet(wan, tmp_path):
    make_decoder_informative(wan, keep_architecture=True)
    held = grpo(pipe=wan, output_dir=str(tmp_path), kl_beta=50.0, **TRAIN, **MONITOR)
    assert not held.monitor["diverged"], held.monitor["last"]
    assert held.monitor["evaluations"] == 2
