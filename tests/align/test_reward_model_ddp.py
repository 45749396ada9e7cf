"""Two gloo processes train the reward model like one process with the same global batch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from tests.align.rm_helpers import write_pair_csv

WORKER = Path(__file__).with_name("rm_ddp_worker.py")


def _run(prefix: list[str], out: Path, base: Path, csv: Path, batch: int) -> None:
    # torchrun --standalone binds its rendezvous store to port 0: a free port, no collisions with parallel runs
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1"}
    proc = subprocess.run([sys.executable, *prefix, str(WORKER), str(out), str(base), str(csv), str(batch)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


@pytest.mark.slow
def test_two_gloo_processes_equal_one_with_the_same_global_batch(tmp_path: Path) -> None:
    from videobench.testing.tiny_qwen2vl import build_tiny_base

    base = build_tiny_base(tmp_path / "base")
    csv = write_pair_csv(tmp_path / "data")
    _run(["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"], tmp_path / "ddp", base, csv, 1)
    _run([], tmp_path / "single", base, csv, 2)
    two, one = load_file(str(tmp_path / "ddp" / "rank0.safetensors")), load_file(str(tmp_path / "single" /
                                                                                       "rank0.safetensors"))
    assert two.keys() == one.keys()
    moved = 0
    for key in one:
        torch.testing.assert_close(two[key], one[key], atol=2e-5, rtol=1e-3)  # Adam amplifies float noise
        moved += int(".lora_B." in key and bool(one[key].abs().sum() > 0))
    assert moved  # LoRA B starts at zero: it moved, so the comparison is between trained weights
