"""End to end on tiny Wan: a latent RM trained on pixel-reward labels, then Flow-NRG measured by paired win rates.

VQ = brightness and MQ = saturation (weight-free pixel rewards of ``videobench.align.rewards``). Held-out prompts,
the same seeds for guided and unguided samples, and ``videobench.metrics.win_rate`` (CI clustered by prompt).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nrg_helpers import RENDER, prompts
from videobench.align.nrg import apply_nrg
from videobench.align.rewards import PixelReward
from videobench.metrics import win_rate

pytestmark = pytest.mark.slow

HELD_OUT = prompts(10, offset=1000)  # never seen in training
SEEDS = (0, 1)


def _pixel_scores(pipe) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(brightness, saturation, prompt id) of every held-out prompt × seed, scored on uint8 frames."""
    bright, sat = PixelReward("brightness"), PixelReward("saturation")
    rows = []
    for i, prompt in enumerate(HELD_OUT):
        for seed in SEEDS:
            with torch.inference_mode():
                frames = pipe(prompt=prompt, num_inference_steps=4, guidance_scale=1.0, output_type="np",
                              generator=torch.Generator().manual_seed(seed), **RENDER).frames[0]
            u8 = (frames * 255).round().astype(np.uint8)
            rows.append((bright(u8), sat(u8), i))
    b, s, p = map(np.array, zip(*rows))
    return b, s, p


def test_latent_rm_beats_chance_on_held_out_noisy_pairs(trained_rm):
    ev = trained_rm.eval
    assert ev["pairs"] >= 50
    for dim in ("VQ", "MQ"):
        assert ev["accuracy"][dim] >= 0.7, ev
        assert all(bucket[dim] > 0.6 for bucket in ev["buckets"]), ev  # at every noise level, even σ close to 1


def test_nrg_raises_the_pixel_reward_win_rate_against_unguided_sampling(trained_rm, wan):
    base_b, _, clusters = _pixel_scores(wan)
    handle = apply_nrg(wan, trained_rm.output_dir, w=10.0, weights="VQ=1")
    guided_b, _, _ = _pixel_scores(wan)
    handle.remove()
    stat = win_rate(guided_b, base_b, clusters=clusters)
    assert stat.ci_low > 0.5, stat
    assert stat.value >= 0.8, stat


def test_weights_move_each_dimensions_win_rate_their_way(trained_rm, wan):
    results = {}
    for lam in ("VQ=1,MQ=0", "VQ=0,MQ=1"):
        handle = apply_nrg(wan, trained_rm.output_dir, w=10.0, weights=lam)
        results[lam] = _pixel_scores(wan)
        handle.remove()
    (b_vq, s_vq, clusters), (b_mq, s_mq, _) = results["VQ=1,MQ=0"], results["VQ=0,MQ=1"]
    brightness = win_rate(b_vq, b_mq, clusters=clusters)  # weighting VQ gives brighter videos than weighting MQ
    saturation = win_rate(s_mq, s_vq, clusters=clusters)  # and weighting MQ more saturated ones
    assert brightness.ci_low > 0.5, brightness
    assert saturation.ci_low > 0.5, saturation
