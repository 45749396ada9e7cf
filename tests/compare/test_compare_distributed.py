"""Two CPU processes under ``accelerate launch`` (gloo) split the renders; rank 0 writes the one result."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from compare_helpers import TINY

from videobench.results import load_result

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(a: str, b: str, out: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("WORLD_SIZE", None)
    worker = Path(__file__).with_name("compare_worker.py")
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
           "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
           "--main_process_port", str(_free_port()), str(worker), a, b, str(out)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=500, env=env)


def _why(done: subprocess.CompletedProcess) -> str:
    """Each rank's own lines first: torchrun's summary at the end of stderr names only the rank it killed."""
    lines = done.stderr.splitlines()
    ranks = "\n".join(line for line in lines if line.startswith("[rank0]") or line.startswith("[rank1]"))
    return f"{ranks[-6000:]}\n--- stdout ---\n{done.stdout[-2000:]}"


def test_two_processes_split_rendering(tiny_wan, tmp_path):
    done = _launch(f"wan:{tiny_wan}{TINY}", f"wan:{tiny_wan}{TINY}+blur:3", tmp_path)
    assert done.returncode == 0, _why(done)
    reports = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["world_size"] for r in reports] == [2, 2]
    assert reports[0]["rendered_total"] == 6  # 2 generators x 3 prompts, summed over ranks
    assert [r["has_result"] for r in reports] == [True, False]
    assert len(list((tmp_path / "renders").rglob("*.mp4"))) == 6
    result = load_result(tmp_path / "out" / "compare.json")
    assert result.win_rates[0].win_rate.value == reports[0]["win_rate"] == 0.0  # blurred loses every item


def test_a_load_failure_on_one_rank_stops_every_rank_with_the_same_error(tiny_wan, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(tiny_wan, broken)
    weights = next((broken / "transformer").glob("*.safetensors"))
    weights.write_bytes(weights.read_bytes()[:100])
    # 2 generators x 3 prompts, split contiguously: rank 0 renders "a", rank 1 only meets the broken checkpoint
    done = _launch(f"wan:{tiny_wan}{TINY}", f"wan:{broken}{TINY}", tmp_path)
    assert done.returncode != 0
    errors = [json.loads((tmp_path / f"rank{r}.json").read_text())["error"] for r in (0, 1)]
    assert errors[0] == errors[1], errors
    assert f"b=wan:{broken}{TINY}" in errors[0] and "3 other video(s) were rendered and kept" in errors[0]
    assert len(list((tmp_path / "renders").rglob("*.mp4"))) == 3


def test_a_render_failure_on_one_rank_stops_the_other_at_once(tiny_wan, tmp_path):
    # "b" loads but cannot render (Wan needs sides divisible by 16), and only rank 1 renders "b": rank 0 used to wait
    # at the gather for torch's 30-minute timeout (the launch's 500 s here)
    bad = TINY.replace("height=32", "height=40")
    done = _launch(f"wan:{tiny_wan}{TINY}", f"wan:{tiny_wan}{bad}", tmp_path)
    assert done.returncode != 0
    errors = [json.loads((tmp_path / f"rank{r}.json").read_text())["error"] for r in (0, 1)]
    own = "ValueError: `height` and `width` have to be divisible by 16 but are 40 and 32."
    assert errors == [f"RankFailedError: process 1 of 2 failed: {own}", own]
    assert len(list((tmp_path / "renders").rglob("*.mp4"))) == 3  # rank 0's videos are kept
