"""A run killed with SIGKILL mid-way resumes: only the items it had not committed are scored again."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from fakes import CountingModel, HeaderOnlyIO

from videobench.scoring import score_items

WORKER = Path(__file__).with_name("resume_worker.py")


def stored_rows(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM scores").fetchone()[0]
    except sqlite3.OperationalError:  # schema not created yet
        return 0


def test_sigkilled_run_resumes_without_recomputing(bench, tmp_path):
    p = bench.pairs
    items = sorted(set(zip(p.video_A, p.prompt)) | set(zip(p.video_B, p.prompt)))
    (tmp_path / "items.json").write_text(json.dumps(items))
    cache, log = tmp_path / "cache", tmp_path / "calls.log"
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), str(bench.root), str(cache), str(log), str(tmp_path / "items.json")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    try:
        deadline = time.monotonic() + 60
        while stored_rows(cache / "scores.sqlite") < 6:  # three batches of two committed
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "worker never committed a batch"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    committed = stored_rows(cache / "scores.sqlite")
    attempted = len(log.read_text().splitlines())
    assert 6 <= committed < len(items)
    assert attempted <= committed + 2  # at most the batch in flight was lost

    model = CountingModel()
    resumed = score_items(
        items, [model], root=bench.root, cache_dir=cache, batch_size=2, show_progress=False, video_io=HeaderOnlyIO()
    )
    assert len(model.calls) == len(items) - committed
    assert resumed.stats.n_cached == committed

    reference = score_items(items, [CountingModel()], root=bench.root, use_cache=False, show_progress=False,
                            video_io=HeaderOnlyIO())
    pd.testing.assert_frame_equal(resumed["counting"], reference["counting"])
