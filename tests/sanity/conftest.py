"""Fixtures for the sanity-benchmark tests: one small real build per session (one clip and the real pair).

The full build (seven clips, ~30 s) is too slow for the test budget; one clip exercises every degradation, the
encoder and the table, and the plan tests cover the whole recipe."""

from __future__ import annotations

from pathlib import Path

import pytest

from videobench.sanity.sources import SOURCE_CLIPS

#: A carphone clip: real camera footage at 29.97 fps, the smallest frames (fast to build and score).
SMALL_CLIPS = tuple(c for c in SOURCE_CLIPS if c.clip_id == "carphone-0")


@pytest.fixture(scope="session")
def small_clips() -> tuple:
    return SMALL_CLIPS


def tiny_plan(clips, include_real: bool = False):
    """A one-pair plan (the first clip and its byte-identical twin): for tests of the plumbing around a build."""
    from videobench.sanity.recipe import Plan, make_plan

    full = make_plan(tuple(clips)[:1], include_real=False)
    pair = next(p for p in full.pairs if p.subset == "tie-twin")
    return Plan(videos=(pair.first, pair.second), pairs=(pair,), swapped=(False,))


@pytest.fixture(scope="session")
def one_pair_plan():
    """``tiny_plan``, to monkeypatch over ``videobench.sanity.build.make_plan``."""
    return tiny_plan


@pytest.fixture(scope="session")
def small_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from videobench.sanity.build import build_sanity

    out = tmp_path_factory.mktemp("sanity") / "small"
    build_sanity(out, clips=SMALL_CLIPS, include_real=True)
    return out


@pytest.fixture(scope="session")
def small_bench(small_build: Path):
    from videobench.sanity import read_sanity_folder

    return read_sanity_folder(small_build)
