"""Training data of the reward model: labelled pairs from any ``PairBenchmark``, a held-out split that shares no
video with training, and a frame cache so that epochs after the first do not decode.

    pairs = RewardPairs.from_benchmark(load_benchmark("sanity"), dimensions=("VQ", "MQ", "TA"))
    train, val = pairs.split(val_fraction=0.3, by="source_clip", seed=0)
    frames = FrameCache("out/cache/frames", sampling, patch_spec, min_pixels).frames(video_path)
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from videobench.data.benchmark import BenchmarkError, PairBenchmark, label_column
from videobench.rewards.base import Sampling
from videobench.rewards.qwen2vl_inputs import PatchSpec, VideoInputs, patchify, resize_for_model, sampled_fps

__all__ = ["RewardPairs", "FrameCache", "split_groups"]


@dataclass
class RewardPairs:
    """Pairs over a list of unique videos: ``index`` (N, 2) into ``videos``; ``labels`` (N, D) +1/−1/0, NaN where a
    dimension has no label; ``mos_a``/``mos_b`` (N, D), NaN where unknown; ``groups``: what the split holds out."""

    videos: list[Path]
    index: torch.Tensor
    prompts: list[str]
    labels: torch.Tensor
    mos_a: torch.Tensor
    mos_b: torch.Tensor
    groups: list[str]
    pair_ids: list[str]
    dimensions: tuple[str, ...]
    #: counts of what was left out and why
    dropped: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.index.shape[0])

    @classmethod
    def from_benchmark(cls, bench: PairBenchmark, dimensions: Sequence[str], *, group_by: str = "prompt",
                       use_tied_data: bool = True) -> "RewardPairs":
        """One row per pair of ``bench``; a dimension the benchmark has no labels for is NaN (masked in the loss).

        ``use_tied_data=False`` drops pairs tied on every labelled dimension (VideoAlign's ``use_tied_data``)."""
        table = bench.pairs
        have = [d for d in dimensions if label_column(d) in table.columns]
        if not have:
            raise BenchmarkError(f"{bench.name}: no label column for any of {list(dimensions)} (columns "
                                 f"{', '.join(table.columns)})")
        if group_by not in table.columns:
            raise BenchmarkError(f"{bench.name}: split_by={group_by!r} is not a column of the benchmark (columns "
                                 f"{', '.join(table.columns)})")
        n = len(table)
        labels = np.full((n, len(dimensions)), np.nan)
        mos_a, mos_b = np.full_like(labels, np.nan), np.full_like(labels, np.nan)
        for j, dim in enumerate(dimensions):
            if label_column(dim) in table.columns:
                labels[:, j] = table[label_column(dim)].to_numpy(dtype=np.float64)
            for side, out in (("A", mos_a), ("B", mos_b)):
                col = f"mos_{side}_{dim}"
                if col in table.columns:
                    out[:, j] = table[col].to_numpy(dtype=np.float64)
        keep = np.ones(n, dtype=bool)
        dropped: dict[str, int] = {}
        if not use_tied_data:
            known = ~np.isnan(labels)
            all_tied = ~(known & (labels != 0)).any(axis=1)
            keep &= ~all_tied
            dropped["tied on every dimension"] = int(all_tied.sum())
        rows = table[keep]
        paths: dict[Path, int] = {}
        index = []
        for a, b in zip(rows["video_A"], rows["video_B"]):
            pa, pb = bench.video_path(a), bench.video_path(b)
            index.append((paths.setdefault(pa, len(paths)), paths.setdefault(pb, len(paths))))
        return cls(
            videos=list(paths), index=torch.tensor(index, dtype=torch.long).reshape(-1, 2),
            prompts=[str(p) for p in rows["prompt"]], labels=torch.tensor(labels[keep], dtype=torch.float32),
            mos_a=torch.tensor(mos_a[keep], dtype=torch.float32), mos_b=torch.tensor(mos_b[keep], dtype=torch.float32),
            groups=[str(g) for g in rows[group_by]], pair_ids=[str(p) for p in rows["pair_id"]],
            dimensions=tuple(dimensions), dropped=dropped,
        )

    def subset(self, rows: Sequence[int]) -> "RewardPairs":
        rows = list(rows)
        sel = torch.tensor(rows, dtype=torch.long)
        return RewardPairs(
            videos=self.videos, index=self.index[sel].reshape(-1, 2), prompts=[self.prompts[i] for i in rows],
            labels=self.labels[sel], mos_a=self.mos_a[sel], mos_b=self.mos_b[sel],
            groups=[self.groups[i] for i in rows], pair_ids=[self.pair_ids[i] for i in rows],
            dimensions=self.dimensions, dropped=dict(self.dropped),
        )

    def video_rows(self) -> list[int]:
        """The videos these pairs use, each once, in first-use order."""
        return list(dict.fromkeys(self.index.flatten().tolist()))

    def split(self, val_fraction: float, seed: int = 0,
              val_groups: Sequence[str] | None = None) -> tuple["RewardPairs", "RewardPairs"]:
        """(train, validation): whole groups are held out (``val_groups``, else a seeded ``val_fraction`` of them),
        then training pairs that share a video with a held-out pair are dropped, so no video is in both."""
        held = set(val_groups) if val_groups else split_groups(self.groups, val_fraction, seed)
        unknown = sorted(held - set(self.groups))
        if unknown:
            have = sorted(set(self.groups))
            more = ", ..." if len(have) > 10 else ""
            raise BenchmarkError(f"val_groups {unknown} are not groups of the benchmark (it has "
                                 f"{', '.join(have[:10])}{more})")
        val_rows = [i for i, g in enumerate(self.groups) if g in held]
        val_videos = set(self.index[val_rows].flatten().tolist()) if val_rows else set()
        train_rows, shared = [], 0
        for i, g in enumerate(self.groups):
            if g in held:
                continue
            if val_videos.intersection(self.index[i].tolist()):
                shared += 1
                continue
            train_rows.append(i)
        train = self.subset(train_rows)
        train.dropped["shares a video with a held-out pair"] = shared
        return train, self.subset(val_rows)


def split_groups(groups: Sequence[str], fraction: float, seed: int) -> set[str]:
    """A seeded ``fraction`` of the distinct groups (at least one when the fraction is positive)."""
    distinct = sorted(set(groups))
    if fraction <= 0 or not distinct:
        return set()
    count = min(len(distinct) - 1, max(1, round(fraction * len(distinct))))
    order = np.random.default_rng(seed).permutation(len(distinct))
    return {distinct[i] for i in order[:count]}


class FrameCache:
    """Decoded, sampled and resized uint8 frames (T, H, W, 3) per (video content, sampling, resize settings), on disk
    as one safetensors file per entry under ``root`` (written atomically), so later epochs and a resumed run do not
    decode again (the key holds the file's content hash: an edited video is decoded anew); and the model inputs made
    from them (patchified, normalised) in memory, least recently used first out beyond ``memory_mb``."""

    def __init__(self, root: str | Path | None, sampling: Sampling, spec: PatchSpec, min_pixels: int,
                 budget: "callable | None" = None, memory_mb: float = 4096) -> None:
        self.root = Path(root) if root is not None else None
        self.sampling, self.spec, self.min_pixels = sampling, spec, int(min_pixels)
        self.budget = budget
        self.memory: "OrderedDict[Path, VideoInputs]" = OrderedDict()
        self.memory_bytes, self.memory_limit = 0, int(memory_mb * 2**20)
        self.decoded = 0  # videos decoded by this cache (not read back): what the bench and tests count
        settings = json.dumps({"sampling": sampling.as_dict(), "min_pixels": self.min_pixels,
                               "factor": spec.factor, "spec_pixels": [spec.min_pixels, spec.max_pixels]},
                              sort_keys=True)
        self._settings = hashlib.sha256(settings.encode()).hexdigest()[:16]

    def inputs(self, path: Path) -> VideoInputs:
        """The model inputs of one video (patchified frames), from memory when they are there."""
        if path in self.memory:
            self.memory.move_to_end(path)
            return self.memory[path]
        frames, fps = self.frames_and_fps(path)
        made = patchify(frames, self.spec)
        made.seconds_per_grid = self.spec.temporal_patch_size / fps  # Qwen2.5-VL's M-RoPE spaces frames by it
        self.memory[path] = made
        self.memory_bytes += made.pixel_values.nbytes
        while self.memory_bytes > self.memory_limit and len(self.memory) > 1:
            _, old = self.memory.popitem(last=False)
            self.memory_bytes -= old.pixel_values.nbytes
        return made

    def frames(self, path: Path) -> torch.Tensor:
        """The uint8 frames of one video: from ``root`` when cached there, else decoded, resized and written."""
        return self.frames_and_fps(path)[0]

    def frames_and_fps(self, path: Path) -> tuple[torch.Tensor, float]:
        """The frames and their sampled frame rate (``sampled_fps``; kept in the cache file's metadata)."""
        from safetensors import safe_open

        from videobench.video import content_hash, load_clip

        digest = content_hash(path)
        file = self.root / self._settings / f"{digest.replace(':', '-')}.safetensors" if self.root else None
        if file is not None and file.is_file():
            with safe_open(str(file), framework="pt") as f:
                fps = (f.metadata() or {}).get("fps")
                if fps is not None:  # entries written before the rate was recorded are decoded again
                    return f.get_tensor("frames"), float(fps)
        clip = load_clip(path, self.sampling, content_hash=digest)
        raw = clip.frames if isinstance(clip.frames, torch.Tensor) else torch.as_tensor(clip.frames)
        budget = self.budget(raw.shape[0]) if self.budget else self.sampling.max_pixels
        frames = resize_for_model(raw, self.spec, budget, self.min_pixels).contiguous()
        fps = sampled_fps(raw.shape[0], clip.total_frames, clip.source_fps, self.sampling.fps)
        self.decoded += 1
        if file is not None:
            from safetensors.torch import save

            from videobench.atomic import write_bytes

            write_bytes(file, save({"frames": frames}, metadata={"fps": repr(fps)}))
        return frames, fps
