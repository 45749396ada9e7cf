"""bench/gpu_scoring.py --tiny: the GPU benchmark's code path (engine and emulated reference-style path over real
H.264 clips, the same model) runs on the CPU and both paths give the same rewards. Speed is not asserted here."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import gpu_scoring  # noqa: E402


def test_tiny_run_writes_both_paths(tmp_path):
    out = tmp_path / "gpu.json"
    assert gpu_scoring.main(["--tiny", "--videos", "3", "--batch-sizes", "1", "2", "--repeats", "1", "--seconds", "2",
                             "--json", str(out)]) == 0
    info = json.loads(out.read_text())
    assert [r["batch_size"] for r in info["rows"]] == [1, 2]
    for row in info["rows"]:
        assert row["videobench"]["videos_per_s"] > 0 and row["reference_style"]["videos_per_s"] > 0
    assert info["frames_per_video"] == 4 and info["max_abs_raw_reward_diff"] <= 1e-4
    assert "emulated" in info["reference_style"]
