"""The HTML report (escaping, offline plotly) and ``videobench eval`` through typer's CliRunner."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from videobench.cli import _register, app
from videobench.data.benchmark import PairBenchmark
from videobench.evaluation import evaluate_margins
from videobench.report import eval_report_html, format_estimate, write_eval_report
from videobench.results import ModelInfo, load_result

EXAMPLE = Path(__file__).resolve().parents[2] / "videobench" / "resources" / "example"
HOSTILE = "<script>alert(1)</script>"

_register()
runner = CliRunner()


def _result(name: str, dims=("VQ", "TA")):
    pairs = pd.DataFrame({"pair_id": [f"p{i}" for i in range(12)], "prompt": [f"q{i % 6}" for i in range(12)],
                          "video_A": [f"a{i}" for i in range(12)], "video_B": [f"b{i}" for i in range(12)],
                          "label_VQ": [1, -1, 0] * 4, "label_TA": [1, 1, -1] * 4})
    pairs["label_VQ"] = pairs["label_VQ"].astype("int8")
    pairs["label_TA"] = pairs["label_TA"].astype("int8")
    bench = PairBenchmark(f"bench {HOSTILE}", pairs, ("VQ", "TA"), None, source=f"src {HOSTILE}")
    margins = {d: [0.5, -0.2, 0.1] * 4 for d in dims}
    info = ModelInfo(name=name, spec=f"scores:{HOSTILE}", fingerprint=HOSTILE, dimensions=list(dims))
    result, _ = evaluate_margins(bench, margins, info, n_resamples=30, folds=2, command=["videobench", HOSTILE])
    return result


def test_report_escapes_every_name_and_inlines_plotly(tmp_path: Path) -> None:
    results = [_result(HOSTILE), _result("plain", dims=("VQ",))]
    path = write_eval_report(results, tmp_path / "r" / "report.html")
    page = path.read_text(encoding="utf-8")
    assert HOSTILE not in page and "alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("<script") >= 3  # plotly.js inline + one per figure, none from names
    assert "cdn.plot.ly" not in re.sub(r"<script[^>]*>.*?</script>", "", page, flags=re.S)  # no remote script tags
    assert 'src="http' not in page
    assert page.count("n/a") >= 2  # plain has no TA
    assert eval_report_html(results) == page  # deterministic pages


def test_format_estimate() -> None:
    assert format_estimate(0.7345, 0.70, 0.76) == "0.735 ± 0.030"
    assert format_estimate(0.5) == "0.500" and format_estimate(None) == "n/a"


def test_cli_example_run_writes_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["eval", "--bench", str(EXAMPLE / "example-bench.csv"),
                              "--scores", str(EXAMPLE / "example-model.scores.csv"), "--random-baseline",
                              "--n-resamples", "100"], env={"COLUMNS": "140"})
    assert res.exit_code == 0, res.output
    out = tmp_path / "videobench-results"
    assert "Results written to" in res.output and str(out.resolve()) in res.output
    assert "random" in res.output and "example-model" in res.output and "±" in res.output
    for stem in ("random", "example-model"):
        result = load_result(out / f"{stem}.json")
        assert (out / result.per_pair_file).is_file() and (out / result.per_video_file).is_file()
        assert result.benchmark.n_pairs == 300 and set(result.dimensions) == {"VQ", "MQ", "TA", "Overall"}
    model = load_result(out / "example-model.json")
    random = load_result(out / "random.json")
    assert model.averages["without_ties"] > random.averages["without_ties"] + 0.1
    assert model.provenance["overall_rule"]["derived_from"] == ["VQ", "MQ", "TA"]
    assert (out / "report.html").stat().st_size > 1_000_000  # plotly.js inlined: opens offline


def test_cli_scores_per_video_and_per_pair(tmp_path: Path) -> None:
    bench = tmp_path / "bench.csv"
    bench.write_text((EXAMPLE / "example-bench.csv").read_text())
    scores = pd.read_csv(EXAMPLE / "example-model.scores.csv")
    scores[["video", "VQ"]].to_parquet(tmp_path / "vq-only.parquet")
    pairs = pd.read_csv(bench)
    lookup = scores.set_index("video")["TA"]
    from videobench.data import load_benchmark

    ids = load_benchmark(bench).pairs["pair_id"]
    pd.DataFrame({"pair_id": ids, "score_A_TA": lookup.loc[pairs.path_A].to_numpy(),
                  "score_B_TA": lookup.loc[pairs.path_B].to_numpy()}).to_csv(tmp_path / "ta.pairs.csv", index=False)
    out = tmp_path / "out"
    res = runner.invoke(app, ["eval", "--bench", str(bench), "--scores", str(tmp_path / "vq-only.parquet"),
                              "--scores", str(tmp_path / "ta.pairs.csv"), "-o", str(out), "--n-resamples", "50",
                              "--no-report"], env={"COLUMNS": "140"})
    assert res.exit_code == 0, res.output
    assert "n/a" in res.output
    vq = json.loads((out / "vq-only.json").read_text())
    assert vq["dimensions"]["VQ"]["available"] and not vq["dimensions"]["TA"]["available"]
    ta = load_result(out / "ta.json")
    assert ta.dimensions["TA"].available and not ta.dimensions["VQ"].available and ta.per_video_file is None
    assert not (out / "report.html").exists()


def test_cli_bad_scores_file_exits_2_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "broken-scores.csv"
    bad.write_text("video,VQ\nvideos/gen-alpha/000.mp4,not-a-number\n")
    res = runner.invoke(app, ["eval", "--bench", str(EXAMPLE / "example-bench.csv"), "--scores", str(bad),
                              "-o", str(tmp_path / "o")], env={"COLUMNS": "200"})
    assert res.exit_code == 2
    text = " ".join(res.output.split())
    assert "broken-scores.csv" in text and "not a number" in text and "line 2" in text
    missing = runner.invoke(app, ["eval", "--bench", str(EXAMPLE / "example-bench.csv"), "--scores",
                                  str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2 and "nope.csv" in missing.output
    bad_bench = tmp_path / "bench.csv"
    bad_bench.write_text("prompt,video_A,video_B,label_VQ\n,a,b,A\n")
    res = runner.invoke(app, ["eval", "--bench", str(bad_bench), "--random-baseline"], env={"COLUMNS": "200"})
    assert res.exit_code == 2 and "bench.csv" in res.output and "empty or missing prompt" in " ".join(res.output.split())
    res = runner.invoke(app, ["eval", "--scores", str(bad)])
    assert res.exit_code == 2 and "--bench" in res.output


def test_cli_help_documents_every_option() -> None:
    res = runner.invoke(app, ["eval", "--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0
    for option in ("--bench", "--scores", "--model", "--output", "--columns", "--n-resamples", "--seed", "--quiet",
                   "--dedupe", "--allow-absolute-paths", "--split", "--format", "--random-baseline"):
        assert option in res.output
