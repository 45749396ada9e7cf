"""The no-silent-skips rule of tests/conftest.py, run on a small test file in a fresh pytest process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree


CASES = '''
import pytest

@pytest.mark.needs_chromium
def test_needs_chromium():
    pass

def test_skips_for_no_good_reason():
    pytest.skip("classical reward not available yet")

def test_skips_on_a_cpu_machine():
    pytest.skip("needs a CUDA GPU")

@pytest.mark.xfail(reason="known", strict=True)
def test_expected_failure():
    assert False
'''


def _outcomes(tmp_path: Path, strict: str) -> tuple[dict[str, str], str]:
    shutil.copy(Path(__file__).with_name("conftest.py"), tmp_path / "conftest.py")
    (tmp_path / "test_cases.py").write_text(CASES)
    empty = tmp_path / "empty-path"
    empty.mkdir(exist_ok=True)
    env = {**os.environ, "VIDEOBENCH_STRICT_DEPS": strict, "PATH": str(empty)}  # no chromium on this PATH
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q", "-ra",
                          "-W", "ignore::pytest.PytestUnknownMarkWarning", "--junitxml=report.xml", "test_cases.py"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    got = {}
    for case in ElementTree.parse(tmp_path / "report.xml").iter("testcase"):
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        skipped = case.find("skipped")
        if skipped is not None and skipped.get("type") == "pytest.xfail":
            kinds = ["xfail"]
        got[case.get("name").removeprefix("test_")] = kinds[0] if kinds else "passed"
    return got, out.stdout


def test_strict_mode_fails_missing_dependencies_and_unexplained_skips(tmp_path):
    got, stdout = _outcomes(tmp_path, "1")
    assert got == {"needs_chromium": "error", "skips_for_no_good_reason": "failure",  # error: failed in setup
                   "skips_on_a_cpu_machine": "skipped", "expected_failure": "xfail"}, stdout
    assert "not on the allow-list" in stdout and "chromium is not installed" in stdout
    assert "SKIPPED [1] test_cases.py" in stdout  # the allowed skip is still listed at the end (-ra)


def test_without_strict_mode_they_skip_with_their_reason(tmp_path):
    got, stdout = _outcomes(tmp_path, "")
    assert got == {"needs_chromium": "skipped", "skips_for_no_good_reason": "skipped",
                   "skips_on_a_cpu_machine": "skipped", "expected_failure": "xfail"}, stdout
    assert "chromium is not installed" in stdout
