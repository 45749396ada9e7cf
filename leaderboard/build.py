"""Rebuild the table, report and card from a store snapshot, and publish new results with them in one commit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable

import pandas as pd

from videobench.leaderboard.cards import results_card
from videobench.leaderboard.errors import LeaderboardError
from videobench.leaderboard.ingest import parse_result
from videobench.leaderboard.layout import CARD, GEN_TABLE, REPORT, REQUESTS_DIR, RM_TABLE, git_blob_sha1, parse_result_path
from videobench.leaderboard.report import render_report
from videobench.leaderboard.store import MAX_READ_BYTES, Changes, FileInfo, Snapshot, Store, UpdateOutcome
from videobench.leaderboard.tables import (
    Tables, board, collect, csv_bytes, jsonl_bytes, parquet_bytes, read_parquet_bytes,
)

HISTORY = f"{RM_TABLE}_history.parquet"


@dataclass
class Built:
    files: dict[str, bytes]
    tables: Tables
    board: pd.DataFrame
    figures: dict


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


def build(snap: Snapshot, title: str = "videobench leaderboard") -> Built:
    tables = collect(snap, _previous(snap, HISTORY), _previous(snap, f"{GEN_TABLE}.parquet"))
    wide = board(tables.rm_history, _per_pair_loader(snap))
    report, figures = render_report(wide, tables.rm_history, tables.generators, title=title, problems=tables.problems)
    n_requests = len([p for p in snap.list(REQUESTS_DIR) if p.endswith(".json")])
    files = {
        f"{RM_TABLE}.parquet": parquet_bytes(wide),
        f"{RM_TABLE}.csv": csv_bytes(wide),
        f"{RM_TABLE}.jsonl": jsonl_bytes(wide),
        HISTORY: parquet_bytes(tables.rm_history),
        f"{RM_TABLE}_history.jsonl": jsonl_bytes(tables.rm_history),
        f"{GEN_TABLE}.parquet": parquet_bytes(tables.generators),
        f"{GEN_TABLE}.csv": csv_bytes(tables.generators),
        f"{GEN_TABLE}.jsonl": jsonl_bytes(tables.generators),
        REPORT: report.encode("utf-8"),
        CARD: results_card(wide, n_requests, title).encode("utf-8"),
    }
    return Built(files, tables, wide, figures)


def rebuild_plan(extra: Changes | None = None, title: str = "videobench leaderboard") -> Callable[[Snapshot], Changes]:
    """A plan committing ``extra`` plus every derived file rebuilt on top of them."""
    extra = dict(extra or {})

    def plan(snap: Snapshot) -> Changes:
        view = overlay(snap, extra)
        return {**extra, **build(view, title).files}
    return plan


def publish(store: Store, extra: Changes | None = None, message: str = "videobench: rebuild leaderboard",
            title: str = "videobench leaderboard") -> UpdateOutcome:
    store.ensure()
    return store.update(rebuild_plan(extra, title), message)


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
