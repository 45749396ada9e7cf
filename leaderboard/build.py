"""Rebuild the table, report and card from a store snapshot, and publish new results with them in one commit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable

import pandas as pd

from videobench.leaderboard.cards import results_card
from videobench.leaderboard.errors import LeaderboardError
from videobench.leaderboard.ingest import parse_result
from videobench.leaderboard.layout import (
    CARD, GEN_TABLE, MOS_TABLE, REPORT, REQUESTS_DIR, RM_TABLE, git_blob_sha1, parse_result_path, request_path,
)
from videobench.leaderboard.metadata import attach_to_board
from videobench.leaderboard.report import render_report
from videobench.leaderboard.submissions import Request, read_requests
from videobench.leaderboard.store import MAX_READ_BYTES, Changes, FileInfo, Snapshot, Store, UpdateOutcome
from videobench.leaderboard.tables import (
    Tables, board, collect, csv_bytes, generator_history, jsonl_bytes, mos_board, parquet_bytes,
    read_parquet_bytes,
)

HISTORY = f"{RM_TABLE}_history.parquet"
MOS_HISTORY = f"{MOS_TABLE}_history.parquet"


@dataclass
class Built:
    files: dict[str, bytes]
    tables: Tables
    board: pd.DataFrame
    figures: dict
    #: the MOS benchmarks' board (``tables.mos_board``)
    mos_board: pd.DataFrame | None = None


def overlay(snap: Snapshot, changes: Changes) -> Snapshot:
    """``snap`` as it will look once ``changes`` are committed (for planning derived files)."""
    files = dict(snap.files)
    cache = dict(snap._cache)
    for path, data in changes.items():
        if data is None:
            files.pop(path, None)
            cache.pop(path, None)
        else:
            files[path] = FileInfo(path, len(data), git_blob_sha1(data))
            cache[path] = data
    return Snapshot(snap.store, snap.revision, files, cache)


def _previous(snap: Snapshot, path: str) -> pd.DataFrame | None:
    if not snap.exists(path) or snap.files[path].size > MAX_READ_BYTES:
        return None
    return read_parquet_bytes(snap.read(path))


def _per_pair_loader(snap: Snapshot) -> Callable[[str], pd.DataFrame | None]:
    def load(path: str) -> pd.DataFrame | None:
        return read_parquet_bytes(snap.read(path)) if snap.exists(path) else None
    return load


QUEUE_COLUMNS = ["id", "status", "kind", "model_id", "benchmark", "revision", "submitter", "submitted_at", "updated_at",
                 "attempts", "claimed_by", "reason"]


def queue_table(requests: list[Request]) -> pd.DataFrame:
    """One row per request, for the report's queue section (the request files stay the source of truth)."""
    rows = [{**{k: getattr(r, k) for k in QUEUE_COLUMNS if hasattr(r, k)},
             "updated_at": r.history[-1]["time"] if r.history else r.submitted_at} for r in requests]
    return pd.DataFrame(rows, columns=QUEUE_COLUMNS)


#: JSON Lines tables: written only when they have rows (`datasets` cannot load an empty one), config name of each.
JSONL_TABLES = {f"{RM_TABLE}_history.jsonl": "results", f"{RM_TABLE}.jsonl": "leaderboard",
                f"{GEN_TABLE}.jsonl": "generators", f"{MOS_TABLE}.jsonl": "mos",
                f"{MOS_TABLE}_history.jsonl": "mos_results"}


def build(snap: Snapshot, title: str = "videobench leaderboard") -> Built:
    tables = collect(snap, _previous(snap, HISTORY), _previous(snap, f"{GEN_TABLE}.parquet"), _previous(snap, MOS_HISTORY))
    snap.prefetch([p for p in snap.list(REQUESTS_DIR) if p.endswith(".json")])  # in parallel on the Hub
    requests, bad_requests = read_requests(snap)
    wide = attach_to_board(board(tables.rm_history, _per_pair_loader(snap)), requests)
    mos = attach_to_board(mos_board(tables.mos_history), requests)
    report, figures = render_report(wide, tables.rm_history, tables.generators, title=title,
                                    problems=tables.problems + bad_requests, queue=queue_table(requests), mos=mos)
    n_requests = len([p for p in snap.list(REQUESTS_DIR) if p.endswith(".json")])
    gen_history = generator_history(tables.generators)  # a run's checkpoints over training steps
    jsonl = {f"{RM_TABLE}.jsonl": jsonl_bytes(wide), f"{RM_TABLE}_history.jsonl": jsonl_bytes(tables.rm_history),
             f"{GEN_TABLE}.jsonl": jsonl_bytes(tables.generators), f"{MOS_TABLE}.jsonl": jsonl_bytes(mos),
             f"{MOS_TABLE}_history.jsonl": jsonl_bytes(tables.mos_history)}
    jsonl = {path: data for path, data in jsonl.items() if data}
    configs = {JSONL_TABLES[path] for path in jsonl} | ({"requests"} if n_requests else set())
    files = {
        f"{RM_TABLE}.parquet": parquet_bytes(wide),
        f"{RM_TABLE}.csv": csv_bytes(wide),
        HISTORY: parquet_bytes(tables.rm_history),
        f"{GEN_TABLE}.parquet": parquet_bytes(tables.generators),
        f"{GEN_TABLE}.csv": csv_bytes(tables.generators),
        f"{GEN_TABLE}_history.parquet": parquet_bytes(gen_history),
        f"{GEN_TABLE}_history.csv": csv_bytes(gen_history),
        f"{MOS_TABLE}.parquet": parquet_bytes(mos),
        f"{MOS_TABLE}.csv": csv_bytes(mos),
        MOS_HISTORY: parquet_bytes(tables.mos_history),
        **jsonl,
        REPORT: report.encode("utf-8"),
        CARD: results_card(wide, n_requests, title, configs, mos=mos).encode("utf-8"),
    }
    return Built(files, tables, wide, figures, mos)


def canonical_requests(snap: Snapshot) -> Changes:
    """Request files rewritten in the current schema where they differ from it (a file written before a field was
    added lacks it): ``datasets`` loads the ``requests`` config only when every file has the same columns."""
    requests, _ = read_requests(snap)
    out: Changes = {}
    for req in requests:
        path, data = request_path(req.id), req.to_bytes()
        if not snap.files[path].same_content(data):
            out[path] = data
    return out


def rebuild_plan(extra: Changes | None = None, title: str = "videobench leaderboard") -> Callable[[Snapshot], Changes]:
    """A plan committing ``extra`` plus every derived file rebuilt on top of them (an emptied JSON Lines table is
    deleted, request files in an older schema are brought to the current one)."""
    extra = dict(extra or {})

    def plan(snap: Snapshot) -> Changes:
        view = overlay(snap, extra)
        files = build(view, title).files
        stale: Changes = {path: None for path in JSONL_TABLES if path not in files}
        return {**canonical_requests(view), **extra, **stale, **files}
    return plan


_SIDECAR_FIELDS = ("per_pair_file", "per_video_file", "per_item_file")


def _same_result(snap: Snapshot, other: str, path: str, extra: Changes) -> bool:
    """Whether stored result ``other`` (with its sidecars) holds what ``extra`` adds at ``path``. Sidecar names carry
    each file's own timestamp, so the JSONs are compared with those names replaced by their kind."""
    def canonical(data: bytes, json_path: str) -> object:
        obj = json.loads(data)
        stem = json_path.rsplit("/", 1)[1].removesuffix(".json")
        for f in _SIDECAR_FIELDS:
            if isinstance(obj.get(f), str):
                obj[f] = obj[f].removeprefix(stem)
        return obj

    stem, ostem = path.removesuffix(".json"), other.removesuffix(".json")
    sidecars = {p.removeprefix(stem): d for p, d in extra.items() if p.startswith(stem + ".") and p != path}
    try:
        if canonical(snap.read(other), other) != canonical(extra[path], path):
            return False
    except (ValueError, LeaderboardError):
        return False
    return all(snap.exists(ostem + end) and d is not None and snap.files[ostem + end].same_content(d)
               for end, d in sidecars.items())


def without_republished(snap: Snapshot, extra: Changes) -> Changes:
    """``extra`` less the results (with their sidecars) that the same model's folder already holds: publishing a
    result twice is a no-op, not a second history point."""
    out = dict(extra)
    for path, data in extra.items():
        if data is None or parse_result_path(path) is None:
            continue
        folder = path.rsplit("/", 1)[0]
        if any(o != path and parse_result_path(o) is not None and _same_result(snap, o, path, extra)
               for o in snap.list(folder)):
            stem = path.removesuffix(".json")
            for p in [p for p in out if p == path or p.startswith(stem + ".")]:
                out.pop(p)
    return out


def publish(store: Store, extra: Changes | None = None, message: str = "videobench: rebuild leaderboard",
            title: str = "videobench leaderboard") -> UpdateOutcome:
    """Commit ``extra`` (results the same model folder already holds, per-item files included, are dropped) with the
    rebuilt derived files."""
    store.ensure()

    def plan(snap: Snapshot) -> Changes:
        return rebuild_plan(without_republished(snap, dict(extra or {})), title)(snap)
    return store.update(plan, message)


def result_files(result_json: bytes, store_path: str, sidecars: dict[str, bytes] | None = None) -> Changes:
    """Validate a result for ``store_path`` and return the files to add (JSON + per-item Parquet sidecars).

    The JSON's ``per_*_file`` fields are rewritten to the sidecars' names in the store; sidecars must be Parquet.
    """
    where = parse_result_path(store_path)
    if where is None:
        raise LeaderboardError(f"{store_path!r} is not a result path of the store layout")
    parse_result(result_json, source=store_path)  # refuses anything malformed or hostile
    data = json.loads(result_json)
    out: Changes = {}
    fields = {"pairs": "per_pair_file", "videos": "per_video_file", "items": "per_item_file"}
    for field in fields.values():
        if field in data:
            data[field] = None  # references are only kept for the sidecars stored below, never to other files
    for kind, data_bytes in (sidecars or {}).items():
        if kind not in fields:
            raise LeaderboardError(f"{store_path}: unknown per-item file kind {kind!r}")
        if not data_bytes.startswith(b"PAR1") or read_parquet_bytes(data_bytes) is None:
            raise LeaderboardError(f"{store_path}: the {kind} file is not a readable Parquet file")
        target = f"{store_path.removesuffix('.json')}.{kind}.parquet"
        out[target] = data_bytes
        data[fields[kind]] = target.rsplit("/", 1)[1]
    out[store_path] = (json.dumps(data, indent=2, allow_nan=False) + "\n").encode("utf-8")
    return out
