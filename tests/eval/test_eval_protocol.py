"""Published-compatibility options of eval: the fixed tie threshold (``--tie-threshold``) beside the calibrated and
cross-fitted numbers, and pair-id subsets (``--subset``), through evaluate_margins, ``videobench.evaluate`` and the
CLI."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import videobench
from videobench.cli import _register, app
from videobench.data.benchmark import BenchmarkError, PairBenchmark
from videobench.data.registry import apply_subset, load_benchmark
from videobench.evaluation import evaluate_margins
from videobench.results import ModelInfo, ResultFormatError, load_result, result_from_dict, result_to_dict, save_result

EXAMPLE = Path(__file__).resolve().parents[2] / "videobench" / "resources" / "example"
_register()
runner = CliRunner()

# 8 pairs, 4 prompts. At t = 0.25 (worked by hand, |m| <= t is a predicted tie):
#   p0 +1  0.50 C | p1 +1  0.10 Tm | p2 0  0.20 Thm | p3 -1 -1.00 C
#   p4  0  0.90 Th | p5 +1 -0.30 D | p6 -1 0.25 Tm | p7 0 -0.25 Thm   -> (C + Thm) / N = (2 + 2) / 8 = 0.5
LABELS = [1, 1, 0, -1, 0, 1, -1, 0]
MARGINS = [0.5, 0.1, 0.2, -1.0, 0.9, -0.3, 0.25, -0.25]


def _bench() -> PairBenchmark:
    pairs = pd.DataFrame({"pair_id": [f"p{i}" for i in range(8)], "prompt": [f"q{i // 2}" for i in range(8)],
                          "video_A": [f"a{i}" for i in range(8)], "video_B": [f"b{i}" for i in range(8)],
                          "label_VQ": np.array(LABELS, dtype=np.int8)})
    return PairBenchmark("hand", pairs, ("VQ",))


def _info() -> ModelInfo:
    return ModelInfo(name="m", spec="scores:m", fingerprint="m", dimensions=["VQ"])


def test_fixed_threshold_beside_the_calibrated_numbers(tmp_path: Path) -> None:
    result, per_pair = evaluate_margins(_bench(), {"VQ": MARGINS}, _info(), n_resamples=40, folds=2,
                                        tie_threshold=0.25)
    dim = result.dimensions["VQ"]
    assert dim.tie_threshold == 0.25
    assert dim.accuracy_with_ties_fixed.value == 0.5
    assert dim.accuracy_with_ties_fixed.ci_low <= 0.5 <= dim.accuracy_with_ties_fixed.ci_high
    assert dim.accuracy_with_ties.value is not None and dim.accuracy_with_ties_crossfit is not None
    # averages: one dimension, so the fixed average is the value; overall = (w/o ties + fixed) / 2, where
    # w/o ties = 3 / 5 (of the 5 non-tie pairs p0, p1, p3 agree in sign; p5, p6 do not)
    assert result.averages["with_ties_fixed"] == 0.5
    assert result.averages["overall_fixed"] == pytest.approx((0.6 + 0.5) / 2)
    assert result.provenance["tie_threshold"] == 0.25
    assert per_pair["prediction_fixed_VQ"].tolist() == [1, 0, 0, -1, 1, -1, 0, 0]
    path = save_result(result, tmp_path / "r.json")
    again = load_result(path)
    assert again.dimensions["VQ"].accuracy_with_ties_fixed == dim.accuracy_with_ties_fixed
    assert json.loads(path.read_text())["dimensions"]["VQ"]["tie_threshold"] == 0.25


def test_without_a_threshold_nothing_changes_and_old_files_load() -> None:
    result, per_pair = evaluate_margins(_bench(), {"VQ": MARGINS}, _info(), n_resamples=0, folds=2)
    assert result.dimensions["VQ"].accuracy_with_ties_fixed is None
    assert set(result.averages) == {"without_ties", "with_ties", "overall", "with_ties_reference", "overall_reference"}
    assert "tie_threshold" not in result.provenance and "prediction_fixed_VQ" not in per_pair
    old = result_to_dict(result)
    for key in ("accuracy_with_ties_fixed", "tie_threshold"):  # a file written before these fields existed
        del old["dimensions"]["VQ"][key]
    loaded = result_from_dict(old)
    assert loaded.dimensions["VQ"].accuracy_with_ties_fixed is None and loaded.dimensions["VQ"].tie_threshold is None
    old["dimensions"]["VQ"]["tie_threshold"] = "<b>0.25</b>"  # results arrive as submissions: refused, not rendered
    with pytest.raises(ResultFormatError, match="tie_threshold must be a finite number"):
        result_from_dict(old, source="sub.json")


def test_bad_threshold_is_refused() -> None:
    with pytest.raises(ValueError, match="finite number >= 0"):
        evaluate_margins(_bench(), {"VQ": MARGINS}, _info(), n_resamples=0, folds=2, tie_threshold=-1)


def _ids_file(path: Path, ids: list[str]) -> Path:
    path.write_text("# a published subset\n" + "\n".join(ids) + "\n\n", encoding="utf-8")
    return path


def test_subset_keeps_listed_pairs_in_file_order(tmp_path: Path) -> None:
    bench = _bench()
    cut, subset = apply_subset(bench, _ids_file(tmp_path / "ids.txt", ["p6", "p1", "p2"]))
    assert cut.pairs["pair_id"].tolist() == ["p1", "p2", "p6"]
    assert cut.file_order().tolist() == [0, 1, 2]
    assert cut.excluded == {"not in subset": 5}
    assert subset.sha256 == hashlib.sha256(b"p1\np2\np6").hexdigest()
    assert len(bench) == 8  # the original is untouched


def test_subset_errors_name_the_ids_and_lines(tmp_path: Path) -> None:
    with pytest.raises(BenchmarkError, match=r"2 pair id\(s\) not in benchmark 'hand': 'nope', 'zz'"):
        apply_subset(_bench(), _ids_file(tmp_path / "a.txt", ["p1", "zz", "nope"]))
    with pytest.raises(BenchmarkError, match="line 4: pair id 'p1' repeats line 2"):
        apply_subset(_bench(), _ids_file(tmp_path / "b.txt", ["p1", "p2", "p1"]))
    with pytest.raises(BenchmarkError, match="no pair ids"):
        apply_subset(_bench(), _ids_file(tmp_path / "c.txt", []))
    with pytest.raises(BenchmarkError, match="no such file"):
        apply_subset(_bench(), tmp_path / "missing.txt")


def _example_ids(n: int) -> list[str]:
    bench = load_benchmark(EXAMPLE / "example-bench.csv")
    return bench.pairs["pair_id"].astype(str).tolist()[:n]


def test_api_takes_threshold_and_subset(tmp_path: Path) -> None:
    ids = _example_ids(40)
    ids_file = _ids_file(tmp_path / "ids.txt", ids)
    ev = videobench.evaluate(EXAMPLE / "example-model.scores.csv", EXAMPLE / "example-bench.csv", n_resamples=20,
                             tie_threshold=0.25, subset=ids_file)
    assert ev.result.benchmark.n_pairs == 40
    assert sorted(ev.pairs["pair_id"].astype(str)) == sorted(ids)
    assert ev.result.provenance["benchmark_subset"] == {
        "file": str(ids_file), "n_ids": 40, "ids_sha256": hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()}
    for d in ev.result.dimensions.values():
        assert d.tie_threshold == 0.25 and d.accuracy_with_ties_fixed is not None
    with pytest.raises(ValueError, match="tie_threshold must be a finite number"):
        videobench.evaluate(EXAMPLE / "example-model.scores.csv", EXAMPLE / "example-bench.csv", tie_threshold=-0.5)


def test_cli_threshold_and_subset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    ids_file = _ids_file(tmp_path / "ids.txt", _example_ids(30))
    args = ["eval", "--bench", str(EXAMPLE / "example-bench.csv"),
            "--scores", str(EXAMPLE / "example-model.scores.csv"),
            "--n-resamples", "20", "--tie-threshold", "0.25", "--subset", str(ids_file), "-o", "out"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "w/ ties, t=0.25" in res.output
    data = json.loads((tmp_path / "out" / "example-model.json").read_text())
    assert data["benchmark"]["n_pairs"] == 30
    assert data["provenance"]["benchmark_subset"]["n_ids"] == 30
    assert data["dimensions"]["VQ"]["accuracy_with_ties_fixed"]["ci_low"] is not None
    assert "fixed threshold" in (tmp_path / "out" / "report.html").read_text()

    _ids_file(tmp_path / "bad.txt", ["no-such-pair"])
    res = runner.invoke(app, [*args[:-4], "--subset", str(tmp_path / "bad.txt"), "-o", "out2"])
    assert res.exit_code == 2
    assert "'no-such-pair'" in res.output and "Traceback" not in res.output
    res = runner.invoke(app, [*args[:-6], "--tie-threshold", "-1", "-o", "out3"])
    assert res.exit_code == 2
