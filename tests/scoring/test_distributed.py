"""Two CPU processes under ``accelerate launch`` (gloo) split the work and return what one process returns.

``accelerate launch --cpu`` starts several processes only through mpirun; ``--multi_gpu`` on a machine without GPUs
starts them through torch.distributed.run, which is what a GPU user gets too.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from fakes import CountingModel, PixelModel

from videobench.scoring import score_items
from videobench.video import content_hash

WORKER = Path(__file__).with_name("distributed_worker.py")
PAIRS_WORKER = Path(__file__).with_name("pairs_worker.py")
FAILING_WORKER = Path(__file__).with_name("failing_worker.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch(worker: Path, *args: str, timeout: float = 240) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("WORLD_SIZE", None)
    cmd = [
        sys.executable, "-m", "accelerate.commands.launch",
        "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
        "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", str(free_port()),
        str(worker), *args,
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.slow
def test_two_gloo_processes_equal_one(bench, tmp_path):
    p = bench.pairs
    items = sorted(set(zip(p.video_A, p.prompt)) | set(zip(p.video_B, p.prompt)))
    (tmp_path / "items.json").write_text(json.dumps(items))
    out = tmp_path / "out"
    out.mkdir()
    _launch(WORKER, str(bench.root), str(tmp_path / "cache"), str(out), str(tmp_path / "items.json"))

    reports = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["world_size"] for r in reports] == [2, 2]
    first, second = ([r["calls"][i] for r in reports] for i in (0, 1))
    for name in ("counting", "pixel"):
        assert sum(c[name] for c in first) == len(items)  # split, each item scored by exactly one rank
        assert all(c[name] > 0 for c in first)
        assert all(c[name] == 0 for c in second)  # rerun: everything came from the shared store

    single = score_items(items, [CountingModel(), PixelModel()], root=bench.root, use_cache=False, show_progress=False)
    for name, table in single.items():
        for rank in (0, 1):  # every rank returns the full tables
            pd.testing.assert_frame_equal(pd.read_parquet(out / f"rank{rank}-{name}.parquet"), table)


@pytest.mark.slow
def test_two_gloo_processes_split_a_pairwise_judges_questions(bench, tmp_path):
    from fakes import CountingPairJudge, item_score

    from videobench.scoring.pairs import judge_benchmark_pairs

    bench.pairs.to_json(tmp_path / "pairs.json")
    out = tmp_path / "out"
    out.mkdir()
    _launch(PAIRS_WORKER, str(bench.root), str(tmp_path / "cache"), str(out), str(tmp_path / "pairs.json"))
    reports = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["world_size"] for r in reports] == [2, 2]

    single = judge_benchmark_pairs(bench, CountingPairJudge(), orders=("AB", "BA"), use_cache=False,
                                   show_progress=False)
    questions = single.n_asked
    first, second = [r["calls"][0] for r in reports], [r["calls"][1] for r in reports]
    assert sum(first) == questions and min(first) > 0  # each question asked once, by one of the two ranks
    assert reports[0]["asked"][0] == reports[1]["asked"][0] == questions  # both report the run's count
    assert second == [0, 0]  # rerun: all answers from the shared store
    # every rank returns every verdict, as one process does; and those are the judge's rule applied by hand
    hashes = {v: content_hash(bench.root / v) for v in set(bench.pairs["video_A"]) | set(bench.pairs["video_B"])}
    by_hand = [1.0 if item_score(hashes[a], p, "Overall") > item_score(hashes[b], p, "Overall") else -1.0
               for a, b, p in zip(bench.pairs["video_A"], bench.pairs["video_B"], bench.pairs["prompt"])]
    assert single.verdicts["AB"]["Overall"].tolist() == by_hand
    assert single.verdicts["BA"]["Overall"].tolist() == [-v for v in by_hand]
    for report in reports:
        assert report["verdicts"] == {order: single.verdicts[order]["Overall"].tolist() for order in ("AB", "BA")}


@pytest.mark.slow
def test_an_error_on_one_process_stops_every_process_at_once(bench, tmp_path):
    # without it the healthy rank waits at the gather for torch's 30-minute timeout: the launch would time out here
    p = bench.pairs
    items = sorted(set(zip(p.video_A, p.prompt)) | set(zip(p.video_B, p.prompt)))
    (tmp_path / "items.json").write_text(json.dumps(items))
    bench.pairs.to_json(tmp_path / "pairs.json")
    out = tmp_path / "out"
    out.mkdir()
    _launch(FAILING_WORKER, str(bench.root), str(out), str(tmp_path / "items.json"), str(tmp_path / "pairs.json"),
            timeout=150)
    reports = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert reports[1] == {"scores": "ValueError: the model broke on rank 1",  # the failing rank: its own error
                          "judge": "ValueError: the judge broke on rank 1"}
    assert reports[0] == {  # the healthy rank: which process failed, and how
        "scores": "RankFailedError: process 1 of 2 failed: ValueError: the model broke on rank 1",
        "judge": "RankFailedError: process 1 of 2 failed: ValueError: the judge broke on rank 1"}
