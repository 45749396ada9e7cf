"""Run mutmut 3 on one configured target at a time (``make mutation [TARGET=name]``).

Why a wrapper: mutmut names every mutant after the file's path (``align/losses.py`` -> ``align.losses``) and only
puts ``./mutants`` on ``sys.path``, but ``align/`` and ``leaderboard/`` install as ``videobench.align`` and
``videobench.leaderboard`` (the package-dir mapping in pyproject.toml). So each target runs in a staging folder,
``mutants/<target>/``, that lays the code out as it is imported (``videobench/align/...``), with a copy of ``tests/``
and a pyproject.toml whose ``[tool.mutmut]`` is the shared one plus the target's files and tests. mutmut keeps its
results there, so a second run only re-checks what changed.

Targets live in pyproject.toml under ``[tool.videobench.mutation.<name>]``: ``mutate`` (globs over the import
layout), optionally ``functions`` (only these are mutated: ``func``, ``Class.method`` or ``Class``; the others are
marked ``# pragma: no mutate block`` in the staged copy), and ``tests`` (the test files that exercise them; mutmut
then runs, per mutant, only those of them that reach the mutated function).

    python scripts/mutation.py                       # every target, one after the other, then a summary
    python scripts/mutation.py align                 # one target
    python scripts/mutation.py align results         # any mutmut command, run in the target's staging folder
    python scripts/mutation.py align show NAME
    python scripts/mutation.py align run "videobench.align.losses.x_rwr_weights*"
    python scripts/mutation.py align recheck         # after new tests: re-run the survivors and the untested
    python scripts/mutation.py --summary             # kill rate per file from the results kept so far
"""

from __future__ import annotations

import ast
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGE = ROOT / "mutants"
#: repository folder -> where it sits in the import layout (pyproject.toml [tool.setuptools] package-dir)
LAYOUT = {"videobench": "videobench", "align": "videobench/align", "leaderboard": "videobench/leaderboard"}
MUTMUT = [sys.executable, "-m", "mutmut"]
_RESULT = re.compile(r"^\s*(\S+): (.+)$")


def load_config() -> tuple[dict, dict[str, dict]]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    tool = data["tool"]
    return tool.get("mutmut", {}), tool["videobench"]["mutation"]


def _keep_only(path: Path, keep: list[str]) -> None:
    """Mark every function of a staged file but ``keep`` (``func``, ``Class.method`` or ``Class``) as not to mutate."""
    source = path.read_text("utf-8")
    lines = source.splitlines(keepends=True)
    tree = ast.parse(source)
    scopes = [(None, tree.body)] + [(c.name, c.body) for c in tree.body if isinstance(c, ast.ClassDef)]
    for cls, body in scopes:
        for fn in body:
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            if fn.name in keep if cls is None else (cls in keep or f"{cls}.{fn.name}" in keep):
                continue
            end = fn.body[0].lineno - 2  # back from the body to the header line that ends with the colon
            while not lines[end].split("#")[0].rstrip().endswith(":"):
                end -= 1
            lines[end] = lines[end].rstrip("\n") + "  # pragma: no mutate block\n"
    stat = path.stat()
    path.write_text("".join(lines), "utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # the staged copy still reads as unchanged source


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} to TOML")


def stage(name: str, target: dict, shared: dict) -> Path:
    """Copy the code (import layout), the tests and a pyproject for ``name`` into ``mutants/<name>/``."""
    root = STAGE / name
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    # copy2 keeps modification times: mutmut regenerates a file's mutants only when the source is newer.
    for src, dst in LAYOUT.items():
        shutil.copytree(ROOT / src, root / dst, dirs_exist_ok=True, ignore=ignore, copy_function=shutil.copy2)
    shutil.copytree(ROOT / "tests", root / "tests", dirs_exist_ok=True, ignore=ignore, copy_function=shutil.copy2)
    if "functions" in target:
        for path in root.glob("videobench/**/*.py"):
            if any(fnmatch.fnmatch(str(path.relative_to(root)), pattern) for pattern in target["mutate"]):
                _keep_only(path, target["functions"])
    pytest_options = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["pytest"]["ini_options"]
    settings = dict(shared) | {
        "source_paths": ["videobench"],
        "only_mutate": target["mutate"],
        "do_not_mutate": target.get("do_not_mutate", []),
        "pytest_add_cli_args_test_selection": target["tests"],
    }
    lines = ["# written by scripts/mutation.py for one target; edit pyproject.toml in the repository instead", ""]
    lines += ["[tool.pytest.ini_options]"] + [f"{k} = {_toml_value(v)}" for k, v in pytest_options.items()]
    lines += ["", "[tool.mutmut]"] + [f"{k} = {_toml_value(v)}" for k, v in settings.items()]
    (root / "pyproject.toml").write_text("\n".join(lines) + "\n", "utf-8")
    # mutmut regenerates a file's mutants only when the source changes, not when the choice of what to mutate does
    # (new tests it notices by itself): a changed choice starts the target afresh.
    choice = json.dumps({k: target.get(k) for k in ("mutate", "do_not_mutate", "functions")}, sort_keys=True)
    marker = root / "mutated-choice.json"
    if marker.is_file() and marker.read_text("utf-8") != choice and (root / "mutants").is_dir():
        print(f"what target {name} mutates changed: its earlier mutants and results are dropped")
        shutil.rmtree(root / "mutants")
    marker.write_text(choice, "utf-8")
    return root


def mutmut(root: Path, args: list[str], capture: bool = False) -> subprocess.CompletedProcess:
    env = os.environ | {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    return subprocess.run(MUTMUT + args, cwd=root, env=env, text=True, capture_output=capture)


def statuses(root: Path) -> dict[str, str]:
    """Mutant name -> status (killed, survived, no tests, timeout...) from `mutmut results --all true`."""
    out = mutmut(root, ["results", "--all", "true"], capture=True).stdout
    return {m.group(1): m.group(2).strip() for m in map(_RESULT.match, out.splitlines()) if m}


def recheck(root: Path) -> list[str] | None:
    """The `mutmut run` arguments that re-check every mutant not yet killed (None: none left), with a fresh test map."""
    names = [k for k, v in statuses(root).items() if v not in ("killed", "timeout")]
    if not names:
        return None
    # mutmut maps tests to functions once and then only adds new tests; a changed test needs a fresh map.
    (root / "mutants" / "mutmut-stats.json").unlink(missing_ok=True)
    return ["run", "--max-children", os.environ.get("MUTATION_JOBS", "2"), *names]


def summary(names: list[str]) -> list[tuple[str, Counter]]:
    """Per mutated file: how many mutants were killed, survived, had no test, timed out...; from `mutmut results`."""
    rows = []
    for name in names:
        root = STAGE / name
        if not (root / "mutants").is_dir():
            continue
        by_module: dict[str, Counter] = {}
        for mutant, status in statuses(root).items():
            by_module.setdefault(re.split(r"\.x[_ǁ]", mutant)[0], Counter())[status] += 1
        rows += sorted(by_module.items())
    return rows


def print_summary(rows: list[tuple[str, Counter]]) -> None:
    print(f"{'module':44} {'mutants':>8} {'killed':>7} {'survived':>9} {'no tests':>9} {'other':>6} {'kill rate':>10}")
    for module, c in rows:
        killed, survived, no_tests = c["killed"] + c["timeout"], c["survived"], c["no tests"]
        other = sum(c.values()) - killed - survived - no_tests
        rate = f"{100 * killed / (killed + survived):.1f}%" if killed + survived else "-"
        print(f"{module:44} {sum(c.values()):>8} {killed:>7} {survived:>9} {no_tests:>9} {other:>6} {rate:>10}")


def main(argv: list[str]) -> int:
    shared, targets = load_config()
    if argv[:1] == ["--summary"]:
        print_summary(summary(list(targets)))
        return 0
    if argv and argv[0] not in targets:
        print(f"unknown mutation target {argv[0]!r}; pyproject.toml defines: {', '.join(targets)}", file=sys.stderr)
        return 2
    names = argv[:1] or list(targets)
    # two workers by default: the runs are meant for a shared 2-core machine (MUTATION_JOBS to change it)
    command = argv[1:] or ["run", "--max-children", os.environ.get("MUTATION_JOBS", "2")]
    for name in names:
        root = stage(name, targets[name], shared)
        print(f"== mutation target {name}: {', '.join(targets[name]['mutate'])} (staged in {root.relative_to(ROOT)})")
        args = recheck(root) if command == ["recheck"] else command
        if args is None:
            print(f"target {name}: every mutant is killed, nothing to re-check")
            continue
        done = mutmut(root, args)
        # mutmut run exits non-zero when a clean test run fails: stop rather than report a meaningless rate.
        if done.returncode != 0:
            return done.returncode
    if command[0] in ("run", "recheck"):
        print_summary(summary(names))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
