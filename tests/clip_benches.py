"""Small VideoGen-RewardBench-style benchmarks over real H.264 clips, shared by the test modules that score videos.

`tests/` is on sys.path (pytest puts the root conftest's folder there), so modules import this as ``clip_benches``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def write_clips(root: Path, count: int, size: int, rng: np.random.Generator, step: int = 1) -> None:
    """``v0.mp4 .. v{count-1}.mp4``: 8 frames of random noise that drifts at a speed of its own per clip."""
    from videobench.video import write_video

    for i in range(count):
        frames = (rng.integers(0, 255, size=(1, size, size, 3)) + np.arange(8)[:, None, None, None] * (i + step)) % 256
        write_video(root / f"v{i}.mp4", frames.astype(np.uint8), fps=8)


def pair_row(a: int, b: int, prompt: str, label: str) -> dict:
    """One row in VideoGen-RewardBench's columns, the same label on every dimension."""
    return {"path_A": f"v{a}.mp4", "path_B": f"v{b}.mp4", "A_model": "x", "B_model": "y", "prompt": prompt,
            "fps_A": 8, "num_frames_A": 8, "fps_B": 8, "num_frames_B": 8,
            "VQ": label, "MQ": label, "TA": label, "Overall": label}


def write_bench(root: Path, rows: list[dict]) -> Path:
    pd.DataFrame(rows).to_csv(root / "bench.csv", index=False)
    return root / "bench.csv"


def random_clip_bench(root: Path) -> Path:
    """6 clips of 32x32 and 12 random pairs on 4 prompts, labels A / B / tie in turn."""
    rng = np.random.default_rng(0)
    write_clips(root, 6, 32, rng)
    rows = []
    for k in range(12):
        a, b = rng.choice(6, size=2, replace=False)
        rows.append(pair_row(a, b, f"prompt {k % 4}", ["A", "B", "same"][k % 3]))
    return write_bench(root, rows)
