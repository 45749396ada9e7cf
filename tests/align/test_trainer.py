"""The training loop on tiny Wan / LTX: first-step loss, frozen base, resume, outputs, data paths and errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
from align_helpers import random_dataset
from safetensors.torch import load_file

from videobench.align import dpo, rwr, sft
from videobench.align.config import AlignConfig
from videobench.align.data import EmptyDataError, encode_pairs, pairs_from_benchmark
from videobench.align.models import NotFlowMatchingError, family_for
from videobench.align.objectives import flow_dpo_step, flow_weighted_step

FAST = dict(lora_rank=4, lora_alpha=4, lr=1e-3, max_sequence_length=16, batch_size=2)


@pytest.mark.parametrize("which", ["wan", "ltx"])
def test_first_step_loss_is_ln2_and_training_moves_it(which, request, tmp_path):
    pipe = request.getfixturevalue(which)
    ds = random_dataset(pipe, latent_fhw=(2, 4, 4) if which == "wan" else (2, 2, 2))
    result = dpo(pipe=pipe, dataset=ds, output_dir=str(tmp_path), max_steps=3, beta=5000.0, **FAST)
    first = result.log[0]
    assert math.isclose(first["loss"], math.log(2), rel_tol=1e-5)
    assert first["grad_factor"] == pytest.approx(0.5) and first["margin"] == pytest.approx(0.0, abs=1e-7)
    assert result.log[-1]["loss"] != first["loss"]
    lines = [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == [1, 2, 3]
    assert (tmp_path / "align_config.yaml").is_file() and (tmp_path / "run.json").is_file()


def test_only_lora_parameters_change(wan, tmp_path):
    before = {k: v.clone() for k, v in wan.transformer.state_dict().items()}
    dpo(pipe=wan, dataset=random_dataset(wan), output_dir=str(tmp_path), max_steps=2, **FAST)
    after = wan.transformer.state_dict()
    changed = [k for k in after if "lora_" in k and not torch.equal(after[k], torch.zeros_like(after[k]))]
    assert changed, "no LoRA weight moved"
    for key, value in before.items():
        peft_key = key.replace(".weight", ".base_layer.weight").replace(".bias", ".base_layer.bias")
        match = after.get(key, after.get(peft_key))
        assert match is not None and torch.equal(match, value), key


def test_saved_lora_loads_into_a_fresh_pipeline(wan, tmp_path):
    from videobench.testing.tiny_pipelines import build_tiny_wan_pipeline

    ds = random_dataset(wan)
    dpo(pipe=wan, dataset=ds, output_dir=str(tmp_path), max_steps=2, **FAST)
    fresh = build_tiny_wan_pipeline(seed=0)
    family = family_for(fresh)
    x, t, cond = ds.latents[:2], torch.tensor([200.0, 700.0]), ds.condition(torch.tensor([0, 1]))
    with torch.no_grad():
        base = family.predict(fresh.transformer, x, t, cond)
        fresh.load_lora_weights(str(tmp_path))
        loaded = family.predict(fresh.transformer, x, t, cond)
        trained = family.predict(wan.transformer, x, t, cond)
    torch.testing.assert_close(loaded, trained, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(loaded, base, atol=1e-5)


def test_resume_gives_the_same_weights_as_an_uninterrupted_run(wan, tmp_path):
    import copy
    import shutil

    settings = dict(dataset=random_dataset(wan), grad_accum=2, ema_decay=0.9, warmup_steps=2, **FAST)
    dpo(pipe=copy.deepcopy(wan), output_dir=str(tmp_path / "full"), max_steps=4, **settings)
    dpo(pipe=copy.deepcopy(wan), output_dir=str(tmp_path / "cut"), max_steps=3, checkpoint_every=2, **settings)
    assert sorted(p.name for p in (tmp_path / "cut" / "checkpoints").iterdir()) == ["checkpoint-2", "checkpoint-3"]
    shutil.rmtree(tmp_path / "cut" / "checkpoints" / "checkpoint-3")  # as if killed during step 3
    resumed = dpo(pipe=copy.deepcopy(wan), output_dir=str(tmp_path / "cut"), max_steps=4, resume_from="latest",
                  **settings)
    assert resumed.log[0]["step"] == 3
    for name in ("pytorch_lora_weights.safetensors", "ema/pytorch_lora_weights.safetensors"):
        full, cut = load_file(str(tmp_path / "full" / name)), load_file(str(tmp_path / "cut" / name))
        assert full.keys() == cut.keys()
        for key in full:
            torch.testing.assert_close(cut[key], full[key], atol=0, rtol=0)
    # and a run that did not resume differs (so the comparison above can fail)
    other = dpo(pipe=copy.deepcopy(wan), output_dir=str(tmp_path / "other"), max_steps=4, seed=1,
                **{k: v for k, v in settings.items()})
    assert other.log[-1]["loss"] != resumed.log[-1]["loss"]


def test_rwr_with_equal_rewards_equals_sft(wan, tmp_path):
    import copy

    ds = random_dataset(wan, k=1, rewards=torch.full((3,), 0.25))  # one video per prompt: same units for both
    a = rwr(pipe=copy.deepcopy(wan), dataset=ds, output_dir=str(tmp_path / "rwr"), max_steps=3, **FAST)
    b = sft(pipe=copy.deepcopy(wan), dataset=ds, output_dir=str(tmp_path / "sft"), max_steps=3, **FAST)
    wa = load_file(str(tmp_path / "rwr" / "pytorch_lora_weights.safetensors"))
    wb = load_file(str(tmp_path / "sft" / "pytorch_lora_weights.safetensors"))
    for key in wa:
        assert torch.equal(wa[key], wb[key]), key
    assert [x["loss"] for x in a.log] == [x["loss"] for x in b.log]


def test_rwr_weights_follow_rewards_in_one_step(wan):
    family = family_for(wan)
    ds = random_dataset(wan, k=2)
    x0 = ds.latents[:2]
    cond = ds.condition(torch.tensor([0, 1]))
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(0))
    sigma = torch.tensor([0.4, 0.4])
    policy = lambda x, t, c: family.predict(wan.transformer, x, t, c)  # noqa: E731
    sft_loss, _ = flow_weighted_step(policy, x0, cond, noise, sigma)
    equal, _ = flow_weighted_step(policy, x0, cond, noise, sigma, torch.tensor([3.0, 3.0]))
    assert torch.equal(sft_loss, equal)
    skewed, stats = flow_weighted_step(policy, x0, cond, noise, sigma, torch.tensor([0.0, 10.0]), temperature=1.0)
    assert stats["weight_max"] > 1.9 and stats["weight_min"] < 1e-3


def test_swapping_winner_and_loser_flips_the_margin(wan):
    from videobench.align.lora import LoraSettings, add_lora, lora_parameters
    from videobench.align.objectives import Reference

    family = family_for(wan)
    model = wan.transformer
    add_lora(model, LoraSettings(rank=4, alpha=4))
    with torch.no_grad():
        for p in lora_parameters(model):
            p.add_(0.3 * torch.randn(p.shape, generator=torch.Generator().manual_seed(2)))
    ds = random_dataset(wan)
    idx = torch.tensor([0, 2])
    x_w, x_l, cond = ds.latents[idx], ds.latents[idx + 1], ds.condition(idx)
    noise = torch.randn(x_w.shape, generator=torch.Generator().manual_seed(0))
    sigma = torch.tensor([0.3, 0.7])
    policy = lambda x, t, c: family.predict(model, x, t, c)  # noqa: E731
    ref = Reference(model, family, "disabled")
    out, _ = flow_dpo_step(policy, ref, x_w, x_l, cond, noise, sigma, beta=100.0)
    swapped, _ = flow_dpo_step(policy, ref, x_l, x_w, cond, noise, sigma, beta=100.0)
    assert float(out.margin.abs().min()) > 0
    torch.testing.assert_close(swapped.margin, -out.margin)
    with pytest.raises(ValueError, match="differ in shape"):
        flow_dpo_step(policy, ref, x_w, x_l[:, :, :1], cond, noise, sigma)


def test_clear_errors(wan, tmp_path):
    from diffusers import UniPCMultistepScheduler

    other = type(wan)(**{**wan.components, "scheduler": UniPCMultistepScheduler()})
    with pytest.raises(NotFlowMatchingError, match="flow-matching"):
        family_for(other)
    bad = random_dataset(wan)
    bad.latents = bad.latents[:, :8]
    with pytest.raises(ValueError, match="expects"):
        dpo(pipe=wan, dataset=bad, output_dir=str(tmp_path / "bad"), max_steps=1, **FAST)
    no_pairs = random_dataset(wan)
    no_pairs.pairs = no_pairs.pairs[:0]
    with pytest.raises(EmptyDataError, match="no preference pairs"):
        dpo(pipe=wan, dataset=no_pairs, output_dir=str(tmp_path / "empty"), max_steps=1, **FAST)
    with pytest.raises(ValueError, match="beta"):
        AlignConfig(beta=-1)
    with pytest.raises(ValueError, match="unknown setting"):
        AlignConfig.from_dict({"betta": 1})


def _benchmark(tmp_path):
    from videobench.data.benchmark import PairBenchmark
    from videobench.video.writer import write_video

    for name, level in [("bright", 220), ("dark", 30), ("mid", 120)]:
        frames = np.full((12, 40, 40, 3), level, dtype=np.uint8)
        frames[:, :, :, 0] = np.linspace(0, 255, 40, dtype=np.uint8)[None, None, :]
        write_video(tmp_path / f"{name}.mp4", frames, fps=8)
    df = pd.DataFrame({
        "pair_id": ["p1", "p2", "p3"],
        "prompt": ["a bright white light", "a bright white light", "a dark black scene"],
        "video_A": ["bright.mp4", "dark.mp4", "mid.mp4"],
        "video_B": ["dark.mp4", "mid.mp4", "bright.mp4"],
        "label_VQ": np.array([1, -1, 0], dtype=np.int8),
        "label_TA": np.array([1, 1, 0], dtype=np.int8),
    })
    return PairBenchmark("tiny", df, ("VQ", "TA"), root=tmp_path)


def test_pairs_from_a_benchmark_drop_ties_and_encode(wan, tmp_path):
    bench = _benchmark(tmp_path)
    pairs, counts = pairs_from_benchmark(bench, "VQ")
    assert counts == {"pairs_total": 3, "pairs_used": 2, "ties_dropped": 1}
    assert pairs[0].winner.name == "bright.mp4" and pairs[1].winner.name == "mid.mp4"
    combined, _ = pairs_from_benchmark(bench, None, {"VQ": 1.0, "TA": 1.0})
    assert [p.pair_id for p in combined] == ["p1"]  # p2: −1 + 1 = 0 is a tie
    with pytest.raises(EmptyDataError):
        pairs_from_benchmark(bench, None, {"VQ": 0.0, "TA": 0.0})  # every pair a tie
    ds = encode_pairs(wan, family_for(wan), pairs, num_frames=9, height=32, width=32, max_sequence_length=16)
    assert ds.latents.shape == (3, 16, 3, 4, 4) and ds.pairs.tolist() == [[0, 1], [2, 1]]
    assert ds.condition(torch.tensor([0]))["prompt_embeds"].shape == (1, 16, 32)
    ds.save(tmp_path / "cache")
    result = dpo(pipe=wan, data="cache", cache_dir=str(tmp_path / "cache"), output_dir=str(tmp_path / "out"),
                 max_steps=1, **FAST)
    assert math.isclose(result.log[0]["loss"], math.log(2), rel_tol=1e-5)


ONLINE = dict(prompts=["a bright white light", "a dark black scene"], samples_per_prompt=2,
              reward="pixel:contrast", num_frames=5, height=16, width=16, num_inference_steps=2, guidance_scale=1.0,
              rollout_every=2, **FAST)


def test_online_rollouts_are_rendered_by_the_policy_every_n_steps(wan, tmp_path):
    import copy
    import shutil

    result = rwr(pipe=copy.deepcopy(wan), output_dir=str(tmp_path / "full"), max_steps=4, **ONLINE)
    assert [x["round"] for x in result.log] == [0, 0, 1, 1]
    rounds = json.loads((tmp_path / "full" / "run.json").read_text())["rollout_rounds"]
    assert [(r["round"], r["step"], r["videos"]) for r in rounds] == [(0, 0, 4), (1, 2, 4)]
    first = load_file(str(next((tmp_path / "full" / "cache").glob("*/latents.safetensors"))))["latents"]
    second = load_file(str(tmp_path / "full" / "rollouts" / "round-1" / "latents.safetensors"))["latents"]
    assert first.shape == second.shape and not torch.allclose(first, second)

    # a crash after the checkpoint at step 2: resuming re-renders round 1 from the checkpointed policy (the round's
    # folder is gone here) and ends with exactly the weights of the uninterrupted run
    rwr(pipe=copy.deepcopy(wan), output_dir=str(tmp_path / "cut"), max_steps=3, checkpoint_every=2, **ONLINE)
    shutil.rmtree(tmp_path / "cut" / "checkpoints" / "checkpoint-3")  # the one written at the end: killed before it
    shutil.rmtree(tmp_path / "cut" / "rollouts")
    rwr(pipe=copy.deepcopy(wan), output_dir=str(tmp_path / "cut"), max_steps=4, resume_from="latest", **ONLINE)
    full = load_file(str(tmp_path / "full" / "pytorch_lora_weights.safetensors"))
    cut = load_file(str(tmp_path / "cut" / "pytorch_lora_weights.safetensors"))
    for key in full:
        torch.testing.assert_close(cut[key], full[key], atol=0, rtol=0)


def test_online_rollouts_need_rollout_data():
    with pytest.raises(ValueError, match="rollout_every needs data=rollouts"):
        AlignConfig(data="pairs", benchmark="sanity", rollout_every=10)
    with pytest.raises(ValueError, match="rollout_every"):
        AlignConfig(rollout_every=-1)
