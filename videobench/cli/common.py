"""Helpers shared by the CLI commands: errors a person can act on, and console output."""

from __future__ import annotations

from contextlib import contextmanager
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


def is_user_error(exc: BaseException) -> bool:
    """Errors videobench raises on purpose about the user's input (a file, a spec, a row): print, don't trace.

    Every such error in this package is a ``ValueError`` / ``LookupError`` / ``OSError`` subclass defined in a
    videobench module (``BenchmarkError``, ``VideoDecodeError``, ``RewardSpecError``, ``ConfigError``, ...), so the
    rule needs no list that each new module must remember to extend.
    """
    if isinstance(exc, (UserError, FileNotFoundError)):
        return True
    defined_here = type(exc).__module__.split(".")[0] == "videobench"
    return defined_here and isinstance(exc, (ValueError, LookupError, OSError, RuntimeError))


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Turn expected input errors into a one-paragraph message and exit code 2."""
    try:
        yield
    except Exception as exc:
        if not is_user_error(exc):
            raise
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(code=2) from exc


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
