"""The first use of `sanity` says why the command is busy; later uses are silent."""

from __future__ import annotations

from pathlib import Path

from videobench.sanity import build as sanity_build


def test_first_use_prints_one_line_then_nothing(tmp_path: Path, monkeypatch, capfd, one_pair_plan, small_clips) -> None:
    monkeypatch.setattr(sanity_build, "make_plan", lambda clips, **kw: one_pair_plan(small_clips))
    monkeypatch.setattr(sanity_build, "SOURCE_CLIPS", small_clips)
    folder = sanity_build.ensure_built(tmp_path)
    err = capfd.readouterr().err
    assert f"building the built-in sanity benchmark into {folder} (first use only" in err
    assert sanity_build.is_complete(folder)
    sanity_build.ensure_built(tmp_path)
    assert capfd.readouterr().err == ""
