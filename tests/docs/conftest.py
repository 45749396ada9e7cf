"""Fixtures of the documentation tests: one shared cache per session, one folder per page.

The cache holds a small ``sanity`` build (two carphone clips, one pair of each kind) where ``videobench`` looks for
the built-in benchmark, so the documented ``--bench sanity`` commands run as written in seconds instead of building
the 379-pair benchmark (tests/sanity covers the full recipe; tests/sanity/test_demo.py runs the real `make demo`).
"""

from __future__ import annotations

import os
from pathlib import Path
from unittest import mock

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "videobench" / "resources" / "example"


def _small_sanity(folder: Path) -> None:
    from videobench.sanity import build as sanity_build
    from videobench.sanity.recipe import Plan
    from videobench.sanity.sources import SOURCE_CLIPS

    clips = tuple(c for c in SOURCE_CLIPS if c.clip_id in ("carphone-0", "carphone-1"))
    full = sanity_build.make_plan(clips, include_real=True)
    keep = [i for i, p in enumerate(full.pairs) if p.subset not in {full.pairs[j].subset for j in range(i)}]
    pairs = tuple(full.pairs[i] for i in keep)
    videos = tuple(dict.fromkeys(v for p in pairs for v in (p.first, p.second)))
    plan = Plan(videos=videos, pairs=pairs, swapped=tuple(full.swapped[i] for i in keep))
    with mock.patch.object(sanity_build, "make_plan", lambda *a, **k: plan):
        sanity_build.build_sanity(folder, clips=clips)


@pytest.fixture(scope="session")
def docs_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from videobench.sanity.build import SANITY_VERSION

    cache = tmp_path_factory.mktemp("docs-cache")
    _small_sanity(cache / f"sanity-v{SANITY_VERSION}")
    return cache


@pytest.fixture
def page_dir(tmp_path: Path, docs_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh folder where the page's blocks run: the shipped example at the path the docs use (as in a clone of
    the repository), a shared cache, renders and Hub access off."""
    target = tmp_path / "videobench" / "resources" / "example"
    target.parent.mkdir(parents=True)
    os.symlink(EXAMPLE, target, target_is_directory=True)
    os.symlink(EXAMPLE.parent / "suites", target.parent / "suites", target_is_directory=True)  # the mini suite
    monkeypatch.setenv("VIDEOBENCH_CACHE", str(docs_cache))
    monkeypatch.setenv("VIDEOBENCH_RENDERS", str(docs_cache / "renders"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("COLUMNS", "160")
    return tmp_path
