"""End to end: a blurred checkpoint ranks below the clean one; results, tables, report, CLI, pre-rendered folders."""

import json
import shutil

import pandas as pd
import pytest
from compare_helpers import TINY, SharpnessReward

from videobench.compare import CompareConfig, MissingVideosError, run_compare
from videobench.prompts import load_prompts
from videobench.results import CompareResult, load_result


@pytest.fixture(scope="module")
def blur_run(tiny_wan, tmp_path_factory):
    root = tmp_path_factory.mktemp("blur-run")
    cfg = CompareConfig(
        generators={"clean": f"wan:{tiny_wan}{TINY}", "blurred": f"wan:{tiny_wan}{TINY}+blur:3"},
        prompts="vbench-946", num_prompts=16, rewards=[SharpnessReward()], output=root / "out",
        render_dir=root / "renders", cache_dir=root / "scores", n_resamples=500, report_prompts=4,
    )
    return cfg, run_compare(cfg)


def test_blurred_checkpoint_ranks_below_clean(blur_run):
    _, out = blur_run
    overall = {(w.checkpoint, w.dimension): w for w in out.result.win_rates}
    vq = overall[("blurred", "VQ")]
    assert vq.baseline == "clean" and vq.wins + vq.losses + vq.ties == 16
    assert vq.win_rate.ci_high < 0.5 and vq.p_value < 0.01  # the CI excludes 50%
    assert overall[("blurred", "Overall")].win_rate.ci_high < 0.5
    ranking = out.result.ranking["VQ"]
    assert [e.checkpoint for e in ranking] == ["clean", "blurred"]
    assert ranking[0].strength.value == 0.0 and ranking[1].strength.ci_high < 0  # baseline pinned at 0


def test_result_file_tables_and_report(blur_run):
    cfg, out = blur_run
    loaded = load_result(out.result_path)
    assert isinstance(loaded, CompareResult) and loaded == out.result
    assert loaded.seeds == [0] and loaded.prompts["n_prompts"] == 16 and "Kuaishou" in loaded.prompts["attribution"]
    assert loaded.weights == {"VQ": 1.0, "MQ": 1.0}
    assert {c.name for c in loaded.checkpoints} == {"clean", "blurred"}
    assert loaded.checkpoints[0].sampling["steps"] == 2 and loaded.provenance["versions"]
    items = pd.read_parquet(out.output / loaded.per_item_file)
    assert len(items) == 32 and set(items.columns) >= {"generator", "prompt_id", "seed", "video", "video_rel", "VQ",
                                                       "MQ", "Overall", "content_hash"}
    assert all((out.output / rel).resolve().is_file() for rel in items["video_rel"])
    per_prompt = pd.read_csv(out.output / "per_prompt.csv")
    assert len(per_prompt) == 16 and (per_prompt["VQ:blurred-clean"] < 0).all()
    html = out.report_path.read_text()
    assert "<script" in html and "plotly" in html.lower() and html.count("<video") == 8
    assert 'src="http' not in html and "<script src=" not in html  # self-contained: opens offline


def test_rerun_reuses_every_render(blur_run):
    cfg, out = blur_run
    again = run_compare(cfg)
    assert (again.render_stats.reused, again.render_stats.rendered) == (32, 0)
    assert again.result.win_rates == out.result.win_rates


def test_weights_pick_dimensions(blur_run):
    cfg, _ = blur_run
    from dataclasses import replace

    out = run_compare(replace(cfg, weights={"MQ": 1.0}, report=False, n_resamples=50))
    assert out.result.weights == {"MQ": 1.0}
    assert (out.table["Overall"] == out.table["z:MQ"]).all()
    with pytest.raises(ValueError, match="no such score dimension"):
        run_compare(replace(cfg, weights={"TA": 1.0}, report=False))


def test_prerendered_folder_and_html_escaping(blur_run, tmp_path):
    cfg, out = blur_run
    closed = tmp_path / "closed"
    closed.mkdir()
    rows = out.table[out.table["generator"] == "clean"]
    for _, row in rows.iterrows():
        shutil.copy(row["video"], closed / f"{row['prompt_id']}__seed0.mp4")
    evil = tmp_path / "prompts.csv"
    suite = load_prompts("vbench-946", 16)
    evil.write_text("id,prompt\n" + "\n".join(f'{p.id},"<script>alert(1)</script> {p.text.replace(chr(34), "")}"'
                                              for p in suite.prompts))
    res = run_compare(CompareConfig(generators={"clean": cfg.generators["clean"], "closed": f"videos:{closed}"},
                                    prompts=evil, num_prompts=4, rewards=cfg.rewards, output=tmp_path / "o",
                                    n_resamples=50, render_dir=cfg.render_dir, cache_dir=cfg.cache_dir))
    # The prompts differ in text, so "clean" renders them anew; "closed" holds the old renders, named by prompt id.
    assert res.render_stats.rendered == 4 and len(res.table) == 8
    assert "<script>alert(1)" not in res.report_path.read_text()
    assert "&lt;script&gt;alert(1)" in res.report_path.read_text()
    gone = res.table["prompt_id"].iloc[0]
    (closed / f"{gone}__seed0.mp4").unlink()
    with pytest.raises(MissingVideosError, match=f"closed:{gone}__seed0"):
        run_compare(CompareConfig(generators={"clean": cfg.generators["clean"], "closed": f"videos:{closed}"},
                                  prompts=evil, num_prompts=4, rewards=cfg.rewards, output=tmp_path / "o2",
                                  render_dir=cfg.render_dir, cache_dir=cfg.cache_dir))


def test_cli(blur_run, tmp_path):
    from typer.testing import CliRunner

    from videobench.cli import _register, app

    _register()
    cfg, _ = blur_run
    args = ["compare", "-g", f"clean={cfg.generators['clean']}", "-g", f"blurred={cfg.generators['blurred']}",
            "--prompts", "vbench-946", "--num-prompts", "16", "--reward", "python:compare_helpers:SharpnessReward",
            "--render-dir", str(cfg.render_dir), "--cache-dir", str(cfg.cache_dir), "--output", str(tmp_path / "cli"),
            "--n-resamples", "100", "--weights", "VQ=2,MQ=1", "--no-report"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "Win rate vs clean" in res.output and "Bradley-Terry" in res.output and "32 reused" in res.output
    data = json.loads((tmp_path / "cli" / "compare.json").read_text())
    assert data["weights"] == {"VQ": 2.0, "MQ": 1.0} and data["provenance"]["command"][0] == "videobench"
    bad = CliRunner().invoke(app, ["compare", "-g", "a=wan:/nope", "-g", "b=ltx:/nope2", "-r", "random",
                                   "-o", str(tmp_path / "x")])
    assert bad.exit_code == 2 and "a=wan:/nope" in bad.output and "b=ltx:/nope2" in bad.output
    assert "--generator" in CliRunner().invoke(app, ["compare", "--help"]).output


def test_classical_reward_ranks_blur_below(blur_run, tmp_path):
    from videobench.rewards.registry import load_reward_model

    classical = load_reward_model("classical")  # a built-in: failing to load it is a failure, never a skip
    cfg, _ = blur_run
    out = run_compare(CompareConfig(generators=cfg.generators, prompts="vbench-946", num_prompts=16,
                                    rewards=[classical], output=tmp_path / "c", render_dir=cfg.render_dir,
                                    cache_dir=tmp_path / "scores", n_resamples=500, report=False))
    vq = next(w for w in out.result.win_rates if w.dimension == "VQ")
    assert vq.win_rate.ci_high < 0.5
