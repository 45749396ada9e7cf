"""Fixtures of the failure-path tests: a tiny benchmark of real H.264 clips, and a CLI runner that keeps stderr."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "videobench" / "resources" / "example"


@pytest.fixture(scope="session")
def clip_bench(tmp_path_factory) -> Path:
    """A VideoGen-RewardBench-style CSV over 6 small clips (32x32, 8 frames) and 12 pairs on 4 prompts."""
    from videobench.video import write_video

    root = tmp_path_factory.mktemp("clips")
    rng = np.random.default_rng(0)
    for i in range(6):
        frames = (rng.integers(0, 255, size=(1, 32, 32, 3)) + np.arange(8)[:, None, None, None] * (i + 1)) % 256
        write_video(root / f"v{i}.mp4", frames.astype(np.uint8), fps=8)
    rows = []
    for k in range(12):
        a, b = rng.choice(6, size=2, replace=False)
        label = ["A", "B", "same"][k % 3]
        rows.append({"path_A": f"v{a}.mp4", "path_B": f"v{b}.mp4", "A_model": "x", "B_model": "y",
                     "prompt": f"prompt {k % 4}", "fps_A": 8, "num_frames_A": 8, "fps_B": 8, "num_frames_B": 8,
                     "VQ": label, "MQ": label, "TA": label, "Overall": label})
    pd.DataFrame(rows).to_csv(root / "bench.csv", index=False)
    return root / "bench.csv"


@pytest.fixture
def example_scores(tmp_path) -> callable:
    """``example_scores(columns)``: the shipped example model's scores with its VQ, MQ, TA columns renamed."""
    def make(columns: list[str]) -> Path:
        frame = pd.read_csv(EXAMPLE / "example-model.scores.csv")
        frame.columns = ["video", *columns]
        path = tmp_path / f"{'-'.join(columns)}.csv"
        frame.to_csv(path, index=False)
        return path
    return make
