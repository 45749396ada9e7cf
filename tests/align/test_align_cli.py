"""`videobench align dpo|rwr|sft`: YAML config, flag and --set overrides, outputs, friendly errors."""

from __future__ import annotations

import json
import math

import pytest
import yaml
from typer.testing import CliRunner

from videobench.align.config import AlignConfig, ConfigError, parse_override
from videobench.cli import _register, app


def test_parse_override_and_yaml_types(tmp_path):
    assert parse_override("lr=1e-4") == ("lr", 1e-4)
    assert parse_override("lora-targets=[to_q, to_v]") == ("lora_targets", ["to_q", "to_v"])
    assert parse_override("reward=pixel:brightness") == ("reward", "pixel:brightness")
    with pytest.raises(ConfigError, match="unknown setting"):
        parse_override("nope=1")
    path = tmp_path / "c.yaml"
    path.write_text("lr: 1e-4\nbeta: 500\ngradient_checkpointing: 'true'\n")
    cfg = AlignConfig.from_yaml(path, {"max_steps": "7"})
    assert cfg.lr == 1e-4 and isinstance(cfg.beta, float) and cfg.gradient_checkpointing is True
    assert cfg.max_steps == 7
    assert AlignConfig.from_dict(yaml.safe_load(cfg.to_yaml())) == cfg
    with pytest.raises(ConfigError, match="mixed_precision"):
        AlignConfig(mixed_precision="fp8")  # type: ignore[arg-type]


def test_cli_trains_from_yaml_with_overrides(tmp_path):
    from videobench.testing.tiny_pipelines import build_tiny_wan_pipeline

    build_tiny_wan_pipeline(out_dir=tmp_path / "wan")
    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump({
        "pipeline": str(tmp_path / "wan"), "prompts": ["a bright white light", "a dark black scene"],
        "samples_per_prompt": 2, "num_frames": 5, "height": 16, "width": 16, "num_inference_steps": 2,
        "max_sequence_length": 8, "lora_rank": 2, "lora_alpha": 2, "max_steps": 5,
    }))
    _register()
    runner = CliRunner()
    out = tmp_path / "out"
    result = runner.invoke(app, ["align", "dpo", "--config", str(config), "-o", str(out), "--max-steps", "2",
                                 "--set", "lr=1e-3", "--set", "reward=pixel:saturation"])
    assert result.exit_code == 0, result.output
    saved = yaml.safe_load((out / "align_config.yaml").read_text())
    assert saved["max_steps"] == 2 and saved["lr"] == 1e-3 and saved["reward"] == "pixel:saturation"
    log = [json.loads(x) for x in (out / "log.jsonl").read_text().splitlines()]
    assert len(log) == 2 and math.isclose(log[0]["loss"], math.log(2), rel_tol=1e-5)
    assert (out / "pytorch_lora_weights.safetensors").is_file()
    bad = runner.invoke(app, ["align", "rwr", "--config", str(config), "--set", "betta=3"])
    assert bad.exit_code == 2 and "unknown setting" in bad.output
    help_text = runner.invoke(app, ["align", "dpo", "--help"]).output
    assert "--set" in help_text and "--config" in help_text


@pytest.mark.slow
def test_align_submit_then_the_queue_ranks_the_lora_on_the_board(tmp_path):
    """align → leaderboard as one path: the trained LoRA is filed on the board when training ends, and the queue
    renders it beside the board's baseline under the board's sampling protocol and ranks it."""
    from videobench.leaderboard.store import LocalStore
    from videobench.leaderboard.submissions import read_requests
    from videobench.testing.tiny_pipelines import build_tiny_wan_pipeline

    build_tiny_wan_pipeline(out_dir=tmp_path / "wan")
    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump({
        "pipeline": str(tmp_path / "wan"), "prompts": ["a bright white light", "a dark black scene"],
        "samples_per_prompt": 2, "num_frames": 5, "height": 16, "width": 16, "num_inference_steps": 2,
        "max_sequence_length": 8, "lora_rank": 2, "lora_alpha": 2, "reward": "pixel:contrast",
    }))
    _register()
    runner = CliRunner()
    # checked before training: no suite, or a suite name the board cannot hold, stops at once (nothing trained)
    for extra in ([], ["--submit-prompts", "../escape"], ["--submit-prompts", "vbench-946", "--submit-name", "a b"]):
        bad = runner.invoke(app, ["align", "sft", "-c", str(config), "-o", str(tmp_path / "never"), "--max-steps",
                                  "1", "--submit", str(tmp_path / "board"), *extra], env={"COLUMNS": "200"})
        assert bad.exit_code == 2 and "--submit" in bad.output and not (tmp_path / "never").exists(), bad.output
    out = tmp_path / "sft-run"
    res = runner.invoke(app, ["align", "sft", "-c", str(config), "-o", str(out), "--max-steps", "1",
                              "--submit", str(tmp_path / "board"), "--submit-prompts", "vbench-946",
                              "--submit-name", "me/tiny-sft"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    requests, problems = read_requests(LocalStore(tmp_path / "board").snapshot())
    assert not problems and len(requests) == 1
    req = requests[0]
    assert (req.kind, req.status, req.model_id, req.benchmark) == ("generator", "PENDING", "me/tiny-sft", "vbench-946")
    assert req.model == f"wan:{(tmp_path / 'wan').resolve()}+lora:{out.resolve()}"
    assert [c.adapter for c in req.components] == ["wan", "lora"]
    assert req.id in res.output

    base = f"wan:{(tmp_path / 'wan').resolve()}"
    res = runner.invoke(app, ["leaderboard", "run-queue", "--store", str(tmp_path / "board"), "--reward",
                              "pixel:contrast", "--baseline-generator", base, "--sampling",
                              "steps=2&height=16&width=16&num_frames=5&fps=8", "--num-prompts", "3", "--seeds", "0,1",
                              "--render-dir", str(tmp_path / "renders"), "--cache-dir", str(tmp_path / "scores")],
                        env={"COLUMNS": "200"})
    assert res.exit_code == 0 and "FINISHED" in res.output, res.output
    (done,), _ = read_requests(LocalStore(tmp_path / "board").snapshot())
    assert done.status == "FINISHED"
    import pandas as pd

    table = pd.read_csv(tmp_path / "board" / "table" / "generators.csv")
    assert {"baseline", "me/tiny-sft"} <= set(table["checkpoint"])
    assert len(list((tmp_path / "renders").rglob("*.mp4"))) == 2 * 3 * 2  # 2 generators x 3 prompts x 2 seeds


def test_grpo_cli_bad_reward_entry_is_one_line_exit_2(tmp_path):
    config = tmp_path / "grpo.yaml"
    config.write_text(yaml.safe_dump({"pipeline": "unused", "rewards": [{"spec": "pixel:contrast", "wieght": 2}]}))
    _register()
    result = CliRunner().invoke(app, ["align", "grpo", "--config", str(config), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "rewards[0]" in result.output and "wieght" in result.output and "Traceback" not in result.output
    settings = CliRunner().invoke(app, ["align", "settings", "grpo"])
    assert settings.exit_code == 0 and "kl_beta: 0.004" in settings.output and "monitor_rewards" in settings.output


def test_align_submit_checkpoints_files_every_saved_checkpoint(tmp_path):
    """--submit-checkpoints files the run's checkpoints (one request each, one submission time) instead of the LoRA."""
    from videobench.leaderboard.store import LocalStore
    from videobench.leaderboard.submissions import read_requests
    from videobench.testing.tiny_pipelines import build_tiny_wan_pipeline

    build_tiny_wan_pipeline(out_dir=tmp_path / "wan")
    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump({
        "pipeline": str(tmp_path / "wan"), "prompts": ["a bright white light"], "samples_per_prompt": 2,
        "num_frames": 5, "height": 16, "width": 16, "num_inference_steps": 2, "max_sequence_length": 8,
        "lora_rank": 2, "lora_alpha": 2, "reward": "pixel:contrast", "checkpoint_every": 1,
    }))
    _register()
    out = tmp_path / "sft-run"
    # checkpoints at steps 1, 2 and 3: the last one holds the final LoRA's weights, so the history ends where the run did
    res = CliRunner().invoke(app, ["align", "sft", "-c", str(config), "-o", str(out), "--max-steps", "3",
                                   "--submit", str(tmp_path / "board"), "--submit-prompts", "vbench-946",
                                   "--submit-checkpoints"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    requests, problems = read_requests(LocalStore(tmp_path / "board").snapshot())
    assert not problems
    by_id = {r.model_id: r for r in requests}
    assert sorted(by_id) == ["sft-run-checkpoint-1", "sft-run-checkpoint-2", "sft-run-checkpoint-3"]
    for step in (1, 2, 3):
        assert by_id[f"sft-run-checkpoint-{step}"].components[-1].target == str(out.resolve() / "checkpoints" /
                                                                               f"checkpoint-{step}")
    assert len({r.submitted_at for r in requests}) == 1
