"""Every code block of README.md and docs/*.md runs as written (or, where marked help-only, parses).

Pages are discovered, so a page added by anyone is tested at once. The conventions are in docs/testing.md."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from docs_blocks import parse_blocks
from docs_runner import DocBlockError, run_block

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_page_blocks_run_as_written(page: Path, page_dir: Path) -> None:
    namespace: dict = {"__name__": "__docs__"}
    failures = []
    for block in parse_blocks(page):
        start = time.perf_counter()
        try:
            run_block(block, page_dir, namespace)
        except DocBlockError as exc:
            failures.append(str(exc))
            if block.mode == "run":  # later blocks of the page may need what this one makes
                break
        finally:
            print(f"{block.where} [{block.kind}, {block.mode}] {time.perf_counter() - start:.1f} s", file=sys.stderr)
    assert not failures, "\n\n".join(failures)
