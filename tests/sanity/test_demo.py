"""`videobench eval` with no arguments (what `make demo` runs), end to end on a fresh cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _table_rows(text: str) -> list[list[str]]:
    """The data rows of a printed result table: cells of the lines that start with '│'."""
    return [[cell.strip() for cell in line.strip().strip("│").split("│")]
            for line in text.splitlines() if line.strip().startswith("│")]


def _documented_demo_table(page: Path) -> str:
    """The text block of ``page`` that shows what `make demo` prints (the one opening with the sanity title)."""
    text = page.read_text(encoding="utf-8")
    start = text.index("```text\nsanity: pairwise accuracy")
    return text[start:text.index("```", start + 3)]


@pytest.mark.slow
def test_default_eval_builds_sanity_and_ranks_classical_above_random(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "videobench"
    env = {**os.environ, "VIDEOBENCH_CACHE": str(tmp_path / "cache"), "COLUMNS": "160"}
    out = subprocess.run([str(exe), "eval"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1200)
    assert out.returncode == 0, out.stderr[-3000:]
    results = tmp_path / "videobench-results"
    assert "Results written to" in out.stdout and "classical" in out.stdout and "random" in out.stdout
    classical = json.loads((results / "classical.json").read_text())
    random = json.loads((results / "random.json").read_text())
    assert classical["benchmark"]["name"] == "sanity" and classical["benchmark"]["n_pairs"] >= 300
    for dim in ("VQ", "MQ"):
        ours = classical["dimensions"][dim]["accuracy_without_ties"]
        assert ours["value"] > 0.9 and ours["ci_low"] > random["dimensions"][dim]["accuracy_without_ties"]["ci_high"]
    assert classical["dimensions"]["TA"]["available"] is False  # n/a, never a fake 50%
    assert (results / "report.html").stat().st_size > 1_000_000  # plotly inlined: opens offline
    assert (results / classical["per_pair_file"]).is_file()
    printed = _table_rows(out.stdout)
    for page in (ROOT / "README.md", ROOT / "docs" / "getting-started.md"):  # the documented output is the real one
        assert _table_rows(_documented_demo_table(page)) == printed, page.name
