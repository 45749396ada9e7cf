"""The HTML report in headless chromium: plots render (non-blank screenshot, plotly's SVG in the DOM), no console
errors (CSP violations included), names stay text. Skipped when Debian's chromium is not installed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from leaderboard_helpers import add

from videobench.leaderboard.build import publish
from videobench.leaderboard.synthetic import compare_result

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.needs_chromium  # skipped without chromium; a failure under make test


def _chromium(tmp_path: Path, page: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
           "--virtual-time-budget=4000", "--window-size=1200,1600", *args, page.as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def _console_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "CONSOLE" in line and "dbus" not in line]


def test_console_error_detection_works(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>throw new Error('boom')</script></body></html>")
    assert any("boom" in line for line in _console_errors(_chromium(tmp_path, page, "--dump-dom").stderr))


def test_report_renders_offline_without_errors(local_store, tmp_path):
    import json

    from videobench.leaderboard.build import result_files
    from videobench.leaderboard.layout import result_path
    from videobench.results import result_to_dict

    files = {}
    for i in range(4):
        files.update(add(f"org/rm-step{i}", stamp=f"2026010{i + 1}T000000000000Z", seed=i, skill=0.6 + 0.05 * i))
    files.update(add("evil/x", model_name="<img src=x onerror=alert(1)>"))
    cmp_ = json.dumps(result_to_dict(compare_result(["base", "dpo"]))).encode()
    files.update(result_files(cmp_, result_path("videogen-eval", "org/wan-dpo", "20260101T000000000000Z")))
    publish(local_store, files)
    report = local_store.root / "report.html"

    dom = _chromium(tmp_path, report, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert not _console_errors(dom.stderr), _console_errors(dom.stderr)
    n_figures = len(re.findall(r'<div class="fig" id="fig-', report.read_text()))
    assert n_figures >= 4 and dom.stdout.count('class="main-svg"') >= n_figures  # every figure drew its SVG
    assert "<img src=x" not in dom.stdout and "&lt;img src=x onerror=alert(1)&gt;" in dom.stdout

    shot = tmp_path / "shot.png"
    run = _chromium(tmp_path, report, f"--screenshot={shot}")
    assert run.returncode == 0 and shot.is_file()
    from PIL import Image

    pixels = Image.open(shot).convert("L").resize((120, 160))
    lo, hi = pixels.getextrema()
    assert hi - lo > 100 and len(set(pixels.getdata())) > 20  # not blank


@pytest.mark.slow
def test_png_export_of_each_figure(tmp_path):
    import kaleido  # noqa: F401  (dev extra: an ImportError here is a broken install)
    from PIL import Image

    from videobench.leaderboard.report import write_pngs

    fig = {"data": [{"type": "bar", "x": ["a", "b"], "y": [1, 2]}], "layout": {"title": {"text": "t"}}}
    (png,) = write_pngs({"fig-1": fig}, str(tmp_path))
    assert Image.open(png).size == (1100, 600)
