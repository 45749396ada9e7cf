"""Result files: a set replaced as one and checked on load (issue 14, item 2); temp files a later run removes (item 9);
scores whose dimensions match none of the benchmark's, and python: models returning the wrong dimensions, are user
errors (items 3 and 8)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from videobench.atomic import temp_path
from videobench.cli import _register, app
from videobench.data import load_table_benchmark
from videobench.evaluation import evaluate_margins, save_evaluation
from videobench.report import write_eval_report
from videobench.results import ModelInfo, ResultFormatError, load_result

_register()
runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[2] / "videobench" / "resources" / "example"


@pytest.fixture
def bench(tmp_path):
    pd.DataFrame({"pair_id": ["a", "b", "c"], "prompt": ["p1", "p1", "p2"], "video_A": ["1", "1", "3"],
                  "video_B": ["2", "3", "4"], "label_VQ": [1, -1, 0]}).to_csv(tmp_path / "b.csv", index=False)
    return load_table_benchmark(tmp_path / "b.csv")


def _save(bench, directory: Path, margins: list[float]) -> Path:
    info = ModelInfo(name="m", spec="test", fingerprint="f", dimensions=["VQ"])
    result, per_pair = evaluate_margins(bench, {"VQ": np.array(margins)}, info, n_resamples=0)
    return save_evaluation(result, per_pair, directory, "m")


def test_a_json_never_loads_beside_tables_of_another_run(bench, tmp_path):
    first = _save(bench, tmp_path / "one", [1.0, -1.0, 0.5])
    second = _save(bench, tmp_path / "two", [-1.0, 1.0, 0.5])
    loaded = load_result(first)
    assert set(loaded.files) == {"m.pairs.parquet"} and loaded.per_pair_file == "m.pairs.parquet"
    assert loaded.dimensions["VQ"].accuracy_without_ties.value == 1.0  # pairs a, b: both signs agree
    # what a rewrite killed after the tables but before the JSON used to leave: new tables beside the old JSON
    shutil.copy(second.parent / "m.pairs.parquet", first.parent / "m.pairs.parquet")
    with pytest.raises(ResultFormatError, match=r"m.pairs.parquet: does not belong to m.json"):
        load_result(first)
    _save(bench, tmp_path / "one", [-1.0, 1.0, 0.5])  # rerunning the command repairs the set
    assert load_result(first).dimensions["VQ"].accuracy_without_ties.value == 0.0  # both signs disagree now


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def test_temp_files_of_killed_writes_are_removed_by_the_next_write(bench, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    dead, alive = _dead_pid(), subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])

    def left_by(pid: int, name: str) -> Path:
        mine = temp_path(out / name)
        return mine.with_name(mine.name.replace(f"-{os.getpid()}", f"-{pid}"))

    try:
        stale = [left_by(dead, n) for n in ("m.json", "m.pairs.parquet", "report.html")]
        live = left_by(alive.pid, "m.json")
        for p in (*stale, live):
            p.write_text("left by a killed run")
        result = load_result(_save(bench, out, [1.0, -1.0, 0.5]))
        write_eval_report([result], out / "report.html")
        assert not any(p.exists() for p in stale)
        assert live.exists()  # another process still writing: not ours to remove
        assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
            "m.json", "m.pairs.parquet", "report.html"]
    finally:
        alive.kill()


def _eval_scores(path: Path, out: Path):
    return runner.invoke(app, ["eval", "--bench", str(EXAMPLE / "example-bench.csv"), "--scores", str(path),
                               "--n-resamples", "0", "-o", str(out)], env={"COLUMNS": "200"})


@pytest.mark.parametrize("columns, needles", [
    (["quality", "motion", "align"], ["['quality', 'motion', 'align']", "['VQ', 'MQ', 'TA', 'Overall']"]),
    (["vq", "mq", "ta"], ["['vq', 'mq', 'ta']", "only in case"]),
])
def test_scores_matching_no_dimension_are_refused(example_scores, tmp_path, columns, needles):
    res = _eval_scores(example_scores(columns), tmp_path / "out")
    assert res.exit_code == 2, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and all(n in lines[0] for n in needles), res.stderr
    assert not (tmp_path / "out").exists()
    ok = _eval_scores(example_scores(["VQ", "MQ", "TA"]), tmp_path / "ok")
    assert ok.exit_code == 0, ok.output


def test_python_model_returning_the_wrong_dimensions_is_a_user_error(clip_bench, tmp_path, monkeypatch):
    (tmp_path / "wrong_dims.py").write_text(textwrap.dedent("""
        import numpy as np
        from videobench.rewards.base import Sampling

        class Model:
            name, dimensions, needs_frames, sampling = "wrong-dims", ("VQ", "MQ"), False, Sampling()

            def fingerprint(self):
                return "wrong-dims-v1"

            def score(self, clips, prompts):
                return {"VQ": np.zeros(len(clips)), "quality": np.zeros(len(clips))}
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    res = runner.invoke(app, ["eval", "--bench", str(clip_bench), "--model", "python:wrong_dims:Model", "--no-cache",
                              "--quiet", "-o", str(tmp_path / "out")], env={"COLUMNS": "200"})
    assert res.exit_code == 2, res.output
    line, = res.stderr.strip().splitlines()
    assert "'wrong-dims'" in line and "['VQ', 'quality']" in line and "['VQ', 'MQ']" in line, line
