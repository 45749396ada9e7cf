"""A small in-memory Hub API server for tests: just the endpoints huggingface_hub's HfApi uses for create_repo,
validate-yaml, repo info, preupload, commit (NDJSON, parentCommit -> 412 on a moved branch), tree listing (paginated
with a Link header) and file download (HEAD/GET resolve). Everything is uploaded inline ("regular" mode), no LFS.

Tests drive the real client against it: ``HfApi(endpoint=server.url)``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, unquote, urlparse


def blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Commit:
    oid: str
    parent: str | None
    message: str
    files: dict[str, bytes]


@dataclass
class Repo:
    repo_type: str
    repo_id: str
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)

    def resolve(self, rev: str) -> Commit | None:
        if rev in self.branches:
            return self.commits[self.branches[rev]]
        if rev in self.commits:
            return self.commits[rev]
        matches = [c for oid, c in self.commits.items() if len(rev) >= 7 and oid.startswith(rev)]
        return matches[0] if len(matches) == 1 else None


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    remaining: int


class HubState:
    def __init__(self, page_size: int = 1000):
        self.repos: dict[tuple[str, str], Repo] = {}
        self.lock = threading.Lock()
        self.page_size = page_size
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str]] = []
        #: called (repo, branch) just before a commit is applied, outside the lock: lets a test sneak in a rival commit
        self.before_commit: Callable[[Repo, str], None] | None = None

    def fail(self, method: str, path_regex: str, status: int, times: int = 1) -> None:
        self.faults.append(Fault(method, re.compile(path_regex), status, times))

    def create(self, repo_type: str, repo_id: str, files: dict[str, bytes] | None = None) -> Repo:
        repo = Repo(repo_type, repo_id)
        self.repos[(repo_type, repo_id)] = repo
        self.apply(repo, "main", {".gitattributes": b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n",
                                  **(files or {})}, [], "initial commit", None)
        return repo

    def apply(self, repo: Repo, branch: str, adds: dict[str, bytes], deletes: list[str], message: str,
              parent: str | None) -> Commit:
        head = repo.branches.get(branch)
        files = dict(repo.commits[head].files) if head else {}
        for path in deletes:
            if path.endswith("/"):
                for key in [k for k in files if k.startswith(path)]:
                    del files[key]
            else:
                files.pop(path, None)
        files.update(adds)
        oid = hashlib.sha1(f"{head}{message}{uuid.uuid4()}".encode()).hexdigest()
        commit = Commit(oid, head, message, files)
        repo.commits[oid] = commit
        repo.branches[branch] = oid
        return commit


class _Handler(BaseHTTPRequestHandler):
    server: "_Server"
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    # --- helpers ---
    @property
    def state(self) -> HubState:
        return self.server.state

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
              content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, obj: object, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj).encode(), headers)

    def _error(self, status: int, message: str, code: str | None = None) -> None:
        headers = {"X-Error-Message": message}
        if code:
            headers["X-Error-Code"] = code
        self._json(status, {"error": message}, headers)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _repo(self, repo_type: str, repo_id: str) -> Repo | None:
        return self.state.repos.get((repo_type, repo_id))

    def _route(self) -> None:
        url = urlparse(self.path)
        path, query = url.path, parse_qs(url.query)
        self.state.requests.append((self.command, path))
        for fault in self.state.faults:
            if fault.remaining > 0 and fault.method == self.command and fault.pattern.search(path):
                fault.remaining -= 1
                self._body()
                return self._error(fault.status, f"injected fault {fault.status}")
        body = self._body() if self.command == "POST" else b""
        if self.command == "POST" and path == "/api/repos/create":
            return self._create_repo(json.loads(body))
        if self.command == "POST" and path == "/api/validate-yaml":
            return self._json(200, {"errors": [], "warnings": []})
        m = re.match(r"^/api/(models|datasets|spaces)/([^/]+/[^/]+)(?:/(revision|tree|preupload|commit)/([^/]+)(/.*)?)?$", path)
        if m:
            repo_type, repo_id, action, rev, rest = m.groups()
            repo = self._repo(repo_type[:-1], repo_id)
            if repo is None:
                return self._error(404, "Repository not found", "RepoNotFound")
            rev = unquote(rev or "main")
            if action in (None, "revision") and self.command == "GET":
                return self._info(repo, rev)
            if action == "tree" and self.command == "GET":
                return self._tree(repo, rev, unquote(rest or "").strip("/"), query)
            if action == "preupload" and self.command == "POST":
                return self._preupload(repo, rev, json.loads(body))
            if action == "commit" and self.command == "POST":
                return self._commit(repo, rev, body)
        m = re.match(r"^/(?:(datasets|spaces)/)?([^/]+/[^/]+)/resolve/([^/]+)/(.+)$", path)
        if m and self.command in ("GET", "HEAD"):
            repo_type = (m.group(1) or "models")[:-1]
            repo = self._repo(repo_type, m.group(2))
            if repo is None:
                return self._error(404, "Repository not found", "RepoNotFound")
            return self._resolve(repo, unquote(m.group(3)), unquote(m.group(4)))
        self._error(404, f"no route for {self.command} {path}")

    do_GET = do_POST = do_HEAD = _route

    # --- endpoints ---
    def _create_repo(self, payload: dict) -> None:
        repo_type = payload.get("type") or "model"
        name = payload["name"]
        repo_id = f"{payload['organization']}/{name}" if payload.get("organization") else name
        if "/" not in repo_id:
            repo_id = f"user/{repo_id}"
        prefix = "" if repo_type == "model" else f"{repo_type}s/"
        url = f"{self.server.url}/{prefix}{repo_id}"
        with self.state.lock:
            if (repo_type, repo_id) in self.state.repos:
                # like the Hub: 409, and the body still names the repo (HfApi.create_repo(exist_ok=True) reads it)
                message = "You already created this repo"
                return self._json(409, {"error": message, "url": url}, {"X-Error-Message": message})
            self.state.create(repo_type, repo_id)
        self._json(200, {"url": url, "name": repo_id})

    def _info(self, repo: Repo, rev: str) -> None:
        commit = repo.resolve(rev)
        if commit is None:
            return self._error(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        self._json(200, {
            "id": repo.repo_id, "_id": repo.repo_id, "sha": commit.oid, "private": False, "disabled": False,
            "gated": False, "tags": [], "lastModified": "2026-01-01T00:00:00.000Z",
            "siblings": [{"rfilename": p} for p in sorted(commit.files)],
        })

    def _tree(self, repo: Repo, rev: str, prefix: str, query: dict[str, list[str]]) -> None:
        commit = repo.resolve(rev)
        if commit is None:
            return self._error(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        recursive = query.get("recursive", ["false"])[0].lower() in ("1", "true")
        base = prefix + "/" if prefix else ""
        entries: dict[str, dict] = {}
        for path, data in sorted(commit.files.items()):
            if not path.startswith(base):
                continue
            rel = path[len(base):].split("/")
            for depth in range(1, len(rel)):
                folder = base + "/".join(rel[:depth])
                if depth == 1 or recursive:
                    entries.setdefault(folder, {"type": "directory", "path": folder, "oid": blob_oid(folder.encode())})
                if not recursive:
                    break
            if len(rel) == 1 or recursive:
                entries[path] = {"type": "file", "path": path, "size": len(data), "oid": blob_oid(data)}
        if prefix and not entries:
            return self._error(404, f"{prefix} not found", "EntryNotFound")
        items = [entries[k] for k in sorted(entries)]
        start = int(query.get("cursor", ["0"])[0])
        page = items[start:start + self.state.page_size]
        headers = {}
        if start + self.state.page_size < len(items):
            url = urlparse(self.path)
            rest = "&".join(p for p in url.query.split("&") if p and not p.startswith("cursor="))
            headers["Link"] = f'<{self.server.url}{url.path}?{rest}&cursor={start + self.state.page_size}>; rel="next"'
        self._json(200, page, headers)

    def _preupload(self, repo: Repo, rev: str, payload: dict) -> None:
        commit = repo.resolve(rev)
        files = commit.files if commit else {}
        self._json(200, {"files": [
            {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False,
             "oid": blob_oid(files[f["path"]]) if f["path"] in files else None}
            for f in payload["files"]
        ]})

    def _commit(self, repo: Repo, branch: str, body: bytes) -> None:
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        header = next((item["value"] for item in lines if item["key"] == "header"), {})
        adds: dict[str, bytes] = {}
        deletes: list[str] = []
        for item in lines:
            key, value = item["key"], item["value"]
            if key == "file":
                adds[value["path"]] = base64.b64decode(value["content"])
            elif key in ("deletedFile", "deletedFolder"):
                deletes.append(value["path"] + ("/" if key == "deletedFolder" else ""))
            elif key == "lfsFile":
                return self._error(400, "this test server does not take LFS uploads")
        if self.state.before_commit is not None:
            hook, self.state.before_commit = self.state.before_commit, None
            hook(repo, branch)
        with self.state.lock:
            head = repo.branches.get(branch)
            if head is None:
                return self._error(404, f"Invalid rev id: {branch}", "RevisionNotFound")
            parent = header.get("parentCommit")
            if parent and not head.startswith(parent):
                return self._error(412, "A commit has happened since. Please refresh and try again.")
            for path in deletes:
                if not path.endswith("/") and path not in repo.commits[head].files:
                    return self._error(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
            commit = self.state.apply(repo, branch, adds, deletes, header.get("summary", ""), head)
        prefix = "" if repo.repo_type == "model" else f"{repo.repo_type}s/"
        self._json(200, {"success": True, "commitOid": commit.oid, "pullRequestUrl": None,
                         "commitUrl": f"{self.server.url}/{prefix}{repo.repo_id}/commit/{commit.oid}"})

    def _resolve(self, repo: Repo, rev: str, path: str) -> None:
        commit = repo.resolve(rev)
        if commit is None:
            return self._error(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        if path not in commit.files:
            return self._error(404, "Entry not found", "EntryNotFound")
        data = commit.files[path]
        self._send(200, data, {"X-Repo-Commit": commit.oid, "ETag": f'"{blob_oid(data)}"'},
                   content_type="application/octet-stream")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: HubState
    url: str


class HubTestServer:
    """``with HubTestServer() as hub: HfApi(endpoint=hub.url)``."""

    def __init__(self, page_size: int = 1000):
        self.state = HubState(page_size)
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.state = self.state
        self.url = self._server.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "HubTestServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def files(self, repo_id: str, repo_type: str = "dataset", rev: str = "main") -> dict[str, bytes]:
        commit = self.state.repos[(repo_type, repo_id)].resolve(rev)
        return dict(commit.files) if commit else {}

    def commits(self, repo_id: str, repo_type: str = "dataset") -> list[Commit]:
        repo = self.state.repos[(repo_type, repo_id)]
        out, oid = [], repo.branches.get("main")
        while oid:
            out.append(repo.commits[oid])
            oid = repo.commits[oid].parent
        return out


if __name__ == "__main__":  # manual poking: python tests/leaderboard/hub_server.py
    with HubTestServer() as hub:
        print(hub.url)
        while True:
            time.sleep(3600)
