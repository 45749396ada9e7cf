"""``videobench eval --suite``: the built-in ``mini`` suite (four released formats, tiny clips) with two models writes
one joint table whose fixed-threshold and calibrated accuracies and MOS correlations match a computation done here
from the raw files (labels read with json/pandas, scores from the scoring engine, metrics by brute force / scipy)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import videobench
from videobench.suites import Suite, SuiteError, _existing, _stamp, load_suite, run_suite

MINI = Path(__file__).resolve().parents[2] / "videobench" / "resources" / "suites" / "mini"
MODELS = ["random:0", "classical"]
NAMES = {"random:0": "random:0", "classical": "classical"}
THRESHOLD = 0.25


@pytest.fixture(scope="module")
def suite_run(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("suite")
    run = run_suite(MODELS, "mini", tmp / "out", cache_dir=tmp / "cache", n_resamples=10, show_progress=False,
                    report=False)
    return run, tmp


def _raw_scores(tmp: Path) -> dict[str, pd.DataFrame]:
    """Each model's raw per-video scores on the mini clips (VQ, MQ, TA as the models give them)."""
    from videobench.rewards.registry import load_reward_model
    from videobench.scoring import score_items

    clips = sorted(p.relative_to(MINI).as_posix() for p in (MINI / "videos" / "test").glob("*.mp4"))
    models = [load_reward_model("random:0"), load_reward_model("classical", fps=8)]
    tables = score_items([(c, "") for c in clips], models, root=MINI, cache_dir=tmp / "cache2", show_progress=False)
    return {"random:0": tables["random:0"].set_index("video"), "classical": tables["classical"].set_index("video")}


def _z(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / x.std()


def _overall(scores: pd.DataFrame, videos: list[str]) -> dict[str, float]:
    """The paper's Overall (sum of z-scores of VQ and MQ) over the benchmark's own videos."""
    vq, mq = scores.loc[videos, "VQ"].to_numpy(), scores.loc[videos, "MQ"].to_numpy()
    return dict(zip(videos, _z(vq) + _z(mq)))


def _accuracy_with_ties(labels: np.ndarray, margins: np.ndarray, eps: float) -> float:
    pred = np.where(np.abs(margins) <= eps, 0, np.sign(margins))
    return float(np.mean(pred == labels))


def _calibrated(labels: np.ndarray, margins: np.ndarray) -> float:
    """Brute force over every threshold that changes a prediction, and 'no predicted ties'."""
    return max(_accuracy_with_ties(labels, margins, e) for e in [-1.0, *np.abs(margins)])


def _row(table, model, bench, dim, metric):
    hits = [r for r in table if (r["model"], r["benchmark"], r["dimension"], r["metric"]) == (model, bench, dim, metric)]
    assert len(hits) == 1, (model, bench, dim, metric)
    return hits[0]


def test_joint_table_matches_an_independent_computation(suite_run) -> None:
    run, tmp = suite_run
    raw = _raw_scores(tmp)
    table = json.loads((run.output / "suite.json").read_text())["table"]
    assert table == json.loads(json.dumps(run.table))

    # GenAI-Bench video votes: the released parquet columns, read here with pandas.
    votes = pd.read_parquet(MINI / "genai-bench-video.parquet")
    labels = votes["vote_type"].map({"leftvote": 1, "rightvote": -1, "tievote": 0, "bothbad_vote": 0}).to_numpy()
    # MJ-Bench-Video: the JSON array; "Video 1" is video_0 (A); "Hard to judge" records are left out.
    records = [r for r in json.loads((MINI / "mjbench-video.json").read_text())
               if r["overall_preference"] != "Hard to judge"]
    mj = {"Overall": [r["overall_preference"] for r in records],
          "Fineness": [r["category_preference"]["Fineness"] for r in records]}
    mj_labels = {k: np.array([{"video 1 better": 1, "video 2 better": -1, "same": 0}[v.lower()] for v in vals])
                 for k, vals in mj.items()}
    for model in MODELS:
        s = raw[model]
        overall = _overall(s, sorted(set(votes["left_video"]) | set(votes["right_video"])))
        m = np.array([overall[a] - overall[b] for a, b in zip(votes["left_video"], votes["right_video"])])
        fixed = _row(table, NAMES[model], "genai-bench-video", "Overall", "accuracy_with_ties_fixed")
        assert fixed["value"] == pytest.approx(_accuracy_with_ties(labels, m, THRESHOLD), abs=1e-12)
        assert fixed["threshold"] == THRESHOLD
        calibrated = _row(table, NAMES[model], "genai-bench-video", "Overall", "accuracy_with_ties")
        assert calibrated["value"] == pytest.approx(_calibrated(labels, m), abs=1e-12)
        nonzero = labels != 0
        without = _row(table, NAMES[model], "genai-bench-video", "Overall", "accuracy_without_ties")
        assert without["value"] == pytest.approx(np.mean(np.sign(m[nonzero]) == labels[nonzero]), abs=1e-12)

        a = [f"videos/{r['video_0_path']}" for r in records]
        b = [f"videos/{r['video_1_path']}" for r in records]
        mj_overall = _overall(s, sorted(set(a) | set(b)))
        margins = {"Overall": np.array([mj_overall[x] - mj_overall[y] for x, y in zip(a, b)]),
                   "Fineness": np.array([s.loc[x, "VQ"] - s.loc[y, "VQ"] for x, y in zip(a, b)])}
        for dim, lab in mj_labels.items():
            got = _row(table, NAMES[model], "mjbench-video", dim, "accuracy_with_ties_fixed")["value"]
            assert got == pytest.approx(_accuracy_with_ties(lab, margins[dim], THRESHOLD), abs=1e-12), (model, dim)
            got = _row(table, NAMES[model], "mjbench-video", dim, "accuracy_with_ties")["value"]
            assert got == pytest.approx(_calibrated(lab, margins[dim]), abs=1e-12), (model, dim)
        safety = _row(table, NAMES[model], "mjbench-video", "Safety", "accuracy_with_ties")
        assert safety["value"] is None  # not mapped and not a dimension of either model: n/a, never 50%

        # VideoPhy-2 (PC <- MQ) and T2VQA-DB (Overall <- z(VQ) + z(MQ)): correlations with scipy.
        phy = pd.read_csv(MINI / "videophy2_test.csv")
        phy_videos = [u.replace("https://storage.example.org/", "videos/") for u in phy["video_url"]]
        srcc = _row(table, NAMES[model], "videophy2", "PC", "srcc")["value"]
        assert srcc == pytest.approx(stats.spearmanr(s.loc[phy_videos, "MQ"], phy["pc"]).statistic, abs=1e-12)
        lines = [line.split("|") for line in (MINI / "t2vqa.txt").read_text().splitlines()]
        t_videos, t_mos = [x[0] for x in lines], np.array([float(x[2]) for x in lines])
        t_overall = _overall(s, t_videos)
        srcc = _row(table, NAMES[model], "t2vqa", "Overall", "srcc")["value"]
        assert srcc == pytest.approx(stats.spearmanr([t_overall[v] for v in t_videos], t_mos).statistic, abs=1e-12)
        krcc = _row(table, NAMES[model], "t2vqa", "Overall", "krcc")["value"]
        assert krcc == pytest.approx(stats.kendalltau([t_overall[v] for v in t_videos], t_mos).statistic, abs=1e-12)

    srcc_ta = _row(table, "classical", "videophy2", "SA", "srcc")  # classical has no TA: SA is n/a
    assert srcc_ta["value"] is None


def test_outputs_resume_and_the_api_entry(suite_run) -> None:
    run, tmp = suite_run
    out = run.output
    for bench in ("genai-bench-video", "mjbench-video", "videophy2", "t2vqa"):
        assert {"random-0.json", "classical.json"} <= {p.name for p in (out / bench).iterdir()}
        result = json.loads((out / bench / "classical.json").read_text())
        assert result["benchmark"]["name"] == bench and result["provenance"]["suite"]["name"] == "mini"
    assert "## mjbench-video (pairwise accuracy)" in (out / "suite.md").read_text()
    assert "acc w/ ties (t=0.25)" in (out / "suite.html").read_text()
    assert json.loads((out / "mjbench-video" / "classical.json").read_text())["model"]["spec"] == "classical?fps=8"

    again = videobench.evaluate(MODELS, suite="mini", output=out, cache_dir=tmp / "cache", n_resamples=10,
                                show_progress=False, report=False)
    assert sorted(again.reused) == sorted((m, b) for m in NAMES.values() for b in
                                          ("genai-bench-video", "mjbench-video", "videophy2", "t2vqa"))
    assert again.table == run.table
    # another protocol (here n_resamples) is another suite run: its results are not taken for this one's
    stamp = _stamp(again.suite, again.suite.benchmarks[0], "random:0")
    assert _existing(out / "genai-bench-video" / "random-0.json", stamp) is not None
    other = Suite(run.suite.name, run.suite.benchmarks, {**run.suite.protocol, "n_resamples": 30})
    assert _existing(out / "genai-bench-video" / "random-0.json", _stamp(other, other.benchmarks[0], "random:0")) is None


def test_leaderboard_publish_takes_a_suite_result(suite_run, tmp_path: Path) -> None:
    run, _ = suite_run
    from typer.testing import CliRunner

    from videobench.cli import _register, app

    _register()
    store = tmp_path / "store"
    done = CliRunner().invoke(app, ["leaderboard", "publish", "--store", str(store), "--result",
                                    str(run.output / "suite.json")])
    assert done.exit_code == 0, done.output
    published = sorted(p.relative_to(store / "results").parts[:2] for p in (store / "results").rglob("*.json"))
    assert published == sorted((b, f"local__{m}") for b in ("genai-bench-video", "mjbench-video", "t2vqa", "videophy2")
                               for m in ("classical", "random-0"))
    _check_mos_board(run.output, store)


def _check_mos_board(out: Path, store: Path) -> None:
    """The MOS benchmarks get a table of their own: SRCC / KRCC / PLCC per dimension with CIs, ranked on the mean
    SRCC; expected numbers read from the per-benchmark result JSONs here."""
    import html as html_lib

    board = pd.read_parquet(store / "table" / "reward_models_mos.parquet")
    assert sorted(board["benchmark"].unique()) == ["t2vqa", "videophy2"]
    report = html_lib.unescape((store / "report.html").read_text())
    for bench, dims in (("t2vqa", ["Overall"]), ("videophy2", ["PC", "SA"])):
        expected = {}
        for slug_name in ("classical", "random-0"):
            corr = json.loads((out / bench / f"{slug_name}.json").read_text())["correlations"]
            assert sorted(corr) == sorted(dims)
            expected[f"local__{slug_name}"] = corr
        rows = board[board["benchmark"] == bench].set_index("model")
        assert sorted(rows.index) == sorted(m.replace("local__", "") for m in expected)
        means = {}
        for model, corr in expected.items():
            row = rows.loc[model.replace("local__", "")]
            for dim in dims:
                for metric in ("srcc", "krcc", "plcc"):
                    est = corr[dim][metric]
                    got = [row[f"{dim} {metric.upper()}{end}"] for end in ("", " lo", " hi")]
                    want = [est["value"], est["ci_low"], est["ci_high"]] if corr[dim]["available"] else [None] * 3
                    for g, w in zip(got, want):
                        assert (pd.isna(g) and w is None) or g == pytest.approx(w, abs=1e-12), (bench, model, dim)
            srccs = [corr[d]["srcc"]["value"] if corr[d]["available"] else None for d in dims]
            means[model] = None if None in srccs else sum(srccs) / len(srccs)
            assert (pd.isna(row["mean SRCC"]) and means[model] is None) or \
                row["mean SRCC"] == pytest.approx(means[model], abs=1e-12)
        ranked = sorted((m for m in means if means[m] is not None), key=lambda m: -means[m])
        assert [int(rows.loc[m.replace("local__", ""), "position"]) for m in ranked] == list(range(1, len(ranked) + 1))
        assert all(pd.isna(rows.loc[m.replace("local__", ""), "position"]) for m in means if means[m] is None)
        assert f"Reward models: {bench} (MOS)" in report
        est = expected["local__classical"][dims[0]]["srcc"]
        half = (est["ci_high"] - est["ci_low"]) / 2
        assert f'{est["value"]:.3f} <span class="ci">\u00b1{half:.3f}</span>' in report
    # videophy2: classical has no TA, so SA is n/a: no mean SRCC, listed apart without a position
    assert pd.isna(board.set_index(["benchmark", "model"]).loc[("videophy2", "classical"), "position"])
    assert "Not ranked: n/a on a dimension, so no mean SRCC (1)" in report
    assert 'download="videophy2-reward-models-mos.csv"' in report
    card = (store / "README.md").read_text()
    assert "config_name: mos" in card and "t2vqa (MOS): 2 models; best mean SRCC" in card
    # the dataset config loads as JSON Lines, one row per (benchmark, model)
    lines = (store / "table" / "reward_models_mos.jsonl").read_text().splitlines()
    assert len(lines) == 4 and all(json.loads(line)["benchmark"] in ("t2vqa", "videophy2") for line in lines)


def test_suite_files_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: s\nprotocol: {tie_treshold: 0.2}\nbenchmarks: [sanity]\n")
    with pytest.raises(SuiteError, match=r"protocol: unknown key\(s\) \['tie_treshold'\]"):
        load_suite(path)
    path.write_text("name: s\nbenchmarks:\n  - bench: sanity\n    dimensions: {Overall: 'VQ MQ'}\n")
    with pytest.raises(SuiteError, match=r"benchmarks\[1\]\.dimensions: 'VQ MQ' is not a dimension name"):
        load_suite(path)
    path.write_text("name: s\nbenchmarks: [sanity, sanity]\n")
    with pytest.raises(SuiteError, match="repeat"):
        load_suite(path)
    with pytest.raises(SuiteError, match="not a built-in suite"):
        load_suite("no-such-suite")
    with pytest.raises(SuiteError, match=r"\['random_baseline'\] do not apply"):
        run_suite(["random:0"], "mini", tmp_path / "o", random_baseline=True)  # refused before anything runs
    from typer.testing import CliRunner

    from videobench.cli import _register, app

    _register()
    bad = CliRunner().invoke(app, ["eval", "--suite", str(path), "--bench", "sanity", "--model", "random:0"])
    assert bad.exit_code == 2 and "drop --bench" in bad.output
    assert [b.name for b in load_suite("mini").benchmarks] == ["genai-bench-video", "mjbench-video", "videophy2",
                                                             "t2vqa"]


class _PairwiseJudge:
    """A pairwise judge (verdicts per pair, no per-video score) that is never asked: a suite's MOS benchmark and a
    benchmark with a dimension map refuse it before any question."""

    name = "judge"
    dimensions = ["Overall"]
    fingerprint = "test:pairwise-judge"
    pairwise = True

    def score(self, clips, prompts):  # pragma: no cover - a pairwise judge gives no per-video score
        raise AssertionError("never called")

    def judge_pairs(self, *args, **kwargs):  # pragma: no cover
        raise AssertionError("never called")


def _two_benchmark_suite(tmp_path: Path) -> Path:
    """t2vqa (MOS) and genai-bench-video (pairs, with a dimension map) of the mini suite, under its protocol."""
    mini = load_suite("mini")
    entries = {b.name: b for b in mini.benchmarks}
    lines = ["name: two", "protocol: {tie_threshold: 0.25, n_resamples: 200, folds: 2, seed: 0, sampling: {fps: 8}}",
             "benchmarks:"]
    for name in ("t2vqa", "genai-bench-video"):
        lines += [f"  - name: {name}", f"    bench: {entries[name].bench}",
                  f"    dimensions: {json.dumps(entries[name].dimensions)}"]
    path = tmp_path / "two.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_failing_cell_is_na_with_its_reason_and_the_others_are_computed(suite_run, tmp_path: Path) -> None:
    run, tmp = suite_run
    from typer.testing import CliRunner

    from videobench.cli import _register, app

    suite = _two_benchmark_suite(tmp_path)
    out = tmp_path / "out"
    two = run_suite(["classical", _PairwiseJudge()], suite, out, cache_dir=tmp / "cache", n_resamples=10,
                    show_progress=False, report=False)
    assert set(two.failed) == {("judge", "t2vqa"), ("judge", "genai-bench-video")}
    assert all("a pairwise judge needs a benchmark of pairs" in r for r in two.failed.values())
    # classical's cells are those of the mini suite run (same protocol, same files), the judge's are one n/a row each
    for bench in ("t2vqa", "genai-bench-video"):
        mine = [r for r in two.table if r["benchmark"] == bench and r["model"] == "classical"]
        assert mine and mine == [r for r in run.table if r["benchmark"] == bench and r["model"] == "classical"]
        (na,) = [r for r in two.table if r["benchmark"] == bench and r["model"] == "judge"]
        assert na["value"] is None and na["error"] == two.failed[("judge", bench)]
    saved = json.loads((out / "suite.json").read_text())
    assert saved["results"] == {"t2vqa": {"classical": "t2vqa/classical.json"},
                                "genai-bench-video": {"classical": "genai-bench-video/classical.json"}}
    assert {(f["model"], f["benchmark"]) for f in saved["failed"]} == set(two.failed)
    assert "| judge | n/a: judge: a pairwise judge needs a benchmark of pairs" in (out / "suite.md").read_text()
    assert not (out / "t2vqa" / "judge.json").exists()

    # the command line: a model that cannot be reached fails its cells with a warning line each, exit code 0;
    # classical's finished cells are reused (cached), not evaluated again
    _register()
    dead = "http://127.0.0.1:1"
    done = CliRunner().invoke(app, ["eval", "--suite", str(suite), "--model", "classical", "--model", dead,
                                    "--output", str(out), "--cache-dir", str(tmp / "cache"), "--n-resamples", "10",
                                    "--quiet", "--no-report"])
    assert done.exit_code == 0, done.output
    warnings = [line for line in done.output.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2 and all(f"{dead} on" in w and "n/a in the table" in w for w in warnings)
    saved = json.loads((out / "suite.json").read_text())
    assert saved["models"] == ["classical", dead] and len(saved["failed"]) == 2
    # nothing computed at all: exit code 2, still one warning per cell
    alone = CliRunner().invoke(app, ["eval", "--suite", str(suite), "--model", dead, "--output", str(tmp_path / "o2"),
                                     "--quiet", "--no-report"])
    assert alone.exit_code == 2 and "no (model, benchmark) could be evaluated" in alone.output
    assert "Traceback" not in alone.output
