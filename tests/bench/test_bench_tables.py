"""bench/table.py and bench/render_docs.py: targets are computed and can fail; the page shows what the JSON holds."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))

from render_docs import render  # noqa: E402
from table import Table  # noqa: E402


def test_a_target_needs_a_computed_verdict_and_a_miss_fails_the_script(tmp_path):
    t = Table("demo", "Demo", ["ours"], "python bench/demo.py")
    with pytest.raises(ValueError, match="needs a computed"):
        t.add("printed target, nothing computed", ours="1 s", target="<= 2 s")
    with pytest.raises(ValueError, match="needs a target"):
        t.add("verdict without a target", ours="1 s", met=True)
    t.add("fast enough", ours="1.0 s", target="<= 2 s", met=1.0 <= 2)
    assert t.write(tmp_path) == 0
    t.add("too slow", ours="3.0 s", target="<= 2 s", met=3.0 <= 2)
    t.add("reported only", ours="5 MiB")
    assert t.write(tmp_path) == 1
    data = json.loads((tmp_path / "demo.json").read_text())
    assert [r["met"] for r in data["rows"]] == [True, False, None]
    assert data["machine"]["cpu_count"] >= 1 and "load_avg_end" in data["machine"]


def test_render_shows_each_row_once_with_its_machine_and_lists_scripts_not_run(tmp_path):
    t = Table("demo", "Demo table", ["ours"], "python bench/demo.py")
    t.add("a | b", ours="1.0 s", target="<= 2 s", met=True)
    t.add("too slow", ours="3.0 s", target="<= 2 s", met=False)
    t.note("a note")
    t.write(tmp_path)
    page = render(tmp_path, [Path("bench/demo.py"), Path("bench/other.py")])
    assert "## Demo table" in page and "`python bench/demo.py`" in page
    assert "| a \\| b | 1.0 s | <= 2 s | yes |" in page and "| too slow | 3.0 s | <= 2 s | **NO** |" in page
    assert "- a note" in page and "load average" in page
    assert "`bench/other.py`" in page and page.count("bench/demo.py") == 1
