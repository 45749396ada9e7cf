"""Where videobench keeps its per-user caches."""

from __future__ import annotations

import os
from pathlib import Path


def user_cache_folder(env_var: str, name: str) -> Path:
    """``$<env_var>`` when set, else ``$XDG_CACHE_HOME/videobench/<name>`` (``~/.cache/videobench/<name>``)."""
    env = os.environ.get(env_var)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "videobench" / name
