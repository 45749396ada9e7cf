import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from leaderboard_helpers import result_bytes

from videobench.leaderboard.queue import QueueSettings, claim_next, run_queue
from videobench.leaderboard.submissions import Component, Request, read_requests
from videobench.leaderboard.layout import request_id, request_path
from videobench.provenance import utc_now


def _file_requests(store, n, bench="videogen-rewardbench"):
    reqs = {}
    for i in range(n):
        mid = f"org/rm{i}"
        rev = f"{i:040x}"
        req = Request(id=request_id("reward_model", mid, rev, bench), kind="reward_model", model=f"videoreward:{mid}",
                      model_id=mid, revision=rev, benchmark=bench, components=[Component("videoreward", mid, rev)],
                      submitter="ann", submitted_at=utc_now())
        req.transition("PENDING", "ann", "submitted")
        reqs[request_path(req.id)] = req.to_bytes()
    store.ensure()
    store.update(lambda snap: reqs, "requests")
    return sorted(reqs)


def fake_evaluator(req, work: Path):
    if req.model_id.endswith("rm1"):
        raise RuntimeError("CUDA out of memory (simulated)")
    out = work / "result.json"
    out.write_bytes(result_bytes(model=req.model_id, bench=req.benchmark, seed=len(req.model_id)))
    return [out]


def test_run_queue_finishes_and_fails_with_reason(store):
    _file_requests(store, 3)
    outcomes = run_queue(store, fake_evaluator, "w1")
    assert sorted(o.status for o in outcomes) == ["FAILED", "FINISHED", "FINISHED"]
    snap = store.snapshot()
    reqs = {r.model_id: r for r in read_requests(snap)[0]}
    assert reqs["org/rm1"].status == "FAILED" and "CUDA out of memory" in reqs["org/rm1"].reason
    done = reqs["org/rm0"]
    assert done.status == "FINISHED" and done.result_files and all(snap.exists(p) for p in done.result_files)
    assert [h["status"] for h in done.history] == ["PENDING", "RUNNING", "FINISHED"]
    assert snap.exists("report.html") and b"org/rm2" in snap.read("table/reward_models.csv")
    assert run_queue(store, fake_evaluator, "w1") == []


def test_two_workers_never_claim_the_same_request(hub, hub_store, tmp_path):
    from videobench.leaderboard.hub_store import HubStore

    _file_requests(hub_store, 2)
    other = HubStore("board/results", endpoint=hub.url, token=False, cache_dir=tmp_path / "c2", backoff=0.001)
    claimed = {}

    def rival(repo, branch):  # worker B claims while worker A's claim is in flight, on the same snapshot
        claimed["B"] = claim_next(other, "B")

    hub.state.before_commit = rival
    claimed["A"] = claim_next(hub_store, "A")
    assert claimed["A"].id != claimed["B"].id
    assert claim_next(hub_store, "C") is None  # both taken, leases fresh


def test_many_threads_claim_each_request_once(local_store):
    paths = _file_requests(local_store, 6)
    got, lock = [], threading.Lock()

    def worker(name):
        from videobench.leaderboard.store import LocalStore

        store = LocalStore(local_store.root)
        i = 0  # a fresh worker id per claim: the same id would resume its own RUNNING request
        while (req := claim_next(store, f"{name}-{i}")) is not None:
            i += 1
            with lock:
                got.append(req.id)

    threads = [threading.Thread(target=worker, args=(f"w{k}",)) for k in range(3)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(got) == sorted(Path(p).stem for p in paths)


CRASHING = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, {tests!r})
    from leaderboard_helpers import result_bytes
    from videobench.leaderboard.queue import run_queue
    from videobench.leaderboard.store import LocalStore

    def evaluator(req, work):
        out = work / "result.json"
        out.write_bytes(result_bytes(model=req.model_id, bench=req.benchmark))
        os._exit(9)  # killed mid-run: after claiming and computing, before publishing

    run_queue(LocalStore({root!r}), evaluator, "worker-1")
""")


def test_killed_run_queue_resumes(local_store):
    _file_requests(local_store, 1)
    script = CRASHING.format(tests=str(Path(__file__).parent), root=str(local_store.root))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 9, proc.stderr
    (req,), _ = read_requests(local_store.snapshot())
    assert req.status == "RUNNING" and req.claimed_by == "worker-1" and req.attempts == 1
    assert not local_store.snapshot().list("results")  # nothing half-published
    # another worker leaves it alone while the lease holds ...
    assert run_queue(local_store, fake_evaluator, "worker-2") == []
    # ... the same worker id resumes it at once
    (out,) = run_queue(local_store, fake_evaluator, "worker-1")
    assert out.status == "FINISHED"
    (req,), _ = read_requests(local_store.snapshot())
    assert req.attempts == 2 and [h["reason"] for h in req.history][1:] == ["claimed", "resumed", ""]
    assert len(local_store.snapshot().list("results")) == 1


def test_expired_lease_is_taken_over_and_repeated_crashes_fail(local_store):
    _file_requests(local_store, 1)
    claim_next(local_store, "dead")
    expired = QueueSettings(lease_seconds=-1, max_attempts=2)
    taken = claim_next(local_store, "alive", expired)
    assert taken.claimed_by == "alive" and taken.history[-1]["reason"] == "lease expired"
    assert claim_next(local_store, "third", expired) is None  # attempts exhausted -> FAILED
    (req,), _ = read_requests(local_store.snapshot())
    assert req.status == "FAILED" and "gave up after 2 attempts" in req.reason


def test_result_for_another_benchmark_fails_the_request(local_store):
    _file_requests(local_store, 1)

    def wrong(req, work):
        out = work / "r.json"
        out.write_bytes(result_bytes(model=req.model_id, bench="sanity"))
        return [out]

    (out,) = run_queue(local_store, wrong, "w")
    assert out.status == "FAILED" and "the request for 'videogen-rewardbench'" in out.reason


def test_worker_whose_request_was_taken_over_publishes_nothing(local_store):
    _file_requests(local_store, 1)

    def slow(req, work):  # while this worker computes, its lease expires and another worker takes over
        assert claim_next(local_store, "fast", QueueSettings(lease_seconds=-1)).id == req.id
        return fake_evaluator(req, work)

    (out,) = run_queue(local_store, slow, "slow")
    assert out.status == "ABANDONED" and "taken over by fast" in out.reason
    (req,), _ = read_requests(local_store.snapshot())
    assert req.status == "RUNNING" and req.claimed_by == "fast"
    assert not local_store.snapshot().list("results")


def _local_model(folder: Path, value: float) -> Path:
    import numpy as np
    from safetensors.numpy import save

    folder.mkdir(exist_ok=True)
    (folder / "model.safetensors").write_bytes(save({"w": np.full(4, value, dtype=np.float32)}))
    (folder / "model_config.json").write_text('{"model_config": {"model_name_or_path": "%s"}}' % folder)  # its base
    return folder


def test_a_local_folder_changed_after_submission_is_refused(local_store, tmp_path):
    from videobench.leaderboard.submissions import submit

    folder = _local_model(tmp_path / "rm", 0.0)
    req = submit(local_store, f"videoreward:{folder}", "videogen-rewardbench", model_id="org/rm", submitter="ann")
    _local_model(folder, 1.0)  # retrained in place: same file name and size, other weights
    seen = []
    (out,) = run_queue(local_store, lambda r, w: seen.append(r) or fake_evaluator(r, w), "w1")
    assert out.status == "FAILED" and not seen  # refused before any compute
    (stored,), _ = read_requests(local_store.snapshot())
    assert stored.status == "FAILED" and req.revision in stored.reason and "changed since submission" in stored.reason
    assert not local_store.snapshot().list("results")


def test_a_local_folder_changed_during_evaluation_is_refused(local_store, tmp_path):
    from videobench.leaderboard.submissions import submit

    folder = _local_model(tmp_path / "rm", 0.0)
    submit(local_store, f"videoreward:{folder}", "videogen-rewardbench", model_id="org/rm", submitter="ann")

    def evaluator(req, work):
        _local_model(folder, 2.0)  # someone overwrites the checkpoint while it is being scored
        return fake_evaluator(req, work)

    (out,) = run_queue(local_store, evaluator, "w1")
    assert out.status == "FAILED" and "changed since submission" in out.reason
    assert not local_store.snapshot().list("results")


def test_an_unchanged_local_folder_is_evaluated(local_store, tmp_path):
    from videobench.leaderboard.submissions import submit

    folder = _local_model(tmp_path / "rm", 0.0)
    req = submit(local_store, f"videoreward:{folder}", "videogen-rewardbench", model_id="org/rm", submitter="ann")
    (out,) = run_queue(local_store, fake_evaluator, "w1")
    assert out.status == "FINISHED"
    assert req.revision.startswith("local-")
