"""Find the code blocks of a Markdown page and how the documentation tests treat each one.

A fenced block's language decides what it is: ``bash`` / ``sh`` / ``shell`` blocks are commands, ``python`` blocks
are code, anything else (``text``, ``yaml``, no language, ...) is output or configuration and is not run. An HTML
comment on the line before the fence (blank lines allowed in between) changes that:

    <!-- docs-test: help-only -->      check without running (the block needs a GPU, the Hub or the reader's files)
    <!-- docs-test: file NAME -->      write the block's text to NAME in the page's folder
    <!-- docs-test: skip REASON -->    do not run; the reason is required
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SHELL = ("bash", "sh", "shell")
PYTHON = ("python", "py", "python3")
MODES = ("run", "help-only", "file", "skip")

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\s]*)")
_MARKER = re.compile(r"^\s*<!--\s*docs-test:\s*(?P<mode>[\w-]+)(?P<arg>[^>]*?)\s*-->\s*$")


class MarkerError(ValueError):
    """A ``docs-test`` comment the runner does not understand (a typo must not silently skip a block)."""


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    mode: str = "run"  # one of MODES
    arg: str = ""  # the file name of "file", the reason of "skip"

    @property
    def where(self) -> str:
        return f"{self.path.name}:{self.line}"

    @property
    def kind(self) -> str:
        """"shell", "python" or "data" (not executed)."""
        if self.lang in SHELL:
            return "shell"
        if self.lang in PYTHON:
            return "python"
        return "data"


def parse_blocks(path: Path, text: str | None = None) -> list[Block]:
    """Every fenced block of the page, in order, with the marker that precedes it."""
    lines = (path.read_text(encoding="utf-8") if text is None else text).splitlines()
    blocks: list[Block] = []
    pending: tuple[str, str, int] | None = None  # (mode, arg, line) of a marker waiting for its block
    i = 0
    while i < len(lines):
        line = lines[i]
        marker = _MARKER.match(line)
        fence = _FENCE.match(line)
        if marker:
            mode, arg = marker["mode"], marker["arg"].strip()
            if mode not in MODES[1:]:
                raise MarkerError(f"{path.name}:{i + 1}: unknown docs-test mode {mode!r} (known: {', '.join(MODES[1:])})")
            if mode in ("file", "skip") and not arg:
                raise MarkerError(f"{path.name}:{i + 1}: docs-test: {mode} needs " +
                                  ("a file name" if mode == "file" else "a reason"))
            pending = (mode, arg, i + 1)
        elif fence:
            close = re.compile(r"^[ \t]*" + re.escape(fence["fence"][0]) + "{" + str(len(fence["fence"])) + r",}\s*$")
            body: list[str] = []
            j = i + 1
            while j < len(lines) and not close.match(lines[j]):
                body.append(lines[j])
                j += 1
            indent = len(fence["indent"])
            body = [b[indent:] if b[:indent].strip() == "" else b for b in body]
            mode, arg = (pending[0], pending[1]) if pending else ("run", "")
            blocks.append(Block(path, i + 1, fence["info"].lower(), "\n".join(body) + "\n", mode, arg))
            pending = None
            i = j
        elif line.strip() and pending is not None:
            raise MarkerError(f"{path.name}:{pending[2]}: a docs-test marker must come right before a code block")
        i += 1
    if pending is not None:
        raise MarkerError(f"{path.name}:{pending[2]}: a docs-test marker with no code block after it")
    return blocks


def shell_lines(text: str) -> list[tuple[int, str]]:
    """Logical command lines of a shell block: continuations joined, blank and comment-only lines dropped.
    Each comes with its 0-based line offset inside the block."""
    out: list[tuple[int, str]] = []
    buf, start = "", 0
    for k, raw in enumerate(text.splitlines()):
        if not buf:
            start = k
        stripped = raw.rstrip()
        if stripped.endswith("\\") and not stripped.endswith("\\\\"):
            buf += stripped[:-1] + " "
            continue
        buf += stripped
        if buf.strip() and not buf.lstrip().startswith("#"):
            out.append((start, buf.strip()))
        buf = ""
    if buf.strip():
        out.append((start, buf.strip()))
    return out
