"""The queue runner: claim a request by commit, evaluate it, publish its results and status in one commit.

Claiming is a commit that flips the request to RUNNING with this worker's id, made on the snapshot the choice was
made on; if another worker committed first, the store refuses it and the choice is made again on the new state, so two
workers never hold the same request. Results and the FINISHED status land in one commit, and only while the request
is still claimed by this worker. A worker that dies leaves its request RUNNING: the same worker id resumes it on the
next start, any other worker takes it over once its lease has expired (or at once with ``resume_stale`` when the
claiming process is gone from this host), and after ``max_attempts`` claims it is FAILED.
A request with a local folder is evaluated only while the folder still has the fingerprint it was submitted with
(checked before and after the evaluation); otherwise it is FAILED with both fingerprints.

Each request is evaluated in its own work folder, ``work_root / <store> / <request id>``: removed once the outcome
is committed, kept by a kill, and found again by whichever worker resumes the request.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import shutil
import socket
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from videobench.atomic import pid_alive
from videobench.faults import fault_point
from videobench.paths import user_cache_folder

from videobench.leaderboard.build import rebuild_plan, result_files
from videobench.leaderboard.errors import LeaderboardError
from videobench.leaderboard.layout import request_path, result_path, timestamp
from videobench.leaderboard.store import Changes, Snapshot, Store
from videobench.leaderboard.submissions import Request, _parse_time, local_fingerprint, read_requests
from videobench.provenance import utc_now
from videobench.results import EvalResult, ResultFormatError

#: request, work folder -> result JSON files written there (per-item Parquet named in them sits beside them).
Evaluator = Callable[[Request, Path], list[Path]]


@dataclass
class QueueSettings:
    lease_seconds: float = 6 * 3600
    max_attempts: int = 3
    publish_board: bool = True
    #: also take over RUNNING requests whose worker process is gone from this host (lease not yet expired)
    resume_stale: bool = False


@dataclass
class Outcome:
    request_id: str
    status: str
    reason: str = ""
    files: tuple[str, ...] = ()


def default_worker_id() -> str:
    return f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"


def default_work_root() -> Path:
    """``$VIDEOBENCH_QUEUE_DIR``, else ``$XDG_CACHE_HOME/videobench/queue`` (``~/.cache/...``)."""
    return user_cache_folder("VIDEOBENCH_QUEUE_DIR", "queue")


def work_folder(store: Store, req: Request, root: Path | None = None) -> Path:
    """The request's work folder: the same for every worker of this machine, so a resumed job finds what the
    killed one wrote there."""
    return _store_work(store, root) / req.id


def _store_work(store: Store, root: Path | None) -> Path:
    return Path(root or default_work_root()) / hashlib.sha256(store.describe().encode()).hexdigest()[:12]


def dead_here(req: Request) -> bool:
    """The request's worker ran on this host and its process is gone."""
    return req.claimed_host == socket.gethostname() and req.claimed_pid > 0 and not pid_alive(req.claimed_pid)


def _expired(req: Request, now: _dt.datetime, lease: float) -> bool:
    try:
        return (now - _parse_time(req.claimed_at)).total_seconds() > lease
    except ValueError:
        return True


def claim_next(store: Store, worker: str, settings: QueueSettings | None = None) -> Request | None:
    """Claim one request (own RUNNING first, then the oldest PENDING, then expired RUNNING); None when idle."""
    settings = settings or QueueSettings()
    chosen: dict[str, Request | None] = {"req": None}

    def plan(snap: Snapshot) -> Changes:
        chosen["req"] = None
        requests, _ = read_requests(snap)
        now = _dt.datetime.now(_dt.timezone.utc)
        own = [r for r in requests if r.status == "RUNNING" and r.claimed_by == worker]
        pending = sorted((r for r in requests if r.status == "PENDING"), key=lambda r: (r.submitted_at, r.id))
        stale = [r for r in requests if r.status == "RUNNING" and r.claimed_by != worker
                 and (_expired(r, now, settings.lease_seconds) or (settings.resume_stale and dead_here(r)))]
        for req in own + pending + stale:
            if req.attempts >= settings.max_attempts:
                req.transition("FAILED", worker, f"gave up after {req.attempts} attempts (the worker stopped each time)")
                return {request_path(req.id): req.to_bytes()}  # commit the give-up; the caller claims again
            why = "resumed" if req in own else (_stale_reason(req, now, settings) if req in stale else "claimed")
            req.claimed_by, req.claimed_at, req.attempts = worker, utc_now(), req.attempts + 1
            req.claimed_host, req.claimed_pid = socket.gethostname(), os.getpid()
            req.transition("RUNNING", worker, why)
            chosen["req"] = req
            return {request_path(req.id): req.to_bytes()}
        return {}

    while True:
        outcome = store.update(plan, f"videobench: {worker} claims a request")
        req = chosen["req"]
        if req is not None or not outcome.committed:
            return req
        # a give-up was committed: look again


def _stale_reason(req: Request, now: _dt.datetime, settings: QueueSettings) -> str:
    if _expired(req, now, settings.lease_seconds):
        return "lease expired"
    return f"taken over from {req.claimed_by} (pid {req.claimed_pid} is gone)"


def orphaned(store: Store, settings: QueueSettings | None = None) -> list[tuple[Request, str]]:
    """RUNNING requests that no worker will pick up on its own yet, each with a line saying how to resume it."""
    settings = settings or QueueSettings()
    requests, _ = read_requests(store.snapshot())
    now = _dt.datetime.now(_dt.timezone.utc)
    out = []
    for req in requests:
        if req.status != "RUNNING" or _expired(req, now, settings.lease_seconds):
            continue
        if dead_here(req):
            out.append((req, f"its worker {req.claimed_by} (pid {req.claimed_pid} on this host) is gone; resume it "
                             f"with --worker {req.claimed_by}, or take over every such job with --resume-stale"))
        else:
            until = _parse_time(req.claimed_at) + _dt.timedelta(seconds=settings.lease_seconds)
            where = f"{req.claimed_host} pid {req.claimed_pid}" if req.claimed_host else "unknown host"
            out.append((req, f"claimed by {req.claimed_by} ({where}); any worker may take it over after "
                             f"{until:%Y-%m-%d %H:%M} UTC when that worker has stopped"))
    return out


def _finish_plan(req: Request, worker: str, status: str, reason: str, files: Changes, publish: bool) -> Callable[[Snapshot], Changes]:
    def plan(snap: Snapshot) -> Changes:
        path = request_path(req.id)
        if not snap.exists(path):
            raise LeaderboardError(f"{path} disappeared while it was evaluated")
        current = Request.from_bytes(snap.read(path), path)
        if current.status != "RUNNING" or current.claimed_by != worker:
            raise LeaderboardError(f"{path} was taken over by {current.claimed_by or 'nobody'} ({current.status})")
        current.result_files = sorted(p for p in files if p.endswith(".json"))
        current.transition(status, worker, reason)  # type: ignore[arg-type]
        extra = {**files, path: current.to_bytes()}
        return rebuild_plan(extra)(snap) if publish else extra
    return plan


def check_local_components(req: Request) -> None:
    """Refuse a request whose local folder changed since it was submitted.

    A local component's revision is the content fingerprint of the folder at submission (``local-...``), and the board
    shows it as the evaluated revision. Evaluating the folder as it is now would put other weights behind that
    fingerprint, so the request FAILS with both fingerprints in its reason; the new version is a new submission.
    """
    for comp in req.components:
        if not comp.revision.startswith("local-"):
            continue
        if not Path(comp.target).is_dir():
            raise LeaderboardError(f"local component {comp.target} is gone since submission (submitted as {comp.revision})")
        now = local_fingerprint(comp.target)
        if now != comp.revision:
            raise LeaderboardError(f"local component {comp.target} changed since submission (submitted {comp.revision}, "
                                   f"now {now}): submit the new version as a new request")


def stage_results(req: Request, produced: list[Path]) -> Changes:
    """Validate what the evaluator wrote and map it into the store layout."""
    if not produced:
        raise ResultFormatError(f"request {req.id}: the evaluator produced no result")
    changes: Changes = {}
    for i, src in enumerate(produced):
        data = Path(src).read_bytes()
        from videobench.leaderboard.ingest import parse_result

        result = parse_result(data, source=str(src))
        if isinstance(result, EvalResult) and result.benchmark.name != req.benchmark:
            raise ResultFormatError(f"{src}: result is for {result.benchmark.name!r}, the request for {req.benchmark!r}")
        target = result_path(req.benchmark, req.model_id, timestamp())
        sidecars = {}
        obj = json.loads(data)
        for field, kind in (("per_pair_file", "pairs"), ("per_video_file", "videos"), ("per_item_file", "items")):
            name = obj.get(field)
            if name:
                side = (Path(src).parent / name).resolve()
                if side.parent != Path(src).parent.resolve() or not side.is_file():
                    raise ResultFormatError(f"{src}: {field} {name!r} is not a file beside the result")
                sidecars[kind] = side.read_bytes()
        changes.update(result_files(data, target, sidecars))
    return changes


def run_one(store: Store, evaluator: Evaluator, worker: str, settings: QueueSettings | None = None,
            workdir: Path | None = None) -> Outcome | None:
    settings = settings or QueueSettings()
    req = claim_next(store, worker, settings)
    if req is None:
        return None
    fault_point("queue:claimed")
    work = work_folder(store, req, workdir)
    work.mkdir(parents=True, exist_ok=True)
    try:
        check_local_components(req)  # before: no compute on a folder that is not what was submitted
        produced = evaluator(req, work)
        check_local_components(req)  # after: a change during the evaluation leaves the result unattributable
        files = stage_results(req, produced)
        status, reason = "FINISHED", ""
    except Exception as exc:  # any failure of the evaluation is recorded on the request, the queue goes on
        files, status = {}, "FAILED"
        reason = f"{type(exc).__name__}: {exc}"[:2000]
        tail = traceback.format_exc(limit=3)[-1500:]
        (work / "error.txt").write_text(tail)
    fault_point("queue:evaluated")
    root = Path(workdir or default_work_root())
    try:
        outcome = store.update(_finish_plan(req, worker, status, reason, files, settings.publish_board),
                               f"videobench: {req.id} {status}")
    except LeaderboardError as exc:  # another worker took the request over (expired lease): its result counts
        _discard(work, root)
        return Outcome(req.id, "ABANDONED", str(exc))
    _discard(work, root)  # only once the outcome is committed: a failed commit keeps what a resume can reuse
    return Outcome(req.id, status, reason, tuple(outcome.changed))


def _discard(work: Path, root: Path) -> None:
    """Remove a request's work folder, then its store folder and the root when nothing else is left in them."""
    shutil.rmtree(work, ignore_errors=True)
    _prune(work.parent, root)


def _prune(store_work: Path, root: Path) -> None:
    for path in (store_work, root):
        try:
            path.rmdir()
        except OSError:  # absent, or another request's folder (or another store's) keeps it
            break


def clean_work_folders(store: Store, workdir: Path | None = None) -> list[Path]:
    """Remove this store's request work folders whose request is no longer RUNNING (left by a worker killed after its
    outcome was committed); a RUNNING request's folder stays for whoever resumes it, and other folders there (the
    board's score cache) are not the queue's to remove."""
    parent = _store_work(store, workdir)
    if not parent.is_dir():
        return []
    done = {r.id for r in read_requests(store.snapshot())[0] if r.status != "RUNNING"}
    removed = [p for p in parent.iterdir() if p.is_dir() and p.name in done]  # never the board's own folders (cache)
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    _prune(parent, Path(workdir or default_work_root()))
    return removed


def run_queue(store: Store, evaluator: Evaluator, worker: str | None = None, *, max_requests: int | None = None,
              settings: QueueSettings | None = None, workdir: Path | None = None) -> list[Outcome]:
    worker = worker or default_worker_id()
    clean_work_folders(store, workdir)
    outcomes: list[Outcome] = []
    while max_requests is None or len(outcomes) < max_requests:
        out = run_one(store, evaluator, worker, settings, workdir)
        if out is None:
            break
        outcomes.append(out)
    return outcomes
