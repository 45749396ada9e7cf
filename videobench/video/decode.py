"""Probe and decode video files with torchcodec (fast, when it imports) or PyAV (always available).

Both backends count frames the same way (the container header's frame count; a demux-only packet count when the
header has none) and return frames in presentation order, so a ``Sampling`` picks the same frame indices whichever
backend decodes.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import torch

from videobench.rewards.base import Clip, Sampling
from videobench.video.errors import VideoDecodeError
from videobench.video.hashing import content_hash as _content_hash
from videobench.video.sampling import sample_indices

BACKENDS = ("torchcodec", "pyav")
ENV_VAR = "VIDEOBENCH_DECODER"
#: FFmpeg decoding threads per video, both backends; 0 = FFmpeg's automatic choice (one per core). Set 1 when many
#: decode workers run side by side.
THREADS_ENV_VAR = "VIDEOBENCH_DECODE_THREADS"


def decode_threads() -> int:
    value = os.environ.get(THREADS_ENV_VAR, "0").strip() or "0"
    try:
        threads = int(value)
    except ValueError:
        raise ValueError(f"{THREADS_ENV_VAR} must be an integer >= 0, got {value!r}") from None
    if threads < 0:
        raise ValueError(f"{THREADS_ENV_VAR} must be an integer >= 0, got {value!r}")
    return threads


@dataclass(frozen=True)
class VideoInfo:
    """Header-level facts about a video file."""

    path: str
    total_frames: int
    fps: float
    width: int
    height: int
    duration: float
    backend: str


@functools.lru_cache(maxsize=1)
def _torchcodec_import_error() -> str | None:
    try:
        import torchcodec.decoders  # noqa: F401  (loads the FFmpeg libraries: fails without them)
    except Exception as exc:  # ImportError, OSError or RuntimeError, depending on what is missing
        return f"{type(exc).__name__}: {exc}"
    return None


def available_backends() -> tuple[str, ...]:
    """Backends that work in this environment, fastest first."""
    return tuple(b for b in BACKENDS if b != "torchcodec" or _torchcodec_import_error() is None)


def resolve_backend(backend: str | None = None) -> str:
    """``backend``, else ``$VIDEOBENCH_DECODER``, else torchcodec when it imports, else PyAV."""
    chosen = backend or os.environ.get(ENV_VAR) or None
    if chosen is None:
        return available_backends()[0]
    chosen = chosen.strip().lower()
    if chosen not in BACKENDS:
        raise ValueError(f"unknown video decoder {chosen!r} (from {ENV_VAR} or backend=); choose one of {BACKENDS}")
    if chosen == "torchcodec" and (err := _torchcodec_import_error()) is not None:
        raise RuntimeError(
            f"video decoder 'torchcodec' was requested but does not import ({err}); it needs Debian's FFmpeg 5 "
            f"libraries. Use {ENV_VAR}=pyav or install them."
        )
    return chosen


def _check_file(path: Path) -> None:
    if not path.exists():
        raise VideoDecodeError(path, "file not found")
    if not path.is_file():
        raise VideoDecodeError(path, "not a regular file")
    if path.stat().st_size == 0:
        raise VideoDecodeError(path, "empty file (0 bytes)")


# ----------------------------------------------------------------------------------------------------------- PyAV


def _pyav_open(path: Path) -> Any:
    import av

    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise VideoDecodeError(path, f"unreadable by PyAV: {exc}") from None
    if not container.streams.video:
        container.close()
        raise VideoDecodeError(path, "no video stream")
    return container


def _pyav_probe(path: Path) -> VideoInfo:
    import av

    with _pyav_open(path) as container:
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 0.0
        total = int(stream.frames or 0)
        if total <= 0:  # no count in the header (e.g. some mkv/webm): count packets, which demuxes without decoding
            try:
                total = sum(1 for p in container.demux(stream) if p.size)
            except av.error.FFmpegError as exc:
                raise VideoDecodeError(path, f"unreadable by PyAV while counting frames: {exc}") from None
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / 1_000_000
        else:
            duration = total / fps if fps else 0.0
        width, height = stream.codec_context.width, stream.codec_context.height
    return VideoInfo(str(path), total, fps, int(width), int(height), duration, "pyav")


def _pyav_decode(path: Path, indices: np.ndarray) -> tuple[torch.Tensor, int]:
    """Frames at sorted ``indices``; also how many frames were decodable (stops early when all are found)."""
    import av

    wanted: dict[int, list[int]] = {}
    for pos, idx in enumerate(indices.tolist()):
        wanted.setdefault(idx, []).append(pos)
    last = int(indices.max())
    out: list[np.ndarray | None] = [None] * len(indices)
    count = 0
    with _pyav_open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        stream.codec_context.thread_count = decode_threads()
        try:
            for frame in container.decode(stream):
                if count in wanted:
                    arr = frame.to_ndarray(format="rgb24")
                    for pos in wanted[count]:
                        out[pos] = arr
                count += 1
                if count > last:
                    break
        except av.error.FFmpegError as exc:
            if count <= last:
                raise VideoDecodeError(path, f"decoding failed after {count} frames: {exc}") from None
    if count <= last:
        return torch.empty(0), count
    return torch.from_numpy(np.stack(out)), count  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------------ torchcodec


def _torchcodec_decoder(path: Path, seek_mode: str) -> Any:
    from torchcodec.decoders import VideoDecoder

    try:
        return VideoDecoder(
            str(path), seek_mode=seek_mode, dimension_order="NHWC", num_ffmpeg_threads=decode_threads()
        )
    except Exception as exc:  # torchcodec raises RuntimeError/ValueError for files FFmpeg cannot open
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "best video stream" in message.lower() or "no video stream" in message.lower():
            raise VideoDecodeError(path, "no video stream") from None
        raise VideoDecodeError(path, f"unreadable by torchcodec: {message}") from None


def _torchcodec_probe(path: Path) -> VideoInfo:
    meta = _torchcodec_decoder(path, "approximate").metadata
    total = meta.num_frames_from_header
    if not total:
        meta = _torchcodec_decoder(path, "exact").metadata  # scans packets: no decoding
        total = meta.num_frames_from_content
    fps = meta.average_fps_from_header or meta.average_fps or 0.0
    duration = meta.duration_seconds_from_header or meta.duration_seconds or (total / fps if fps and total else 0.0)
    return VideoInfo(
        str(path), int(total or 0), float(fps), int(meta.width or 0), int(meta.height or 0), float(duration), "torchcodec"
    )


def _torchcodec_decode(path: Path, indices: np.ndarray) -> tuple[torch.Tensor, int]:
    decoder = _torchcodec_decoder(path, "exact")
    meta = decoder.metadata
    decodable = int(meta.num_frames_from_content or meta.num_frames or 0)
    if int(indices.max()) >= decodable:
        return torch.empty(0), decodable
    try:
        frames = decoder.get_frames_at(indices.tolist()).data
    except Exception as exc:
        raise VideoDecodeError(path, f"decoding failed: {exc}") from None
    return frames, decodable


# ---------------------------------------------------------------------------------------------------------- public


def probe(path: str | Path, backend: str | None = None) -> VideoInfo:
    """Frame count, frame rate, size and duration from the container header (cheap: nothing is decoded).

    Raises ``VideoDecodeError`` naming the path for missing, unreadable or zero-frame files.
    """
    path = Path(path)
    _check_file(path)
    name = resolve_backend(backend)
    info = _torchcodec_probe(path) if name == "torchcodec" else _pyav_probe(path)
    if info.total_frames <= 0:
        raise VideoDecodeError(path, "the video stream has no frames")
    if info.width <= 0 or info.height <= 0:
        raise VideoDecodeError(path, f"invalid frame size {info.width}x{info.height}")
    return info


def load_clip(
    path: str | Path,
    sampling: Sampling,
    content_hash: str | None = None,
    backend: str | None = None,
    *,
    allow_truncated: bool = False,
) -> Clip:
    """Decode the frames ``sampling`` selects: a ``Clip`` with uint8 frames (T, H, W, 3) at native resolution.

    A truncated file (fewer decodable frames than its header says) raises ``VideoDecodeError``; with
    ``allow_truncated=True`` the frames are sampled from the decodable part instead (recorded in ``clip.meta``).
    """
    path = Path(path)
    name = resolve_backend(backend)
    info = probe(path, name)
    decode = _torchcodec_decode if name == "torchcodec" else _pyav_decode
    try:
        indices = sample_indices(info.total_frames, info.fps, sampling)
    except ValueError as exc:
        raise VideoDecodeError(path, str(exc)) from None
    try:
        frames, decodable = decode(path, indices)
    except VideoDecodeError:
        if not allow_truncated:
            raise
        frames, decodable = torch.empty(0), -1
    total = info.total_frames
    meta: dict[str, Any] = {"backend": name, "width": info.width, "height": info.height}
    if frames.numel() == 0:
        if not allow_truncated:
            raise VideoDecodeError(path, f"truncated: the header says {total} frames but only {decodable} decode")
        # Count what really decodes with PyAV's sequential decoder: torchcodec's packet index can list frames whose
        # data is gone. Then sample from the decodable part.
        _, decodable = _pyav_decode(path, np.array([total - 1]))
        if decodable <= 0:
            raise VideoDecodeError(path, "truncated: no frame decodes")
        try:
            indices = sample_indices(decodable, info.fps, sampling)
        except ValueError as exc:
            raise VideoDecodeError(path, f"truncated to {decodable} frames: {exc}") from None
        frames, _ = _pyav_decode(path, indices)
        if frames.numel() == 0:
            raise VideoDecodeError(path, f"truncated: frames below {decodable} no longer decode")
        meta.update(backend="pyav", truncated_from=total)
        total = decodable
    return Clip(
        path=str(path),
        content_hash=content_hash or _content_hash(path),
        frames=frames,
        source_fps=info.fps,
        total_frames=total,
        indices=indices,
        meta=meta,
    )


def fps_fraction(fps: float) -> Fraction:
    """A frame rate as the small fraction encoders want (29.97 -> 30000/1001)."""
    return Fraction(fps).limit_denominator(1001)
