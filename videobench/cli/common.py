"""Helpers shared by the CLI commands: errors a person can act on, and console output."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import typer
from rich.console import Console
from rich.markup import escape

import sys

# Piped output (CI logs, `| tee`) gets a wide console so result tables are not cut at 80 columns.
_WIDTH = None if sys.stdout.isatty() else 160
console = Console(stderr=False, width=_WIDTH)
err_console = Console(stderr=True)


class UserError(Exception):
    """An error caused by input the user can fix; printed without a traceback."""


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Turn expected input errors into a one-paragraph message and exit code 2."""
    from videobench.data.benchmark import BenchmarkError
    from videobench.results import ResultFormatError

    try:
        yield
    except (UserError, BenchmarkError, ResultFormatError, FileNotFoundError) as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        raise typer.Exit(code=2) from exc
