"""``ScoreStore``: a SQLite cache of per-video scores that survives crashes and is shared between processes.

Key: (model fingerprint, video content hash, prompt hash, sampling key) -> {dimension: score}. Each ``put_many`` is one
transaction, so a run killed at any instant (SIGKILL included) leaves every finished batch stored and nothing half
written. WAL mode lets readers run beside a writer; a busy timeout makes concurrent writers (several ranks, several
jobs) wait for each other instead of failing. WAL needs a local file system: on NFS give each node its own cache dir.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
import time
from pathlib import Path
from typing import Iterable, Mapping

from videobench.paths import user_cache_folder

STORE_FILENAME = "scores.sqlite"
SCHEMA_VERSION = 1
#: Keys looked up per SELECT (well under SQLite's bound-variable limit).
_LOOKUP_CHUNK = 400

_SCHEMA = """
CREATE TABLE IF NOT EXISTS scores (
    model TEXT NOT NULL,
    video TEXT NOT NULL,
    prompt TEXT NOT NULL,
    sampling TEXT NOT NULL,
    scores TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (model, sampling, video, prompt)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    path TEXT NOT NULL,
    reader TEXT NOT NULL,
    inode INTEGER NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    total_frames INTEGER,
    fps REAL,
    PRIMARY KEY (path, reader)
) WITHOUT ROWID;
"""

#: (inode, size, mtime_ns): a file whose stat still matches is taken as unchanged, as make and rsync do.
FileStat = tuple[int, int, int]
#: (content hash, total frames, fps) found by pre-flight.
FileFacts = tuple[str, "int | None", "float | None"]

Scores = dict[str, float]


def prompt_hash(prompt: str) -> str:
    """Prompts can be long; the store keys them by a hash of their UTF-8 bytes."""
    return hashlib.sha256(prompt.encode("utf-8")).hexdigest()[:32]


def default_cache_dir() -> Path:
    """``$VIDEOBENCH_CACHE`` when set, else ``$XDG_CACHE_HOME/videobench/scores`` (``~/.cache/videobench/scores``)."""
    return user_cache_folder("VIDEOBENCH_CACHE", "scores")


def _encode(scores: Mapping[str, float]) -> str:
    # JSON has no NaN: a model that could not score a dimension for an item is stored as null.
    clean = {k: (float(v) if math.isfinite(float(v)) else None) for k, v in scores.items()}
    return json.dumps(clean, sort_keys=True)


def _decode(text: str) -> Scores:
    return {k: (math.nan if v is None else float(v)) for k, v in json.loads(text).items()}


class _StillLocked(Exception):
    pass


def _until_unlocked(statement, timeout_s: float):
    """Run ``statement`` again while another connection's write lock makes it fail, up to ``timeout_s``.

    Switching a new database to WAL needs an exclusive lock, and SQLite answers "database is locked" at once, without
    its busy handler, while another connection holds a write lock (two ranks opening a fresh cache together).
    """
    deadline = time.monotonic() + timeout_s
    delay = 0.005
    while True:
        try:
            return statement()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() >= deadline:
                raise _StillLocked(str(exc)) from exc
        time.sleep(delay)
        delay = min(delay * 2, 0.1)


class ScoreStore:
    """Per-video scores on disk. Use from one thread; open one ``ScoreStore`` per process."""

    def __init__(self, path: str | os.PathLike, timeout_s: float = 120.0) -> None:
        self.path = Path(path)
        if self.path.is_dir() or self.path.suffix == "":
            self.path = self.path / STORE_FILENAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves so a batch is exactly one transaction.
            self._conn = sqlite3.connect(self.path, timeout=timeout_s, isolation_level=None)
            self._conn.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
            _until_unlocked(lambda: self._conn.execute("PRAGMA journal_mode = WAL"), timeout_s)
            # NORMAL in WAL mode is durable against process crashes (not power loss) and much faster than FULL.
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.executescript(_SCHEMA)
            self._conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
            version = self._conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
        except _StillLocked as exc:
            raise RuntimeError(
                f"score store {self.path} stayed locked by another process for {timeout_s:g} s; "
                "wait for it to finish or pass another cache dir"
            ) from exc
        except sqlite3.DatabaseError as exc:
            raise RuntimeError(
                f"score store {self.path} cannot be opened ({exc}); delete it or pass another cache dir"
            ) from exc
        if int(version) != SCHEMA_VERSION:
            raise RuntimeError(
                f"score store {self.path} has schema version {version}, this videobench writes {SCHEMA_VERSION}; "
                "use another --cache-dir"
            )

    def get_many(
        self, model: str, sampling: str, keys: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], Scores]:
        """Stored scores for the (video hash, prompt hash) keys that are present; absent keys are left out."""
        wanted = set(keys)
        by_video: dict[str, set[str]] = {}
        for video, prompt in wanted:
            by_video.setdefault(video, set()).add(prompt)
        videos = sorted(by_video)
        found: dict[tuple[str, str], Scores] = {}
        for start in range(0, len(videos), _LOOKUP_CHUNK):
            chunk = videos[start : start + _LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(
                f"SELECT video, prompt, scores FROM scores WHERE model = ? AND sampling = ? AND video IN ({marks})",
                (model, sampling, *chunk),
            )
            for video, prompt, text in rows:
                if prompt in by_video[video]:
                    found[(video, prompt)] = _decode(text)
        return found

    def put_many(self, model: str, sampling: str, rows: Iterable[tuple[str, str, Mapping[str, float]]]) -> int:
        """Store rows of (video hash, prompt hash, scores) in one transaction; returns how many were written."""
        return self.put_batch([(model, sampling, video, prompt, scores) for video, prompt, scores in rows])

    def put_batch(self, rows: Iterable[tuple[str, str, str, str, Mapping[str, float]]]) -> int:
        """Rows of (model, sampling, video hash, prompt hash, scores), all in one transaction."""
        now = time.time()
        values = [(m, v, p, s, _encode(sc), now) for m, s, v, p, sc in rows]
        if not values:
            return 0
        # BEGIN IMMEDIATE takes the write lock up front, so waiting happens in the busy handler, not mid-transaction.
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._conn.executemany(
                "INSERT OR REPLACE INTO scores (model, video, prompt, sampling, scores, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                values,
            )
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        return len(values)

    def get_files(self, reader: str, stats: Mapping[str, FileStat]) -> dict[str, FileFacts]:
        """Pre-flight facts remembered for files whose (inode, size, mtime) still match ``stats``."""
        found: dict[str, FileFacts] = {}
        paths = sorted(stats)
        for start in range(0, len(paths), _LOOKUP_CHUNK):
            chunk = paths[start : start + _LOOKUP_CHUNK]
            rows = self._conn.execute(
                f"SELECT path, inode, size, mtime_ns, content_hash, total_frames, fps FROM files "
                f"WHERE reader = ? AND path IN ({','.join('?' * len(chunk))})",
                (reader, *chunk),
            )
            for path, inode, size, mtime_ns, digest, frames, fps in rows:
                if stats[path] == (inode, size, mtime_ns):
                    found[path] = (digest, frames, fps)
        return found

    def put_files(self, reader: str, rows: Iterable[tuple[str, FileStat, FileFacts]]) -> None:
        values = [(path, reader, *stat, *facts) for path, stat, facts in rows]
        if not values:
            return
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._conn.executemany("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?)", values)
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise

    def count(self, model: str | None = None) -> int:
        if model is None:
            return self._conn.execute("SELECT COUNT(*) FROM scores").fetchone()[0]
        return self._conn.execute("SELECT COUNT(*) FROM scores WHERE model = ?", (model,)).fetchone()[0]

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "ScoreStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
