"""Training the latent reward model: labels with ties, splits, BT-with-ties loss, checkpoint + resume, both families."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from videobench.align.config import ConfigError
from videobench.align.data import EmptyDataError, LatentDataset
from videobench.align.latent_rm import LatentRewardModel
from videobench.align.latent_rm_data import RewardPairs, benchmark_reward_pairs, pairs_from_scores
from videobench.align.latent_rm_train import LatentRMConfig, parse_rm_override, train_latent_rm
from videobench.align.models import family_for

FAST = dict(num_blocks=1, head_hidden=16, batch_size=4, lr=1e-3, eval_fraction=0.34, eval_draws=1, cpu=True,
            dimensions=["VQ", "MQ"], sigma_buckets=[0.0, 0.5, 1.0])


def _scored_pairs(pipe, n_prompts=3, k=3, seed=0) -> RewardPairs:
    """Random latents with real prompt embeddings; VQ = mean of channel 0, MQ = −VQ (opposite preferences)."""
    fam = family_for(pipe)
    g = torch.Generator().manual_seed(seed)
    n = n_prompts * k
    latents = torch.randn(n, fam.channels, 2, 2, 2, generator=g)
    prompts = [f"a cat {i}" for i in range(n_prompts)]
    index = torch.arange(n_prompts).repeat_interleave(k)
    data = LatentDataset(latents, fam.encode_prompts(pipe, prompts, 8), index, torch.full((n,), float("nan")),
                         index.clone(), torch.zeros(0, 2, dtype=torch.long), prompts)
    vq = latents[:, 0].mean(dim=(1, 2, 3))
    return pairs_from_scores(data, torch.stack([vq, -vq], dim=1), ("VQ", "MQ"))


def test_pairs_from_scores_labels_ties_and_missing():
    data = LatentDataset(torch.zeros(4, 2, 1, 1, 1), {"prompt_embeds": torch.zeros(2, 3, 4)},
                         torch.tensor([0, 0, 1, 1]), torch.zeros(4), torch.tensor([0, 0, 1, 1]),
                         torch.zeros(0, 2, dtype=torch.long), ["p", "q"])
    scores = torch.tensor([[1.0, 0.0], [0.5, 0.0], [0.2, float("nan")], [0.25, 1.0]])
    pairs = pairs_from_scores(data, scores, ("VQ", "MQ"), tie_threshold=0.1)
    assert pairs.index.tolist() == [[0, 1], [2, 3]]  # only within a group
    assert pairs.labels[0].tolist() == [1.0, 0.0]  # MQ equal: a tie
    assert pairs.labels[1, 0].item() == 0.0 and torch.isnan(pairs.labels[1, 1])  # |0.05| <= 0.1: tie; NaN stays
    train, held = pairs.split(0.5, seed=0)
    assert len(train) == len(held) == 1 and set(train.prompts_of_pairs().tolist()).isdisjoint(held.prompts_of_pairs().tolist())
    assert pairs.split(0.0)[1] is None
    with pytest.raises(EmptyDataError):
        RewardPairs(data, pairs.index, torch.full((2, 2), float("nan")), ("VQ", "MQ"))


def test_benchmark_pairs_keep_ties_and_unlabelled_dimensions(wan, tmp_path):
    from videobench.data.benchmark import PairBenchmark
    from videobench.video.writer import write_video

    for name, level in [("bright", 220), ("dark", 30), ("mid", 120)]:
        write_video(tmp_path / f"{name}.mp4", np.full((10, 32, 32, 3), level, dtype=np.uint8), fps=8)
    df = pd.DataFrame({"pair_id": ["p1", "p2", "p3"], "prompt": ["a light", "a light", "a dark scene"],
                       "video_A": ["bright.mp4", "dark.mp4", "mid.mp4"],
                       "video_B": ["dark.mp4", "mid.mp4", "bright.mp4"],
                       "label_VQ": np.array([1, -1, 0], dtype=np.int8)})
    bench = PairBenchmark("tiny", df, ("VQ",), root=tmp_path)
    pairs = benchmark_reward_pairs(wan, family_for(wan), bench, ("VQ", "MQ"), 5, 16, 16, 8)
    assert pairs.labels[:, 0].tolist() == [1.0, -1.0, 0.0]  # the tie is kept (it trains the tie probability)
    assert torch.isnan(pairs.labels[:, 1]).all()
    assert pairs.data.latents.shape[0] == 5  # one latent per (video, prompt): 3 for 'a light', 2 for 'a dark scene'
    pairs.save(tmp_path / "cache")
    loaded = RewardPairs.load(tmp_path / "cache")
    assert torch.equal(loaded.index, pairs.index) and loaded.dimensions == ("VQ", "MQ")
    with pytest.raises(EmptyDataError, match="no labels"):
        benchmark_reward_pairs(wan, family_for(wan), bench, ("TA",), 5, 16, 16, 8)


@pytest.mark.parametrize("name", ["wan", "ltx"])
def test_training_lowers_the_loss_and_logs_held_out_accuracy_per_bucket(name, wan, ltx, tmp_path):
    pipe = wan if name == "wan" else ltx
    pairs = _scored_pairs(pipe, n_prompts=6, k=3)
    cfg = LatentRMConfig(output_dir=str(tmp_path), max_steps=30, **FAST)
    result = train_latent_rm(cfg, pipe=pipe, pairs=pairs)
    first, last = np.mean([e["loss"] for e in result.log[:5]]), np.mean([e["loss"] for e in result.log[-5:]])
    assert last < first
    assert set(result.eval["accuracy"]) == {"VQ", "MQ"} and len(result.eval["buckets"]) == 2
    assert result.eval["buckets"][0]["sigma_high"] == 0.5
    run = json.loads((tmp_path / "run.json").read_text())
    assert run["num_pairs"]["eval"] == result.eval["pairs"] > 0
    assert (tmp_path / "eval.jsonl").is_file() and (tmp_path / "latent_rm_config.yaml").is_file()
    rm = LatentRewardModel.from_pretrained(tmp_path)
    assert rm.family == name and rm.dimensions == ("VQ", "MQ")


def test_checkpoint_and_resume_reproduce_the_uninterrupted_run(wan, tmp_path):
    pairs = _scored_pairs(wan)
    straight = train_latent_rm(LatentRMConfig(output_dir=str(tmp_path / "a"), max_steps=4, **FAST), pipe=wan,
                               pairs=pairs)
    cut = LatentRMConfig(output_dir=str(tmp_path / "b"), max_steps=2, checkpoint_every=1, **FAST)
    train_latent_rm(cut, pipe=wan, pairs=pairs)
    assert (tmp_path / "b" / "checkpoints" / "checkpoint-1" / "model" / "config.json").is_file()
    train_latent_rm(cut.__class__(**{**cut.to_dict(), "max_steps": 4, "resume_from": "latest"}), pipe=wan, pairs=pairs)
    a, b = (LatentRewardModel.from_pretrained(tmp_path / d) for d in ("a", "b"))
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values()):
        torch.testing.assert_close(pa, pb, rtol=1e-5, atol=1e-6, msg=name)
    assert straight.steps == 4


def test_config_checks_and_overrides(tmp_path):
    assert parse_rm_override("lr=1e-3") == ("lr", 1e-3)
    assert parse_rm_override("dimension_rewards={VQ: pixel:brightness}") == (
        "dimension_rewards", {"VQ": "pixel:brightness"})
    with pytest.raises(ConfigError, match="unknown setting"):
        parse_rm_override("lora_rank=4")
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"lr": "1e-4", "num_blocks": "2", "theta": 3}))
    cfg = LatentRMConfig.from_yaml(path)
    assert cfg.lr == 1e-4 and cfg.num_blocks == 2 and isinstance(cfg.theta, float)
    for bad, match in [({"theta": 1.0}, "theta"), ({"sigma_buckets": [0.5, 0.2]}, "sigma_buckets"),
                       ({"dimension_rewards": {"TA": "pixel:contrast"}, "dimensions": ["VQ"]}, "dimension_rewards"),
                       ({"data": "videos"}, "data"), ({"nope": 1}, "unknown setting")]:
        with pytest.raises(ConfigError, match=match):
            LatentRMConfig.from_dict(bad)
