"""Precomputed reward-model scores read from a file (CSV / TSV / JSONL / Parquet).

Two layouts, told apart by their columns:

- per video: ``video`` (the path as the benchmark writes it), optional ``prompt``, then one numeric column per
  dimension (``VQ``, ``MQ``, ``TA``, ``Overall``, or any name). With ``prompt``, a score belongs to (video, prompt);
  without, to the video whatever the prompt.
- per pair: ``pair_id`` and ``score_A_<dim>``, ``score_B_<dim>`` for each dimension.

Every cell is checked; problems are listed by row and column in one ``ScoresFileError``.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from videobench.data.benchmark import BenchmarkError, PairBenchmark
from videobench.data.loaders import normalise_video_path
from videobench.data.problems import Problems
from videobench.data.tables import is_missing, read_table

_PAIR_SCORE = re.compile(r"^score_([AB])_(.+)$")
#: Columns of a per-video file that are not dimensions.
_VIDEO_META = ("video", "prompt")
#: Missing videos listed by name in an error before the rest are counted.
_MAX_LISTED = 20


class ScoresFileError(BenchmarkError):
    """A scores file that cannot be used; the message names the file, rows and columns."""


@dataclass
class ScoresTable:
    kind: Literal["video", "pair"]
    #: per video: ``video`` (normalised), ``prompt`` (when given), one float column per dimension;
    #: per pair: ``pair_id``, ``score_A_<dim>``, ``score_B_<dim>``.
    frame: pd.DataFrame
    dimensions: tuple[str, ...]
    source: str
    #: ``sha256:`` + hex digest of the file's bytes.
    fingerprint: str

    @property
    def has_prompt(self) -> bool:
        return self.kind == "video" and "prompt" in self.frame.columns


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


def read_scores(path: str | os.PathLike, file_format: str | None = None) -> ScoresTable:
    """Read and check a scores file; raises ``ScoresFileError`` listing every problem."""
    path = Path(path)
    try:
        raw = read_table(path, file_format)
    except BenchmarkError as exc:
        raise ScoresFileError(str(exc)) from exc
    columns = [str(c) for c in raw.frame.columns]
    if "pair_id" in columns and any(_PAIR_SCORE.match(c) for c in columns):
        kind: Literal["video", "pair"] = "pair"
    elif "video" in columns:
        kind = "video"
    else:
        raise ScoresFileError(
            f"{path}: a scores file needs a 'video' column (per-video scores) or 'pair_id' with score_A_<dim> / "
            f"score_B_<dim> columns (per-pair scores); the file has {columns}"
        )
    problems = Problems(str(path))
    frame = raw.frame
    locs = raw.locators
    if len(frame) == 0:
        raise ScoresFileError(f"{path}: no rows")

    out: dict[str, object] = {}
    if kind == "video":
        value_cols = [c for c in columns if c not in _VIDEO_META]
        dims = value_cols
        keys = []
        for loc, v in zip(locs, frame["video"]):
            if is_missing(v):
                problems.add(loc, "video", "missing video path")
                keys.append("")
            else:
                keys.append(normalise_video_path(str(v)))
        out["video"] = keys
        if "prompt" in columns:
            prompts = []
            for loc, v in zip(locs, frame["prompt"]):
                if is_missing(v):
                    problems.add(loc, "prompt", "empty or missing prompt")
                prompts.append("" if is_missing(v) else str(v).strip())
            out["prompt"] = prompts
        key_cols = ["video", "prompt"] if "prompt" in columns else ["video"]
    else:
        by_dim: dict[str, set[str]] = {}
        for c in columns:
            m = _PAIR_SCORE.match(c)
            if m:
                by_dim.setdefault(m.group(2), set()).add(m.group(1))
        unmatched = [f"score_{'B' if sides == {'A'} else 'A'}_{d}" for d, sides in by_dim.items() if sides != {"A", "B"}]
        if unmatched:
            raise ScoresFileError(f"{path}: missing column(s) {unmatched} (each score_A_<dim> needs its score_B_<dim>)")
        dims = list(by_dim)
        value_cols = [f"score_{s}_{d}" for d in dims for s in "AB"]
        ids = []
        for loc, v in zip(locs, frame["pair_id"]):
            if is_missing(v):
                problems.add(loc, "pair_id", "missing pair id")
                ids.append("")
            else:
                ids.append(str(int(v)) if isinstance(v, float) and v.is_integer() else str(v).strip())
        out["pair_id"] = ids
        key_cols = ["pair_id"]
    if not dims:
        raise ScoresFileError(f"{path}: no score columns besides {key_cols}")

    for c in value_cols:
        values = np.full(len(frame), np.nan)
        for i, (loc, v) in enumerate(zip(locs, frame[c])):
            if is_missing(v):
                problems.add(loc, c, "missing score (empty / NaN)")
                continue
            try:
                if isinstance(v, (bool, np.bool_)):
                    raise ValueError
                x = float(v)
            except (TypeError, ValueError):
                problems.add(loc, c, f"not a number: {v!r}")
                continue
            if not math.isfinite(x):
                problems.add(loc, c, f"not a finite number: {v!r}")
                continue
            values[i] = x
        out[c] = values
    table = pd.DataFrame({k: (pd.Series(v, dtype=object) if isinstance(v, list) else v) for k, v in out.items()})

    # The same key twice is fine only when the scores agree; otherwise which one is meant?
    for label, rows in clashing_repeats(table, key_cols, value_cols):
        problems.add_rows([locs[i] for i in rows], key_cols[0],
                          f"{label!r} appears more than once with different scores")
    table = table.drop_duplicates(subset=key_cols).reset_index(drop=True)
    problems.raise_if_any(ScoresFileError)
    return ScoresTable(kind, table, tuple(dims), str(path), file_sha256(path))


def clashing_repeats(table: pd.DataFrame, key_cols: list[str], value_cols: list[str]) -> list[tuple[str, pd.Index]]:
    """Keys that appear more than once with different values, in table order: (``a / b`` label, their rows)."""
    repeated = table[table.duplicated(subset=key_cols, keep=False)]
    return [(" / ".join(map(str, key)) if isinstance(key, tuple) else str(key), group.index)
            for key, group in repeated.groupby(key_cols, sort=False) if len(group[value_cols].drop_duplicates()) > 1]


def _lookup_error(source: str, what: str, missing: list[str]) -> ScoresFileError:
    shown = ", ".join(repr(m) for m in missing[:_MAX_LISTED])
    more = f" and {len(missing) - _MAX_LISTED} more" if len(missing) > _MAX_LISTED else ""
    return ScoresFileError(f"{source}: no scores for {len(missing)} {what} of the benchmark: {shown}{more}")


def video_scores_for(table: ScoresTable, benchmark: PairBenchmark) -> pd.DataFrame:
    """Per-video scores for every (video, prompt) the benchmark uses: columns ``video``, ``prompt``, dimensions.

    Raises ``ScoresFileError`` listing the videos the file has no score for.
    """
    if table.kind != "video":
        raise ScoresFileError(f"{table.source}: per-pair scores have no per-video values")
    items = benchmark_items(benchmark)
    dims = list(table.dimensions)
    if table.has_prompt:
        index = table.frame.set_index(["video", "prompt"])[dims]
        keys = pd.MultiIndex.from_arrays([items["video"], items["prompt"].str.strip()])
    else:
        index = table.frame.set_index("video")[dims]
        keys = pd.Index(items["video"])
    found = keys.isin(index.index)
    if not found.all():
        missing = list(dict.fromkeys(" / ".join(k) if isinstance(k, tuple) else str(k) for k in keys[~found]))
        what = "(video, prompt) items" if table.has_prompt else "videos"
        raise _lookup_error(table.source, what, missing)
    values = index.loc[keys].to_numpy(dtype=float)
    out = items.copy()
    for j, d in enumerate(dims):
        out[d] = values[:, j]
    return out


def pair_scores_for(table: ScoresTable, benchmark: PairBenchmark) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{dim: (score_A, score_B)}`` aligned with the benchmark's rows, from a per-pair file."""
    if table.kind != "pair":
        raise ScoresFileError(f"{table.source}: per-video scores are looked up with video_scores_for")
    index = table.frame.set_index("pair_id")
    ids = pd.Index(benchmark.pairs["pair_id"].astype(str))
    found = ids.isin(index.index)
    if not found.all():
        raise _lookup_error(table.source, "pairs", list(ids[~found]))
    rows = index.loc[ids]
    return {
        d: (rows[f"score_A_{d}"].to_numpy(dtype=float), rows[f"score_B_{d}"].to_numpy(dtype=float))
        for d in table.dimensions
    }


def benchmark_items(benchmark: PairBenchmark) -> pd.DataFrame:
    """The unique (video, prompt) items a benchmark asks scores for, sorted (so results never depend on row order).
    A MOS benchmark (``videobench.data.mos``) asks for its rated videos."""
    if getattr(benchmark, "kind", "pairs") == "mos":
        from videobench.data.mos import mos_items

        return mos_items(benchmark)  # type: ignore[arg-type]
    pairs = benchmark.pairs
    items = pd.DataFrame({
        "video": pd.concat([pairs["video_A"], pairs["video_B"]], ignore_index=True).astype(object),
        "prompt": pd.concat([pairs["prompt"], pairs["prompt"]], ignore_index=True).astype(object),
    })
    return items.drop_duplicates().sort_values(["video", "prompt"], kind="stable").reset_index(drop=True)
