"""What the commands print for people: `align settings` is YAML that a config accepts, help texts say what a
command takes and writes."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from docs_runner import run_videobench


@pytest.mark.parametrize("command", ["dpo", "latent-rm"])
def test_align_settings_is_yaml_that_the_config_accepts(command: str, tmp_path) -> None:
    from videobench.align.config import AlignConfig
    from videobench.align.latent_rm_train import LatentRMConfig

    code, out = run_videobench(["align", "settings", command], {}, tmp_path)
    assert code == 0, out
    values = yaml.safe_load(out)
    config_class = AlignConfig if command == "dpo" else LatentRMConfig
    expected = {f.name for f in dataclasses.fields(config_class)} - {"method"}
    assert set(values) == expected
    config = config_class.from_dict({**values, "pipeline": "some/pipeline"})  # pasted into a config, it loads
    for f in dataclasses.fields(config_class):
        if f.name not in ("method", "pipeline"):
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
            assert getattr(config, f.name) == (list(default) if isinstance(default, tuple) else default), f.name


def test_align_settings_unknown_command_is_one_line_exit_2(tmp_path) -> None:
    code, out = run_videobench(["align", "settings", "ppo"], {}, tmp_path)
    assert code == 2 and "unknown command 'ppo'" in out and "Traceback" not in out


def _help(args: list[str], tmp_path) -> str:
    code, out = run_videobench([*args, "--help"], {"COLUMNS": "300"}, tmp_path)
    assert code == 0, out
    return " ".join(out.split())


def test_latent_rm_help_names_its_own_config_and_output(tmp_path) -> None:
    text = _help(["align", "latent-rm"], tmp_path)
    assert "LatentRMConfig" in text and "AlignConfig" not in text
    assert "LoRA" not in text and "reward model" in text


def test_compare_output_has_a_default(tmp_path) -> None:
    text = _help(["compare"], tmp_path)
    assert "videobench-compare" in text and "required" not in text.split("--output")[1][:200]


def test_every_command_and_option_has_a_help_text() -> None:
    from docs_runner import videobench_command

    missing = []

    def walk(cmd, path):
        if hasattr(cmd, "commands"):
            for name, sub in cmd.commands.items():
                walk(sub, [*path, name])
            return
        if not (cmd.help or "").strip():
            missing.append(" ".join(path))
        missing.extend(f"{' '.join(path)} {p.opts[0] if p.opts else p.name}" for p in cmd.params
                       if p.name != "help" and not (getattr(p, "help", None) or "").strip())

    walk(videobench_command(), ["videobench"])
    assert missing == []
