"""Kill a run at a chosen point, resume it, and compare with a run that was never interrupted: eval, compare, align,
the queue and publish. Each test asserts that the resumed result equals the uninterrupted one, that no work was
repeated beyond the interrupted item, and that no torn or half-written file is left.

Kills come from the ``VIDEOBENCH_FAULT=POINT[:N]`` hook (``videobench/faults.py``): the subprocess ends with
``os._exit(137)`` the N-th time it reaches POINT, as a SIGKILL there would. Work is counted by the reward model of
``counting_model.py``, which logs every item it scores.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from fault_worker import BENCH, align_run, queue_run, register_bench
from typer.testing import CliRunner

from videobench.cli import _register, app
from videobench.leaderboard.layout import request_id, request_path
from videobench.leaderboard.queue import work_folder
from videobench.leaderboard.store import LocalStore
from videobench.leaderboard.submissions import Component, Request, read_requests
from videobench.leaderboard.synthetic import eval_result
from videobench.results import load_result, result_to_dict

_register()
runner = CliRunner()
HERE = Path(__file__).resolve().parent
EXAMPLE = HERE.parents[1] / "videobench" / "resources" / "example"
MODEL = "python:counting_model:Model"


def _killed(args: list[str], log: Path, fault: str) -> None:
    """Run ``python ARGS`` until the fault point ends it; it must end there, not finish or fail otherwise."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COUNTING_LOG": str(log), "VIDEOBENCH_FAULT": fault,
           "PYTHONPATH": os.pathsep.join(p for p in (str(HERE), os.environ.get("PYTHONPATH")) if p)}
    proc = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 137, f"rc {proc.returncode}: {proc.stderr[-3000:]}"


def _run(args: list[str], log: Path, monkeypatch) -> None:
    """The same command, whole, in this process."""
    monkeypatch.setenv("COUNTING_LOG", str(log))
    res = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output


def _calls(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def _hidden(folder: Path) -> list[Path]:
    """Temp files (hidden names) anywhere under ``folder``, the local store's own ``.videobench`` aside."""
    return [p for p in folder.rglob(".*") if ".videobench" not in p.relative_to(folder).parts[:1]]


def _items(bench_csv: Path) -> int:
    """Unique (video, prompt) items of the clip benchmark, counted from its CSV (every clip differs in content)."""
    rows = pd.read_csv(bench_csv)
    return len(set(zip(rows.path_A, rows.prompt)) | set(zip(rows.path_B, rows.prompt)))


def _same_eval(a: Path, b: Path) -> None:
    ra, rb = load_result(a), load_result(b)  # load_result also checks each file against the hashes in the JSON
    assert (ra.dimensions, ra.averages) == (rb.dimensions, rb.averages)
    for name in ("per_pair_file", "per_video_file"):
        pd.testing.assert_frame_equal(pd.read_parquet(a.parent / getattr(ra, name)),
                                      pd.read_parquet(b.parent / getattr(rb, name)))


def test_eval_killed_while_scoring(clip_bench, tmp_path, monkeypatch):
    args = ["eval", "--bench", str(clip_bench), "--model", MODEL, "--batch-size", "2", "--n-resamples", "20", "--quiet"]
    cut, log = ["--cache-dir", str(tmp_path / "cache"), "-o", str(tmp_path / "out")], tmp_path / "calls.log"
    _killed(["-m", "videobench", *args, *cut], log, "scoring:batch-stored:2")
    assert _calls(log) == 4 and not (tmp_path / "out").exists()  # two batches of two stored, nothing written yet
    _run([*args, *cut], log, monkeypatch)
    assert _calls(log) == _items(clip_bench)  # the resumed run scored only what the kill had not stored
    whole = tmp_path / "whole.log"
    _run([*args, "--cache-dir", str(tmp_path / "cache2"), "-o", str(tmp_path / "ref")], whole, monkeypatch)
    assert _calls(whole) == _items(clip_bench)
    _same_eval(tmp_path / "out" / "counting.json", tmp_path / "ref" / "counting.json")
    assert not _hidden(tmp_path / "out")


def test_eval_killed_while_replacing_its_results(tmp_path, monkeypatch):
    scores = pd.read_csv(EXAMPLE / "example-model.scores.csv")
    for version, sign in (("v1", 1.0), ("v2", -1.0)):
        (tmp_path / version).mkdir()
        scores.assign(VQ=sign * scores.VQ).to_csv(tmp_path / version / "model.csv", index=False)
    out, log = tmp_path / "out", tmp_path / "calls.log"
    args = ["eval", "--bench", str(EXAMPLE / "example-bench.csv"), "--n-resamples", "20", "--quiet"]
    _run([*args, "--scores", str(tmp_path / "v1" / "model.csv"), "-o", str(out)], log, monkeypatch)
    first = load_result(out / "model.json")
    _run([*args, "--scores", str(tmp_path / "v2" / "model.csv"), "-o", str(tmp_path / "ref")], log, monkeypatch)
    assert load_result(tmp_path / "ref" / "model.json").dimensions != first.dimensions  # v2 is another result
    v2 = [*args, "--scores", str(tmp_path / "v2" / "model.csv"), "-o", str(out)]
    for fault in ("result-set:prepared", "result-set:old-json-removed", "result-set:file-replaced:1"):
        _killed(["-m", "videobench", *v2], log, fault)
        assert not (out / "report.html").exists()  # removed before the results it described were replaced
        if fault == "result-set:prepared":
            assert load_result(out / "model.json").dimensions == first.dimensions  # the old set, untouched
        else:
            assert not (out / "model.json").exists()  # no JSON rather than one beside another run's tables
    _run(v2, log, monkeypatch)
    _same_eval(out / "model.json", tmp_path / "ref" / "model.json")
    assert not _hidden(out)  # the killed runs' temp files were removed by the run that finished


def test_compare_killed_while_scoring(clip_bench, tmp_path, monkeypatch):
    (tmp_path / "prompts.csv").write_text("id,prompt\n" + "".join(f"p{i},prompt {i}\n" for i in range(3)))
    for gen, offset in (("a", 0), ("b", 3)):
        (tmp_path / gen).mkdir()
        for i in range(3):
            shutil.copy(clip_bench.parent / f"v{i + offset}.mp4", tmp_path / gen / f"p{i}__seed0.mp4")
    args = ["compare", "-g", f"a=videos:{tmp_path / 'a'}", "-g", f"b=videos:{tmp_path / 'b'}", "-p",
            str(tmp_path / "prompts.csv"), "-r", MODEL, "--batch-size", "2", "--n-resamples", "20",
            "--render-dir", str(tmp_path / "renders")]
    cut, log = ["--cache-dir", str(tmp_path / "cache"), "-o", str(tmp_path / "out")], tmp_path / "calls.log"
    _killed(["-m", "videobench", *args, *cut], log, "scoring:batch-stored:1")
    assert _calls(log) == 2
    _run([*args, *cut], log, monkeypatch)
    assert _calls(log) == 6  # 2 generators x 3 prompts, each scored once
    _run([*args, "--cache-dir", str(tmp_path / "cache2"), "-o", str(tmp_path / "ref")], tmp_path / "w.log", monkeypatch)
    got, ref = load_result(tmp_path / "out" / "compare.json"), load_result(tmp_path / "ref" / "compare.json")
    assert (got.win_rates, got.ranking) == (ref.win_rates, ref.ranking)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "out" / "items.parquet").drop(columns="video_rel"),
                                  pd.read_parquet(tmp_path / "ref" / "items.parquet").drop(columns="video_rel"))
    assert not _hidden(tmp_path / "out")


def _file_request(store: LocalStore) -> Request:
    req = Request(id=request_id("reward_model", "org/counting", "local-0", BENCH), kind="reward_model", model=MODEL,
                  model_id="org/counting", revision="local-0", benchmark=BENCH,
                  components=[Component("python", "counting_model:Model", "")], submitter="ann",
                  submitted_at="2026-01-01T00:00:00.000000Z")
    req.transition("PENDING", "ann")
    store.ensure()
    store.update(lambda snap: {request_path(req.id): req.to_bytes()}, "request")
    return req


def test_queue_killed_mid_job_then_mid_commit(clip_bench, tmp_path, monkeypatch):
    board, work, log = tmp_path / "board", tmp_path / "work", tmp_path / "calls.log"
    store = LocalStore(board)
    req = _file_request(store)
    worker = [str(HERE / "fault_worker.py"), "queue", str(board), str(clip_bench), str(work)]
    _killed(worker, log, "scoring:batch-stored:1")
    assert 0 < _calls(log) < _items(clip_bench)  # one batch (the evaluator's batch size) scored and stored
    (running,), _ = read_requests(store.snapshot())
    assert running.status == "RUNNING" and running.claimed_by == "w1"
    _killed(worker, log, "store:journal:2")  # resumed by w1; killed once its finish commit is journaled
    assert _calls(log) == _items(clip_bench)  # the resume scored only the items the first kill had not stored
    snap = store.snapshot()  # finishes the journaled commit
    (done,), _ = read_requests(snap)
    assert done.status == "FINISHED" and [h["reason"] for h in done.history][-2] == "resumed"
    assert all(snap.exists(p) for p in done.result_files) and b"org/counting" in snap.read("table/reward_models.csv")
    register_bench(clip_bench)
    monkeypatch.setenv("COUNTING_LOG", str(tmp_path / "none.log"))
    assert queue_run(board, clip_bench, work, worker="w2") == []
    assert not work_folder(store, req, work).exists()  # the second kill's work folder, removed by the next worker
    assert not _hidden(board) and not (board / ".videobench" / "journal.json").exists()

    ref = LocalStore(tmp_path / "ref")
    _file_request(ref)
    monkeypatch.setenv("COUNTING_LOG", str(tmp_path / "ref.log"))
    (out,) = queue_run(ref.root, clip_bench, tmp_path / "work2")
    assert out.status == "FINISHED", out.reason
    (ref_req,), _ = read_requests(ref.snapshot())
    got, want = (json.loads(s.snapshot().read(r.result_files[0])) for s, r in ((store, done), (ref, ref_req)))
    assert (got["dimensions"], got["averages"]) == (want["dimensions"], want["averages"])


def _stamped(store: LocalStore) -> list[str]:
    return sorted(re.sub(r"\d{8}T\d{12}Z", "STAMP", p) for p in store.snapshot().files)


def test_publish_killed_mid_commit(tmp_path):
    result = tmp_path / "r.json"
    result.write_text(json.dumps(result_to_dict(eval_result("org/pub"))))
    board = tmp_path / "board"
    args = ["leaderboard", "publish", "--result", str(result), "--store"]
    _killed(["-m", "videobench", *args, str(board)], tmp_path / "calls.log", "store:renamed:2")
    assert (board / ".videobench" / "journal.json").exists()  # two files in place, the rest staged
    built = runner.invoke(app, ["leaderboard", "build", "--store", str(board), "--out", str(tmp_path / "built")])
    assert built.exit_code == 0, built.output  # its snapshot finished the commit first
    assert runner.invoke(app, [*args, str(tmp_path / "ref")]).exit_code == 0
    store, ref = LocalStore(board), LocalStore(tmp_path / "ref")
    assert _stamped(store) == _stamped(ref)
    (stored,) = [p for p in store.snapshot().files if p.startswith("results/") and p.endswith(".json")]
    assert json.loads(store.snapshot().read(stored))["dimensions"] == json.loads(result.read_text())["dimensions"]
    assert not _hidden(board) and not (board / ".videobench" / "journal.json").exists()


@pytest.mark.slow
def test_align_killed_while_checkpointing(tmp_path):
    from safetensors.torch import load_file
    from torch.testing import assert_close

    cut = tmp_path / "cut"
    _killed([str(HERE / "fault_worker.py"), "align", str(cut)], tmp_path / "calls.log", "align:checkpoint-written:3")
    assert (cut / "checkpoints" / "checkpoint-2").is_dir() and (cut / "checkpoints" / "checkpoint-3.tmp").is_dir()
    resumed = align_run(cut, resume="latest")
    assert resumed.log[0]["step"] == 3  # only the step whose checkpoint the kill interrupted is done again
    align_run(tmp_path / "whole")
    for name in ("pytorch_lora_weights.safetensors", "ema/pytorch_lora_weights.safetensors"):
        got, want = load_file(str(cut / name)), load_file(str(tmp_path / "whole" / name))
        assert got.keys() == want.keys()
        for key in want:
            assert_close(got[key], want[key], atol=0, rtol=0)
