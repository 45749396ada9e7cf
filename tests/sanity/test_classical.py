"""The classical baseline: each statistic on synthetic frames, the model contract, and accuracy on a real build."""

from __future__ import annotations

import numpy as np
import pytest

from videobench.rewards import classical as C
from videobench.rewards.base import Clip, RewardModel
from videobench.sanity import degrade


def _moving(t: int = 30, h: int = 48, w: int = 64, step: int = 1, seed: int = 0) -> np.ndarray:
    """Luma frames of a smooth texture panning right by ``step`` px per frame."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    base = gaussian_filter(rng.normal(128, 40, size=(h, w + t * step)), 1.5)
    return np.stack([base[:, i * step : i * step + w] for i in range(t)]).astype(np.float32)


def test_laplacian_noise_and_blockiness_on_known_images() -> None:
    flat = np.full((2, 32, 32), 100.0, dtype=np.float32)
    assert np.allclose(C.laplacian_variance(flat), 0) and np.allclose(C.noise_sigma(flat), 0)
    noise = np.random.default_rng(0).normal(100, 8, size=(3, 128, 128)).astype(np.float32)
    assert np.allclose(C.noise_sigma(noise), 8, rtol=0.1)
    # The noise share of the Laplacian variance is removed: pure noise has (almost) no detail.
    assert C.detail(noise).mean() < 0.1 * C.laplacian_variance(noise).mean()
    ramp = np.tile(np.linspace(0, 255, 64, dtype=np.float32), (1, 64, 1))
    assert C.blockiness(ramp)[0] < 0.01
    blocks = np.kron(np.random.default_rng(1).uniform(0, 255, (8, 8)), np.ones((8, 8)))[None].astype(np.float32)
    assert C.blockiness(blocks + ramp)[0] > 1.0


def test_frame_difference_statistics() -> None:
    y = _moving()
    diffs = C.frame_differences(y)
    assert diffs.shape == (29,) and (diffs > 0).all()
    assert C.frozen_share(diffs) == 0.0
    held = y[(np.arange(30) // 3) * 3]
    held_diffs = C.frame_differences(held)
    assert abs(C.frozen_share(held_diffs) - 20 / 29) < 1e-6
    assert C.irregularity(held_diffs) > C.irregularity(diffs) + 0.5
    shuffled = y[np.random.default_rng(0).permutation(30)]
    assert C.incoherence(shuffled) > C.incoherence(y) + 0.2
    assert C.frozen_share(np.zeros(0)) == 0.0 and C.irregularity(np.zeros(1)) == 0.0


def test_global_shifts_and_shake() -> None:
    y = _moving(step=2)
    shifts = C.global_shifts(y)
    assert np.array_equal(shifts, np.tile([0.0, -2.0], (29, 1)))  # content moves left by 2 px per frame
    assert C.shake(shifts) == 0.0
    canvas = np.repeat(_moving(t=30, h=64, w=80, step=1)[..., None], 3, axis=-1).clip(0, 255).astype(np.uint8)
    clean = C.luma(canvas[:, 8:56, 8:72])
    shaken = C.luma(degrade.jitter(canvas, (64, 48), 4, np.random.default_rng(0)))
    assert C.shake(C.global_shifts(shaken)) > C.shake(C.global_shifts(clean)) + 2.0


def test_flicker() -> None:
    y = _moving()
    gain = 1.0 + 0.05 * np.where(np.arange(30) % 2 == 0, 1.0, -1.0)
    assert C.flicker(y * gain[:, None, None]) > C.flicker(y) + 5.0


def test_scores_order_degradations_on_synthetic_video() -> None:
    frames = np.repeat(_moving(t=24, h=64, w=96)[..., None], 3, axis=-1).clip(0, 255).astype(np.uint8)
    model = C.ClassicalReward()
    clean = model.score_frames(frames)
    for worse in (degrade.gaussian_blur(frames, 2.0), degrade.add_noise(frames, 15, np.random.default_rng(0)),
                  degrade.block_compress(frames, 40.0)):
        assert model.score_frames(worse)["VQ"] < clean["VQ"]
    for worse in (degrade.stutter(frames, 3), degrade.freeze(frames, 0.4),
                  degrade.shuffle(frames, 0, np.random.default_rng(0))):
        assert model.score_frames(worse)["MQ"] < clean["MQ"]


def test_model_contract_and_options() -> None:
    model = C.ClassicalReward()
    assert isinstance(model, RewardModel)
    assert model.dimensions == ("VQ", "MQ") and "TA" not in model.dimensions
    assert model.needs_frames and model.sampling.fps == 30.0 and model.sampling.num_frames is None
    assert model.fingerprint() == C.ClassicalReward().fingerprint()
    other = C.ClassicalReward("num_frames=16")
    assert other.sampling.num_frames == 16 and other.fingerprint() != model.fingerprint()
    assert C.ClassicalReward(fps=8).fingerprint() != model.fingerprint()
    with pytest.raises(ValueError, match="fps=FLOAT or num_frames=INT"):
        C.ClassicalReward("speed=3")
    with pytest.raises(ValueError, match="num_frames >= 4"):
        C.ClassicalReward(num_frames=2)
    frames = np.repeat(_moving(t=8)[..., None], 3, axis=-1).astype(np.uint8)
    out = model.score([Clip("a", "h", frames=frames), Clip("b", "h2", frames=frames)], ["x", "y"])
    assert set(out) == {"VQ", "MQ"} and out["VQ"].shape == (2,) and out["VQ"][0] == out["VQ"][1]
    with pytest.raises(ValueError, match="no frames"):
        model.score([Clip("a", "h")], ["x"])


def test_registry_resolves_classical() -> None:
    from videobench.rewards.registry import load_reward_model

    assert isinstance(load_reward_model("classical"), C.ClassicalReward)
    assert load_reward_model("classical:fps=8").sampling.fps == 8.0


def test_classical_beats_random_on_vq_and_mq_and_has_no_ta(small_bench) -> None:
    from videobench.metrics import accuracy_without_ties
    from videobench.metrics.baselines import random_scores
    from videobench.video import load_clip

    model = C.ClassicalReward()
    pairs = small_bench.pairs
    videos = sorted(set(pairs.video_A) | set(pairs.video_B))
    scores = {}
    for v in videos:
        clip = load_clip(small_bench.video_path(v), model.sampling)
        assert clip.frames.shape[0] == clip.total_frames  # the default sampling takes every frame
        scores[v] = model.score([clip], [""])
    assert all(set(s) == {"VQ", "MQ"} for s in scores.values())  # TA is n/a, never a made-up number
    noise = dict(zip(videos, random_scores(len(videos), seed=0)))
    for dim, floor in (("VQ", 0.95), ("MQ", 0.9)):
        rows = pairs[pairs.subset.str.startswith(dim.lower() + "-")]
        labels = rows[f"label_{dim}"].to_numpy()
        margins = np.array([scores[a][dim][0] - scores[b][dim][0] for a, b in zip(rows.video_A, rows.video_B)])
        rand = np.array([noise[a] - noise[b] for a, b in zip(rows.video_A, rows.video_B)])
        acc, acc_random = accuracy_without_ties(labels, margins), accuracy_without_ties(labels, rand)
        assert acc >= floor, (dim, acc)
        assert acc >= acc_random + 0.25, (dim, acc, acc_random)
    twins = pairs[pairs.subset == "tie-twin"]
    for a, b in zip(twins.video_A, twins.video_B):  # identical files score identically: a zero margin
        assert scores[a] == scores[b]
