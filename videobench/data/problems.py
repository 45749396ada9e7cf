"""Collect every problem of an input file, then raise one error that lists them all.

A user fixing a 26k-row CSV wants the whole list at once, not one error per run. Problems are grouped by
(column, what is wrong) and each group lists all of its rows compactly ("lines 2-4, 9").
"""

from __future__ import annotations

from typing import Iterable

from videobench.data.benchmark import BenchmarkError
from videobench.data.tables import compress_locators

#: Most groups printed in one message; the rest are counted (a file with thousands of distinct bad values).
MAX_GROUPS = 60


class Problems:
    def __init__(self, source: str):
        self.source = source
        self._groups: dict[tuple[str, str], list[str]] = {}
        self.escapes = False

    def add(self, locator: str, column: str | None, problem: str) -> None:
        self._groups.setdefault((column or "", problem), []).append(locator)

    def add_rows(self, locators: Iterable[str], column: str | None, problem: str) -> None:
        for loc in locators:
            self.add(loc, column, problem)

    def __bool__(self) -> bool:
        return bool(self._groups)

    def __len__(self) -> int:
        return sum(len(v) for v in self._groups.values())

    def message(self) -> str:
        lines = []
        for (column, problem), locs in list(self._groups.items())[:MAX_GROUPS]:
            where = compress_locators(locs)
            col = f"column {column!r}: " if column else ""
            lines.append(f"{where}: {col}{problem}")
        hidden = len(self._groups) - MAX_GROUPS
        if hidden > 0:
            lines.append(f"... and {hidden} more kinds of problem")
        rows = len({loc for locs in self._groups.values() for loc in locs})
        head = f"{self.source}: {len(self)} problem(s) in {rows} row(s); nothing was loaded:"
        return head + "\n  " + "\n  ".join(lines)

    def raise_if_any(self, error: type[BenchmarkError] = BenchmarkError) -> None:
        if not self:
            return
        from videobench.data.benchmark import PathEscapeError

        raise (PathEscapeError if self.escapes else error)(self.message())
