"""Results stores: one interface over a local folder and a Hub dataset repo.

A store is read through a ``Snapshot`` (a revision and the listing of every file at it) and written by
``Store.update(plan, message)``: ``plan`` turns a snapshot into the files to add/replace/delete, unchanged files are
dropped, and the rest is committed with the snapshot's revision as parent. When someone else committed in between the
commit is refused (``CommitConflict``); ``update`` then re-reads and calls ``plan`` again on the new snapshot, so
whatever the other writer added is merged, never dropped. Plans must therefore be pure functions of the snapshot.
"""

from __future__ import annotations

import fcntl
import json
import os
import random
import time
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Mapping

from videobench.atomic import clean_stale, temp_path, write_bytes
from videobench.faults import fault_point
from videobench.leaderboard.errors import CommitConflict, StoreError
from videobench.leaderboard.layout import git_blob_sha1, sha256_hex

#: Files larger than this are never downloaded or read from a store (results are untrusted input).
MAX_READ_BYTES = 64 * 1024 * 1024

#: path -> new content, or None to delete.
Changes = dict[str, "bytes | None"]


@dataclass(frozen=True)
class FileInfo:
    path: str
    size: int
    #: git blob id (for LFS files on the Hub: of the pointer, so ``sha256`` is set and used instead)
    oid: str
    sha256: str | None = None

    def same_content(self, data: bytes) -> bool:
        if len(data) != self.size:
            return False
        if self.sha256 is not None:
            return sha256_hex(data) == self.sha256
        return git_blob_sha1(data) == self.oid


@dataclass
class Snapshot:
    """A consistent view of a store at one revision (None for an empty store)."""

    store: "Store"
    revision: str | None
    files: dict[str, FileInfo]
    _cache: dict[str, bytes] = field(default_factory=dict, repr=False)

    def list(self, prefix: str = "") -> list[str]:
        prefix = prefix.rstrip("/") + "/" if prefix else ""
        return sorted(p for p in self.files if p.startswith(prefix))

    def exists(self, path: str) -> bool:
        return path in self.files

    def read(self, path: str) -> bytes:
        info = self.files.get(path)
        if info is None:
            raise StoreError(f"{self.store.describe()}: no file {path!r} at revision {self.revision}")
        if info.size > MAX_READ_BYTES:
            raise StoreError(f"{self.store.describe()}: {path} is {info.size} bytes, over the {MAX_READ_BYTES}-byte limit")
        if path not in self._cache:
            self._cache[path] = self.store.read_file(path, self.revision)
        return self._cache[path]

    def prefetch(self, paths: list[str]) -> None:
        """Fill the cache for many files at once (the Hub store downloads them in parallel)."""
        wanted = [p for p in paths if p not in self._cache and p in self.files and self.files[p].size <= MAX_READ_BYTES]
        self._cache.update(self.store.read_many(wanted, self.revision))

    def read_json(self, path: str) -> object:
        try:
            return json.loads(self.read(path).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise StoreError(f"{self.store.describe()}: {path} is not valid JSON ({exc})") from exc


@dataclass
class UpdateOutcome:
    revision: str | None
    changed: list[str]
    attempts: int
    committed: bool


class Store(ABC):
    """Common logic; subclasses provide listing, reading and a commit that honours ``parent``."""

    #: Attempts of ``update`` on conflicts before giving up.
    max_attempts: int = 10

    @abstractmethod
    def describe(self) -> str: ...

    @abstractmethod
    def snapshot(self) -> Snapshot: ...

    @abstractmethod
    def read_file(self, path: str, revision: str | None) -> bytes: ...

    def read_many(self, paths: list[str], revision: str | None) -> dict[str, bytes]:
        """Several files; files that cannot be read are left out (``read`` reports them)."""
        out = {}
        for path in paths:
            try:
                out[path] = self.read_file(path, revision)
            except StoreError:
                continue
        return out

    @abstractmethod
    def commit(self, changes: Mapping[str, bytes | None], message: str, parent: str | None) -> str:
        """Apply ``changes`` atomically if the head is still ``parent``; else raise ``CommitConflict``."""

    def ensure(self) -> None:
        """Create the store when missing (no-op by default)."""

    def update(self, plan: Callable[[Snapshot], Changes], message: str) -> UpdateOutcome:
        for attempt in range(1, self.max_attempts + 1):
            snap = self.snapshot()
            changes = minimal_changes(snap, plan(snap))
            if not changes:
                return UpdateOutcome(snap.revision, [], attempt, committed=False)
            try:
                revision = self.commit(changes, message, parent=snap.revision)
            except CommitConflict:
                # Someone committed since our snapshot: back off a little (jittered so racing writers spread out).
                time.sleep(min(2.0, 0.05 * 2 ** (attempt - 1)) * random.uniform(0.5, 1.5))
                continue
            return UpdateOutcome(revision, sorted(changes), attempt, committed=True)
        raise StoreError(f"{self.describe()}: gave up after {self.max_attempts} conflicting commits ({message!r})")


def minimal_changes(snap: Snapshot, changes: Changes) -> Changes:
    """Drop writes of identical content and deletions of absent files: only what changed is committed."""
    out: Changes = {}
    for path, data in changes.items():
        info = snap.files.get(path)
        if data is None:
            if info is not None:
                out[path] = None
        elif info is None or not info.same_content(data):
            out[path] = data
    return out


class LocalStore(Store):
    """A folder with the store layout. Commits are serialised by a lock file and checked against a HEAD id.

    A commit is all or nothing: every new file is written under a temp name, then a journal naming each rename (and
    the new HEAD) is written in one rename, then the renames are applied and the journal removed. A process killed
    before the journal exists leaves the old state (its temp files are removed by the next commit); killed after,
    the next ``snapshot`` or ``commit`` finishes the renames first. Nobody reading through a snapshot sees half a
    commit.
    """

    META = ".videobench"

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self._oid_cache: dict[str, tuple[int, int, str]] = {}

    def describe(self) -> str:
        return f"local store {self.root}"

    def ensure(self) -> None:
        (self.root / self.META).mkdir(parents=True, exist_ok=True)

    @property
    def _head_file(self) -> Path:
        return self.root / self.META / "HEAD"

    def _head(self) -> str | None:
        try:
            return self._head_file.read_text().strip() or None
        except FileNotFoundError:
            return None

    def _walk(self) -> Iterator[Path]:
        if not self.root.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for name in filenames:
                if not name.startswith("."):
                    yield Path(dirpath) / name

    @property
    def _journal(self) -> Path:
        return self.root / self.META / "journal.json"

    def _roll_forward(self) -> None:
        """Finish a commit whose journal was written (call with the exclusive lock held); idempotent."""
        try:
            entry = json.loads(self._journal.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        for path, tmp in entry["files"].items():
            target = self._resolve(path)
            if tmp is None:
                target.unlink(missing_ok=True)
            elif (target.parent / tmp).exists():  # absent: this rename was done before the kill
                os.replace(target.parent / tmp, target)
                fault_point("store:renamed")
        with (self.root / self.META / "log.jsonl").open("a", encoding="utf-8") as f:
            f.write(json.dumps({k: entry[k] for k in ("revision", "parent", "message", "time")}
                               | {"files": sorted(entry["files"])}) + "\n")
        write_bytes(self._head_file, (entry["revision"] + "\n").encode())
        self._journal.unlink()

    def snapshot(self) -> Snapshot:
        files: dict[str, FileInfo] = {}
        if self._journal.exists():  # a commit was interrupted after its journal: finish it before reading
            with self._lock():
                self._roll_forward()
        with self._lock(shared=True):
            revision = self._head()
            for path in self._walk():
                if path.is_symlink():
                    continue  # never follow links out of the store
                rel = path.relative_to(self.root).as_posix()
                st = path.stat()
                cached = self._oid_cache.get(rel)
                if cached and cached[:2] == (st.st_mtime_ns, st.st_size):
                    oid = cached[2]
                else:
                    oid = git_blob_sha1(path.read_bytes())
                    self._oid_cache[rel] = (st.st_mtime_ns, st.st_size, oid)
                files[rel] = FileInfo(rel, st.st_size, oid)
        return Snapshot(self, revision, files)

    def read_file(self, path: str, revision: str | None) -> bytes:
        target = self._resolve(path)
        try:
            return target.read_bytes()
        except FileNotFoundError as exc:
            raise StoreError(f"{self.describe()}: no file {path!r}") from exc

    def read_many(self, paths: list[str], revision: str | None) -> dict[str, bytes]:
        # Paths from this store's own listing never pass through a link (the walk does not follow them), so a
        # lexical check is enough here and saves two realpath calls per file on large boards.
        out = {}
        for path in paths:
            parts = path.split("/")
            if any(not p or p.startswith(".") for p in parts):
                continue
            try:
                with open(os.path.join(self.root, *parts), "rb") as f:
                    out[path] = f.read()
            except OSError:
                continue
        return out

    def _resolve(self, path: str) -> Path:
        root = os.path.realpath(self.root)
        target = os.path.realpath(os.path.join(root, path))
        if not target.startswith(root + os.sep) or any(part.startswith(".") for part in path.split("/")):
            raise StoreError(f"{self.describe()}: path {path!r} leaves the store")
        return Path(target)

    class _Lock:
        def __init__(self, path: Path, shared: bool):
            self.path, self.shared, self.fd = path, shared, -1

        def __enter__(self) -> None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(self.fd, fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX)

        def __exit__(self, *exc: object) -> None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)

    def _lock(self, shared: bool = False) -> "LocalStore._Lock":
        return LocalStore._Lock(self.root / self.META / "lock", shared)

    def commit(self, changes: Mapping[str, bytes | None], message: str, parent: str | None) -> str:
        targets = {path: self._resolve(path) for path in changes}
        with self._lock():
            self._roll_forward()
            if self._head() != parent:
                raise CommitConflict(f"{self.describe()}: head is {self._head()}, not {parent}")
            staged: dict[str, str | None] = {}
            for path, data in changes.items():
                target = targets[path]
                if data is None:
                    staged[path] = None
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                clean_stale(target.parent, target.name)  # temp files of an earlier commit killed before its journal
                tmp = temp_path(target)
                tmp.write_bytes(data)
                staged[path] = tmp.name
            revision = uuid.uuid4().hex + uuid.uuid4().hex[:8]
            fault_point("store:staged")
            write_bytes(self._journal, json.dumps({"revision": revision, "parent": parent, "message": message,
                                                   "time": time.time(), "files": staged}).encode())
            fault_point("store:journal")
            self._roll_forward()
        return revision


def open_store(target: str, *, endpoint: str | None = None, token: str | None = None,
               cache_dir: str | os.PathLike | None = None) -> Store:
    """A local folder when ``target`` exists as one or looks like a path; else a Hub dataset repo id ``org/name``
    (prefix ``hf://datasets/`` accepted)."""
    from videobench.leaderboard.hub_store import HubStore

    if target.startswith("hf://"):
        repo = target.removeprefix("hf://").removeprefix("datasets/")
        return HubStore(repo, endpoint=endpoint, token=token, cache_dir=cache_dir)
    path = Path(target)
    if path.exists() or target.startswith((".", "/", "~")) or target.count("/") != 1:
        return LocalStore(path.expanduser())
    return HubStore(target, endpoint=endpoint, token=token, cache_dir=cache_dir)
