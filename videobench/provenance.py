"""Provenance recorded in every result file: the command, package versions, git commit, time."""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

TRACKED_PACKAGES = (
    "videobench", "numpy", "scipy", "pandas", "torch", "transformers", "diffusers", "datasets",
    "huggingface-hub", "accelerate", "peft", "av", "torchcodec",
)


def package_versions(names: tuple[str, ...] = TRACKED_PACKAGES) -> dict[str, str]:
    """Installed versions of the packages that can change a result (absent ones are left out)."""
    return dict(_package_versions(names))


# Once per process: the code that runs is what was imported at start (an upgrade under a running process does not
# change it), and the metadata scan and the git call cost ~0.15 s per result (a suite writes one per cell).
@functools.lru_cache(maxsize=8)
def _package_versions(names: tuple[str, ...]) -> dict[str, str]:
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


@functools.lru_cache(maxsize=8)
def git_commit(path: Path | None = None) -> str | None:
    """The commit of the videobench checkout, when running from one."""
    here = path or Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def collect(command: list[str] | None = None, seeds: dict[str, int] | None = None) -> dict[str, Any]:
    """Everything needed to tell how a result was made."""
    return {
        "command": list(command if command is not None else sys.argv),
        "versions": package_versions(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git_commit": git_commit(),
        "seeds": dict(seeds or {}),
        "created_at": utc_now(),
    }


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
