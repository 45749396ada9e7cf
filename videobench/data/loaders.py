"""Loaders that turn benchmark files into a ``PairBenchmark`` (column contract: ``videobench.data.benchmark``).

Every format is a *preset*: a mapping from contract columns (``video_A``, ``label_VQ``, ...) to the file's own column
names, plus which of them must be present. A user mapping (``--columns video_A=path_a,label_VQ=vq``) overrides the
preset entry by entry. All rows are checked before anything is returned; every problem is collected and raised as one
``BenchmarkError`` naming rows (``line N`` of a CSV/JSONL file, ``row N`` of Parquet/``datasets``) and columns.

Decisions worth knowing:

- ``pair_id`` when the file has none: ``"p"`` + the first 16 hex digits of sha256(prompt, video_A, video_B) (paths
  after normalisation). It is stable under row order and file edits elsewhere, and two rows for the same videos and
  prompt get the same id, which the duplicate check then sees.
- Duplicated rows (identical in every contract column) are an error unless ``dedupe=True``; then the repeats are
  dropped and counted in ``PairBenchmark.excluded["duplicate_rows"]``. Rows that share a pair id but differ are
  always an error (which label would be right?).
- Video paths are normalised (``./videos/x`` == ``videos/x``) and must stay inside the benchmark root (else
  ``PathEscapeError``). Absolute paths are refused unless ``allow_absolute=True``: then paths inside the root become
  relative, and if any lies outside it, every path is made absolute and ``root`` is None (the contract's two forms).
  URLs (``scheme://...``) are kept verbatim.
- GenAI-Bench votes: ``leftvote`` -> A, ``rightvote`` -> B, ``tievote`` -> tie and ``bothbad_vote`` -> tie (neither
  video is preferred, which is what a tie label says); one dimension, ``Overall``.
"""

from __future__ import annotations

import hashlib
import math
import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from videobench.data.benchmark import OPTIONAL_COLUMNS, ROW_COLUMN, BenchmarkError, PairBenchmark, label_column
from videobench.data.problems import Problems
from videobench.data.tables import RawTable, is_missing, read_table
from videobench.labels import PAPER_DIMENSIONS, parse_label

LabelParser = Callable[[Any], int]

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_NUMERIC = ("fps_A", "num_frames_A", "fps_B", "num_frames_B")


@dataclass(frozen=True)
class Preset:
    """How one file format maps onto the contract."""

    name: str
    mapping: Mapping[str, str]
    required: frozenset[str] = frozenset()
    #: Extra spellings accepted for a contract column, tried in order when the mapped name is absent.
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    label_parser: LabelParser = parse_label
    #: Label columns named like a paper dimension (VQ, MQ, ...) become dimensions when present.
    bare_dimension_columns: bool = False
    #: ``MOS_A_<dim>`` / ``MOS_B_<dim>`` columns (VideoAlign) become ``mos_A_<dim>`` / ``mos_B_<dim>``.
    upper_mos_columns: bool = False


_VGRB_MAPPING = {
    "video_A": "path_A", "video_B": "path_B", "generator_A": "A_model", "generator_B": "B_model", "prompt": "prompt",
    "fps_A": "fps_A", "num_frames_A": "num_frames_A", "fps_B": "fps_B", "num_frames_B": "num_frames_B",
    **{label_column(d): d for d in PAPER_DIMENSIONS},
}

_GENAI_VOTES = {"leftvote": 1, "rightvote": -1, "tievote": 0, "bothbad_vote": 0, "bothbad": 0, "both_bad": 0}


def parse_genai_vote(value: Any) -> int:
    """GenAI-Bench / GenAI-Arena vote types -> +1 / -1 / 0 (``bothbad_vote`` counts as a tie)."""
    key = str(value).strip().lower()
    if key in _GENAI_VOTES:
        return _GENAI_VOTES[key]
    raise ValueError(f"unknown vote {value!r} (expected leftvote, rightvote, tievote or bothbad_vote)")


PRESETS: dict[str, Preset] = {
    "videogen-rewardbench": Preset(
        "videogen-rewardbench", _VGRB_MAPPING, required=frozenset(_VGRB_MAPPING)
    ),
    "videoalign": Preset(
        "videoalign",
        {k: v for k, v in _VGRB_MAPPING.items() if not k.startswith(("generator_", "label_"))},
        required=frozenset({"video_A", "video_B", "prompt"}),
        bare_dimension_columns=True,
        upper_mos_columns=True,
    ),
    "genai-bench": Preset(
        "genai-bench",
        {"video_A": "left_video", "video_B": "right_video", "generator_A": "left_model", "generator_B": "right_model",
         "prompt": "prompt", "label_Overall": "vote_type"},
        required=frozenset({"video_A", "video_B", "prompt", "label_Overall"}),
        aliases={"video_A": ("left video", "left_video_path"), "video_B": ("right video", "right_video_path"),
                 "generator_A": ("left model",), "generator_B": ("right model",), "label_Overall": ("vote", "vote type")},
        label_parser=parse_genai_vote,
    ),
    "generic": Preset("generic", {}),
}


def detect_format(columns: list[str]) -> str:
    """Guess the preset from a header; ``generic`` (contract names plus the user's mapping) when nothing fits."""
    cols = set(columns)
    if {"left_video", "right_video"} <= cols or {"left video", "right video"} <= cols or "vote_type" in cols:
        return "genai-bench"
    if {"path_A", "path_B"} <= cols:
        return "videogen-rewardbench" if cols & {"A_model", "B_model", "Overall"} else "videoalign"
    return "generic"


def parse_column_mapping(text: str | Mapping[str, str] | None, mos: bool = False) -> dict[str, str]:
    """``"video_A=path_a,label_VQ=vq"`` -> ``{"video_A": "path_a", "label_VQ": "vq"}`` (contract name = file name).
    ``mos``: the names of the single-video MOS contract (``video``, ``prompt``, ``generator``, ``item_id``,
    ``mos_<dim>``; ``videobench.data.mos``)."""
    if text is None:
        return {}
    if isinstance(text, Mapping):
        return {str(k): str(v) for k, v in text.items()}
    mapping: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        target, sep, source = item.partition("=")
        if not sep or not target.strip() or not source.strip():
            raise BenchmarkError(f"--columns: expected CONTRACT_NAME=FILE_COLUMN, got {item!r}")
        mapping[target.strip()] = source.strip()
    if mos:
        unknown = [t for t in mapping if t not in ("item_id", "prompt", "video", "generator")
                   and not re.match(r"^mos_\w+$", t)]
        if unknown:
            raise BenchmarkError(f"--columns: unknown contract column(s) {unknown} for a MOS benchmark; use video, "
                                 "prompt, generator, item_id, mos_<dim>")
        return mapping
    known = {"pair_id", "prompt", "video_A", "video_B", *OPTIONAL_COLUMNS}
    unknown = [t for t in mapping if t not in known and not re.match(r"^(label|mos_A|mos_B)_\w+$", t)]
    if unknown:
        raise BenchmarkError(
            f"--columns: unknown contract column(s) {unknown}; use pair_id, prompt, video_A, video_B, generator_A/B, "
            "fps_A/B, num_frames_A/B, label_<dim>, mos_A_<dim>, mos_B_<dim>"
        )
    return mapping


def _resolve_mapping(raw: RawTable, preset: Preset, user: Mapping[str, str], problems: Problems) -> dict[str, str]:
    """Final contract -> file column mapping; missing required columns are recorded as problems."""
    cols = list(raw.frame.columns)
    present = set(cols)
    final: dict[str, str] = {}
    missing: dict[str, str] = {}  # contract column -> what was looked for
    for target, source in {**preset.mapping, **user}.items():
        candidates = (source, *preset.aliases.get(target, ()))
        found = next((c for c in candidates if c in present), None)
        if found is not None:
            final[target] = found
        elif target in user or target in preset.required:
            missing[target] = repr(source) if source == target else f"{source!r} (for {target})"
    # Contract names used directly by the file.
    for c in cols:
        if c in ("pair_id", "prompt", "video_A", "video_B", *OPTIONAL_COLUMNS) or re.match(r"^(label|mos_A|mos_B)_.+", c):
            final.setdefault(c, c)
    if preset.bare_dimension_columns:
        for dim in PAPER_DIMENSIONS:
            if dim in present:
                final.setdefault(label_column(dim), dim)
    if preset.upper_mos_columns:
        for c in cols:
            m = re.match(r"^MOS_([AB])_(.+)$", c)
            if m:
                final.setdefault(f"mos_{m.group(1)}_{m.group(2)}", c)
    for target in ("prompt", "video_A", "video_B"):
        if target not in final:
            missing.setdefault(target, repr(target))
    if not any(t.startswith("label_") for t in final) and not any(t.startswith("label_") for t in missing):
        missing["label_*"] = "at least one label column (label_<dim>, or VQ/MQ/TA/Overall)"
    if missing:
        problems.add("header", None, f"missing column(s) {', '.join(missing.values())}; the file has {cols}")
    return final


def normalise_video_path(value: str) -> str:
    if _URL.match(value):
        return value
    return posixpath.normpath(value.strip())


def content_pair_id(prompt: str, video_a: str, video_b: str) -> str:
    """The id given to a pair whose file has no ``pair_id`` column (see module docstring)."""
    digest = hashlib.sha256("\x1f".join((prompt, video_a, video_b)).encode("utf-8")).hexdigest()
    return "p" + digest[:16]


def _to_float(value: Any) -> float:
    if is_missing(value):
        return math.nan
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(value)
    out = float(value)
    if math.isinf(out):
        raise ValueError(value)
    return out


def build_benchmark(
    raw: RawTable,
    preset: Preset | str = "generic",
    columns: Mapping[str, str] | str | None = None,
    *,
    name: str | None = None,
    root: str | os.PathLike | None = None,
    dedupe: bool = False,
    allow_absolute: bool = False,
    revision: str | None = None,
) -> PairBenchmark:
    """Check every row of ``raw`` and build the benchmark, or raise one ``BenchmarkError`` listing all problems."""
    if isinstance(preset, str):
        if preset not in PRESETS:
            raise BenchmarkError(f"unknown benchmark format {preset!r}; known: {sorted(PRESETS)}")
        preset = PRESETS[preset]
    user = parse_column_mapping(columns)
    problems = Problems(raw.source)
    mapping = _resolve_mapping(raw, preset, user, problems)
    problems.raise_if_any()  # row checks make no sense without the columns

    frame, locs = raw.frame, raw.locators
    n = len(frame)
    if n == 0:
        raise BenchmarkError(f"{raw.source}: no rows (only a header)")

    def col(target: str) -> list[Any]:
        return frame[mapping[target]].tolist()

    out: dict[str, Any] = {}
    # Prompts: non-empty text.
    prompts = []
    for loc, v in zip(locs, col("prompt")):
        if is_missing(v):
            problems.add(loc, mapping["prompt"], "empty or missing prompt")
            prompts.append("")
        else:
            prompts.append(str(v))
    out["prompt"] = prompts

    # Videos: normalised, confined to the root.
    root_path = Path(root).resolve() if root is not None else None
    any_outside = False
    for side in ("A", "B"):
        target = f"video_{side}"
        values = []
        for loc, v in zip(locs, col(target)):
            if is_missing(v):
                problems.add(loc, mapping[target], "missing video path")
                values.append("")
                continue
            path = normalise_video_path(str(v))
            if _URL.match(path):
                values.append(path)
                continue
            if posixpath.isabs(path) or os.path.isabs(path):
                if not allow_absolute:
                    problems.add(loc, mapping[target], "absolute video path refused (paths are relative to the "
                                 "benchmark root; pass allow_absolute / --allow-absolute-paths to accept them)")
                elif root_path is not None:
                    resolved = Path(path).resolve()
                    if resolved == root_path or root_path in resolved.parents:
                        path = resolved.relative_to(root_path).as_posix()
                    else:
                        any_outside = True
                values.append(path)
                continue
            if path == ".." or path.startswith("../"):
                problems.add(loc, mapping[target], "video path escapes the benchmark root")
                problems.escapes = True
            values.append(path)
        out[target] = values

    # Labels.
    dims = [t[len("label_"):] for t in mapping if t.startswith("label_")]
    dims.sort(key=lambda d: (PAPER_DIMENSIONS.index(d) if d in PAPER_DIMENSIONS else len(PAPER_DIMENSIONS), d))
    for dim in dims:
        target = label_column(dim)
        labels = np.zeros(n, dtype=np.int8)
        for i, (loc, v) in enumerate(zip(locs, col(target))):
            if is_missing(v):
                problems.add(loc, mapping[target], "missing label (empty / NaN)")
                continue
            try:
                labels[i] = preset.label_parser(v)
            except ValueError:
                problems.add(loc, mapping[target], f"unknown label value {v!r}")
        out[target] = labels

    # Generators (optional text), sampling numbers and MOS (optional floats).
    for target in ("generator_A", "generator_B"):
        out[target] = [None if is_missing(v) else str(v) for v in col(target)] if target in mapping else [None] * n
    numeric = [*_NUMERIC, *sorted(t for t in mapping if t.startswith(("mos_A_", "mos_B_")))]
    for target in numeric:
        if target not in mapping:
            out[target] = np.full(n, np.nan)
            continue
        values = np.full(n, np.nan)
        for i, (loc, v) in enumerate(zip(locs, col(target))):
            try:
                values[i] = _to_float(v)
            except (TypeError, ValueError):
                problems.add(loc, mapping[target], f"not a number: {v!r}")
                continue
            if target in _NUMERIC and values[i] < 0:
                problems.add(loc, mapping[target], f"negative value {v!r}")
        out[target] = values

    # Pair ids: given, or derived from content.
    if "pair_id" in mapping:
        ids = read_ids(locs, col("pair_id"), mapping["pair_id"], problems, "missing pair id")
    else:
        ids = [content_pair_id(p, a, b) for p, a, b in zip(prompts, out["video_A"], out["video_B"])]
    out["pair_id"] = ids
    out[ROW_COLUMN] = np.arange(n, dtype=np.int64)  # the file's row order, kept through dedupe and exclusions

    order = ["pair_id", ROW_COLUMN, "prompt", "video_A", "video_B", "generator_A", "generator_B", *_NUMERIC,
             *(label_column(d) for d in dims), *sorted(t for t in out if t.startswith(("mos_A_", "mos_B_")))]
    table = pd.DataFrame({c: (pd.Series(out[c], dtype=object) if isinstance(out[c], list) else out[c]) for c in order})
    keep, duplicates = _check_duplicates(table, locs, mapping, "pair_id" in mapping, dedupe, problems)
    problems.raise_if_any()

    excluded: dict[str, int] = {}
    if duplicates:
        excluded["duplicate_rows"] = duplicates
        table = table[keep].reset_index(drop=True)
    if any_outside:
        # Some absolute paths lie outside the root: switch the whole table to absolute paths, root None.
        for side in ("video_A", "video_B"):
            table[side] = [v if _URL.match(v) or os.path.isabs(v) else str(root_path / v) for v in table[side]]
        root_path = None
    for c in order:
        if c.startswith("label_"):
            table[c] = table[c].astype(np.int8)
    return PairBenchmark(
        name=name or Path(raw.source).stem,
        pairs=table,
        dimensions=tuple(dims),
        root=root_path,
        source=raw.source,
        revision=revision,
        excluded=excluded,
    )


def read_ids(locs: list[str], values: list[Any], column: str, problems: Problems, missing: str) -> list[str]:
    """Ids from a file column as text (``3.0`` read from a number column is ``"3"``); a missing one is a problem."""
    ids = []
    for loc, v in zip(locs, values):
        if is_missing(v):
            problems.add(loc, column, missing)
            ids.append("")
        else:
            ids.append(str(int(v)) if isinstance(v, float) and v.is_integer() else str(v).strip())
    return ids


def _check_duplicates(
    table: pd.DataFrame, locs: list[str], mapping: Mapping[str, str], explicit_ids: bool, dedupe: bool,
    problems: Problems,
) -> tuple[np.ndarray, int]:
    """Rows sharing a pair id: identical repeats (dropped when ``dedupe``) or conflicts (always an error)."""
    ids = table["pair_id"]
    dup_mask = ids.duplicated(keep=False).to_numpy() & (ids != "").to_numpy()
    keep = np.ones(len(table), dtype=bool)
    if not dup_mask.any():
        return keep, 0
    id_col = mapping.get("pair_id")  # None: ids derived from (prompt, video_A, video_B)
    body = table.drop(columns=["pair_id", ROW_COLUMN])
    # repr keeps NaN, None and "nan" apart; only the duplicated rows are compared.
    content = pd.Series([repr(tuple(r)) if d else "" for r, d in zip(body.itertuples(index=False), dup_mask)])
    dropped = 0
    for pid, idx in table.index[dup_mask].to_series().groupby(ids[dup_mask]).groups.items():
        rows = list(idx)
        rows_locs = [locs[i] for i in rows]
        if content.iloc[rows].nunique() == 1:
            if dedupe:
                keep[rows[1:]] = False
                dropped += len(rows) - 1
            else:
                problems.add_rows(rows_locs, id_col, f"duplicate pair {pid!r}: identical rows repeated "
                                  "(pass dedupe / --dedupe to keep one and count the rest as excluded)")
        else:
            hint = "" if explicit_ids else "; add a pair_id column to keep both"
            problems.add_rows(rows_locs, id_col, f"duplicate pair id {pid!r} with different contents{hint}")
    return keep, dropped


def load_table_benchmark(
    path: str | os.PathLike,
    *,
    format: str = "auto",
    columns: Mapping[str, str] | str | None = None,
    file_format: str | None = None,
    root: str | os.PathLike | None = None,
    name: str | None = None,
    dedupe: bool = False,
    allow_absolute: bool = False,
) -> PairBenchmark:
    """Load a CSV / TSV / JSONL / Parquet benchmark file. ``format``: a preset name or ``auto`` (from the header).

    ``root`` defaults to the file's folder: video paths in the file are relative to it.
    """
    raw = read_table(path, file_format)
    preset = detect_format(list(raw.frame.columns)) if format == "auto" else format
    return build_benchmark(
        raw, preset, columns, name=name, root=Path(path).parent if root is None else root,
        dedupe=dedupe, allow_absolute=allow_absolute,
    )


def load_videogen_rewardbench(path: str | os.PathLike, **options: Any) -> PairBenchmark:
    """VideoGen-RewardBench CSV: ``path_A, path_B, A_model, B_model, prompt, fps_A, num_frames_A, fps_B,
    num_frames_B, VQ, MQ, TA, Overall`` with labels ``A`` / ``B`` / ``same``."""
    return load_table_benchmark(path, format="videogen-rewardbench", **options)


def load_videoalign(path: str | os.PathLike, **options: Any) -> PairBenchmark:
    """VideoAlign training CSV: ``path_A, path_B, prompt``, labels in any of ``VQ, MQ, TA, Overall``, optional
    ``fps_*``, ``num_frames_*`` and ``MOS_A_<dim>`` / ``MOS_B_<dim>``. Repeated rows need ``dedupe=True``."""
    return load_table_benchmark(path, format="videoalign", **options)


def load_genai_bench(path: str | os.PathLike, **options: Any) -> PairBenchmark:
    """GenAI-Bench style video votes: ``prompt, left_video, right_video[, left_model, right_model], vote_type``."""
    return load_table_benchmark(path, format="genai-bench", **options)


# --- MJ-Bench-Video --------------------------------------------------------------------------------------------------

#: Our dimension -> the field of an MJ-Bench-Video record holding its preference (``category_preference.<key>``, or
#: the top-level ``overall_preference``). "Coherence & Consistency" is renamed: dimension names are plain words.
MJBENCH_DIMENSIONS: dict[str, str] = {
    "Overall": "overall_preference", "Alignment": "Alignment", "Safety": "Safety", "Fineness": "Fineness",
    "Coherence": "Coherence & Consistency", "Bias": "Bias",
}
#: "Video 1" is ``video_0_path`` (A), "Video 2" is ``video_1_path`` (B): the released data loader
#: (``scripts/data_processor/dataset.py``, ``deal_preference``) maps "Video 1 better" to index 0.
_MJBENCH_PREFERENCES = {"video 1 better": 1, "video 2 better": -1, "same": 0}
MJBENCH_UNDECIDED = "hard to judge"


def parse_mjbench_preference(value: Any) -> int:
    """``Video 1 better`` -> +1 (A), ``Video 2 better`` -> -1 (B), ``Same`` -> 0 (tie); case-insensitive (the release
    spells both "better" and "Better")."""
    key = str(value).strip().lower()
    if key in _MJBENCH_PREFERENCES:
        return _MJBENCH_PREFERENCES[key]
    raise ValueError(f"unknown preference {value!r} (expected 'Video 1 better', 'Video 2 better' or 'Same')")


def read_mjbench_video(path: str | os.PathLike) -> tuple[RawTable, dict[str, int]]:
    """The MJ-Bench-Video JSON array (``test.json``: one record per pair) flattened to contract columns, rows located
    as ``record N`` (1-based place in the array). Records the authors marked ``discard`` and records with a
    "Hard to judge" preference on any dimension are left out and counted (the second: the released evaluation scripts
    skip them too; an undecided label is neither a preference nor a tie)."""
    import json

    p = Path(path)
    if not p.is_file():
        raise BenchmarkError(f"{p}: no such file")
    try:
        data = json.loads(p.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise BenchmarkError(f"{p}: not UTF-8 text ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise BenchmarkError(f"{p}: not valid JSON (line {exc.lineno}: {exc.msg}); MJ-Bench-Video's test.json is one "
                             "JSON array of records") from exc
    if not isinstance(data, list):
        raise BenchmarkError(f"{p}: expected a JSON array of records (MJ-Bench-Video's test.json), got "
                             f"{type(data).__name__}")
    rows: list[dict[str, Any]] = []
    locators: list[str] = []
    bad: list[str] = []
    excluded: dict[str, int] = {}
    for number, record in enumerate(data, start=1):
        if not isinstance(record, dict):
            bad.append(f"record {number}: expected a JSON object, got {type(record).__name__}")
            continue
        categories = record.get("category_preference")
        if not isinstance(categories, dict):
            categories = {}
        row = {"prompt": record.get("caption"), "video_A": record.get("video_0_path"),
               "video_B": record.get("video_1_path")}
        for dim, key in MJBENCH_DIMENSIONS.items():
            row[label_column(dim)] = record.get(key) if dim == "Overall" else categories.get(key)
        if record.get("discard") is True:
            excluded["discarded by the authors"] = excluded.get("discarded by the authors", 0) + 1
            continue
        if any(str(v).strip().lower() == MJBENCH_UNDECIDED for v in row.values() if isinstance(v, str)):
            excluded["hard to judge"] = excluded.get("hard to judge", 0) + 1
            continue
        rows.append(row)
        locators.append(f"record {number}")
    if bad:
        raise BenchmarkError(f"{p}: {len(bad)} malformed record(s):\n  " + "\n  ".join(bad))
    columns = ["prompt", "video_A", "video_B", *(label_column(d) for d in MJBENCH_DIMENSIONS)]
    frame = pd.DataFrame(rows, columns=columns, dtype=object)
    return RawTable(frame, locators, str(p)), excluded


PRESETS["mjbench-video"] = Preset(
    "mjbench-video", {c: c for c in ("prompt", "video_A", "video_B", *(label_column(d) for d in MJBENCH_DIMENSIONS))},
    required=frozenset(("prompt", "video_A", "video_B", *(label_column(d) for d in MJBENCH_DIMENSIONS))),
    label_parser=parse_mjbench_preference,
)


def load_mjbench_video(path: str | os.PathLike, *, root: str | os.PathLike | None = None, name: str | None = None,
                       dedupe: bool = False, allow_absolute: bool = False, **_: Any) -> PairBenchmark:
    """MJ-Bench-Video's ``test.json``: ``caption``, ``video_0_path`` (A), ``video_1_path`` (B), per-aspect
    ``category_preference`` and ``overall_preference`` (see ``read_mjbench_video``). Video paths (``test/0_0.mp4``)
    are relative to ``root``, by default the ``videos`` folder beside the file (the dataset repo's layout)."""
    raw, excluded = read_mjbench_video(path)
    if not len(raw.frame):
        raise BenchmarkError(f"{path}: no usable records (all discarded or undecided)")
    folder = Path(path).parent
    bench = build_benchmark(raw, PRESETS["mjbench-video"], None, name=name or "mjbench-video",
                            root=root if root is not None else folder / "videos", dedupe=dedupe,
                            allow_absolute=allow_absolute)
    for why, count in excluded.items():
        bench.excluded[why] = bench.excluded.get(why, 0) + count
    return bench
