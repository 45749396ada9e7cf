"""A queue job whose worker died on this machine is reported with the command that resumes it, and
``run-queue --resume-stale`` takes it over before its lease ends; each request's work folder is removed once its
outcome is committed (issue 14, items 5 and 9)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from videobench.cli import _register, app
from videobench.leaderboard.layout import request_id, request_path
from videobench.leaderboard.queue import QueueSettings, orphaned, run_queue, work_folder
from videobench.leaderboard.store import LocalStore
from videobench.leaderboard.submissions import Component, Request, read_requests
from videobench.leaderboard.synthetic import eval_result
from videobench.provenance import utc_now
from videobench.results import result_to_dict

_register()


def _running(store: LocalStore, pid: int, worker: str = "host-dead") -> Request:
    """A request claimed a moment ago by ``worker`` running as ``pid`` on this host."""
    rev = "a" * 40
    req = Request(id=request_id("reward_model", "org/rm", rev, "sanity"), kind="reward_model",
                  model="videoreward:org/rm", model_id="org/rm", revision=rev, benchmark="sanity",
                  components=[Component("videoreward", "org/rm", rev)], submitter="ann", submitted_at=utc_now())
    req.transition("PENDING", "ann")
    req.claimed_by, req.claimed_at, req.attempts = worker, utc_now(), 1
    req.claimed_host, req.claimed_pid = socket.gethostname(), pid
    req.transition("RUNNING", worker, "claimed")
    store.ensure()
    store.update(lambda snap: {request_path(req.id): req.to_bytes()}, "a claimed request")
    return req


def _dead_pid() -> int:
    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True).stdout)


def _evaluator(seen: list):
    def evaluate(req, work: Path) -> list[Path]:
        seen.append(work)
        out = work / "result.json"
        out.write_text(json.dumps(result_to_dict(eval_result(req.model_id, req.benchmark))))
        return [out]
    return evaluate


def test_a_dead_workers_job_is_named_with_the_resume_command(tmp_path, monkeypatch):
    store = LocalStore(tmp_path / "board")
    req = _running(store, _dead_pid())
    seen: list = []
    assert run_queue(store, _evaluator(seen), "other", workdir=tmp_path / "work") == []  # lease not expired
    (found, note), = orphaned(store)
    assert found.id == req.id and "--worker host-dead" in note and "--resume-stale" in note
    monkeypatch.setenv("VIDEOBENCH_QUEUE_DIR", str(tmp_path / "work"))
    res = CliRunner().invoke(app, ["leaderboard", "run-queue", "--store", str(store.root), "--reward", "random"],
                             env={"COLUMNS": "300"})
    assert res.exit_code == 0, res.output
    assert f"{req.id} is RUNNING: its worker host-dead (pid {req.claimed_pid} on this host) is gone" in res.stderr


def test_resume_stale_takes_over_a_dead_workers_job_only(tmp_path):
    store = LocalStore(tmp_path / "board")
    req = _running(store, _dead_pid())
    seen: list = []
    (out,) = run_queue(store, _evaluator(seen), "w2", settings=QueueSettings(resume_stale=True),
                       workdir=tmp_path / "work")
    assert out.status == "FINISHED", out.reason
    (stored,), _ = read_requests(store.snapshot())
    assert stored.claimed_by == "w2" and "taken over from host-dead" in stored.history[-2]["reason"]
    # the work folder was the request's own, and it is gone with everything above it that held nothing else
    assert seen == [work_folder(store, req, tmp_path / "work")] and not (tmp_path / "work").exists()

    alive = LocalStore(tmp_path / "board2")
    _running(alive, os.getpid(), worker="me-still-running")
    assert run_queue(alive, _evaluator(seen), "w2", settings=QueueSettings(resume_stale=True),
                     workdir=tmp_path / "work") == []
