"""Subprocess for the kill-and-resume test of the queue's default evaluator: one reward-model request on a tiny
benchmark of real mp4 files, scored by a counting reward that can die (``os._exit``) after N videos.

    python kill_queue_worker.py STORE WORKDIR BENCH_CSV [CACHE_DIR]

Environment: ``VB_COUNT_FILE`` (one line per video the reward scored, appended before it returns),
``VB_DIE_AFTER`` (exit with code 17 at the first call once that many videos are scored).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

from videobench.rewards.base import Sampling


class CountingReward:
    """Score = the number in the file name (``v3.mp4`` -> 3.0): margins are known without running anything."""

    needs_frames = False
    dimensions = ("Overall",)
    sampling = Sampling()
    name = "counting"

    def fingerprint(self) -> str:
        return "counting-v1"

    def score(self, clips, prompts):
        log = Path(os.environ["VB_COUNT_FILE"])
        done = len(log.read_text().splitlines()) if log.exists() else 0
        die = int(os.environ.get("VB_DIE_AFTER", "0"))
        if die and done >= die:
            os._exit(17)  # a kill: no cleanup, no exception handlers
        with log.open("a") as f:
            f.writelines(f"{Path(c.path).name}\n" for c in clips)
        return {"Overall": np.array([float(Path(c.path).stem[1:]) for c in clips])}


def main() -> None:
    from videobench.data.loaders import load_table_benchmark
    from videobench.data.registry import register_benchmark
    from videobench.leaderboard.evaluators import BoardEvaluator
    from videobench.leaderboard.queue import run_queue
    from videobench.leaderboard.store import LocalStore

    store_path, workdir, bench_csv = sys.argv[1:4]
    cache_dir = Path(sys.argv[4]) if len(sys.argv) > 4 else None
    register_benchmark("lb-kill", lambda revision, **o: load_table_benchmark(Path(bench_csv), name="lb-kill"),
                       overwrite=True)
    store = LocalStore(Path(store_path))
    outcomes = run_queue(store, BoardEvaluator(store, cache_dir=cache_dir, batch_size=2), "worker-1",
                         workdir=Path(workdir))
    print(" ".join(f"{o.request_id}:{o.status}:{o.reason}" for o in outcomes))


if __name__ == "__main__":
    main()
