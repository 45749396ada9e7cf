"""The ``http:`` reward spec: a ``RewardModel`` whose scores come from ``videobench serve-reward`` (``served_server``).

``http://127.0.0.1:8000?timeout=600&send=frames``. On load the client asks the server for ``/v1/info`` and takes the
served model's dimensions and sampling as its own, so the scoring engine decodes each video with the served model's
frame sampling and the score cache keys the scores by it. Each ``score()`` call is one ``POST /v1/score``.

The fingerprint is derived from the served model's (with the protocol and the send mode), and every answer must carry
the fingerprint seen at load: a server restarted with another model mid-run is an error, never mixed scores. A server
that stops answering ends the run with one line (exit code 2 on the command line); the batches scored before are in
the score cache, so the same command resumes once the server is back.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import socket
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Literal, Sequence
from urllib.parse import urlsplit

import numpy as np

from videobench.rewards.base import Clip
from videobench.rewards.served_protocol import (
    PROTOCOL,
    SEND_MODES,
    ProtocolError,
    decode_scores,
    encode_item,
    sampling_from,
)

RESUME_HINT = ("scores finished before this are kept in the score cache: start the server again and rerun the same "
               "command to resume")


class ServedRewardError(RuntimeError):
    """The reward server cannot be reached, refused a request or answered outside the protocol."""


class HttpReward:
    """A reward model served over HTTP (see ``videobench.rewards.served_protocol``)."""

    def __init__(self, url: str, *, timeout: float = 600.0, connect_timeout: float = 10.0,
                 send: Literal["frames", "file", "path"] = "frames", name: str | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ServedRewardError(f"{url!r} is not a server address like http://127.0.0.1:8000")
        if send not in SEND_MODES:
            raise ServedRewardError(f"send={send!r}: choose one of {', '.join(SEND_MODES)}")
        if timeout <= 0 or connect_timeout <= 0:
            raise ServedRewardError("timeout and connect_timeout must be positive (seconds)")
        self.url = url.rstrip("/")
        self.timeout = float(timeout)
        self.send = send
        info = self._request("GET", "/v1/info", None, connect_timeout, resume=False)
        if not isinstance(info, dict) or info.get("protocol") != PROTOCOL:
            raise ServedRewardError(f"{self.url}: answers protocol {info.get('protocol') if isinstance(info, dict) else None!r}, "
                                    f"not {PROTOCOL} (is it a videobench serve-reward of another version?)")
        try:
            self.sampling = sampling_from(info.get("sampling"))
        except ProtocolError as exc:
            raise ServedRewardError(f"{self.url}: {exc}") from None
        self.info = info
        self.served_fingerprint = str(info.get("fingerprint") or "")
        dims = info.get("dimensions")
        if not self.served_fingerprint or not isinstance(dims, list) or not dims:
            raise ServedRewardError(f"{self.url}: /v1/info lacks the model's fingerprint or dimensions")
        if send not in info.get("accepts", ()):
            raise ServedRewardError(f"{self.url}: the server does not accept send={send} (it accepts "
                                    f"{', '.join(info.get('accepts', ()))}; paths need serve-reward --allow-paths)")
        self.dimensions = tuple(str(d) for d in dims)
        self.name = name or f"served:{info.get('name') or self.url}"
        # The engine decodes only when the frames travel; with file/path the server decodes them itself.
        self.needs_frames = bool(info.get("needs_frames")) and send == "frames"
        # A served generative judge: eval reads its answers as it would in process (counts, pairs, both orders).
        self.judge = info.get("judge") if isinstance(info.get("judge"), dict) else None
        self.pairwise = bool(info.get("pairwise")) and self.judge is not None
        self.swap = bool(self.judge and self.judge.get("orders") == ["AB", "BA"])
        self.unparseable = str((self.judge or {}).get("unparseable") or "exclude")
        self.unparsed_examples: list[str] = []  # they stay in the server's process
        self._fingerprint = "sha256:" + hashlib.sha256(
            json.dumps([PROTOCOL, self.served_fingerprint, send]).encode()).hexdigest()[:32]

    def fingerprint(self) -> str:
        return self._fingerprint

    def judge_provenance(self) -> dict[str, Any] | None:
        """A served judge's record of how its answers are read (None: not a generative judge)."""
        return None if self.judge is None else {**self.judge, "served_from": self.url}

    def score(self, clips: Sequence[Clip], prompts: Sequence[str]) -> dict[str, np.ndarray]:
        if len(clips) != len(prompts):
            raise ValueError(f"got {len(clips)} clips but {len(prompts)} prompts")
        if self.pairwise:
            raise ServedRewardError(f"{self.name}: a pairwise judge gives no per-video score; it judges the pairs of "
                                    "a benchmark (videobench eval)")
        return self._post("/v1/score", [self._video(c) | {"prompt": p} for c, p in zip(clips, prompts)], "scores")

    def judge_pairs(self, first: Sequence[Clip], second: Sequence[Clip], prompts: Sequence[str]) -> dict[str, np.ndarray]:
        """A served pairwise judge's verdicts, relative to the first-shown video (see ``VLMJudge.judge_pairs``)."""
        if not len(first) == len(second) == len(prompts):
            raise ValueError(f"got {len(first)} first clips, {len(second)} second clips and {len(prompts)} prompts")
        items = [{"prompt": p, "first": self._video(a), "second": self._video(b)}
                 for a, b, p in zip(first, second, prompts)]
        return self._post("/v1/judge_pairs", items, "verdicts")

    def _video(self, clip: Clip) -> dict[str, Any]:
        item = encode_item(clip, "", self.send, self._file_bytes(clip) if self.send == "file" else None)
        del item["prompt"]
        return item

    def _post(self, path: str, items: list[dict[str, Any]], field: str) -> dict[str, np.ndarray]:
        body = json.dumps({"fingerprint": self.served_fingerprint, "items": items}).encode("utf-8")
        answer = self._request("POST", path, body, self.timeout, resume=True)
        if not isinstance(answer, dict) or answer.get("fingerprint") != self.served_fingerprint:
            raise ServedRewardError(f"{self.url}: answered with model fingerprint "
                                    f"{answer.get('fingerprint') if isinstance(answer, dict) else None}, loaded with "
                                    f"{self.served_fingerprint}: the server now serves another model")
        try:
            return decode_scores({"scores": answer.get(field)}, self.dimensions, len(items))
        except ProtocolError as exc:
            raise ServedRewardError(f"{self.url}: {exc}") from None

    @staticmethod
    def _file_bytes(clip: Clip) -> bytes:
        try:
            return Path(clip.path).read_bytes()
        except OSError as exc:
            raise ServedRewardError(f"{clip.path}: cannot read the video to send it: {exc.strerror}") from None

    def _request(self, method: str, path: str, body: bytes | None, timeout: float, *, resume: bool) -> Any:
        hint = f"; {RESUME_HINT}" if resume else ""
        request = urllib.request.Request(self.url + path, data=body, method=method,
                                         headers={"Content-Type": "application/json", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                data = response.read()
        except urllib.error.HTTPError as exc:
            raise ServedRewardError(f"{self.url}{path}: the server answered {exc.code}: {_error_text(exc)}{hint}") \
                from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, ConnectionRefusedError):
                what = "no reward server answers (connection refused): start one with videobench serve-reward SPEC"
            elif isinstance(reason, ssl.SSLCertVerificationError):
                what = (f"its TLS certificate is not trusted ({reason.verify_message}); for a private CA, name its "
                        "certificate file in SSL_CERT_FILE")
            elif isinstance(reason, (socket.timeout, TimeoutError)):
                what = f"no answer within {timeout:g} s (the spec's timeout=/connect_timeout= options)"
            else:
                what = f"cannot reach the server ({reason})"
            raise ServedRewardError(f"{self.url}: {what}{hint}") from None
        except (http.client.RemoteDisconnected, ConnectionError, http.client.IncompleteRead) as exc:
            raise ServedRewardError(f"{self.url}: the reward server closed the connection mid-request (stopped or "
                                    f"killed? {type(exc).__name__}){hint}") from None
        except (socket.timeout, TimeoutError):
            raise ServedRewardError(f"{self.url}: no answer within {timeout:g} s (the spec's timeout= option){hint}") \
                from None
        try:
            return json.loads(data)
        except ValueError:
            raise ServedRewardError(f"{self.url}{path}: the answer is not JSON ({data[:80]!r})") from None


def _error_text(exc: urllib.error.HTTPError) -> str:
    try:
        payload = json.loads(exc.read())
        return str(payload.get("error") or payload)
    except Exception:
        return exc.reason or "no reason given"


def http_reward(argument: str | None = None, *, timeout: float = 600.0, connect_timeout: float = 10.0,
                send: Literal["frames", "file", "path"] = "frames", name: str | None = None) -> HttpReward:
    """The ``http`` spec prefix: ``http://HOST:PORT[?timeout=S&connect_timeout=S&send=frames|file|path&name=N]``."""
    return _served_reward("http", argument, timeout=timeout, connect_timeout=connect_timeout, send=send, name=name)


def https_reward(argument: str | None = None, *, timeout: float = 600.0, connect_timeout: float = 10.0,
                 send: Literal["frames", "file", "path"] = "frames", name: str | None = None) -> HttpReward:
    """The ``https`` spec prefix (a server behind a TLS proxy): as ``http``, the certificate checked against the
    system's CAs, or the file that ``SSL_CERT_FILE`` names (a private CA)."""
    return _served_reward("https", argument, timeout=timeout, connect_timeout=connect_timeout, send=send, name=name)


def _served_reward(scheme: str, argument: str | None, **options: Any) -> HttpReward:
    if not argument or not argument.startswith("//"):
        raise ServedRewardError(f"{scheme}:{argument or ''}: write the server's address, {scheme}://HOST:PORT")
    return HttpReward(f"{scheme}:{argument}", **options)
