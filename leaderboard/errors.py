"""Errors of the leaderboard package. All derive from ``LeaderboardError`` (a ``ValueError``) so callers can catch one."""

from __future__ import annotations


class LeaderboardError(ValueError):
    """Input the leaderboard refuses; the message names the file, request or name at fault."""


class UnsafeNameError(LeaderboardError):
    """A model/benchmark/request name that cannot become a path component or would need escaping to be one."""


class StoreError(LeaderboardError):
    """A store that cannot be read or written as asked (missing file, oversized file, gave up retrying)."""


class CommitConflict(Exception):
    """The store's head moved since the snapshot a commit was planned on; re-read, merge, retry."""


class SubmissionRefused(LeaderboardError):
    """A submission that fails a check (unsafe weights, remote code, duplicate, quota)."""
