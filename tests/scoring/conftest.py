"""Fixtures for the scoring tests: a folder of small real H.264 clips and a benchmark over them."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # fakes.py, also imported by the subprocess scripts

from videobench.data.benchmark import PairBenchmark  # noqa: E402

N_VIDEOS = 10


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory) -> Path:
    """``v00.mp4`` .. ``v09.mp4`` (32x32, 12 frames at 6 fps, distinct content) and ``copy_of_v00.mp4`` (same bytes)."""
    from videobench.video import write_video

    root = tmp_path_factory.mktemp("clips")
    rng = np.random.default_rng(0)
    for i in range(N_VIDEOS):
        base = rng.integers(0, 255, size=(1, 32, 32, 3))
        drift = np.arange(12)[:, None, None, None] * (i + 1)
        write_video(root / f"v{i:02d}.mp4", ((base + drift) % 256).astype(np.uint8), fps=6)
    shutil.copy(root / "v00.mp4", root / "copy_of_v00.mp4")
    return root


def make_pairs(n_pairs: int, n_videos: int = N_VIDEOS, n_prompts: int = 3, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(n_pairs):
        a, b = rng.choice(n_videos, size=2, replace=False)
        rows.append({
            "pair_id": f"p{k:03d}", "prompt": f"prompt {k % n_prompts}",
            "video_A": f"v{a:02d}.mp4", "video_B": f"v{b:02d}.mp4", "label_Overall": int(rng.choice([-1, 0, 1])),
        })
    return pd.DataFrame(rows)


@pytest.fixture
def bench(clip_dir) -> PairBenchmark:
    return PairBenchmark(name="tiny", pairs=make_pairs(30), dimensions=("Overall",), root=clip_dir)


@pytest.fixture
def cache(tmp_path) -> Path:
    return tmp_path / "cache"
