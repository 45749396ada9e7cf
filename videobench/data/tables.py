"""Read a tabular file (CSV, JSONL, Parquet) into raw rows that remember where each row came from.

Loaders report problems as "line N" (CSV, JSONL: the 1-based line of the file where the row starts, so a quoted prompt
spanning several lines still points at the right place) or "row N" (Parquet, ``datasets``: the 1-based row index).
CSV cells stay strings here; the loaders convert them, so one bad cell becomes a listed problem instead of a crash.
"""

from __future__ import annotations

import csv
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from videobench.data.benchmark import BenchmarkError

#: File suffixes we read, by format.
FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet"}


@dataclass
class RawTable:
    """Rows as read, with one human-readable locator per row (``"line 5"``, ``"row 3"``)."""

    frame: pd.DataFrame
    locators: list[str]
    source: str

    def __post_init__(self) -> None:
        if len(self.locators) != len(self.frame):
            raise ValueError("one locator per row is required")


def table_format(path: str | os.PathLike, fmt: str | None = None) -> str:
    if fmt:
        if fmt not in set(FORMATS.values()):
            raise BenchmarkError(f"{path}: unknown table format {fmt!r} (expected one of csv, tsv, jsonl, parquet)")
        return fmt
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise BenchmarkError(
            f"{path}: cannot tell the table format from the suffix {suffix!r} (use .csv, .tsv, .jsonl or .parquet)"
        )
    return FORMATS[suffix]


def read_table(path: str | os.PathLike, fmt: str | None = None) -> RawTable:
    """Read ``path`` as a raw table; raises ``BenchmarkError`` naming the file (and line) when it cannot be parsed."""
    path = Path(path)
    if not path.is_file():
        raise BenchmarkError(f"{path}: no such file")
    kind = table_format(path, fmt)
    if kind in ("csv", "tsv"):
        return _read_csv(path, delimiter="\t" if kind == "tsv" else ",")
    if kind == "jsonl":
        return _read_jsonl(path)
    return _read_parquet(path)


def _read_csv(path: Path, delimiter: str) -> RawTable:
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f, delimiter=delimiter)
            header = next(reader, None)
            if header is None:
                raise BenchmarkError(f"{path}: the file is empty (no header line)")
            header = [h.strip() for h in header]
            _check_header(path, header)
            rows: list[list[str]] = []
            locators: list[str] = []
            bad: list[str] = []
            start = reader.line_num + 1
            for record in reader:
                if not record or all(not cell.strip() for cell in record):
                    start = reader.line_num + 1
                    continue  # blank lines are layout, not rows
                if len(record) != len(header):
                    bad.append(f"line {start}: {len(record)} fields, the header has {len(header)}")
                else:
                    rows.append(record)
                    locators.append(f"line {start}")
                start = reader.line_num + 1
    except UnicodeDecodeError as exc:
        raise BenchmarkError(f"{path}: not UTF-8 text ({exc})") from exc
    except csv.Error as exc:
        raise BenchmarkError(f"{path}: malformed CSV near line {reader.line_num} ({exc})") from exc
    if bad:
        raise BenchmarkError(f"{path}: {len(bad)} malformed row(s):\n  " + "\n  ".join(bad))
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    return RawTable(frame, locators, str(path))


def _check_header(path: Path, header: list[str]) -> None:
    empty = [i + 1 for i, h in enumerate(header) if not h]
    if empty:
        raise BenchmarkError(f"{path}: header has empty column name(s) at position(s) {empty}")
    seen: set[str] = set()
    dupes = sorted({h for h in header if h in seen or seen.add(h)})  # type: ignore[func-returns-value]
    if dupes:
        raise BenchmarkError(f"{path}: header repeats column(s) {dupes}")


def _read_jsonl(path: Path) -> RawTable:
    records: list[dict[str, Any]] = []
    locators: list[str] = []
    bad: list[str] = []
    try:
        with path.open(encoding="utf-8-sig") as f:
            for lineno, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    bad.append(f"line {lineno}: not valid JSON ({exc.msg})")
                    continue
                if not isinstance(obj, dict):
                    bad.append(f"line {lineno}: expected a JSON object, got {type(obj).__name__}")
                    continue
                records.append(obj)
                locators.append(f"line {lineno}")
    except UnicodeDecodeError as exc:
        raise BenchmarkError(f"{path}: not UTF-8 text ({exc})") from exc
    if bad:
        raise BenchmarkError(f"{path}: {len(bad)} malformed line(s):\n  " + "\n  ".join(bad))
    columns: list[str] = []
    for rec in records:  # keep first-seen column order
        for key in rec:
            if key not in columns:
                columns.append(key)
    frame = pd.DataFrame.from_records(records, columns=columns).astype(object) if records else pd.DataFrame(columns=columns)
    return RawTable(frame, locators, str(path))


def _read_parquet(path: Path) -> RawTable:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise BenchmarkError(f"{path}: cannot read as Parquet ({type(exc).__name__}: {exc})") from exc
    return from_frame(frame, str(path))


def from_frame(frame: pd.DataFrame, source: str) -> RawTable:
    """Wrap an in-memory table (Parquet, ``datasets``); rows are located by 1-based index."""
    frame = frame.reset_index(drop=True).astype(object)
    return RawTable(frame, [f"row {i + 1}" for i in range(len(frame))], source)


def is_missing(value: Any) -> bool:
    """None, NaN, or a blank string: the forms a missing cell takes in CSV, JSON and Parquet."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str) and not value.strip():
        return True
    try:
        return bool(pd.isna(value)) if not isinstance(value, (list, tuple, dict)) else False
    except (TypeError, ValueError):
        return False


def compress_locators(locators: Iterable[str]) -> str:
    """``["line 2", "line 3", "line 4", "line 9"]`` -> ``"lines 2-4, 9"``: every row listed, compactly."""
    items = list(locators)
    if not items:
        return ""
    kind = items[0].split(" ", 1)[0]
    try:
        numbers = sorted({int(x.split(" ", 1)[1]) for x in items})
    except (IndexError, ValueError):
        return ", ".join(items)
    runs: list[str] = []
    start = prev = numbers[0]
    for n in numbers[1:] + [None]:  # type: ignore[list-item]
        if n is not None and n == prev + 1:
            prev = n
            continue
        runs.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    plural = kind + "s" if len(numbers) > 1 else kind
    return f"{plural} {', '.join(runs)}"
