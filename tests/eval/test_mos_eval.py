"""Evaluation against MOS benchmarks (rated single videos): SRCC / KRCC / PLCC with CIs, dimension maps, result files.
Expected values come from scipy directly on the hand-aligned arrays."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.optimize import curve_fit

import videobench
from videobench.data.registry import load_benchmark
from videobench.results import load_result

MINI = Path(__file__).resolve().parents[2] / "videobench" / "resources" / "suites" / "mini"


def _scores_file(tmp_path: Path, bench, columns: dict[str, np.ndarray]) -> Path:
    frame = pd.DataFrame({"video": bench.videos["video"], "prompt": bench.videos["prompt"], **columns})
    path = tmp_path / "model.scores.csv"
    frame.to_csv(path, index=False)
    return path


def _logistic(x, b1, b2, b3, b4):
    return (b1 - b2) / (1 + np.exp(-(x - b3) / abs(b4))) + b2


def test_mos_metrics_match_scipy_on_the_t2vqa_miniature(tmp_path: Path) -> None:
    bench = load_benchmark(MINI / "t2vqa.txt")
    mos = bench.mos("Overall")
    rng = np.random.default_rng(3)
    scores = mos / 20 + rng.normal(0, 0.6, len(mos))
    ev = videobench.evaluate(_scores_file(tmp_path, bench, {"Overall": scores}), MINI / "t2vqa.txt",
                             n_resamples=200)
    c = ev.result.correlations["Overall"]
    assert ev.result.benchmark.kind == "mos" and ev.result.benchmark.n_videos == 12 and not ev.result.dimensions
    assert c.srcc.value == pytest.approx(stats.spearmanr(scores, mos).statistic, abs=1e-12)
    assert c.krcc.value == pytest.approx(stats.kendalltau(scores, mos).statistic, abs=1e-12)
    p0 = [mos.max(), mos.min(), scores.mean(), scores.std()]
    params, _ = curve_fit(_logistic, scores, mos, p0=p0, maxfev=10000)
    assert c.plcc.value == pytest.approx(stats.pearsonr(_logistic(scores, *params), mos).statistic, abs=1e-6)
    for est in (c.srcc, c.krcc, c.plcc):
        assert est.ci_low is not None and est.ci_low <= est.ci_high
    assert ev.result.averages["srcc"] == pytest.approx(c.srcc.value)
    assert ev.pairs is None and list(ev.videos["score_Overall"]) == pytest.approx(
        list(pd.Series(scores, index=bench.videos["item_id"]).loc[ev.videos["item_id"]]))

    path = ev.save(tmp_path / "out")
    again = load_result(path)
    assert again.correlations["Overall"].srcc == c.srcc and again.per_pair_file is None
    assert again.per_video_file == "model.videos.parquet"


def test_dimension_map_combines_and_renames(tmp_path: Path) -> None:
    bench = load_benchmark(MINI / "videophy2_test.csv")
    vq = np.arange(12, dtype=float)
    mq = np.array([5, 1, 2, 5, 4, 1, 1, 4, 4, 4, 3, 1], dtype=float)
    path = _scores_file(tmp_path, bench, {"VQ": vq, "MQ": mq})
    ev = videobench.evaluate(path, MINI / "videophy2_test.csv", n_resamples=0, dimension_map="PC=MQ,SA=VQ+MQ")
    z = lambda x: (x - x.mean()) / x.std()  # noqa: E731  the paper's rule, written out
    expected_sa = stats.spearmanr(z(vq) + z(mq), bench.mos("SA")).statistic
    corr = ev.result.correlations
    assert corr["SA"].srcc.value == pytest.approx(expected_sa, abs=1e-12)
    assert corr["PC"].srcc.value == pytest.approx(stats.spearmanr(mq, bench.mos("PC")).statistic, abs=1e-12)
    assert corr["PC"].srcc.ci_low is None  # no resamples, no interval
    assert ev.result.provenance["dimension_map"] == {"PC": ["MQ"], "SA": ["VQ", "MQ"]}
    assert ev.result.model.dimensions == ["PC", "SA"]

    only_pc = videobench.evaluate(path, MINI / "videophy2_test.csv", n_resamples=0, dimension_map={"PC": "MQ"})
    assert only_pc.result.correlations["SA"].available is False and only_pc.result.averages["srcc"] is None


def test_eval_cli_refuses_a_bad_map_with_one_line(tmp_path: Path) -> None:
    bench = load_benchmark(MINI / "t2vqa.txt")
    path = _scores_file(tmp_path, bench, {"Overall": bench.mos("Overall")})
    from typer.testing import CliRunner

    from videobench.cli import _register, app

    _register()
    cmd = ["eval", "--bench", str(MINI / "t2vqa.txt"), "--scores", str(path), "-o", str(tmp_path / "o"),
           "--n-resamples", "0", "-q"]
    bad = CliRunner().invoke(app, [*cmd, "--dimension-map", "Overall"])
    assert bad.exit_code == 2 and "expected BENCH_DIM=MODEL_DIM" in bad.output
    ok = CliRunner().invoke(app, cmd)
    assert ok.exit_code == 0, ok.output
    data = json.loads((tmp_path / "o" / "model.json").read_text())
    assert data["correlations"]["Overall"]["srcc"]["value"] == pytest.approx(1.0)
    assert (tmp_path / "o" / "report.html").read_text().count("SRCC") >= 1
