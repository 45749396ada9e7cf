"""The three video operations the scoring engine needs, behind one small interface.

The default goes to ``videobench.video`` (torchcodec when it imports, else PyAV). Tests and benchmarks pass their own
implementation to count or slow down decoding without touching the engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from videobench.rewards.base import Clip, Sampling


class VideoIO(Protocol):
    def probe(self, path: Path) -> Any:
        """Header facts (``total_frames``, ``fps``, ...); raises ``ValueError`` (``VideoDecodeError``) if unreadable."""
        ...

    def content_hash(self, path: Path) -> str: ...

    def load_clip(self, path: Path, sampling: Sampling, content_hash: str) -> Clip: ...


class DefaultVideoIO:
    """``videobench.video``, imported on first use so that importing the scoring package stays cheap."""

    def __init__(self, backend: str | None = None) -> None:
        self.backend = backend

    def probe(self, path: Path) -> Any:
        from videobench.video import probe

        return probe(path)

    def content_hash(self, path: Path) -> str:
        from videobench.video import content_hash

        return content_hash(path)

    def load_clip(self, path: Path, sampling: Sampling, content_hash: str) -> Clip:
        from videobench.video import load_clip

        return load_clip(path, sampling, content_hash=content_hash, backend=self.backend)
