"""The results store as a Hub dataset repo, through huggingface_hub's ``HfApi``.

One ``create_commit`` per update with ``parent_commit`` set to the snapshot's commit: the Hub refuses it (HTTP 412, or
409 on some paths) when the branch moved, which ``Store.update`` turns into re-read, re-plan, retry. Transient HTTP
errors (408/429/5xx, dropped connections) are retried here with exponential backoff; retrying a commit is safe because
a commit that did land moves the head, so the retry conflicts and the re-plan finds nothing left to change.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Callable, Mapping, TypeVar

from videobench.leaderboard.errors import CommitConflict, StoreError
from videobench.leaderboard.store import FileInfo, Snapshot, Store

T = TypeVar("T")
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
CONFLICT_STATUS = frozenset({409, 412})


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _is_transient(exc: BaseException) -> bool:
    import httpx2

    if isinstance(exc, (httpx2.TransportError, ConnectionError, TimeoutError)):
        return True
    return _status(exc) in TRANSIENT_STATUS


class HubStore(Store):
    def __init__(
        self,
        repo_id: str,
        *,
        endpoint: str | None = None,
        token: str | bool | None = None,
        revision: str = "main",
        cache_dir: str | os.PathLike | None = None,
        private: bool = False,
        max_retries: int = 5,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ):
        from huggingface_hub import HfApi

        self.repo_id = repo_id
        self.api = HfApi(endpoint=endpoint, token=token)
        self.branch = revision
        self.private = private
        self.cache_dir = Path(cache_dir) if cache_dir else Path(tempfile.gettempdir()) / "videobench-hub-cache"
        self.max_retries, self.backoff, self._sleep = max_retries, backoff, sleep
        self.download_threads = 8

    def describe(self) -> str:
        return f"Hub dataset {self.repo_id} ({self.api.endpoint})"

    def _retry(self, what: str, fn: Callable[[], T]) -> T:
        for attempt in range(self.max_retries + 1):
            try:
                return fn()
            except Exception as exc:
                if _status(exc) in CONFLICT_STATUS:
                    raise CommitConflict(f"{self.describe()}: {what}: {exc}") from exc
                if not _is_transient(exc) or attempt == self.max_retries:
                    raise
                self._sleep(min(30.0, self.backoff * 2**attempt))
        raise AssertionError("unreachable")

    def ensure(self) -> None:
        self._retry("create repo", lambda: self.api.create_repo(
            self.repo_id, repo_type="dataset", exist_ok=True, private=self.private))

    def head(self) -> str | None:
        from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

        try:
            info = self._retry("repo info", lambda: self.api.repo_info(
                self.repo_id, repo_type="dataset", revision=self.branch))
        except (RevisionNotFoundError, RepositoryNotFoundError):
            return None  # an empty store; the first commit creates the repo
        return info.sha

    def snapshot(self) -> Snapshot:
        from huggingface_hub.hf_api import RepoFile

        revision = self.head()
        files: dict[str, FileInfo] = {}
        if revision is not None:
            entries = self._retry("list tree", lambda: list(self.api.list_repo_tree(
                self.repo_id, repo_type="dataset", revision=revision, recursive=True)))
            for entry in entries:
                if isinstance(entry, RepoFile):
                    sha = entry.lfs.sha256 if entry.lfs is not None else None
                    size = entry.lfs.size if entry.lfs is not None else entry.size
                    files[entry.path] = FileInfo(entry.path, size, entry.blob_id, sha)
        return Snapshot(self, revision, files)

    def read_file(self, path: str, revision: str | None) -> bytes:
        # Downloads by commit hash are immutable, so hf_hub_download's cache serves repeated builds offline.
        local = self._retry(f"download {path}", lambda: self.api.hf_hub_download(
            self.repo_id, path, repo_type="dataset", revision=revision or self.branch, cache_dir=self.cache_dir))
        return Path(local).read_bytes()

    def read_many(self, paths: list[str], revision: str | None) -> dict[str, bytes]:
        # One HEAD + GET per file: threads hide the latency (a first build of a large board reads thousands).
        from concurrent.futures import ThreadPoolExecutor

        def one(path: str) -> tuple[str, bytes | None]:
            try:
                return path, self.read_file(path, revision)
            except Exception:  # reported with its message when read again one by one
                return path, None

        with ThreadPoolExecutor(max_workers=self.download_threads) as pool:
            return {p: data for p, data in pool.map(one, paths) if data is not None}

    def commit(self, changes: Mapping[str, bytes | None], message: str, parent: str | None) -> str:
        from huggingface_hub import CommitOperationAdd, CommitOperationDelete

        def attempt() -> str:
            # Operations are single-use in huggingface_hub, so they are rebuilt for each try.
            ops = [
                CommitOperationDelete(path_in_repo=path) if data is None
                else CommitOperationAdd(path_in_repo=path, path_or_fileobj=data)
                for path, data in sorted(changes.items())
            ]
            info = self.api.create_commit(
                self.repo_id, ops, commit_message=message, repo_type="dataset",
                revision=self.branch, parent_commit=parent)
            return info.oid

        if parent is None:
            # No repo yet: create it (the Hub gives it an initial commit), then let `update` re-plan on that head,
            # so even the first commit is checked against a parent.
            self.ensure()
            if self.head() is None:
                raise StoreError(f"{self.describe()}: the repository exists but cannot be read (private without a "
                                 "token, or a missing branch)")
            raise CommitConflict(f"{self.describe()}: created the repository; re-plan on its first commit")
        return self._retry("commit", attempt)
