"""``scores:FILE``: a reward model whose scores were computed elsewhere and written to a file.

It needs no frames. Videos are looked up by their path as the benchmark writes it (normalised: ``./videos/x`` ==
``videos/x``), together with the prompt when the file has a ``prompt`` column. The fingerprint is the sha256 of the
file's bytes, so editing the file invalidates every cached score and result made from it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from videobench.data.loaders import normalise_video_path
from videobench.rewards.base import Clip, Sampling
from videobench.scores_file import ScoresFileError, ScoresTable, read_scores

_MAX_LISTED = 20
_IGNORED_OPTIONS = frozenset({"device", "dtype", "batch_size", "revision", "trust_remote_code"})


class PrecomputedScores:
    """Scores from a per-video file (see ``videobench.scores_file``), behind the ``RewardModel`` protocol.

    Options: ``name`` (default: the file's stem), ``dimensions`` (a subset of the file's score columns),
    ``file_format`` (``csv``/``tsv``/``jsonl``/``parquet`` when the suffix does not tell), ``root`` (a benchmark root:
    absolute clip paths under it are turned back into the relative paths the file uses).
    """

    needs_frames = False

    def __init__(self, path: str | os.PathLike, **options: Any) -> None:
        # Options every adapter may receive from the registry / engine; a file of scores has no use for them.
        options = {k: v for k, v in options.items() if k not in _IGNORED_OPTIONS}
        unknown = set(options) - {"name", "dimensions", "file_format", "root"}
        if unknown:
            raise TypeError(f"PrecomputedScores: unknown option(s) {sorted(unknown)}")
        self.path = Path(path)
        self.table: ScoresTable = read_scores(self.path, options.get("file_format"))
        self.name: str = str(options.get("name") or self.path.stem)
        dims = options.get("dimensions")
        if isinstance(dims, str):
            dims = [d for d in dims.split(",") if d]
        if dims:
            unknown_dims = [d for d in dims if d not in self.table.dimensions]
            if unknown_dims:
                raise ScoresFileError(f"{self.path}: no score column(s) {unknown_dims}; it has {list(self.table.dimensions)}")
        self.dimensions: tuple[str, ...] = tuple(dims) if dims else self.table.dimensions
        # Precomputed scores have no sampling of their own; record "unknown" rather than invent one.
        self.sampling = Sampling(fps=None, num_frames=None, max_pixels=None)
        self.root = Path(options["root"]).resolve() if options.get("root") else None
        self._lookup: dict[Any, np.ndarray] | None = None

    @property
    def per_pair(self) -> bool:
        return self.table.kind == "pair"

    def fingerprint(self) -> str:
        return self.table.fingerprint

    def _key(self, clip_path: str) -> str:
        path = Path(clip_path)
        if self.root is not None and path.is_absolute():
            try:
                return path.resolve().relative_to(self.root).as_posix()
            except ValueError:
                pass
        return normalise_video_path(str(clip_path))

    def _index(self) -> dict[Any, np.ndarray]:
        if self._lookup is None:
            frame = self.table.frame
            values = frame[list(self.dimensions)].to_numpy(dtype=float)
            keys = zip(frame["video"], frame["prompt"]) if self.table.has_prompt else frame["video"]
            self._lookup = {k: values[i] for i, k in enumerate(keys)}
        return self._lookup

    def score(self, clips: Sequence[Clip], prompts: Sequence[str]) -> dict[str, np.ndarray]:
        if self.per_pair:
            raise ScoresFileError(
                f"{self.path}: per-pair scores (pair_id, score_A_*, score_B_*) cannot score single videos; "
                "evaluate them with `videobench eval --scores FILE`"
            )
        if len(clips) != len(prompts):
            raise ValueError(f"{len(clips)} clips but {len(prompts)} prompts")
        index = self._index()
        rows, missing = [], []
        for clip, prompt in zip(clips, prompts):
            # The engine may pass the benchmark's own path in meta; prefer it over a resolved absolute path.
            video = self._key(str(clip.meta.get("video", clip.path)))
            key = (video, str(prompt).strip()) if self.table.has_prompt else video
            if key in index:
                rows.append(index[key])
            else:
                missing.append(video if not self.table.has_prompt else f"{video} / {prompt}")
        if missing:
            shown = ", ".join(repr(m) for m in missing[:_MAX_LISTED])
            more = f" and {len(missing) - _MAX_LISTED} more" if len(missing) > _MAX_LISTED else ""
            raise ScoresFileError(f"{self.path}: no scores for {len(missing)} video(s): {shown}{more}")
        matrix = np.vstack(rows) if rows else np.zeros((0, len(self.dimensions)))
        return {d: matrix[:, j].copy() for j, d in enumerate(self.dimensions)}

    def __repr__(self) -> str:
        return f"PrecomputedScores({str(self.path)!r}, name={self.name!r}, dimensions={self.dimensions})"
