"""Helpers shared by the CLI commands: errors a person can act on, and console output."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import typer
from rich.console import Console
from rich.markup import escape

import sys

# Piped output (CI logs, `| tee`) gets a wide console so result tables are not cut at 80 columns.
_WIDTH = None if sys.stdout.isatty() else 160
console = Console(stderr=False, width=_WIDTH)
err_console = Console(stderr=True, soft_wrap=True)  # long paths in errors stay on one line, copyable


class UserError(Exception):
    """An error caused by input the user can fix; printed without a traceback."""


#: OSErrors about the machine or a path the user chose (permissions, read-only or full disk, a file where a folder is
#: expected): the user can act on them, whoever raised them.
_USER_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.ENOENT, errno.ENOTDIR,
                errno.EISDIR, errno.EEXIST, errno.ENAMETOOLONG, errno.ELOOP, errno.EFBIG}


def is_user_error(exc: BaseException) -> bool:
    """Errors about the user's input (a file, a spec, a row, a path): print one line, exit 2, no traceback.

    Every such error videobench raises on purpose is a ``ValueError`` / ``LookupError`` / ``OSError`` /
    ``RuntimeError`` subclass defined in a videobench module (``BenchmarkError``, ``VideoDecodeError``,
    ``RewardSpecError``, ``ConfigError``, ...), so the rule needs no list that each new module must remember to extend.
    An ``OSError`` from anywhere counts when its errno says the disk or a path is at fault.
    """
    if isinstance(exc, (UserError, FileNotFoundError, PermissionError, NotADirectoryError, IsADirectoryError)):
        return True
    if isinstance(exc, OSError) and exc.errno in _USER_ERRNOS:
        return True
    defined_here = type(exc).__module__.split(".")[0] == "videobench"
    return defined_here and isinstance(exc, (ValueError, LookupError, OSError, RuntimeError))


def user_message(exc: BaseException) -> str:
    """One line: an OSError names its path and says what is wrong with it; anything else is its own message."""
    if isinstance(exc, OSError) and exc.strerror and not type(exc).__module__.startswith("videobench"):
        where = f"{exc.filename}: " if exc.filename is not None else ""
        hint = {errno.ENOSPC: " (free some space or choose another folder)",
                errno.EDQUOT: " (free some space or choose another folder)",
                errno.EROFS: " (choose a writable folder)", errno.EACCES: " (choose a folder you may write to)"}
        return f"{where}{exc.strerror}{hint.get(exc.errno or 0, '')}"
    return " ".join(str(exc).split()) or type(exc).__name__


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Input errors -> one line on stderr and exit code 2. Anything else is a bug: its traceback, and where to report
    it (exit code 1)."""
    try:
        yield
    except Exception as exc:
        if not is_user_error(exc):
            err_console.print(f"[bold red]internal error[/] ({escape(type(exc).__name__)}): this is a bug in "
                              "videobench, not in your input; please report it to the maintainers with the command "
                              "and the traceback below", highlight=False)
            raise
        err_console.print(f"[bold red]error:[/] {escape(user_message(exc))}", highlight=False)
        raise typer.Exit(code=2) from exc


#: Free space an output folder must have before work starts (results, tables and reports are small; renders and
#: checkpoints are checked by size where they are written).
MIN_FREE_BYTES = 64 * 1024 * 1024


def check_output_dir(path: str | os.PathLike, what: str = "--output", min_free: int = MIN_FREE_BYTES) -> Path:
    """Pre-flight for a folder a command will write: it (or the nearest existing folder above it, where it will be
    created) must be a folder this process can write to, with ``min_free`` bytes free. Creates nothing; raises
    ``UserError`` naming the path."""
    path = Path(path).expanduser()
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        raise UserError(f"{what} {path}: {probe} is a file, not a folder")
    try:
        fd, name = tempfile.mkstemp(prefix=".videobench-write-test-", dir=probe)
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        raise UserError(f"{what} {path}: cannot write in {probe} ({exc.strerror})") from None
    free = shutil.disk_usage(probe).free
    if free < min_free:
        raise UserError(f"{what} {path}: only {free / 2**20:.0f} MiB free on its disk, at least "
                        f"{min_free / 2**20:.0f} MiB needed")
    return path


def parse_seeds(text: str) -> list[int]:
    """``--seeds 0,1,2`` → [0, 1, 2], with an error a person can act on."""
    try:
        seeds = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise UserError(f"--seeds {text!r}: expected comma-separated integers, e.g. 0,1") from None
    if not seeds:
        raise UserError("--seeds: give at least one seed")
    return seeds


def parse_sampling(text: str | None) -> Any:
    """``--sampling steps=4&height=480&...`` → a ``RenderSettings`` (None when not given)."""
    if not text:
        return None
    from urllib.parse import parse_qsl

    from videobench.compare.spec import settings_from_options

    try:
        return settings_from_options(dict(parse_qsl(text, keep_blank_values=True, strict_parsing=True)),
                                     where="--sampling: ")
    except ValueError as exc:  # SpecError is one
        raise UserError(f"--sampling {text!r}: {exc}") from None
