"""A small in-memory Hub API server for tests: just the endpoints huggingface_hub's HfApi uses for create_repo,
validate-yaml (YAML front matter and the model-index structure checked), whoami (``state.users``: token -> name),
repo info, preupload, the LFS batch API (basic transfer: upload + verify), commit (NDJSON, parentCommit -> 412 on a
moved branch), tree listing (paginated with a Link header; LFS files carry their ``lfs`` block) and file download
(HEAD/GET resolve; LFS files redirect to their object, with X-Linked-Etag / X-Linked-Size, as the Hub does).

Like the Hub, preupload answers "lfs" for a file that matches an LFS rule of the repo's .gitattributes (the Hub's
default rules cover *.parquet, *.zip, *.safetensors, ...), is larger than 10 MiB, or whose sample is binary (a NUL byte
or not UTF-8), and "regular" otherwise. The server never offers Xet: huggingface_hub picks Xet on its own when hf_xet is
installed, so clients of this server set HF_HUB_DISABLE_XET (tests/conftest.py does) and take the LFS path.

Tests drive the real client against it: ``HfApi(endpoint=server.url)``.
"""

from __future__ import annotations

import base64
import fnmatch
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

import yaml

#: LFS rules of the .gitattributes the Hub writes into a new repository (the part that matters for these tests).
DEFAULT_GITATTRIBUTES = "".join(f"{pattern} filter=lfs diff=lfs merge=lfs -text\n" for pattern in (
    "*.7z", "*.arrow", "*.bin", "*.gz", "*.npy", "*.npz", "*.parquet", "*.pt", "*.pth", "*.safetensors", "*.tar",
    "*.zip", "*.zst", "*.mp4", "*.png", "*.jpg"))
LFS_SIZE_THRESHOLD = 10 * 1024 * 1024


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The git-lfs pointer file that git stores in place of an LFS file's content."""
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


def lfs_patterns(gitattributes: bytes) -> list[str]:
    out = []
    for line in gitattributes.decode(errors="replace").splitlines():
        parts = line.split()
        if len(parts) >= 2 and "filter=lfs" in parts[1:]:
            out.append(parts[0])
    return out


def is_binary(sample: bytes) -> bool:
    if b"\0" in sample:
        return True
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:  # a sample cut inside a multi-byte character is still text
        return exc.start < len(sample) - 3
    return False


def blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Commit:
    oid: str
    parent: str | None
    message: str
    files: dict[str, bytes]
    #: path -> sha256 for the files stored in LFS (their content is in ``files`` too, for the tests to read)
    lfs: dict[str, str] = field(default_factory=dict)

    def blob_id(self, path: str) -> str:
        """The git blob id the Hub reports: of the pointer file for an LFS file."""
        data = self.files[path]
        return blob_oid(lfs_pointer(self.lfs[path], len(data)) if path in self.lfs else data)


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
        #: LFS object store: sha256 -> content, filled by the basic-transfer PUT; ``verified`` after the verify call
        self.lfs_objects: dict[str, bytes] = {}
        self.lfs_verified: set[str] = set()
        #: origin of the LFS objects: a second port, so that huggingface_hub treats it as the Hub's CDN (another origin)
        self.cdn_url = ""
        #: called (repo, branch) just before a commit is applied, outside the lock: lets a test sneak in a rival commit
        self.before_commit: Callable[[Repo, str], None] | None = None
        #: token -> user name, answered by /api/whoami-v2 (401 for any other token, or none)
        self.users: dict[str, str] = {}

    def fail(self, method: str, path_regex: str, status: int, times: int = 1) -> None:
        self.faults.append(Fault(method, re.compile(path_regex), status, times))

    def create(self, repo_type: str, repo_id: str, files: dict[str, bytes] | None = None) -> Repo:
        repo = Repo(repo_type, repo_id)
        self.repos[(repo_type, repo_id)] = repo
        self.apply(repo, "main", {".gitattributes": DEFAULT_GITATTRIBUTES.encode(), **(files or {})}, [],
                   "initial commit", None)
        return repo

    def upload_mode(self, repo: Repo, rev: str, path: str, sample: bytes, size: int) -> str:
        commit = repo.resolve(rev)
        rules = lfs_patterns(commit.files.get(".gitattributes", b"")) if commit else []
        name = path.rsplit("/", 1)[-1]
        by_rule = any(fnmatch.fnmatch(path if "/" in pattern else name, pattern) for pattern in rules)
        return "lfs" if by_rule or size > LFS_SIZE_THRESHOLD or is_binary(sample) else "regular"

    def apply(self, repo: Repo, branch: str, adds: dict[str, bytes], deletes: list[str], message: str,
              parent: str | None, lfs_adds: dict[str, str] | None = None) -> Commit:
        head = repo.branches.get(branch)
        files = dict(repo.commits[head].files) if head else {}
        lfs = dict(repo.commits[head].lfs) if head else {}
        for path in deletes:
            if path.endswith("/"):
                for key in [k for k in files if k.startswith(path)]:
                    del files[key]
                    lfs.pop(key, None)
            else:
                files.pop(path, None)
                lfs.pop(path, None)
        files.update(adds)
        for path in adds:
            lfs.pop(path, None)
        for path, sha in (lfs_adds or {}).items():
            files[path], lfs[path] = self.lfs_objects[sha], sha
        oid = hashlib.sha1(f"{head}{message}{uuid.uuid4()}".encode()).hexdigest()
        commit = Commit(oid, head, message, files, lfs)
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
        body = self._body() if self.command in ("POST", "PUT") else b""
        if self.command == "POST" and path == "/api/repos/create":
            return self._create_repo(json.loads(body))
        if self.command == "GET" and path == "/api/whoami-v2":
            return self._whoami()
        if self.command == "POST" and path == "/api/validate-yaml":
            return self._validate_yaml(json.loads(body))
        m = re.match(r"^/(?:(datasets|spaces)/)?([^/]+/[^/]+)\.git/info/lfs/objects/batch$", path)
        if m and self.command == "POST":
            repo = self._repo((m.group(1) or "models")[:-1], m.group(2))
            if repo is None:
                return self._error(404, "Repository not found", "RepoNotFound")
            return self._lfs_batch(json.loads(body))
        m = re.match(r"^/lfs-objects/([0-9a-f]{64})(/verify)?$", path)
        if m:
            return self._lfs_object(m.group(1), bool(m.group(2)), body)
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

    do_GET = do_POST = do_HEAD = do_PUT = _route

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

    def _whoami(self) -> None:
        auth = self.headers.get("Authorization") or ""
        name = self.state.users.get(auth.removeprefix("Bearer ").strip()) if auth.startswith("Bearer ") else None
        if name is None:
            return self._error(401, "Invalid credentials in Authorization header")
        self._json(200, {"type": "user", "name": name, "fullname": name, "orgs": [], "avatarUrl": "",
                         "auth": {"type": "access_token", "accessToken": {"displayName": "test", "role": "write"}}})

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
                entries[path] = {"type": "file", "path": path, "size": len(data), "oid": commit.blob_id(path)}
                if path in commit.lfs:  # as the Hub lists an LFS file: the pointer's blob id plus an `lfs` block
                    pointer = lfs_pointer(commit.lfs[path], len(data))
                    entries[path]["lfs"] = {"oid": commit.lfs[path], "size": len(data), "pointerSize": len(pointer)}
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
        out = []
        for f in payload["files"]:
            path = f["path"]
            mode = self.state.upload_mode(repo, rev, path, base64.b64decode(f.get("sample", "")), int(f["size"]))
            oid = None  # of the current file, as the client computes it for this mode: sha256 (LFS) or git sha1
            if commit is not None and path in commit.files:
                data = commit.files[path]
                oid = hashlib.sha256(data).hexdigest() if mode == "lfs" else blob_oid(data)
            out.append({"path": path, "uploadMode": mode, "shouldIgnore": False, "oid": oid})
        self._json(200, {"files": out})

    def _lfs_batch(self, payload: dict) -> None:
        # git-lfs batch API, basic transfer only: an object already stored gets no actions (the client skips it).
        if payload.get("operation") != "upload" or "basic" not in payload.get("transfers", ["basic"]):
            return self._error(400, "this server takes LFS uploads by the basic transfer only")
        objects = []
        for obj in payload["objects"]:
            oid, size = obj["oid"], int(obj["size"])
            entry: dict = {"oid": oid, "size": size, "authenticated": True}
            if oid not in self.state.lfs_objects:
                href = f"{self.state.cdn_url}/lfs-objects/{oid}"
                entry["actions"] = {"upload": {"href": href, "header": {}},
                                    "verify": {"href": href + "/verify", "header": {}}}
            objects.append(entry)
        self._json(200, {"transfer": "basic", "objects": objects, "hash_algo": "sha256"},
                   {"Content-Type": "application/vnd.git-lfs+json"})

    def _lfs_object(self, oid: str, verify: bool, body: bytes) -> None:
        if self.command == "PUT" and not verify:
            if hashlib.sha256(body).hexdigest() != oid:
                return self._error(400, f"uploaded content does not hash to {oid}")
            with self.state.lock:
                self.state.lfs_objects[oid] = body
            return self._send(200)
        if self.command == "POST" and verify:
            claim = json.loads(body)
            stored = self.state.lfs_objects.get(oid)
            if stored is None or claim.get("oid") != oid or claim.get("size") != len(stored):
                return self._error(404, f"LFS object {oid} was not uploaded (or has another size)")
            self.state.lfs_verified.add(oid)
            return self._json(200, {"success": True})
        if self.command in ("GET", "HEAD") and not verify:
            data = self.state.lfs_objects.get(oid)
            if data is None:
                return self._error(404, "LFS object not found")
            return self._send(200, data, {"ETag": f'"{oid}"'}, content_type="application/octet-stream")
        self._error(405, f"{self.command} not allowed here")

    def _validate_yaml(self, payload: dict) -> None:
        # The Hub answers 400 with the reason as text; huggingface_hub's RepoCard.validate turns that into ValueError.
        problems = validate_card(payload.get("content", ""), payload.get("repoType", "model"))
        if problems:
            return self._send(400, "\n".join(problems).encode(), content_type="text/plain")
        self._json(200, {"errors": [], "warnings": []})

    def _commit(self, repo: Repo, branch: str, body: bytes) -> None:
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        header = next((item["value"] for item in lines if item["key"] == "header"), {})
        adds: dict[str, bytes] = {}
        lfs_adds: dict[str, str] = {}
        deletes: list[str] = []
        for item in lines:
            key, value = item["key"], item["value"]
            if key == "file":
                adds[value["path"]] = base64.b64decode(value["content"])
            elif key in ("deletedFile", "deletedFolder"):
                deletes.append(value["path"] + ("/" if key == "deletedFolder" else ""))
            elif key == "lfsFile":
                if value.get("algo", "sha256") != "sha256" or value["oid"] not in self.state.lfs_verified:
                    return self._error(400, f"LFS object {value['oid']} of {value['path']} was not uploaded")
                lfs_adds[value["path"]] = value["oid"]
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
            commit = self.state.apply(repo, branch, adds, deletes, header.get("summary", ""), head, lfs_adds)
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
        if path in commit.lfs:
            # The Hub redirects an LFS file to its object (a CDN), naming the object by sha256 and size.
            sha = commit.lfs[path]
            return self._send(302, b"", {"X-Repo-Commit": commit.oid, "ETag": f'"{commit.blob_id(path)}"',
                                         "X-Linked-Etag": f'"{sha}"', "X-Linked-Size": str(len(data)),
                                         "Location": f"{self.state.cdn_url}/lfs-objects/{sha}"})
        self._send(200, data, {"X-Repo-Commit": commit.oid, "ETag": f'"{blob_oid(data)}"'},
                   content_type="application/octet-stream")


def validate_card(content: str, repo_type: str) -> list[str]:
    """What the Hub's validate-yaml rejects, for the parts our cards use: front matter that is not a YAML mapping, and
    a model-index that is not a list of {name, results: [{task: {type}, dataset: {type, name}, metrics: [{type,
    value}]}]}."""
    if not content.startswith("---"):
        return []
    parts = content.split("\n---", 1)
    if len(parts) < 2:
        return ["YAML front matter is not closed by ---"]
    try:
        meta = yaml.safe_load(parts[0].removeprefix("---"))
    except yaml.YAMLError as exc:
        return [f"invalid YAML: {exc}"]
    if meta is None:
        return []
    if not isinstance(meta, dict):
        return ["YAML metadata must be a mapping"]
    index = meta.get("model-index")
    if index is None:
        return []
    if repo_type != "model":
        return ["model-index is only allowed in model cards"]
    problems: list[str] = []

    def need(obj: object, where: str, keys: tuple[str, ...]) -> bool:
        if not isinstance(obj, dict):
            problems.append(f'"{where}" must be an object')
            return False
        for key in keys:
            if key not in obj or obj[key] in (None, ""):
                problems.append(f'"{where}.{key}" is required')
        return True

    if not isinstance(index, list) or not index:
        return ['"model-index" must be a non-empty array']
    for i, model in enumerate(index):
        if not need(model, f"model-index[{i}]", ("name", "results")):
            continue
        results = model.get("results")
        if not isinstance(results, list):
            problems.append(f'"model-index[{i}].results" must be an array')
            continue
        for j, result in enumerate(results):
            where = f"model-index[{i}].results[{j}]"
            if not need(result, where, ("task", "dataset", "metrics")):
                continue
            need(result.get("task"), f"{where}.task", ("type",))
            need(result.get("dataset"), f"{where}.dataset", ("type", "name"))
            metrics = result.get("metrics")
            if not isinstance(metrics, list) or not metrics:
                problems.append(f'"{where}.metrics" must be a non-empty array')
                continue
            for k, metric in enumerate(metrics):
                need(metric, f"{where}.metrics[{k}]", ("type", "value"))
    return problems


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
        # The LFS objects are served from another origin, as the Hub's are (a CDN): the client follows the redirect
        # of `resolve` there without its Hub headers, and uploads to the hrefs the batch API hands out.
        self._cdn = _Server(("127.0.0.1", 0), _Handler)
        self._cdn.state = self.state
        self.state.cdn_url = self._cdn.url = f"http://127.0.0.1:{self._cdn.server_address[1]}"
        self._threads = [threading.Thread(target=srv.serve_forever, daemon=True) for srv in (self._server, self._cdn)]

    def __enter__(self) -> "HubTestServer":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for srv in (self._server, self._cdn):
            srv.shutdown()
            srv.server_close()

    def lfs_files(self, repo_id: str, repo_type: str = "dataset", rev: str = "main") -> dict[str, str]:
        """path -> sha256 of the files the last commit holds in LFS."""
        commit = self.state.repos[(repo_type, repo_id)].resolve(rev)
        return dict(commit.lfs) if commit else {}

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
