"""``+nrg:`` in generator specs (videobench compare) and the ``videobench align latent-rm`` / ``nrg`` commands."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import yaml
from typer.testing import CliRunner

from videobench.align.latent_rm import LatentRewardModel
from videobench.align.nrg_compare import NRGModifier, register, settings_from_part
from videobench.compare.spec import SpecError, parse_generator_spec
from videobench.testing.tiny_pipelines import build_tiny_wan_pipeline

QUERY = "?steps=2&height=16&width=16&num_frames=5"


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    root = tmp_path_factory.mktemp("nrg-compare")
    pipe = build_tiny_wan_pipeline(out_dir=root / "wan")
    rm = LatentRewardModel.from_pipeline(pipe, num_blocks=1, dimensions=("VQ", "MQ"))
    with torch.no_grad():
        torch.nn.init.normal_(rm.head[2].weight, generator=torch.Generator().manual_seed(0))
    rm.save_pretrained(root / "rm")
    return root


def test_spec_options_are_parsed_and_fingerprinted(saved):
    spec = parse_generator_spec(f"wan:{saved / 'wan'}+nrg:{saved / 'rm'}?w=100&weights=VQ:0.5,MQ:0.5")
    part = spec.modifiers[0]
    s = settings_from_part(part)
    assert s.w == 100 and s.weights == {"VQ": 0.5, "MQ": 0.5}
    mod = NRGModifier()
    same = parse_generator_spec(f"wan:{saved / 'wan'}+nrg:{saved / 'rm'}?weights=MQ=0.5,VQ=0.5&w=100.0").modifiers[0]
    other = parse_generator_spec(f"wan:{saved / 'wan'}+nrg:{saved / 'rm'}?w=50&weights=VQ:0.5,MQ:0.5").modifiers[0]
    assert mod.fingerprint(part) == mod.fingerprint(same) != mod.fingerprint(other)
    bad = parse_generator_spec(f"wan:{saved / 'wan'}+nrg:{saved / 'rm'}?w=strong").modifiers[0]
    with pytest.raises(SpecError, match="w='strong'"):
        settings_from_part(bad)


def test_guided_generator_renders_through_compare(saved):
    from videobench.compare.generators import build_generator

    register()  # what videobench.compare.modifiers will do at import (see docs/nrg.md)
    base = build_generator("base", f"wan:{saved / 'wan'}{QUERY}")
    off = build_generator("off", f"wan:{saved / 'wan'}+nrg:{saved / 'rm'}{QUERY}&w=0")
    on = build_generator("on", f"wan:{saved / 'wan'}+nrg:{saved / 'rm'}{QUERY}&w=30&weights=VQ:1")
    assert len({base.fingerprint, off.fingerprint, on.fingerprint}) == 3
    videos = {}
    for gen in (base, off, on):
        gen.load()
        videos[gen.name] = gen.render("a cat", seed=3)
    assert np.array_equal(videos["base"], videos["off"])
    assert not np.array_equal(videos["base"], videos["on"])
    bad = build_generator("bad", f"wan:{saved / 'wan'}+nrg:{saved / 'rm'}{QUERY}&weights=TA:1")
    with pytest.raises(SpecError, match="unknown dimension"):
        bad.load()


def test_cli_trains_a_reward_model_and_samples_with_it(saved, tmp_path):
    from videobench.cli import _register, app

    _register()
    runner = CliRunner()
    config = tmp_path / "rm.yaml"
    config.write_text(yaml.safe_dump({
        "pipeline": str(saved / "wan"), "prompts": ["a cat", "a dog", "a red car"], "samples_per_prompt": 2,
        "dimensions": ["VQ"], "dimension_rewards": {"VQ": "pixel:brightness"}, "num_frames": 5, "height": 16,
        "width": 16, "num_inference_steps": 2, "max_sequence_length": 8, "batch_size": 2, "eval_fraction": 0.34,
        "eval_draws": 1, "cpu": True,
    }))
    out = tmp_path / "rm"
    result = runner.invoke(app, ["align", "latent-rm", "--config", str(config), "-o", str(out), "--max-steps", "3",
                                 "--set", "lr=1e-3"])
    assert result.exit_code == 0, result.output
    assert "held-out accuracy VQ" in result.output
    assert LatentRewardModel.from_pretrained(out).dimensions == ("VQ",)
    assert len((out / "log.jsonl").read_text().splitlines()) == 3
    bad = runner.invoke(app, ["align", "latent-rm", "--config", str(config), "--set", "lora_rank=4"])
    assert bad.exit_code == 2 and "unknown setting" in bad.output

    videos = tmp_path / "videos"
    result = runner.invoke(app, ["align", "nrg", "--pipeline", str(saved / "wan"), "--rm", str(out), "-p", "a cat",
                                 "--weights", "VQ=1", "--w", "50", "--steps", "2", "--height", "16", "--width", "16",
                                 "--num-frames", "5", "-o", str(videos)])
    assert result.exit_code == 0, result.output
    info = json.loads((videos / "nrg.json").read_text())
    assert info["weights"] == {"VQ": 1.0} and len(info["items"][0]["steps"]) == 2
    assert (videos / info["items"][0]["video"]).stat().st_size > 0
    wrong = runner.invoke(app, ["align", "nrg", "--pipeline", str(saved / "wan"), "--rm", str(out), "-p", "x",
                                "--weights", "TA=1", "-o", str(videos)])
    assert wrong.exit_code == 2 and "unknown dimension" in wrong.output


class _Counting:
    """The pipeline, counting renders; ``fail_at`` raises on that call (a kill in the middle of a run)."""

    def __init__(self, pipe, fail_at=None):
        self.pipe, self.calls, self.fail_at = pipe, 0, fail_at

    def __getattr__(self, name):
        return getattr(self.pipe, name)

    def __call__(self, **kwargs):
        self.calls += 1
        if self.calls == self.fail_at:
            raise KeyboardInterrupt("killed")
        return self.pipe(**kwargs)


def test_nrg_sampling_resumes_after_a_kill_and_rerenders_on_new_settings(saved, tmp_path):
    from diffusers import DiffusionPipeline

    from videobench.align.nrg import apply_nrg
    from videobench.align.nrg_sample import NRGRun, sample_nrg

    pipe = DiffusionPipeline.from_pretrained(str(saved / "wan"))
    pipe.set_progress_bar_config(disable=True)
    apply_nrg(pipe, saved / "rm", w=30, weights="VQ=1")
    run = NRGRun(str(saved / "wan"), str(saved / "rm"), ["a cat"], seeds=[0, 1, 2], steps=2, height=16, width=16,
                 num_frames=5)
    out = tmp_path / "out"
    killed = _Counting(pipe, fail_at=3)
    with pytest.raises(KeyboardInterrupt):
        sample_nrg(killed, run, out)
    # two videos, each with its record; no summary, no temp file left behind
    assert sorted(p.name for p in out.iterdir()) == [".items", "prompt000__seed0.mp4", "prompt000__seed1.mp4"]
    assert sorted(p.name for p in (out / ".items").iterdir()) == ["prompt000__seed0.json", "prompt000__seed1.json"]

    resumed = _Counting(pipe)
    summary = sample_nrg(resumed, run, out)
    assert resumed.calls == 1  # only seed 2 was missing
    assert [item["seed"] for item in summary["items"]] == [0, 1, 2]
    assert json.loads((out / "nrg.json").read_text()) == summary
    assert all(len(item["steps"]) == 2 for item in summary["items"])

    again = _Counting(pipe)
    sample_nrg(again, run, out)
    assert again.calls == 0
    apply_nrg(pipe, saved / "rm", w=10, weights="VQ=1")  # another strength: every video is stale
    changed = _Counting(pipe)
    assert sample_nrg(changed, run, out)["w"] == 10
    assert changed.calls == 3
