"""Errors raised by video input."""

from __future__ import annotations

from pathlib import Path


class VideoDecodeError(ValueError):
    """A video that cannot be used: missing, unreadable, without frames, or truncated.

    The message always names the file and the reason, so a pre-flight check can list every failure together.
    """

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")
