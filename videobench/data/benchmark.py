"""``PairBenchmark``: a table of human pairwise preferences between videos.

One row per pair, in a pandas DataFrame with these columns (the contract every loader produces):

- ``pair_id`` (str, unique), ``prompt`` (str, non-empty)
- ``row`` (int): the pair's place among the data rows of the file it came from (0-based; dropped duplicates leave
  gaps). Tie calibration in ``reference`` mode walks pairs in this order, as the published script walks its CSV;
  a table built without it gets its current row order.
- ``video_A``, ``video_B`` (str): paths relative to ``root`` (or absolute when ``root`` is None)
- ``generator_A``, ``generator_B`` (str or None)
- ``fps_A``, ``num_frames_A``, ``fps_B``, ``num_frames_B`` (float or NaN when unknown)
- ``label_<dim>`` (int8, +1 A better / -1 B better / 0 tie) for each dimension in ``dimensions``
- optional ``mos_A_<dim>``, ``mos_B_<dim>`` (float): per-video mean opinion scores
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

REQUIRED_COLUMNS = ("pair_id", "prompt", "video_A", "video_B")
ROW_COLUMN = "row"
OPTIONAL_COLUMNS = ("generator_A", "generator_B", "fps_A", "num_frames_A", "fps_B", "num_frames_B")


class BenchmarkError(ValueError):
    """A benchmark that cannot be used as it is; the message names the file, rows and columns at fault."""


class PathEscapeError(BenchmarkError):
    """A video path that points outside the benchmark root."""


def label_column(dimension: str) -> str:
    return f"label_{dimension}"


@dataclass
class PairBenchmark:
    name: str
    pairs: pd.DataFrame
    dimensions: tuple[str, ...]
    root: Path | None = None
    source: str = ""
    revision: str | None = None
    #: Rows the loader left out on purpose (e.g. duplicated pairs in a training CSV), with why.
    excluded: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if ROW_COLUMN not in self.pairs.columns:
            self.pairs = self.pairs.assign(**{ROW_COLUMN: np.arange(len(self.pairs), dtype=np.int64)})

    def __len__(self) -> int:
        return len(self.pairs)

    def labels(self, dimension: str) -> np.ndarray:
        return self.pairs[label_column(dimension)].to_numpy(dtype=np.int8)

    @property
    def prompts(self) -> np.ndarray:
        return self.pairs["prompt"].to_numpy(dtype=object)

    def file_order(self) -> np.ndarray:
        """Positions of ``pairs`` in the source file's row order (``row`` ascending)."""
        return np.argsort(self.pairs[ROW_COLUMN].to_numpy(dtype=np.int64), kind="stable")

    def video_path(self, relative: str) -> Path:
        """Resolve a video path against ``root``; refuse anything that escapes it."""
        return resolve_under_root(self.root, relative)

    def fingerprint(self) -> str:
        """Hash of the loaded table (content, not file bytes), independent of row and column order.

        ``row`` is left out, so a reordered file keeps its fingerprint, though its ``reference``-mode tie calibration
        may change (that mode is order dependent by construction)."""
        cols = sorted(c for c in self.pairs.columns if c != ROW_COLUMN)
        table = self.pairs[cols].sort_values("pair_id", kind="stable")
        digest = hashlib.sha256()
        digest.update(",".join(sorted(cols)).encode())
        digest.update(pd.util.hash_pandas_object(table, index=False).to_numpy().tobytes())
        return "sha256:" + digest.hexdigest()[:32]


def resolve_under_root(root: Path | None, relative: str) -> Path:
    """``root / relative``, resolved; raises ``PathEscapeError`` when the result leaves ``root``."""
    candidate = Path(relative)
    if root is None:
        return candidate
    root = Path(root).resolve()
    resolved = (root / candidate).resolve()
    if resolved != root and root not in resolved.parents:
        raise PathEscapeError(f"video path {relative!r} escapes the benchmark root {root}")
    return resolved
