"""The wire format between ``videobench serve-reward`` and the ``http:`` reward spec (JSON over HTTP/1.1).

Pure functions, no sockets: the server (``served_server``) and the client (``served_client``) both use them, so what
one writes the other reads by construction. Protocol ``videobench-reward/1``:

``GET /v1/info`` -> ``{"protocol", "spec", "name", "dimensions", "fingerprint", "sampling": {"fps", "num_frames",
"max_pixels"}, "needs_frames", "accepts": ["frames", "file"(, "path")], "videobench_version", "versions"}``.
``GET /v1/health`` -> ``{"status": "ok", "fingerprint"}``. A generative judge adds ``"judge"`` (its mode, grammar,
orders, what unparseable answers count as) and, for a pairwise one, ``"pairwise": true``.

``POST /v1/score`` with ``{"fingerprint": F?, "items": [ITEM, ...]}``, one ITEM per (video, prompt)::

    {"prompt": TEXT, "content_hash": H, "path": P,
     "frames": {"shape": [T, H, W, 3], "dtype": "uint8", "data": BASE64}    # send=frames: the sampled frames
     | "file": BASE64                                                        # send=file: the video file's bytes
     | neither                                                               # send=path, or a model without frames
     "source_fps": F, "total_frames": N, "indices": [..]}

-> ``{"fingerprint": F, "scores": {dimension: [float | null, ...]}}`` (null = NaN: the model gave no score).

``POST /v1/judge_pairs`` (pairwise judges) with ``{"fingerprint": F?, "items": [{"prompt": TEXT, "first": VIDEO,
"second": VIDEO}, ...]}``, VIDEO being an ITEM's video fields above (``content_hash``, ``path``, ``frames`` | ``file``,
...) -> ``{"fingerprint": F, "verdicts": {dimension: [1 | -1 | 0 | null, ...]}}`` relative to the first-shown video. A request
naming a fingerprint other than the server's is refused (409): scores of another model must never enter a cache under
this one's key. Errors: ``{"error": TEXT}`` with 400 (a bad request), 409, 413 (too large) or 500 (the model failed).
"""

from __future__ import annotations

import base64
import math
from typing import Any, Mapping, Sequence

import numpy as np

from videobench.rewards.base import Clip, Sampling

PROTOCOL = "videobench-reward/1"
#: How a client hands a video to the server. ``frames``: the frames the client sampled with the server's sampling
#: (no shared file system needed, the exact pixels the in-process model would get); ``file``: the encoded file (far
#: fewer bytes; the server decodes it); ``path``: only the path (the same file system; the server must allow it).
SEND_MODES = ("frames", "file", "path")


class ProtocolError(ValueError):
    """A message that does not follow ``videobench-reward/1``; the text names the field."""


def encode_frames(frames: Any) -> dict[str, Any]:
    array = np.ascontiguousarray(frames.numpy() if hasattr(frames, "numpy") else np.asarray(frames))
    if array.dtype != np.uint8 or array.ndim != 4 or array.shape[-1] != 3:
        raise ProtocolError(f"frames must be uint8 (T, H, W, 3), got {array.dtype} {tuple(array.shape)}")
    return {"shape": list(array.shape), "dtype": "uint8", "data": base64.b64encode(array.tobytes()).decode("ascii")}


def decode_frames(payload: Any, where: str) -> Any:
    """The uint8 torch tensor (T, H, W, 3) an encoded ``frames`` field carries."""
    import torch

    if not isinstance(payload, Mapping) or payload.get("dtype") != "uint8":
        raise ProtocolError(f"{where}.frames must be {{shape, dtype: uint8, data}}")
    shape = payload.get("shape")
    # type(s) is int, not isinstance: a bool (JSON true) is an int to Python but no size to torch's reshape
    if not (isinstance(shape, list) and len(shape) == 4 and all(type(s) is int and s > 0 for s in shape)
            and shape[-1] == 3):
        raise ProtocolError(f"{where}.frames.shape must be [T, H, W, 3] with positive sizes, got {shape!r}")
    data = _b64(payload.get("data"), f"{where}.frames.data")
    if len(data) != math.prod(shape):
        raise ProtocolError(f"{where}.frames: {len(data)} bytes for shape {shape} ({math.prod(shape)} expected)")
    return torch.frombuffer(bytearray(data), dtype=torch.uint8).reshape(shape)


def _b64(value: Any, where: str) -> bytes:
    if not isinstance(value, str):
        raise ProtocolError(f"{where} must be base64 text")
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        raise ProtocolError(f"{where} is not valid base64") from None


def encode_item(clip: Clip, prompt: str, send: str, file_bytes: bytes | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"prompt": prompt, "content_hash": clip.content_hash, "path": str(clip.path),
                            "source_fps": clip.source_fps, "total_frames": clip.total_frames}
    if clip.indices is not None:
        item["indices"] = [int(i) for i in np.asarray(clip.indices).reshape(-1)]
    if send == "frames" and clip.frames is not None:
        item["frames"] = encode_frames(clip.frames)
    elif send == "file":
        if file_bytes is None:
            raise ProtocolError("send=file needs the file's bytes")
        item["file"] = base64.b64encode(file_bytes).decode("ascii")
    return item


def parse_items(body: Any) -> list[dict[str, Any]]:
    """The items of a score request, each checked for the fields every mode needs."""
    if not isinstance(body, Mapping) or not isinstance(body.get("items"), list):
        raise ProtocolError("a score request is a JSON object {\"items\": [...]}")
    items = body["items"]
    for k, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise ProtocolError(f"items[{k}] is not an object")
        if not isinstance(item.get("prompt"), str):
            raise ProtocolError(f"items[{k}].prompt must be text")
        if not isinstance(item.get("content_hash", ""), str) or not isinstance(item.get("path", ""), str):
            raise ProtocolError(f"items[{k}].content_hash and .path must be text")
    return list(items)


def parse_pair_items(body: Any) -> list[dict[str, Any]]:
    """The items of a judge_pairs request: a prompt and the two videos, first-shown first."""
    if not isinstance(body, Mapping) or not isinstance(body.get("items"), list):
        raise ProtocolError("a judge_pairs request is a JSON object {\"items\": [...]}")
    items = body["items"]
    for k, item in enumerate(items):
        if not isinstance(item, Mapping) or not isinstance(item.get("prompt"), str):
            raise ProtocolError(f"items[{k}] needs a prompt (text)")
        for side in ("first", "second"):
            video = item.get(side)
            if not isinstance(video, Mapping) or not isinstance(video.get("content_hash", ""), str) \
                    or not isinstance(video.get("path", ""), str):
                raise ProtocolError(f"items[{k}].{side} must be a video object with text content_hash and path")
    return list(items)


def encode_scores(scores: Mapping[str, Any], dimensions: Sequence[str], n: int) -> dict[str, list[float | None]]:
    out: dict[str, list[float | None]] = {}
    for dim in dimensions:
        values = np.asarray(scores[dim], dtype=np.float64).reshape(-1)
        if values.shape[0] != n:
            raise ProtocolError(f"{len(values)} {dim!r} scores for {n} items")
        out[dim] = [float(v) if math.isfinite(v) else None for v in values]
    return out


def decode_scores(payload: Any, dimensions: Sequence[str], n: int) -> dict[str, np.ndarray]:
    scores = payload.get("scores") if isinstance(payload, Mapping) else None
    if not isinstance(scores, Mapping):
        raise ProtocolError("the answer has no \"scores\" object")
    out: dict[str, np.ndarray] = {}
    for dim in dimensions:
        values = scores.get(dim)
        if not isinstance(values, list) or len(values) != n:
            raise ProtocolError(f"the answer's scores[{dim!r}] is not a list of {n} numbers")
        try:
            out[dim] = np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)
        except (TypeError, ValueError):
            raise ProtocolError(f"the answer's scores[{dim!r}] holds something other than numbers") from None
    return out


def sampling_from(payload: Any) -> Sampling:
    if not isinstance(payload, Mapping):
        raise ProtocolError("info.sampling must be an object {fps, num_frames, max_pixels}")
    try:
        return Sampling(fps=None if payload.get("fps") is None else float(payload["fps"]),
                        num_frames=None if payload.get("num_frames") is None else int(payload["num_frames"]),
                        max_pixels=None if payload.get("max_pixels") is None else int(payload["max_pixels"]))
    except (TypeError, ValueError, OverflowError):  # OverflowError: int(Infinity), which json.loads reads
        raise ProtocolError(f"info.sampling holds a value that is not a number: {dict(payload)}") from None
