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
