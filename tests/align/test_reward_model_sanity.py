"""Acceptance: a tiny Qwen2-VL reward model trained on real footage ranks held-out clips better than chance, and
the trained folder works everywhere a reward spec goes: eval, compare, align dpo.

The data is the built-in `sanity` benchmark (degradations of 7 real source clips, labels known by construction).
Training uses 4 source clips; 3 others are held out whole (`val_groups`), and training pairs that share a video with
them (the text-swap pairs) are dropped, so no video is in both. The held-out part has 72 decided VQ pairs and 72
decided MQ pairs (4 degradations x 6 level pairs x 3 clips). Its confidence interval is the evaluation's own
bootstrap, clustered by prompt: each clip has its own caption, so the lower bound is close to the accuracy on the
worst held-out clip, and "lower bound > 50%" says every held-out clip is ranked better than a coin flip.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

HELD_OUT = ["bbb-1", "bikes-1", "carphone-1"]
#: Tuned for speed on 2 CPU cores: 16 frames (motion needs neighbouring frames), 128x144 pixels a frame (blur and
#: rescale stay visible), the vision tower frozen (no backward through it; its merger, the LoRA, the head and the
#: reward tokens train), 2 epochs at a high learning rate (4e-3 or 112x112 pixels did not learn).
SETTINGS = dict(split_by="source_clip", val_groups=HELD_OUT, num_frames=16, fps=None, max_pixels=128 * 144,
                min_pixels=56 * 56, lora_rank=4, lora_alpha=8, train_vision=False, batch_size=4, grad_accum=1,
                lr=3e-3, epochs=2, cpu=True)


@pytest.fixture(scope="module")
def sanity_model(tmp_path_factory):
    from videobench.align.reward_model_train import train_reward_model
    from videobench.sanity import load_sanity_benchmark
    from videobench.testing.tiny_qwen2vl import build_tiny_base

    root = tmp_path_factory.mktemp("rm-sanity")
    base = build_tiny_base(root / "base")
    result = train_reward_model(dict(SETTINGS, base_model=str(base), output_dir=str(root / "rm")),
                                bench=load_sanity_benchmark())
    return result


@pytest.fixture(scope="module")
def scores_dir(tmp_path_factory) -> Path:
    """One score cache for the module: the round trip's eval reuses the acceptance test's scores."""
    return tmp_path_factory.mktemp("rm-scores")


@pytest.mark.slow
def test_trained_model_beats_random_on_held_out_clips(sanity_model, scores_dir: Path) -> None:
    import videobench

    out = sanity_model.output_dir
    split = json.loads((out / "split.json").read_text())
    assert split["val_groups"] == HELD_OUT and split["dropped"]["shares a video with a held-out pair"] > 0
    common = dict(bench="sanity", subset=str(out / "val_pairs.txt"), n_resamples=1000, cache_dir=scores_dir)
    model = videobench.evaluate(f"videoreward:{out}", **common).result
    chance = videobench.evaluate(None, random_baseline=True, **common).result
    for dim in ("VQ", "MQ"):
        acc = model.dimensions[dim].accuracy_without_ties
        assert model.dimensions[dim].n_pairs - model.dimensions[dim].n_ties == 72
        assert acc.ci_low > 0.5, (dim, acc)
        assert acc.value > chance.dimensions[dim].accuracy_without_ties.value, dim


@pytest.mark.slow
def test_round_trip_eval_compare_and_dpo_with_the_trained_model(sanity_model, scores_dir: Path,
                                                                 tmp_path: Path) -> None:
    """train (the fixture) -> `videobench eval --model videoreward:OUT` -> `videobench compare --reward
    videoreward:OUT` -> `videobench align dpo` with `reward: videoreward:OUT`, all with no model options."""
    import yaml
    from typer.testing import CliRunner

    from videobench.cli import _register, app
    from videobench.testing.tiny_pipelines import build_tiny_wan_pipeline

    _register()
    runner = CliRunner()
    spec = f"videoreward:{sanity_model.output_dir}"
    res = runner.invoke(app, ["eval", "--model", spec, "--bench", "sanity", "--subset",
                              str(sanity_model.output_dir / "val_pairs.txt"), "--n-resamples", "50",
                              "--cache-dir", str(scores_dir), "--output", str(tmp_path / "eval")])
    assert res.exit_code == 0, res.output
    wan, other = tmp_path / "wan", tmp_path / "wan-1"
    build_tiny_wan_pipeline(out_dir=wan, seed=0)
    build_tiny_wan_pipeline(out_dir=other, seed=1)
    tiny = "?steps=2&height=32&width=32&num_frames=5&fps=8"
    res = runner.invoke(app, ["compare", "-g", f"base=wan:{wan}{tiny}", "-g", f"other=wan:{other}{tiny}",
                              "--prompts", "vbench-946", "--num-prompts", "2", "--reward", spec,
                              "--render-dir", str(tmp_path / "renders"), "--cache-dir", str(tmp_path / "scores"),
                              "--output", str(tmp_path / "compare"), "--n-resamples", "20", "--no-report"])
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "compare" / "compare.json").read_text())
    assert any("VQ" in str(w.get("dimension")) for w in data["win_rates"])
    config = tmp_path / "dpo.yaml"
    config.write_text(yaml.safe_dump({
        "pipeline": str(wan), "prompts": ["a bright white light", "a dark black scene"], "samples_per_prompt": 2,
        "num_frames": 5, "height": 16, "width": 16, "num_inference_steps": 2, "max_sequence_length": 8,
        "lora_rank": 2, "lora_alpha": 2, "max_steps": 1, "reward": spec, "reward_dimension": "VQ",
    }))
    res = runner.invoke(app, ["align", "dpo", "--config", str(config), "-o", str(tmp_path / "dpo")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "dpo" / "pytorch_lora_weights.safetensors").is_file()
    saved = yaml.safe_load((tmp_path / "dpo" / "align_config.yaml").read_text())
    assert saved["reward"].startswith("videoreward:")
