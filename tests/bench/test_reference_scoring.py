"""bench/reference_scoring.py finds VideoAlign's environment from its options or environment variables, and says
"reference env absent" (timing only our side) when it is not there, as on CI."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import reference_scoring  # noqa: E402


def args(python=None, src=None) -> argparse.Namespace:
    return argparse.Namespace(reference_python=python, reference_src=src)


def test_absent_unless_both_paths_point_at_a_python_and_a_videoalign_checkout(tmp_path, monkeypatch):
    monkeypatch.delenv("VIDEOBENCH_REFERENCE_PYTHON", raising=False)
    monkeypatch.delenv("VIDEOBENCH_REFERENCE_SRC", raising=False)
    python, src = tmp_path / "python", tmp_path / "VideoAlign"
    assert reference_scoring.reference_env(args()).startswith("reference env absent")
    assert "not a file" in reference_scoring.reference_env(args(python, src))
    python.write_text("")
    src.mkdir()
    assert "no VideoAlign inference.py" in reference_scoring.reference_env(args(python, src))
    (src / "inference.py").write_text("")
    assert reference_scoring.reference_env(args(python, src)) == (python, src)
    monkeypatch.setenv("VIDEOBENCH_REFERENCE_PYTHON", str(python))
    monkeypatch.setenv("VIDEOBENCH_REFERENCE_SRC", str(src))
    assert reference_scoring.reference_env(args()) == (python, src)
