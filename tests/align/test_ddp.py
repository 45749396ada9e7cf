"""Two gloo processes train like one process with the same global batch: gradients are all-reduced."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

WORKER = Path(__file__).with_name("ddp_worker.py")


def _run(args: list[str], out: Path, *worker_args: str) -> None:
    # Callers pass torchrun --standalone: its rendezvous store binds port 0, so the OS hands out a free port and two
    # runs at once (xdist workers, other checkouts on the machine) never collide on a fixed one.
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1"}
    proc = subprocess.run([sys.executable, *args, str(WORKER), str(out), *worker_args], env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


@pytest.mark.slow
def test_two_process_gloo_run_syncs_gradients(tmp_path):
    _run(["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"], tmp_path / "ddp")
    ranks = [load_file(str(tmp_path / "ddp" / f"rank{r}.safetensors")) for r in (0, 1)]
    single_dir = tmp_path / "single"
    proc = subprocess.run([sys.executable, str(WORKER), str(single_dir), "2"], env={**os.environ, "OMP_NUM_THREADS": "1"},
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    single = load_file(str(single_dir / "rank0.safetensors"))
    moved = 0
    for key in single:
        # the two ranks saw different pairs, yet hold identical weights (synchronised gradients) ...
        torch.testing.assert_close(ranks[0][key], ranks[1][key], atol=0, rtol=0)
        # ... equal to one process taking both pairs per step
        torch.testing.assert_close(ranks[0][key], single[key], atol=2e-5, rtol=1e-3)  # Adam amplifies fp noise
        moved += int(not torch.equal(single[key], torch.zeros_like(single[key])))
    assert moved


@pytest.mark.slow
def test_two_process_online_rollouts_render_in_shards(tmp_path):
    # each rank renders its share of every rollout round; the round is joined through its folder, then both train on it
    out = tmp_path / "online"
    _run(["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"], out, "online")
    ranks = [load_file(str(out / f"rank{r}.safetensors")) for r in (0, 1)]
    for key in ranks[0]:
        torch.testing.assert_close(ranks[0][key], ranks[1][key], atol=0, rtol=0)
    joined = load_file(str(out / "rollouts" / "round-1" / "latents.safetensors"))
    assert sorted(joined["prompt_index"].tolist()) == [0, 0, 1, 1, 2, 2]
    assert {p.name for p in (out / "rollouts" / "round-1").iterdir()} >= {"shard-0", "shard-1"}


@pytest.mark.slow
def test_two_process_grpo_equals_one_process_with_twice_the_prompts(tmp_path):
    # each rank renders its own prompts; rewards are gathered for the advantages (global std here, so every sample
    # depends on both ranks' rewards) and gradients averaged: one process with both prompts per step gets the same
    _run(["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"], tmp_path / "ddp", "grpo", "1")
    sys.path.insert(0, str(WORKER.parent))
    from ddp_worker import grpo_run  # the same run in this process, one rank

    grpo_run(str(tmp_path / "single"), 2)
    ranks = [load_file(str(tmp_path / "ddp" / f"rank{r}.safetensors")) for r in (0, 1)]
    single = load_file(str(tmp_path / "single" / "rank0.safetensors"))
    for key in single:
        torch.testing.assert_close(ranks[0][key], ranks[1][key], atol=0, rtol=0)
        torch.testing.assert_close(ranks[0][key], single[key], atol=2e-5, rtol=1e-3)
    logs = [(tmp_path / d / "log.jsonl").read_text().splitlines() for d in ("ddp", "single")]
    for a, b in zip(*logs):
        assert json.loads(a)["reward"] == pytest.approx(json.loads(b)["reward"], rel=1e-6)
