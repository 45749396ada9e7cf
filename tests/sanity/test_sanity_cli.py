"""`videobench bench build sanity --out DIR` through typer's CliRunner."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from videobench.sanity import build as B



@pytest.fixture()
def cli():
    from videobench.cli import _register, app

    _register()
    return app


def test_bench_build_writes_a_loadable_folder(cli, small_clips: tuple, one_pair_plan, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(B, "SOURCE_CLIPS", small_clips)  # a one-pair plan keeps the test fast; the command is the same
    monkeypatch.setattr(B, "make_plan", one_pair_plan)
    out = tmp_path / "sanity"
    result = CliRunner().invoke(cli, ["bench", "build", "sanity", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "built sanity: 1 pairs, 2 videos" in result.output and str(out) in result.output
    assert (out / "README.md").is_file() and (out / B.TABLE_PATH).is_file() and (out / B.MANIFEST).is_file()
    import datasets

    loaded = datasets.load_dataset(str(out), split="test", cache_dir=str(tmp_path / "hf-cache"))
    assert loaded.num_rows == 1

    again = CliRunner().invoke(cli, ["bench", "build", "sanity", "--out", str(out)])
    assert again.exit_code == 2 and "--overwrite" in again.output


def test_bench_build_unknown_name(cli, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["bench", "build", "nope", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "unknown benchmark 'nope'" in result.output
    assert not (tmp_path / "x").exists()
