"""Fixtures of the failure-path tests: a tiny benchmark of real H.264 clips, and a CLI runner that keeps stderr."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from clip_benches import random_clip_bench

EXAMPLE = Path(__file__).resolve().parents[2] / "videobench" / "resources" / "example"


@pytest.fixture(scope="session")
def clip_bench(tmp_path_factory) -> Path:
    """A VideoGen-RewardBench-style CSV over 6 small clips (32x32, 8 frames) and 12 pairs on 4 prompts."""
    return random_clip_bench(tmp_path_factory.mktemp("clips"))


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
