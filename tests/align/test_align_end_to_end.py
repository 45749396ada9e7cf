"""End to end on tiny Wan: on-policy rollouts scored by a weight-free pixel reward, a short Flow-DPO / Flow-RWR run,
then the trained LoRA against the base model on held-out seeds (paired win rate on the reward; see each test).

The tiny model's random VAE barely lets latents move global brightness (its output is dominated by biases), but
the grey-level contrast follows the latents: ``pixel:contrast`` is the reward the tiny model can learn in seconds.
Flow-DPO learns it through the random decoder; online Flow-RWR gets a decoder made informative (see its test).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from videobench.align import dpo, rwr
from videobench.align.rewards import PixelReward
from videobench.compare import CompareConfig, run_compare
from videobench.metrics.compare import win_rate
from videobench.testing.tiny_pipelines import make_decoder_informative

PROMPTS = ["a bright white light", "a dark black scene", "a red car at night", "a cat playing the piano"]
RENDER = dict(num_frames=9, height=32, width=32, num_inference_steps=4, guidance_scale=1.0, max_sequence_length=16)
TRAIN = dict(prompts=PROMPTS, samples_per_prompt=4, reward="pixel:contrast", lora_rank=8, lora_alpha=8,
             lora_targets=["to_q", "to_k", "to_v", "to_out.0", "proj_out"], **RENDER)
HELD_OUT_SEEDS = range(1000, 1006)  # the first rollouts use seeds 0..K·len(PROMPTS) − 1


def _scores(pipe, reward, seeds=HELD_OUT_SEEDS):
    scores = []
    for prompt in PROMPTS:
        for seed in seeds:
            frames = pipe(prompt, output_type="np", generator=torch.Generator().manual_seed(seed), **RENDER).frames[0]
            scores.append(reward(frames))
    return np.array(scores)


def _check_win_rate(trained, base, seeds=HELD_OUT_SEEDS):
    reward = PixelReward("contrast")
    new = _scores(trained, reward, seeds)
    old = _scores(base, reward, seeds)
    stat = win_rate(new, old, clusters=None, seed=0)
    assert stat.value > 0.5 and stat.ci_low > 0.5, stat
    return stat


@pytest.mark.slow
def test_flow_dpo_on_policy_then_compare_against_the_base(wan, tmp_path):
    wan.save_pretrained(str(tmp_path / "wan"))
    base = copy.deepcopy(wan)
    lora = tmp_path / "lora"
    # the pipeline's own text length (as compare renders with it), not the 16 tokens of the other tests
    result = dpo(pipe=wan, output_dir=str(lora), max_steps=80, lr=2e-3, beta=20.0, batch_size=2,
                 **{**TRAIN, "max_sequence_length": None})
    assert result.dataset_meta["source"] == "rollouts" and result.log[-1]["implicit_acc"] == 1.0

    # the LoRA as a `compare` checkpoint: both generators render the held-out seeds to files, which are decoded and
    # scored; the win rate is paired by (prompt, seed) with a prompt-clustered bootstrap CI
    (tmp_path / "prompts.txt").write_text("\n".join(PROMPTS))
    spec = f"wan:{tmp_path / 'wan'}?steps=4&guidance=1&height=32&width=32&num_frames=9&fps=8"
    outcome = run_compare(CompareConfig(
        generators={"base": spec, "dpo": f"{spec}+lora:{lora}"}, prompts=str(tmp_path / "prompts.txt"),
        rewards=["pixel:contrast"], output=str(tmp_path / "compare"), seeds=list(HELD_OUT_SEEDS),
        render_dir=str(tmp_path / "renders"), cache_dir=str(tmp_path / "scores"), num_workers=0, report=False))
    stat = next(w for w in outcome.result.win_rates if w.checkpoint == "dpo" and w.dimension == "Overall")
    assert stat.wins + stat.losses + stat.ties == len(PROMPTS) * len(HELD_OUT_SEEDS)
    assert stat.win_rate.value > 0.5 and stat.win_rate.ci_low > 0.5, stat  # measured: 21 of 24, CI [0.83, 0.96]
    assert outcome.result.ranking["Overall"][0].checkpoint == "dpo"

    # the saved LoRA is the trained one: a fresh pipeline with it renders what the trained pipeline renders
    fresh = copy.deepcopy(base)
    fresh.load_lora_weights(str(lora))
    args = dict(output_type="np", generator=torch.Generator().manual_seed(5), **RENDER)
    np.testing.assert_allclose(fresh(PROMPTS[0], **args).frames[0],
                               wan(PROMPTS[0], **{**args, "generator": torch.Generator().manual_seed(5)}).frames[0],
                               atol=1e-5)


@pytest.mark.slow
def test_online_flow_rwr_raises_the_reward(wan, tmp_path):
    # RWR only re-weights the regression towards a prompt's better samples, so one round of rollouts moves the
    # policy little (win rates 0.48-0.63 over seeds, CI across 50%); rendering fresh rollouts with the policy every
    # 25 steps compounds the selection, as in online reward-weighted regression. The decoder is made informative so
    # the contrast of a sample follows its latents closely enough for that selection to be learnable.
    make_decoder_informative(wan)
    base = copy.deepcopy(wan)
    result = rwr(pipe=wan, output_dir=str(tmp_path), max_steps=200, lr=2e-3, rwr_weighting="zscore",
                 rwr_temperature=0.1, rollout_every=25, **{**TRAIN, "samples_per_prompt": 8})
    assert result.log[-1]["round"] == 7
    stat = _check_win_rate(wan, base, seeds=range(1000, 1012))
    assert stat.value > 0.6
