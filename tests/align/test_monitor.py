"""The reward-hacking monitor: paired changes with CIs, the divergence rule, the page, and its use by DPO."""

from __future__ import annotations

import json

import numpy as np
import pytest

from videobench.align import dpo
from videobench.align.monitor import HELDOUT, TRAIN, divergence, render_monitor_html, reward_change


def test_reward_change_is_paired_and_clustered_by_prompt():
    baseline = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    scores = baseline + np.array([0.1, 0.1, 0.2, 0.2, 0.3, 0.3])  # every item up, by prompt
    clusters = [0, 0, 1, 1, 2, 2]
    change = reward_change(scores, baseline, clusters, n_resamples=500)
    assert change.mean == pytest.approx(scores.mean())
    assert change.delta == pytest.approx(0.2) and change.scale == pytest.approx(baseline.std())
    # resampling 3 prompts: the mean change of a resample is the mean of 3 draws from {0.1, 0.2, 0.3}
    assert 0.1 - 1e-12 <= change.delta_low < 0.2 < change.delta_high <= 0.3 + 1e-12
    same = reward_change(baseline, baseline, clusters, n_resamples=100)
    assert same.delta == same.delta_low == same.delta_high == 0.0


def _c(role, low, high, scale=0.0):
    return {"role": role, "delta_low": low, "delta_high": high, "scale": scale}


def test_divergence_needs_a_training_reward_up_and_a_held_out_reward_down():
    up, down, flat = (0.01, 0.05), (-0.05, -0.01), (-0.01, 0.01)
    assert divergence({"t": _c(TRAIN, *up), "h": _c(HELDOUT, *down)}) == ["h"]
    assert divergence({"t": _c(TRAIN, *flat), "h": _c(HELDOUT, *down)}) == []  # the trainer did not gain
    assert divergence({"t": _c(TRAIN, *up), "h": _c(HELDOUT, *flat)}) == []  # within its CI
    assert divergence({"t": _c(TRAIN, *up), "a": _c(HELDOUT, *down), "b": _c(HELDOUT, *up)}) == ["a"]
    # tolerance 0.1 of the reward's std: a fall of 0.01..0.05 counts when std = 0.05 (0.005), not when std = 0.2
    assert divergence({"t": _c(TRAIN, *up), "h": _c(HELDOUT, *down, scale=0.05)}) == ["h"]
    assert divergence({"t": _c(TRAIN, *up), "h": _c(HELDOUT, *down, scale=0.2)}) == []
    assert divergence({"t": _c(TRAIN, *up, scale=0.2), "h": _c(HELDOUT, *down)}) == []
    assert divergence({"t": _c(TRAIN, *up, scale=0.2), "h": _c(HELDOUT, *down)}, tolerance=0.0) == ["h"]


def test_the_page_escapes_names():
    evil = "<script>alert(1)</script>"
    change = {"role": HELDOUT, "mean": 0.5, "mean_low": 0.4, "mean_high": 0.6, "delta": -0.1, "delta_low": -0.2,
              "delta_high": -0.05}
    records = [{"step": s, "rewards": {evil: change, "train": {**change, "role": TRAIN}}, "diverged": s > 0,
                "diverged_rewards": [evil] if s else []} for s in (0, 5)]
    page = render_monitor_html(records)
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Divergence" in page and "step(s) 5" in page


def test_dpo_runs_the_monitor_and_resumes_without_repeating_it(_wan_session, tmp_path):
    import copy

    settings = dict(prompts=["a cat", "a dog"], samples_per_prompt=2, reward="pixel:contrast", num_frames=5, height=16,
                    width=16, num_inference_steps=2, guidance_scale=1.0, max_sequence_length=16, lora_rank=4,
                    lora_alpha=4, lr=1e-3, batch_size=1, eval_every=2, monitor_prompts=["a bird", "a tree"],
                    monitor_seeds=[0, 1], monitor_rewards=["pixel:smoothness"], monitor_resamples=50,
                    checkpoint_every=2, output_dir=str(tmp_path))
    result = dpo(pipe=copy.deepcopy(_wan_session), max_steps=3, **settings)
    records = [json.loads(line) for line in (tmp_path / "monitor.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [0, 2, 3]  # before training, every 2 steps, after the last
    assert records[0]["rewards"]["pixel:contrast"]["delta"] == 0.0
    assert {r["role"] for r in records[-1]["rewards"].values()} == {TRAIN, HELDOUT}
    assert len(records[-1]["scores"]["pixel:smoothness"]) == 4  # 2 prompts × 2 seeds
    assert result.monitor["evaluations"] == 3 and (tmp_path / "monitor.html").is_file()
    assert json.loads((tmp_path / "run.json").read_text())["monitor"]["evaluations"] == 3
    # a resumed run keeps the evaluations it finds and adds only what is new
    dpo(pipe=copy.deepcopy(_wan_session), max_steps=4, resume_from="latest", **settings)
    steps = [json.loads(line)["step"] for line in (tmp_path / "monitor.jsonl").read_text().splitlines()]
    assert steps == [0, 2, 3, 4]
