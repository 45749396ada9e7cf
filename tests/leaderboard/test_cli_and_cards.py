"""CLI commands on a local store, and the opt-in model-card update through the real client."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import yaml
from leaderboard_helpers import result_bytes
from typer.testing import CliRunner

from videobench.cli import _register, app

_register()
runner = CliRunner()


def test_submit_publish_build(tmp_path):
    from safetensors.numpy import save

    store = tmp_path / "store"
    model = tmp_path / "rm"
    model.mkdir()
    (model / "model.safetensors").write_bytes(save({"w": np.zeros(2, dtype=np.float32)}))
    (model / "model_config.json").write_text('{"model_config": {"model_name_or_path": "%s"}}' % model)
    out = runner.invoke(app, ["submit", "--model", f"videoreward:{model}", "--bench", "videogen-rewardbench",
                              "--store", str(store), "--name", "org/rm", "--submitter", "ann"])
    assert out.exit_code == 0, out.output
    assert "PENDING" in out.output and len(list((store / "requests").glob("*.json"))) == 1
    again = runner.invoke(app, ["submit", "--model", f"videoreward:{model}", "--bench", "videogen-rewardbench",
                                "--store", str(store), "--name", "org/rm"])
    assert again.exit_code == 2 and "duplicate" in again.output

    result = tmp_path / "r.json"
    result.write_bytes(result_bytes(model="org/rm"))
    pub = runner.invoke(app, ["leaderboard", "publish", "--store", str(store), "--result", str(result)])
    assert pub.exit_code == 0, pub.output
    assert "report.html" in pub.output and len(list((store / "results/videogen-rewardbench/org__rm").glob("*.json"))) == 1
    assert "nothing changed" in runner.invoke(app, ["leaderboard", "publish", "--store", str(store)]).output

    built = runner.invoke(app, ["leaderboard", "build", "--store", str(store), "--out", str(tmp_path / "out")])
    assert built.exit_code == 0 and (tmp_path / "out/report.html").read_bytes() == (store / "report.html").read_bytes()

    evil = tmp_path / "evil.json"
    evil.write_bytes(result_bytes(model="../../etc/passwd"))
    bad = runner.invoke(app, ["leaderboard", "publish", "--store", str(store), "--result", str(evil)])
    assert bad.exit_code == 2 and "../../etc/passwd" in bad.output and "must be" in bad.output


def test_model_card_on_a_local_store_is_refused_before_anything_is_committed(tmp_path):
    store = tmp_path / "store"
    result = tmp_path / "r.json"
    result.write_bytes(result_bytes(model="org/rm"))
    out = runner.invoke(app, ["leaderboard", "publish", "--store", str(store), "--result", str(result), "--model-card"])
    assert out.exit_code == 2 and "needs a Hub store" in out.output
    assert not (store / "results").exists() and not (store / ".videobench/HEAD").exists()


def test_publishing_the_same_result_twice_is_a_no_op(tmp_path):
    import io

    import pandas as pd

    store = tmp_path / "store"
    result = tmp_path / "r.json"
    data = __import__("json").loads(result_bytes(model="org/rm"))
    data["per_pair_file"] = "r.pairs.parquet"
    result.write_text(__import__("json").dumps(data))
    buf = io.BytesIO()
    pd.DataFrame({"pair_id": ["p1"], "label_Overall": [1], "margin_Overall": [0.5]}).to_parquet(buf)
    (tmp_path / "r.pairs.parquet").write_bytes(buf.getvalue())
    args = ["leaderboard", "publish", "--store", str(store), "--result", str(result)]
    first = runner.invoke(app, args)
    assert first.exit_code == 0 and "committed" in first.output
    second = runner.invoke(app, args)
    assert second.exit_code == 0 and "nothing changed" in second.output, second.output
    folder = store / "results/videogen-rewardbench/org__rm"
    assert len(list(folder.glob("*.json"))) == 1 and len(list(folder.glob("*.pairs.parquet"))) == 1
    # different content (another evaluation of the same model) is a new history point
    data["provenance"]["seeds"] = {"bootstrap": 7}
    result.write_text(__import__("json").dumps(data))
    assert "committed" in runner.invoke(app, args).output and len(list(folder.glob("*.json"))) == 2


def test_run_queue_without_evaluation_stack_fails_requests_cleanly(tmp_path, monkeypatch):
    from videobench.leaderboard import evaluators
    from videobench.leaderboard.store import LocalStore
    from videobench.leaderboard.submissions import read_requests
    from test_queue import _file_requests

    def unavailable(req, work):
        raise ImportError("videobench.scoring is not installed")

    monkeypatch.setattr(evaluators, "make_default_evaluator", lambda *args, **protocol: unavailable)
    store = LocalStore(tmp_path / "s")
    _file_requests(store, 1)
    out = runner.invoke(app, ["leaderboard", "run-queue", "--store", str(store.root), "--worker", "w"])
    assert out.exit_code == 0 and "FAILED (ImportError: videobench.scoring is not installed)" in out.output
    (req,), _ = read_requests(store.snapshot())
    assert req.status == "FAILED"


MODEL_CARD = textwrap.dedent("""
    import json, sys
    from videobench.leaderboard.cards import update_model_card
    from videobench.leaderboard.ingest import parse_result
    result = parse_result(open(sys.argv[1], "rb").read(), sys.argv[1])
    print(update_model_card("org/rm", result, "board/results"))
""")


def test_model_card_update_merges_metadata_and_writes_eval_results(hub, tmp_path):
    body = "---\nlicense: mit\n---\n# My reward model\n\nHand-written text that must survive.\n"
    hub.state.create("model", "org/rm", {"README.md": body.encode()})
    result = tmp_path / "r.json"
    result.write_bytes(result_bytes(model="org/rm"))
    env = {**os.environ, "HF_ENDPOINT": hub.url, "HF_HUB_OFFLINE": "0", "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
           "HF_HOME": str(tmp_path / "hf"), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", MODEL_CARD, str(result)], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    files = hub.files("org/rm", repo_type="model")
    readme = files["README.md"].decode()
    assert "Hand-written text that must survive." in readme and "license: mit" in readme
    meta = yaml.safe_load(readme.split("---")[1])
    (entry,) = meta["model-index"][0]["results"]
    # the dataset is the benchmark (the Hub repo videogen-rewardbench loads from); the results repo is the source
    assert entry["dataset"] == {"name": "videogen-rewardbench", "type": "KwaiVGI/VideoGen-RewardBench"}
    assert entry["source"] == {"name": "videobench leaderboard", "url": f"{hub.url}/datasets/board/results"}
    names = {m["name"] for m in entry["metrics"]}
    assert {"Overall accuracy w/ ties", "VQ accuracy w/o ties"} <= names
    assert all(m["type"] == "accuracy" and 0 <= m["value"] <= 100 for m in entry["metrics"])
    evals = yaml.safe_load(files[".eval_results/videogen-rewardbench.yaml"])
    assert {e["dataset"]["task_id"] for e in evals} >= {"overall_accuracy_w_ties", "mq_accuracy_wo_ties"}
    assert all(e["dataset"]["id"] == "KwaiVGI/VideoGen-RewardBench" for e in evals)
    assert all(e["source"]["url"] == f"{hub.url}/datasets/board/results" for e in evals)
    # the Hub client's own parser reads the file back
    from huggingface_hub import parse_eval_result_entries

    parsed = parse_eval_result_entries(evals)
    assert {e.dataset_id for e in parsed} == {"KwaiVGI/VideoGen-RewardBench"} and len(parsed) == len(evals)
