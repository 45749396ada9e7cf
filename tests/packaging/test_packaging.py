"""The distribution installs align/ and leaderboard/ under the videobench namespace, editable or not."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

# One worker builds the wheel, once.
pytestmark = pytest.mark.xdist_group("packaging")

ROOT = Path(__file__).resolve().parents[2]
MAPPING = {"videobench": ROOT / "videobench", "videobench.align": ROOT / "align", "videobench.leaderboard": ROOT / "leaderboard"}


def _packages_on_disk() -> set[str]:
    found = set()
    for prefix, base in MAPPING.items():
        for init in base.rglob("__init__.py"):
            rel = init.parent.relative_to(base)
            if "__pycache__" in rel.parts:
                continue
            found.add(".".join([prefix, *rel.parts]))
    return found


def test_every_package_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    assert _packages_on_disk() - listed == set(), "add these packages to [tool.setuptools] packages"


def _source_copy(dest: Path) -> Path:
    """The files a clean checkout has (tracked, plus new ones git does not ignore), copied out of the working tree:
    building in place would race with other tests writing bytecode into the package folders."""
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        source = ROOT / rel
        if source.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / rel)
    return dest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = _source_copy(tmp_path_factory.mktemp("src"))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(src)],
        check=True,
    )
    return next(out.glob("videobench-*.whl"))


def test_wheel_installs_namespaced_subpackages_only(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "videobench/align/__init__.py" in names
    assert "videobench/leaderboard/__init__.py" in names
    # Data the package needs at run time: the paper's prompt suites (with attribution) and the example benchmark.
    assert {"videobench/resources/prompts/vbench_946.csv", "videobench/resources/prompts/ATTRIBUTION.md",
            "videobench/resources/example/example-bench.csv"} <= set(names)
    top_level = {n.split("/")[0] for n in names if not n.startswith("videobench-")}
    assert top_level == {"videobench"}, f"unexpected top-level entries in the wheel: {top_level}"


def test_non_editable_install_imports(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)], check=True)
    code = "import videobench.align, videobench.leaderboard, videobench.metrics; print(videobench.align.__file__)"
    out = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(target)!r}); {code}"],
                         capture_output=True, text=True, check=True, cwd=tmp_path)
    assert out.stdout.strip().startswith(str(target))


def test_editable_install_imports_from_checkout():
    out = subprocess.run([sys.executable, "-c", "import videobench.align as a, videobench.leaderboard as l; print(a.__file__); print(l.__file__)"],
                         capture_output=True, text=True, check=True, cwd="/")
    align_file, leaderboard_file = out.stdout.split()
    assert Path(align_file).parent == ROOT / "align"
    assert Path(leaderboard_file).parent == ROOT / "leaderboard"


def test_console_script_version():
    exe = Path(sys.executable).parent / "videobench"
    out = subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("videobench ")
