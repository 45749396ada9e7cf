"""Two gloo processes train like one process with the same global batch: gradients are all-reduced."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

WORKER = Path(__file__).with_name("ddp_worker.py")


def _run(args: list[str], out: Path) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1"}
    proc = subprocess.run([sys.executable, *args, str(WORKER), str(out)], env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


@pytest.mark.slow
def test_two_process_gloo_run_syncs_gradients(tmp_path):
    _run(["-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29517"], tmp_path / "ddp")
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
