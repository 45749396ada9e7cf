"""Files replaced whole, and temp files that a later run can recognise as its own leftovers.

A file is written to ``.NAME.tmp-<host>-<pid>.EXT`` beside its target (the extension kept for writers that pick a
format by it) and renamed into place, so a reader sees the old
file or the new one, never half of one. A process killed before the rename leaves that temp file behind; the next
write of the same NAME on the same host removes every such file whose process is gone (a temp file of a live process,
or of another host sharing the folder, is never touched).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

_HOST = re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname())[:40] or "host"
_TEMP = re.compile(r"^\.(?P<name>.+)\.tmp-(?P<host>[A-Za-z0-9_-]+)-(?P<pid>\d+)(?P<ext>\.[^.]*)?$")


def temp_path(path: str | os.PathLike) -> Path:
    """Where this process writes ``path`` before renaming it into place."""
    path = Path(path)
    return path.with_name(f".{path.name}.tmp-{_HOST}-{os.getpid()}{path.suffix}")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def clean_stale(directory: str | os.PathLike, name: str | None = None) -> list[Path]:
    """Remove temp files (or folders) in ``directory`` left by dead processes of this host; only those of ``name``
    when given. Returns what was removed."""
    removed = []
    try:
        entries = list(os.scandir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for entry in entries:
        m = _TEMP.match(entry.name)
        if not m or (name is not None and m["name"] != name) or m["host"] != _HOST:
            continue
        if int(m["pid"]) == os.getpid() or not pid_alive(int(m["pid"])):
            path = Path(entry.path)
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            removed.append(path)
    return removed


@contextmanager
def replacing(path: str | os.PathLike, mode: int = 0o644) -> Iterator[Path]:
    """Yield a temp path to write; on success it replaces ``path`` (readable by all: results are shared), on an
    error it is removed. Stale temp files of ``path`` from dead processes are removed first."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(path.parent, path.name)
    tmp = temp_path(path)
    try:
        yield tmp
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    with replacing(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))
