"""``videobench serve-reward``: one reward model behind HTTP, so a model whose dependencies clash with the caller's
runs in its own environment (its own venv, its own transformers) and still plugs into eval, compare and align through
the ``http:`` spec. The wire format is ``served_protocol``; the standard library's threading HTTP server carries it.

Requests are read and their videos decoded in parallel threads; the model itself scores one request at a time (a
lock: adapters are not thread-safe, and a GPU gains nothing from interleaving). No authentication: bind to loopback
(the default) or put it behind something that authenticates.
"""

from __future__ import annotations

import json
import logging
import platform
import sys
import tempfile
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Mapping

from videobench.faults import fault_point
from videobench.rewards.base import Clip, RewardModel
from videobench.rewards.served_protocol import (
    PROTOCOL,
    ProtocolError,
    decode_frames,
    encode_scores,
    parse_items,
    parse_pair_items,
)

logger = logging.getLogger(__name__)

#: Largest request body accepted by default (frames of a batch of long videos can be large; JSON + base64).
DEFAULT_MAX_BODY_MB = 1024


class _RequestError(Exception):
    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for dist in ("torch", "transformers"):
        if dist in sys.modules:  # only what the model really imported: asking costs nothing then
            try:
                out[dist] = metadata.version(dist)
            except metadata.PackageNotFoundError:
                pass
    return out


class RewardServer(ThreadingHTTPServer):
    """A ``ThreadingHTTPServer`` serving ``model``; ``serve_forever()`` runs it, ``url`` says where."""

    daemon_threads = True

    def __init__(self, model: RewardModel, spec: str, host: str = "127.0.0.1", port: int = 0, *,
                 allow_paths: bool = False, max_body_mb: float = DEFAULT_MAX_BODY_MB) -> None:
        self.model = model
        self.allow_paths = allow_paths
        self.max_body = int(max_body_mb * 2**20)
        self.lock = threading.Lock()
        from videobench import __version__

        self.info = {
            "protocol": PROTOCOL, "spec": spec, "name": model.name, "dimensions": list(model.dimensions),
            "fingerprint": model.fingerprint(), "sampling": model.sampling.as_dict(),
            "needs_frames": bool(model.needs_frames),
            "accepts": ["frames", "file", "path"] if allow_paths else ["frames", "file"],
            "videobench_version": __version__, "versions": _versions(),
        }
        if hasattr(model, "judge_provenance"):  # a generative judge: how its answers are read travels with it
            self.info["judge"] = model.judge_provenance()
            self.info["pairwise"] = bool(getattr(model, "pairwise", False))
        self.n_scored = 0
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    # ---- the work of one score request

    def score_request(self, body: Mapping[str, Any], pairs: bool = False) -> dict[str, Any]:
        """``POST /v1/score`` (``pairs=False``) or ``POST /v1/judge_pairs``."""
        wanted = body.get("fingerprint") if isinstance(body, Mapping) else None
        if wanted is not None and wanted != self.info["fingerprint"]:
            raise _RequestError(HTTPStatus.CONFLICT, f"this server scores with model fingerprint "
                                f"{self.info['fingerprint']}, the request expects {wanted}: the server was restarted "
                                "with another model")
        if pairs != bool(self.info.get("pairwise")):
            what = "judges pairs: POST /v1/judge_pairs" if not pairs else "scores single videos: POST /v1/score"
            raise _RequestError(HTTPStatus.BAD_REQUEST, f"{self.model.name} {what}")
        try:
            items = parse_pair_items(body) if pairs else parse_items(body)
        except ProtocolError as exc:
            raise _RequestError(HTTPStatus.BAD_REQUEST, str(exc)) from None
        with tempfile.TemporaryDirectory(prefix="videobench-serve-") as scratch:
            prompts = [str(item["prompt"]) for item in items]
            if pairs:
                firsts = [self._clip(item["first"], f"items[{k}].first", Path(scratch)) for k, item in enumerate(items)]
                seconds = [self._clip(item["second"], f"items[{k}].second", Path(scratch))
                           for k, item in enumerate(items)]
            else:
                clips = [self._clip(item, f"items[{k}]", Path(scratch)) for k, item in enumerate(items)]
            with self.lock:
                if not items:
                    raw: Mapping[str, Any] = {d: [] for d in self.model.dimensions}
                else:
                    raw = self.model.judge_pairs(firsts, seconds, prompts) if pairs else self.model.score(clips, prompts)
                self.n_scored += len(items)
        missing = [d for d in self.model.dimensions if d not in raw]
        if missing:
            raise _RequestError(HTTPStatus.INTERNAL_SERVER_ERROR, f"{self.model.name}: gave no {missing}")
        try:
            values = encode_scores(raw, self.model.dimensions, len(items))
        except ProtocolError as exc:
            raise _RequestError(HTTPStatus.INTERNAL_SERVER_ERROR, f"{self.model.name}: {exc}") from None
        return {"fingerprint": self.info["fingerprint"], "verdicts" if pairs else "scores": values}

    def _clip(self, item: Mapping[str, Any], where: str, scratch: Path) -> Clip:
        path, digest = str(item.get("path") or where), str(item.get("content_hash") or "")
        meta = {"source_fps": item.get("source_fps"), "total_frames": item.get("total_frames")}
        try:
            if "frames" in item:
                return Clip(path=path, content_hash=digest, frames=decode_frames(item["frames"], where),
                            indices=item.get("indices"), **meta)
            if "file" in item:
                import base64

                local = scratch / f"{len(list(scratch.iterdir()))}{Path(path).suffix or '.mp4'}"
                try:
                    local.write_bytes(base64.b64decode(str(item["file"]), validate=True))
                except ValueError:
                    raise ProtocolError(f"{where}.file is not valid base64") from None
                return self._decode(local, path, digest)
            if not self.model.needs_frames:
                return Clip(path=path, content_hash=digest, **meta)
            if "path" in item and self.allow_paths:
                if not Path(path).is_file():
                    raise ProtocolError(f"{where}.path {path}: no such file on the server")
                return self._decode(Path(path), path, digest)
        except ProtocolError as exc:
            raise _RequestError(HTTPStatus.BAD_REQUEST, str(exc)) from None
        allowed = "frames or file" + (" or path" if self.allow_paths else " (paths need serve-reward --allow-paths)")
        raise _RequestError(HTTPStatus.BAD_REQUEST, f"{where}: {self.model.name} needs the video: send {allowed}")

    def _decode(self, local: Path, path: str, digest: str) -> Clip:
        from videobench.video import load_clip

        try:
            clip = load_clip(local, self.model.sampling, content_hash=digest or None)
        except (ValueError, OSError) as exc:  # VideoDecodeError is a ValueError
            raise _RequestError(HTTPStatus.BAD_REQUEST, f"{path}: cannot decode on the server: {exc}") from None
        clip.path = path
        return clip


class _Handler(BaseHTTPRequestHandler):
    server: RewardServer
    protocol_version = "HTTP/1.1"  # keep-alive: one connection serves a whole run

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class's name)
        logger.info("%s %s", self.address_string(), format % args)

    def _send(self, status: HTTPStatus, payload: Mapping[str, Any]) -> None:
        data = json.dumps(payload, allow_nan=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.path in ("/v1/info", "/info"):
            self._send(HTTPStatus.OK, self.server.info)
        elif self.path in ("/v1/health", "/health"):
            self._send(HTTPStatus.OK, {"status": "ok", "fingerprint": self.server.info["fingerprint"],
                                       "n_scored": self.server.n_scored})
        else:
            self._send(HTTPStatus.NOT_FOUND, {"error": f"no such endpoint {self.path}: GET /v1/info, /v1/health"})

    def do_POST(self) -> None:  # noqa: N802
        if self.path not in ("/v1/score", "/v1/judge_pairs"):
            self._send(HTTPStatus.NOT_FOUND, {"error": f"no such endpoint {self.path}: POST /v1/score, "
                                                       "/v1/judge_pairs"})
            return
        fault_point("serve:score")  # tests: the server dies with a request in flight
        try:
            length = int(self.headers.get("Content-Length") or -1)
            if length < 0:
                raise _RequestError(HTTPStatus.LENGTH_REQUIRED, "a score request needs a Content-Length")
            if length > self.server.max_body:
                raise _RequestError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                                    f"request of {length / 2**20:.0f} MiB exceeds the server's "
                                    f"{self.server.max_body / 2**20:.0f} MiB (serve-reward --max-body-mb), or send "
                                    "smaller batches")
            try:
                body = json.loads(self.rfile.read(length))
            except (ValueError, UnicodeDecodeError) as exc:
                raise _RequestError(HTTPStatus.BAD_REQUEST, f"the body is not JSON: {exc}") from None
            payload = self.server.score_request(body, pairs=self.path == "/v1/judge_pairs")
        except _RequestError as exc:
            if exc.status >= 500:
                logger.error("%s", exc)
            self.close_connection = exc.status in (HTTPStatus.REQUEST_ENTITY_TOO_LARGE, HTTPStatus.LENGTH_REQUIRED)
            self._send(exc.status, {"error": str(exc)})
            return
        except Exception as exc:  # the model failed: the client gets the reason, the server log the traceback
            logger.exception("scoring failed")
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR,
                       {"error": f"{self.server.model.name} failed: {type(exc).__name__}: {exc}"})
            return
        self._send(HTTPStatus.OK, payload)


def is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def make_server(spec: str, host: str = "127.0.0.1", port: int = 0, *, allow_paths: bool = False,
                max_body_mb: float = DEFAULT_MAX_BODY_MB, **options: Any) -> RewardServer:
    """Load the model of ``spec`` (``options`` as for ``load_reward_model``) and bind a server to ``host:port``
    (port 0: a free one, see ``server.url``); ``serve_forever()`` starts answering."""
    from videobench.rewards.registry import parse_reward_spec

    parsed = parse_reward_spec(spec, **options)
    if parsed.prefix in ("http", "https"):
        raise ValueError(f"{spec}: serving a served model would only relay it; serve the model itself")
    model = parsed.load()
    return RewardServer(model, str(parsed), host, port, allow_paths=allow_paths, max_body_mb=max_body_mb)
