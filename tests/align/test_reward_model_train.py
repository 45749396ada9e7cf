"""Training the VideoReward-style reward model on a tiny Qwen2-VL: what trains, what is saved, and that the saved
folder loads with the videoreward: adapter with no options and scores as the trained network did."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.align.rm_helpers import TINY_SETTINGS, write_pair_csv

REFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "videoalign_reference"


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory) -> Path:
    from videobench.testing.tiny_qwen2vl import build_tiny_base

    return build_tiny_base(tmp_path_factory.mktemp("rm") / "base")


@pytest.fixture(scope="module")
def trained(tiny_base: Path, tmp_path_factory):
    from videobench.align.reward_model_train import train_reward_model

    root = tmp_path_factory.mktemp("rm-run")
    csv = write_pair_csv(root / "data")
    cfg = dict(TINY_SETTINGS, base_model=str(tiny_base), benchmark=str(csv), output_dir=str(root / "out"),
               val_groups=["a man talks on a phone in a car"], max_steps=3, special_token_lr=5e-2, eval_every=2)
    return train_reward_model(cfg)


def test_saved_in_videoaligns_layout(trained) -> None:
    out = trained.output_dir
    ckpt = out / "checkpoint-3"
    for name in ("adapter_config.json", "adapter_model.safetensors", "non_lora_state_dict.safetensors",
                 "tokenizer/tokenizer_config.json"):
        assert (ckpt / name).is_file(), name
    config = json.loads((out / "model_config.json").read_text())
    reference = json.loads((REFERENCE / "lora" / "model_config.json").read_text())  # written by VideoAlign itself
    for section in ("data_config", "model_config", "peft_lora_config"):
        assert set(config[section]) == set(reference[section]), section  # VideoAlign builds its dataclasses from them
    assert config["peft_lora_config"]["lora_enable"] and config["model_config"]["use_special_tokens"]
    assert set(config["inference_config"]) == {f"{d}_{s}" for d in ("VQ", "MQ", "TA") for s in ("mean", "std")}
    from safetensors.torch import load_file

    non_lora = load_file(str(ckpt / "non_lora_state_dict.safetensors"))
    adapter = load_file(str(ckpt / "adapter_model.safetensors"))
    assert all(k.startswith("base_model.model.") for k in [*non_lora, *adapter])
    assert {"base_model.model.rm_head.weight", "base_model.model.model.embed_tokens.weight"} <= set(non_lora)
    assert any(k.startswith("base_model.model.visual.merger.") for k in non_lora)
    # LoRA on every linear layer of the language model (7 per layer, 2 layers, A and B), named as in 4.45
    assert len(adapter) == 2 * 7 * 2 and all(k.startswith("base_model.model.model.layers.") for k in adapter)


def test_only_the_reward_token_rows_of_the_embeddings_train(trained, tiny_base: Path) -> None:
    from safetensors.torch import load_file
    from transformers import AutoTokenizer

    base = load_file(str(tiny_base / "model.safetensors"))
    base_emb = next(v for k, v in base.items() if k.endswith("embed_tokens.weight"))
    saved = load_file(str(trained.output_dir / "checkpoint-3" / "non_lora_state_dict.safetensors"))
    emb = saved["base_model.model.model.embed_tokens.weight"]
    n_base = len(AutoTokenizer.from_pretrained(str(tiny_base)))
    assert emb.shape[0] == n_base + 3
    assert torch.equal(emb[:n_base], base_emb[:n_base])  # bit for bit: restored after every step
    assert not torch.equal(emb[n_base:], emb[n_base:] * 0)  # the reward tokens' rows exist and moved from init
    log = [json.loads(line) for line in (trained.output_dir / "log.jsonl").read_text().splitlines()]
    assert [e["step"] for e in log] == [1, 2, 3] and all(np.isfinite(e["loss"]) for e in log)
    evals = [json.loads(line) for line in (trained.output_dir / "eval.jsonl").read_text().splitlines()]
    assert [e["step"] for e in evals] == [2, 3]  # every eval_every steps, and at the end
    # 2 held-out pairs: VQ labels A, B; MQ B, A; TA A, tie (write_pair_csv) -> with-ties accuracy over both pairs
    assert evals[-1]["VQ"]["pairs"] == 2 and set(evals[-1]["VQ"]) == {"pairs", "accuracy_without_ties",
                                                                      "accuracy_with_ties"}


def test_loads_with_no_options_and_scores_as_trained(trained) -> None:
    from videobench.rewards.videoreward import VideoRewardModel
    from videobench.video import load_clip

    model = VideoRewardModel.load(str(trained.output_dir))
    assert model.min_pixels == TINY_SETTINGS["min_pixels"]  # read back from model_config.json
    assert model.sampling.num_frames == 4 and model.sampling.max_pixels == 56 * 56
    split = json.loads((trained.output_dir / "split.json").read_text())
    assert split["val_groups"] == ["a man talks on a phone in a car"] and split["val_pairs"] == 2
    # the norm stats are the validation videos' raw rewards, recomputed here through the loaded adapter
    data = trained.output_dir.parent / "data" / "videos" / "2"
    clips = [load_clip(data / f"{c}.mp4", model.sampling) for c in ("bikes", "bunny", "carphone")]
    raw = model.raw_rewards(clips, ["a man talks on a phone in a car"] * 3)
    for k, dim in enumerate(("VQ", "MQ", "TA")):
        mean, std = trained.norm[dim]
        assert raw[:, k].mean() == pytest.approx(mean, abs=1e-4) and raw[:, k].std() == pytest.approx(std, abs=1e-4)
    assert model.norm == {d: pytest.approx(v) for d, v in trained.norm.items()}


def test_cli_trains_from_yaml_then_eval_bench_scores_the_saved_model(tiny_base: Path, tmp_path: Path) -> None:
    """`videobench align reward-model --config FILE.yaml --eval-bench CSV`: the EvalResult beside the model comes
    from `videoreward:OUT` loaded with no options; bad settings are one line and exit code 2."""
    import yaml
    from typer.testing import CliRunner

    from videobench.cli import _register, app
    from videobench.results import load_result

    csv = write_pair_csv(tmp_path / "data")
    config = tmp_path / "rm.yaml"
    config.write_text(yaml.safe_dump(dict(TINY_SETTINGS, base_model=str(tiny_base), benchmark=str(csv),
                                          val_groups=["a rabbit in a meadow"])))
    _register()
    runner = CliRunner()
    out = tmp_path / "out"
    store = tmp_path / "board"
    result = runner.invoke(app, ["align", "reward-model", "--config", str(config), "-o", str(out), "--max-steps",
                                 "1", "--set", "eval_batch_size=4", "--eval-bench", str(csv), "--submit", str(store),
                                 "--submit-bench", "sanity", "--submit-name", "me/tiny-rm"])
    assert result.exit_code == 0, result.output
    assert f"videoreward:{out}" in result.output and "submitted: request" in result.output
    from videobench.leaderboard.store import LocalStore
    from videobench.leaderboard.submissions import read_requests

    requests, problems = read_requests(LocalStore(store).snapshot())
    (request,) = requests
    assert not problems
    assert request.kind == "reward_model" and request.model == f"videoreward:{out.resolve()}"
    assert request.benchmark == "sanity" and request.status == "PENDING"
    files = list((out / "eval").glob("*.json"))
    assert len(files) == 1
    ev = load_result(files[0])
    assert ev.model.spec.startswith("videoreward:") and "?" not in ev.model.spec  # no options
    assert set(ev.dimensions) == {"VQ", "MQ", "TA"} and ev.benchmark.n_pairs == 6
    elsewhere = ["-o", str(tmp_path / "refused")]
    refused = runner.invoke(app, ["align", "reward-model", "--config", str(config), "--submit", str(store), *elsewhere])
    assert refused.exit_code == 2 and "--submit needs --eval-bench or --submit-bench" in refused.output
    no_column = runner.invoke(app, ["align", "reward-model", "--config", str(config), "--set", "split_by=clip",
                                    *elsewhere])
    assert no_column.exit_code == 2 and "split_by='clip' is not a column" in no_column.output
    not_qwen2vl = tmp_path / "llava"
    not_qwen2vl.mkdir()
    (not_qwen2vl / "config.json").write_text('{"model_type": "llava"}')
    refused_base = runner.invoke(app, ["align", "reward-model", "--config", str(config), "--base-model",
                                       str(not_qwen2vl), *elsewhere])
    assert refused_base.exit_code == 2 and "model_type 'llava' is not a base" in refused_base.output
    bad = runner.invoke(app, ["align", "reward-model", "--config", str(config), "--set", "thetta=3", *elsewhere])
    assert bad.exit_code == 2 and "unknown setting" in bad.output and "Traceback" not in bad.output
    settings = runner.invoke(app, ["align", "settings", "reward-model"])
    assert settings.exit_code == 0 and "theta: 5.0" in settings.output


def _released(out: Path, step: int) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    ckpt = out / f"checkpoint-{step}"
    return {**load_file(str(ckpt / "adapter_model.safetensors")),
            **load_file(str(ckpt / "non_lora_state_dict.safetensors"))}


def test_resume_equals_an_uninterrupted_run(tiny_base: Path, tmp_path: Path) -> None:
    from videobench.align.reward_model_train import train_reward_model

    csv = write_pair_csv(tmp_path / "data")
    settings = dict(TINY_SETTINGS, base_model=str(tiny_base), benchmark=str(csv), val_groups=["a rabbit in a meadow"],
                    warmup_steps=2, grad_accum=2, batch_size=1, frame_cache_dir=str(tmp_path / "frames"))
    full = train_reward_model(dict(settings, output_dir=str(tmp_path / "full"), max_steps=4))
    train_reward_model(dict(settings, output_dir=str(tmp_path / "cut"), max_steps=3, checkpoint_every=2))
    assert (tmp_path / "cut" / "checkpoints" / "checkpoint-2").is_dir()
    resumed = train_reward_model(dict(settings, output_dir=str(tmp_path / "cut"), max_steps=4, resume_from="latest"))
    assert resumed.log[0]["step"] == 3
    a, b = _released(tmp_path / "full", 4), _released(tmp_path / "cut", 4)
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(b[key], a[key], atol=0, rtol=0)
    assert resumed.norm == full.norm
    # the frame cache: the resumed run decoded nothing (every frame came from frame_cache_dir)
    assert json.loads((tmp_path / "cut" / "run.json").read_text())["videos_decoded"] == 0
    # the weights compared moved from their start (LoRA B starts at 0), so the comparison above can fail
    assert all(bool(a[k].abs().sum() > 0) for k in a if ".lora_B." in k)
