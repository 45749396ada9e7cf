"""``MosBenchmark``: single videos with human mean opinion scores (MOS), beside the pairwise ``PairBenchmark``.

One row per rated video, in a pandas DataFrame with these columns (the contract every MOS loader produces):

- ``item_id`` (str, unique), ``row`` (int: place among the file's data rows), ``prompt`` (str, non-empty)
- ``video`` (str): a path relative to ``root`` (or absolute when ``root`` is None)
- ``generator`` (str or None)
- ``mos_<dim>`` (float) for each dimension in ``dimensions``
- ``source_url`` (str or None): where the video can be downloaded, when the file names a URL (VideoPhy-2)

Formats (``MOS_FORMATS``), each a mapping from contract columns to the file's own, checked row by row with every problem
listed at once (file, line/row, column), as the pairwise loaders do:

- ``mos``: a generic CSV / TSV / JSONL / Parquet with ``video``, ``prompt`` and ``mos`` (dimension ``Overall``) or
  ``mos_<dim>`` columns; ``--columns video=path,mos_Overall=score`` maps other names.
- ``t2vqa``: the T2VQA-DB annotation file: one video a line, ``filename|prompt|mos``, no header (the released
  ``T2VQA/dataset/dataset.py`` splits each line on ``|`` into exactly these three fields). Dimension ``Overall``.
- ``videophy2``: the VideoPhy-2 test CSV: ``caption``, ``video_url``, ``sa``, ``pc`` (human 1-5 ratings of semantic
  adherence and physical commonsense), ``model_name``. Dimensions ``SA`` and ``PC``. A URL becomes the local path
  ``videos/<path of the URL>`` (``https://host/a/b.mp4`` -> ``videos/a/b.mp4``: download the videos there); the URL is kept in ``source_url``.

``mos_to_pairs`` derives a ``PairBenchmark`` from MOS data: every two videos of one prompt form a pair, labelled per
dimension by which has the higher score (equal scores: a tie).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlparse

import numpy as np
import pandas as pd

from videobench.data.benchmark import ROW_COLUMN, BenchmarkError, PairBenchmark, label_column, resolve_under_root
from videobench.data.problems import Problems
from videobench.data.tables import RawTable, is_missing, read_table

OVERALL = "Overall"
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def mos_column(dimension: str) -> str:
    return f"mos_{dimension}"


@dataclass
class MosBenchmark:
    """Single videos with mean opinion scores per dimension (see the module docstring for the table's columns)."""

    name: str
    videos: pd.DataFrame
    dimensions: tuple[str, ...]
    root: Path | None = None
    source: str = ""
    revision: str | None = None
    #: Rows the loader left out on purpose, with why.
    excluded: dict[str, int] = field(default_factory=dict)
    #: What each dimension's scores are (scale, question), for cards and results.
    scale: dict[str, str] = field(default_factory=dict)

    kind = "mos"

    def __len__(self) -> int:
        return len(self.videos)

    def mos(self, dimension: str) -> np.ndarray:
        return self.videos[mos_column(dimension)].to_numpy(dtype=float)

    @property
    def prompts(self) -> np.ndarray:
        return self.videos["prompt"].to_numpy(dtype=object)

    def video_path(self, relative: str) -> Path:
        return resolve_under_root(self.root, relative)

    def fingerprint(self) -> str:
        """Hash of the loaded table, independent of row and column order (as ``PairBenchmark.fingerprint``)."""
        cols = sorted(c for c in self.videos.columns if c != ROW_COLUMN)
        table = self.videos[cols].sort_values("item_id", kind="stable")
        digest = hashlib.sha256()
        digest.update(("mos:" + ",".join(cols)).encode())
        digest.update(pd.util.hash_pandas_object(table, index=False).to_numpy().tobytes())
        return "sha256:" + digest.hexdigest()[:32]


@dataclass(frozen=True)
class MosFormat:
    """How one MOS file format maps onto the contract: contract column -> file column, and what is required."""

    name: str
    mapping: Mapping[str, str]
    required: frozenset[str]
    #: file URLs become ``<url_folder>/<file name>`` under the root (None: URLs are refused)
    url_folder: str | None = None
    #: the format's file has no header; these are its columns in order (read as ``|``-separated text)
    headerless_columns: tuple[str, ...] = ()
    scale: Mapping[str, str] = field(default_factory=dict)


MOS_FORMATS: dict[str, MosFormat] = {
    "mos": MosFormat("mos", {"video": "video", "prompt": "prompt", "generator": "generator", "item_id": "item_id"},
                     frozenset({"video", "prompt"})),
    "t2vqa": MosFormat(
        "t2vqa", {"video": "filename", "prompt": "prompt", "mos_Overall": "mos"},
        frozenset({"video", "prompt", "mos_Overall"}), headerless_columns=("filename", "prompt", "mos"),
        scale={OVERALL: "T2VQA-DB mean opinion score (as released)"}),
    "videophy2": MosFormat(
        "videophy2", {"video": "video_url", "prompt": "caption", "generator": "model_name", "mos_SA": "sa",
                      "mos_PC": "pc"},
        frozenset({"video", "prompt", "mos_SA", "mos_PC"}), url_folder="videos",
        scale={"SA": "semantic adherence, human rating 1-5", "PC": "physical commonsense, human rating 1-5"}),
}


def is_mos_format(name: str | None) -> bool:
    return name in MOS_FORMATS


def detect_mos_format(path: Path, columns: list[str] | None) -> str | None:
    """The MOS format a file looks like, or None (then it is a pairwise file)."""
    if path.suffix.lower() == ".txt":
        return "t2vqa"
    if columns is None:
        return None
    cols = set(columns)
    if {"video_url", "caption", "sa", "pc"} <= cols:
        return "videophy2"
    if "video" in cols and ("mos" in cols or any(c.startswith("mos_") for c in cols)) and "video_A" not in cols:
        return "mos"
    return None


def read_pipe_table(path: Path, columns: tuple[str, ...]) -> RawTable:
    """A headerless ``a|b|c`` text file (T2VQA-DB's annotation file) as raw rows located by line."""
    if not path.is_file():
        raise BenchmarkError(f"{path}: no such file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BenchmarkError(f"{path}: not UTF-8 text ({exc})") from exc
    rows, locators, bad = [], [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.strip().split("|")
        if len(fields) != len(columns):
            bad.append(f"line {number}: {len(fields)} '|'-separated field(s), expected {len(columns)} "
                       f"({'|'.join(columns)})")
            continue
        rows.append([f.strip() for f in fields])
        locators.append(f"line {number}")
    if bad:
        raise BenchmarkError(f"{path}: {len(bad)} malformed line(s):\n  " + "\n  ".join(bad))
    return RawTable(pd.DataFrame(rows, columns=list(columns), dtype=object), locators, str(path))


def _mapping(raw: RawTable, fmt: MosFormat, user: Mapping[str, str], problems: Problems) -> dict[str, str]:
    cols = list(raw.frame.columns)
    present = set(cols)
    final: dict[str, str] = {}
    missing = []
    for target, source in {**fmt.mapping, **user}.items():
        if source in present:
            final[target] = source
        elif target in user or target in fmt.required:
            missing.append(repr(source) if source == target else f"{source!r} (for {target})")
    for c in cols:  # contract names used directly, and the generic format's bare ``mos``
        if re.match(r"^mos_.+", c):
            final.setdefault(c, c)
    if "mos" in present and not any(t.startswith("mos_") for t in final):
        final["mos_Overall"] = "mos"
    if not any(t.startswith("mos_") for t in final) and not missing:
        missing.append("at least one score column (mos, or mos_<dim>)")
    if missing:
        problems.add("header", None, f"missing column(s) {', '.join(missing)}; the file has {cols}")
    return final


def _local_video(value: str, fmt: MosFormat) -> tuple[str, str | None, str | None]:
    """(path relative to the root, source URL, problem)."""
    if _URL.match(value):
        if fmt.url_folder is None:
            return "", None, "a URL where a video path is expected (download the videos and give their paths)"
        url_path = posixpath.normpath(urlparse(value).path).lstrip("/")
        if not url_path or url_path == "." or url_path.startswith(".."):
            return "", value, "the URL names no file"
        return f"{fmt.url_folder}/{url_path}", value, None
    path = posixpath.normpath(value.strip())
    if posixpath.isabs(path) or os.path.isabs(path):
        return path, None, "absolute video path refused (paths are relative to the benchmark root)"
    if path == ".." or path.startswith("../"):
        return path, None, "video path escapes the benchmark root"
    return path, None, None


def build_mos_benchmark(raw: RawTable, fmt: MosFormat | str = "mos", columns: Mapping[str, str] | str | None = None,
                        *, name: str | None = None, root: str | os.PathLike | None = None,
                        revision: str | None = None) -> MosBenchmark:
    """Check every row of ``raw`` and build the benchmark, or raise one ``BenchmarkError`` listing all problems."""
    from videobench.data.loaders import parse_column_mapping, read_ids

    if isinstance(fmt, str):
        if fmt not in MOS_FORMATS:
            raise BenchmarkError(f"unknown MOS format {fmt!r}; known: {sorted(MOS_FORMATS)}")
        fmt = MOS_FORMATS[fmt]
    user = parse_column_mapping(columns, mos=True)
    problems = Problems(raw.source)
    mapping = _mapping(raw, fmt, user, problems)
    problems.raise_if_any()
    frame, locs = raw.frame, raw.locators
    n = len(frame)
    if n == 0:
        raise BenchmarkError(f"{raw.source}: no rows")

    def col(target: str) -> list[Any]:
        return frame[mapping[target]].tolist() if target in mapping else [None] * n

    prompts, videos, urls = [], [], []
    for loc, p, v in zip(locs, col("prompt"), col("video")):
        if is_missing(p):
            problems.add(loc, mapping["prompt"], "empty or missing prompt")
        prompts.append("" if is_missing(p) else str(p))
        if is_missing(v):
            problems.add(loc, mapping["video"], "missing video")
            videos.append("")
            urls.append(None)
            continue
        path, url, problem = _local_video(str(v), fmt)
        if problem:
            problems.add(loc, mapping["video"], problem)
            problems.escapes = problems.escapes or "escapes" in problem
        videos.append(path)
        urls.append(url)
    dims = sorted((t[len("mos_"):] for t in mapping if t.startswith("mos_")), key=lambda d: (d != OVERALL, d))
    scores: dict[str, np.ndarray] = {}
    for dim in dims:
        values = np.full(n, np.nan)
        for i, (loc, v) in enumerate(zip(locs, col(mos_column(dim)))):
            try:
                values[i] = float(v)
                if not np.isfinite(values[i]) or isinstance(v, bool):
                    raise ValueError(v)
            except (TypeError, ValueError):
                what = "missing score (empty / NaN)" if is_missing(v) else f"not a finite number: {v!r}"
                problems.add(loc, mapping[mos_column(dim)], what)
        scores[dim] = values
    if "item_id" in mapping:
        ids = read_ids(locs, col("item_id"), mapping["item_id"], problems, "missing item id")
    else:
        ids = ["v" + hashlib.sha256(f"{p}\x1f{v}".encode()).hexdigest()[:16] for p, v in zip(prompts, videos)]
    seen: dict[str, str] = {}
    for loc, item in zip(locs, ids):
        if item and item in seen:
            what = "item id" if "item_id" in mapping else "video and prompt"
            problems.add(loc, mapping.get("item_id", mapping["video"]), f"repeats the {what} of {seen[item]} "
                         f"(one rating row per video and prompt; average repeated ratings before loading)")
        seen.setdefault(item, loc)
    problems.raise_if_any()
    table = pd.DataFrame({
        "item_id": pd.Series(ids, dtype=object), ROW_COLUMN: np.arange(n, dtype=np.int64),
        "prompt": pd.Series(prompts, dtype=object), "video": pd.Series(videos, dtype=object),
        "generator": pd.Series([None if is_missing(g) else str(g) for g in col("generator")], dtype=object),
        "source_url": pd.Series(urls, dtype=object),
        **{mos_column(d): scores[d] for d in dims},
    })
    return MosBenchmark(name=name or Path(raw.source).stem, videos=table, dimensions=tuple(dims),
                        root=Path(root).resolve() if root is not None else None, source=raw.source,
                        revision=revision, scale=dict(fmt.scale))


def load_mos_table(path: str | os.PathLike, *, format: str = "auto", columns: Mapping[str, str] | str | None = None,
                   file_format: str | None = None, root: str | os.PathLike | None = None,
                   name: str | None = None) -> MosBenchmark:
    """Load a MOS file (``format``: ``mos``, ``t2vqa``, ``videophy2`` or ``auto``); video paths are relative to
    ``root`` (default: the file's folder)."""
    path = Path(path)
    fmt = detect_mos_format(path, None) if format == "auto" else format
    if fmt not in (None, *MOS_FORMATS):
        raise BenchmarkError(f"unknown MOS format {format!r}; known: {sorted(MOS_FORMATS)}")
    if fmt == "t2vqa":
        raw = read_pipe_table(path, MOS_FORMATS["t2vqa"].headerless_columns)
    else:
        raw = read_table(path, file_format)
        fmt = fmt or detect_mos_format(path, list(raw.frame.columns)) or "mos"
    return build_mos_benchmark(raw, fmt, columns, name=name, root=path.parent if root is None else root)


def mos_items(bench: MosBenchmark) -> pd.DataFrame:
    """The unique (video, prompt) items to score, sorted (results never depend on row order)."""
    items = bench.videos[["video", "prompt"]].astype(object).drop_duplicates()
    return items.sort_values(["video", "prompt"], kind="stable").reset_index(drop=True)


def mos_to_pairs(bench: MosBenchmark, name: str | None = None) -> PairBenchmark:
    """Every two videos that share a prompt become a pair (A = the earlier row of the file), labelled per dimension
    +1 / -1 by the higher MOS and 0 (tie) when the scores are equal. Prompts with one video give no pair."""
    videos = bench.videos.sort_values(ROW_COLUMN, kind="stable")
    rows: dict[str, list[Any]] = {c: [] for c in ("pair_id", "prompt", "video_A", "video_B", "generator_A",
                                                  "generator_B")}
    labels: dict[str, list[int]] = {d: [] for d in bench.dimensions}
    scores: dict[str, list[float]] = {f"mos_{s}_{d}": [] for d in bench.dimensions for s in "AB"}
    for prompt, group in videos.groupby("prompt", sort=True):
        records = group.to_dict("records")
        for a, b in itertools.combinations(records, 2):
            rows["pair_id"].append(f"{a['item_id']}~{b['item_id']}")
            rows["prompt"].append(prompt)
            rows["video_A"].append(a["video"])
            rows["video_B"].append(b["video"])
            rows["generator_A"].append(a["generator"])
            rows["generator_B"].append(b["generator"])
            for d in bench.dimensions:
                labels[d].append(int(np.sign(a[mos_column(d)] - b[mos_column(d)])))
                scores[f"mos_A_{d}"].append(a[mos_column(d)])
                scores[f"mos_B_{d}"].append(b[mos_column(d)])
    if not rows["pair_id"]:
        raise BenchmarkError(f"{bench.source}: no prompt has two rated videos, so no pairs can be derived")
    table = pd.DataFrame({c: pd.Series(v, dtype=object) for c, v in rows.items()})
    for c in ("fps_A", "num_frames_A", "fps_B", "num_frames_B"):
        table[c] = np.nan
    for d in bench.dimensions:
        table[label_column(d)] = np.asarray(labels[d], dtype=np.int8)
    for c, v in scores.items():
        table[c] = np.asarray(v, dtype=float)
    return PairBenchmark(name=name or f"{bench.name}-pairs", pairs=table, dimensions=bench.dimensions,
                         root=bench.root, source=bench.source, revision=bench.revision,
                         excluded=dict(bench.excluded))
