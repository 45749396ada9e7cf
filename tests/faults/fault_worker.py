"""The runs the fault-injection tests interrupt, importable (the test runs them whole in-process) and runnable as a
script (a subprocess that ``VIDEOBENCH_FAULT`` ends): ``python fault_worker.py queue STORE BENCH_CSV WORKDIR`` or
``python fault_worker.py align OUTPUT_DIR``."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCH = "faults-bench"


def register_bench(bench_csv: str | Path) -> None:
    from videobench.data.loaders import load_table_benchmark
    from videobench.data.registry import register_benchmark

    register_benchmark(BENCH, lambda revision, **o: load_table_benchmark(bench_csv, name=BENCH), overwrite=True)


def queue_run(store_root: str | Path, bench_csv: str | Path, workdir: str | Path, worker: str = "w1") -> list:
    """Worker ``worker`` works through the board's queue with the board's own evaluator."""
    from videobench.leaderboard.evaluators import BoardEvaluator
    from videobench.leaderboard.queue import run_queue
    from videobench.leaderboard.store import LocalStore

    register_bench(bench_csv)
    store = LocalStore(store_root)
    return run_queue(store, BoardEvaluator(store), worker, workdir=Path(workdir))


def align_run(output_dir: str | Path, resume: str | None = None):
    """Flow-DPO on tiny Wan for 4 steps, a checkpoint after each of the first three."""
    sys.path.insert(0, str(HERE.parent / "align"))
    from align_helpers import random_dataset

    from videobench.align import dpo
    from videobench.testing.tiny_pipelines import build_tiny_wan_pipeline

    wan = build_tiny_wan_pipeline(seed=0)
    return dpo(pipe=wan, output_dir=str(output_dir), max_steps=4, checkpoint_every=1, resume_from=resume,
               dataset=random_dataset(wan), ema_decay=0.9, warmup_steps=2, lora_rank=4, lora_alpha=4, lr=1e-3,
               max_sequence_length=16, batch_size=2)


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    mode, args = sys.argv[1], sys.argv[2:]
    {"queue": queue_run, "align": align_run}[mode](*args)
