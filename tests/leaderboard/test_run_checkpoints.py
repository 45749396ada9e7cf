"""A training run's checkpoints on the board: ``submit --generator 'wan:BASE+lora:RUN/checkpoints/checkpoint-*'`` files
one request per checkpoint (one quota unit), the queue ranks each, and the generator history has one point per
checkpoint at its step, with the values of that checkpoint's own result file."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from videobench.cli import _register, app
from videobench.leaderboard.errors import SubmissionRefused
from videobench.leaderboard.store import LocalStore
from videobench.leaderboard.submissions import SubmissionPolicy, read_requests, submit_requests

STEPS = (10, 2)  # written out of order: the board orders by the step in the name, not by file system order


def _write_run(tmp_path):
    """Tiny Wan saved as a pipeline, and LoRA checkpoints laid out as align/trainer.py saves them
    (RUN/checkpoints/checkpoint-N/pytorch_lora_weights.safetensors), with distinct non-zero weights per step."""
    from diffusers import WanPipeline

    from videobench.align.lora import LoraSettings, add_lora, lora_parameters, save_lora
    from videobench.testing.tiny_pipelines import build_tiny_wan_pipeline

    pipe = build_tiny_wan_pipeline(out_dir=tmp_path / "wan")
    add_lora(pipe.transformer, LoraSettings(rank=2, alpha=2, targets=["to_q", "to_v"]))
    for step in STEPS:
        with torch.no_grad():
            for k, p in enumerate(lora_parameters(pipe.transformer)):
                p.copy_(torch.full_like(p, 0.05 * step * (1 if k % 2 else -1)))
        save_lora(pipe.transformer, WanPipeline, tmp_path / "run" / "checkpoints" / f"checkpoint-{step}")
    (tmp_path / "run" / "checkpoints" / "checkpoint-99.tmp").mkdir()  # a save in progress: never filed


@pytest.mark.slow
def test_a_runs_checkpoints_become_one_history_on_the_board(tmp_path):
    _write_run(tmp_path)
    _register()
    board, runner = tmp_path / "board", CliRunner()
    spec = f"wan:{tmp_path / 'wan'}+lora:{tmp_path / 'run'}/checkpoints/checkpoint-*"
    res = runner.invoke(app, ["submit", "--generator", spec, "--prompts", "vbench-946", "--store", str(board),
                              "--name", "me/run", "--submitter", "ann", "--quota", "2"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    requests, problems = read_requests(LocalStore(board).snapshot())
    assert not problems
    assert sorted(r.model_id for r in requests) == ["me/run-checkpoint-10", "me/run-checkpoint-2"]
    assert all(r.model.endswith(f"/checkpoints/{r.model_id.split('-', 1)[1]}") for r in requests)
    assert len({r.submitted_at for r in requests}) == 1  # filed together: one quota unit

    # quota 2: the run used one unit, so one more model fits and then the board refuses
    store = LocalStore(board)
    one = submit_requests(store, generator=f"wan:{tmp_path / 'wan'}", prompts="vbench-946", name="me/base",
                          submitter="ann", policy=SubmissionPolicy(max_per_window=2))
    assert len(one) == 1
    again = runner.invoke(app, ["submit", "--generator", spec, "--prompts", "vbench-946", "--store", str(board),
                                "--name", "me/run2", "--submitter", "ann", "--quota", "2"], env={"COLUMNS": "200"})
    assert again.exit_code == 2 and "quota: ann has 2 submissions" in again.output, again.output
    too_many = runner.invoke(app, ["submit", "--generator", spec, "--prompts", "vbench-946", "--store",
                                   str(tmp_path / "other"), "--submitter", "bob"], env={"COLUMNS": "200"})
    assert too_many.exit_code == 0, too_many.output  # default name: the run folder ("run")
    assert "run-checkpoint-2" in too_many.output and "run-checkpoint-10" in too_many.output
    with pytest.raises(SubmissionRefused, match="2 checkpoints, this board takes at most 1"):
        submit_requests(store, generator=spec, prompts="vbench-946", policy=SubmissionPolicy(max_checkpoints=1))

    res = runner.invoke(app, ["leaderboard", "run-queue", "--store", str(board), "--reward", "pixel:brightness",
                              "--baseline-generator", f"wan:{tmp_path / 'wan'}", "--sampling",
                              "steps=2&height=16&width=16&num_frames=5&fps=8", "--num-prompts", "2", "--seeds", "0",
                              "--render-dir", str(tmp_path / "renders"), "--cache-dir", str(tmp_path / "scores")],
                        env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    snap = LocalStore(board).snapshot()
    done, _ = read_requests(snap)
    assert {r.status for r in done} == {"FINISHED"}, [r.reason for r in done]

    # expected: each checkpoint's win rate over the baseline in its own request's result file
    expected = {}
    for req in done:
        if "-checkpoint-" not in req.model_id:
            continue
        (path,) = req.result_files
        result = json.loads(snap.read(path))
        (win,) = [w for w in result["win_rates"] if w["checkpoint"] == req.model_id and w["dimension"] == "Overall"]
        expected[int(req.model_id.rsplit("-", 1)[1])] = win["win_rate"]["value"]
    assert sorted(expected) == [2, 10]

    history = pd.read_csv(board / "table" / "generators_history.csv")
    overall = history[history["dimension"] == "Overall"]
    assert set(overall["series"]) == {"me/run"}  # me/base has no step: not a history point
    assert list(overall["step"]) == [2, 10]
    assert list(overall["win_rate"]) == pytest.approx([expected[2], expected[10]])
    html = (board / "report.html").read_text()
    assert "checkpoints of a training run" in html and "training step" in html
