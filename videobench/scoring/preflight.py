"""Pre-flight: before any model is loaded, every video must exist and its header must decode.

All failures are collected and raised together in one ``PreflightError``, so a user fixes a broken benchmark in one
pass instead of one crash per file. Headers are probed in worker threads (probing is I/O bound).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from videobench.data.benchmark import BenchmarkError
from videobench.scoring.videoio import VideoIO

#: How many failures the error message spells out before summarising the rest.
_MAX_LISTED = 50


class PreflightError(BenchmarkError):
    """Videos that cannot be scored. ``failures`` maps each video (as the benchmark names it) to the reason."""

    def __init__(self, failures: Mapping[str, str], n_videos: int, stage: str = "pre-flight check") -> None:
        self.failures = dict(failures)
        self.n_videos = n_videos
        lines = [f"  {video}: {reason}" for video, reason in sorted(self.failures.items())[:_MAX_LISTED]]
        if len(self.failures) > _MAX_LISTED:
            lines.append(f"  ... and {len(self.failures) - _MAX_LISTED} more")
        super().__init__(
            f"{stage}: {len(self.failures)} of {n_videos} videos cannot be read:\n"
            + "\n".join(lines)
            + "\nFix or remove them, or pass --skip-unreadable to score the rest and report the excluded pairs."
        )


@dataclass(frozen=True)
class VideoCheck:
    """What pre-flight learned about one file: its content hash and header, or why it is unusable."""

    path: Path
    content_hash: str | None = None
    total_frames: int | None = None
    fps: float | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def check_video(path: Path, io: VideoIO) -> VideoCheck:
    if not path.exists():
        return VideoCheck(path, error="file not found")
    if not path.is_file():
        return VideoCheck(path, error="not a regular file")
    try:
        info = io.probe(path)
        digest = io.content_hash(path)
    except (ValueError, OSError) as exc:  # VideoDecodeError is a ValueError
        return VideoCheck(path, error=str(exc) or type(exc).__name__)
    return VideoCheck(
        path,
        content_hash=digest,
        total_frames=getattr(info, "total_frames", None),
        fps=getattr(info, "fps", None),
    )


# Good findings, per file version: the CLI checks before loading models, then scoring checks again for free.
_memo: dict[tuple[Any, ...], VideoCheck] = {}
_MEMO_MAX = 200_000


def _memo_key(path: Path, io: VideoIO) -> tuple[Any, ...] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (path, st.st_ino, st.st_size, st.st_mtime_ns, type(io).__module__, type(io).__qualname__)


def clear_check_cache() -> None:
    """Forget remembered pre-flight results (benchmarks use it to time a fresh process)."""
    _memo.clear()


def _check_memoized(path: Path, io: VideoIO) -> VideoCheck:
    key = _memo_key(path, io)
    if key is not None and key in _memo:
        return _memo[key]
    found = check_video(path, io)
    if found.ok and key is not None and len(_memo) < _MEMO_MAX:
        _memo[key] = found  # failures are not remembered: the user may be fixing the file right now
    return found


def check_videos(paths: Sequence[Path], io: VideoIO, num_workers: int = 2) -> dict[Path, VideoCheck]:
    """Probe and hash every distinct path; never raises for a bad file (the caller decides).

    Results for unchanged files (same inode, size and mtime) are remembered for the life of the process.
    """
    unique = list(dict.fromkeys(paths))
    if num_workers <= 1 or len(unique) <= 1:
        return {p: _check_memoized(p, io) for p in unique}
    with ThreadPoolExecutor(max_workers=num_workers, thread_name_prefix="videobench-probe") as pool:
        return dict(zip(unique, pool.map(lambda p: _check_memoized(p, io), unique)))
