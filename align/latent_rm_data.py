"""Training pairs for the latent reward model: cached latents plus per-dimension labels (with ties).

The latents, prompt embeddings and video bookkeeping are a :class:`~videobench.align.data.LatentDataset` (encoded
once, cached); on top of it, :class:`RewardPairs` holds the pairs (video A, video B) and one label per dimension:
+1 (A better), −1 (B better), 0 (tie), NaN (no label for this dimension). Two sources:

- a ``PairBenchmark``: every row becomes a pair (ties kept), labels read from its ``label_<DIM>`` columns; videos are
  decoded and VAE-encoded once with :func:`~videobench.align.data.encode_pairs`;
- scored rollouts: K samples per prompt rendered with :func:`~videobench.align.data.render_rollouts`, each dimension
  scored by its own reward (``{"VQ": "pixel:brightness", "MQ": "pixel:saturation"}``); every two samples of a prompt
  form a pair, labelled sign(s_A − s_B) per dimension (a tie when |s_A − s_B| <= ``tie_threshold``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import torch

from .data import EmptyDataError, LatentDataset, PreferencePair, encode_pairs, render_rollouts

__all__ = ["RewardPairs", "pairs_from_scores", "benchmark_reward_pairs", "rollout_reward_pairs"]

_PAIRS_FILE = "reward_pairs.safetensors"
_PAIRS_META = "reward_pairs.json"


@dataclass
class RewardPairs:
    data: LatentDataset
    index: torch.Tensor  # (M, 2) long: video A, video B
    labels: torch.Tensor  # (M, D) float: +1, −1, 0, NaN
    dimensions: tuple[str, ...]

    def __post_init__(self) -> None:
        m = self.index.shape[0]
        if self.index.ndim != 2 or self.index.shape[1] != 2:
            raise ValueError(f"pair index must have shape (M, 2), got {tuple(self.index.shape)}")
        if self.labels.shape != (m, len(self.dimensions)):
            raise ValueError(f"labels must have shape ({m}, {len(self.dimensions)}), got {tuple(self.labels.shape)}")
        if m == 0:
            raise EmptyDataError("no reward-model pairs")
        if torch.isnan(self.labels).all():
            raise EmptyDataError(f"no pair has a label on any of {list(self.dimensions)}")

    def __len__(self) -> int:
        return self.index.shape[0]

    def prompts_of_pairs(self) -> torch.Tensor:
        return self.data.prompt_index[self.index[:, 0]]

    def subset(self, rows: torch.Tensor) -> "RewardPairs":
        return RewardPairs(self.data, self.index[rows], self.labels[rows], self.dimensions)

    def split(self, eval_fraction: float, seed: int = 0) -> tuple["RewardPairs", "RewardPairs | None"]:
        """(train, held-out) by prompt: pairs of one prompt are never on both sides. ``eval_fraction=0``: no split."""
        if not 0.0 <= eval_fraction < 1.0:
            raise ValueError(f"eval_fraction must be in [0, 1), got {eval_fraction}")
        prompts = self.prompts_of_pairs()
        unique = torch.unique(prompts)
        n_eval = int(round(eval_fraction * len(unique)))
        if eval_fraction == 0 or n_eval == 0:
            return self, None
        if n_eval >= len(unique):
            raise EmptyDataError(f"only {len(unique)} prompt(s): nothing left to train on after holding out "
                                 f"{eval_fraction:.0%}; lower eval_fraction or add prompts")
        perm = unique[torch.randperm(len(unique), generator=torch.Generator().manual_seed(seed))]
        held = torch.isin(prompts, perm[:n_eval])
        return self.subset(torch.nonzero(~held).flatten()), self.subset(torch.nonzero(held).flatten())

    # -- disk ---------------------------------------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        from safetensors.torch import save_file

        out = self.data.save(folder)
        save_file({"index": self.index.long().contiguous(), "labels": self.labels.float().contiguous()},
                  str(out / _PAIRS_FILE))
        (out / _PAIRS_META).write_text(json.dumps({"dimensions": list(self.dimensions)}))
        return out

    @classmethod
    def load(cls, folder: str | Path) -> "RewardPairs":
        from safetensors.torch import load_file

        folder = Path(folder)
        t = load_file(str(folder / _PAIRS_FILE))
        dims = tuple(json.loads((folder / _PAIRS_META).read_text())["dimensions"])
        return cls(LatentDataset.load(folder), t["index"], t["labels"], dims)

    @staticmethod
    def exists(folder: str | Path) -> bool:
        folder = Path(folder)
        return LatentDataset.exists(folder) and (folder / _PAIRS_FILE).is_file() and (folder / _PAIRS_META).is_file()


def pairs_from_scores(data: LatentDataset, scores: torch.Tensor, dimensions: Sequence[str],
                      tie_threshold: float = 0.0) -> RewardPairs:
    """Every two videos of a group form a pair (A = the earlier one); label_d = sign(s_A,d − s_B,d), a tie within
    ``tie_threshold``; NaN scores give NaN labels."""
    if scores.shape != (len(data), len(dimensions)):
        raise ValueError(f"scores must have shape ({len(data)}, {len(dimensions)}), got {tuple(scores.shape)}")
    rows = [torch.combinations(g, 2) for g in data.groups() if len(g) >= 2]
    if not rows:
        raise EmptyDataError("no group has two videos: render at least 2 samples per prompt")
    index = torch.cat(rows)
    diff = scores[index[:, 0]].float() - scores[index[:, 1]].float()
    labels = torch.where(diff.abs() <= tie_threshold, torch.zeros_like(diff), torch.sign(diff))
    labels = torch.where(torch.isnan(diff), diff, labels)
    return RewardPairs(data, index, labels, tuple(dimensions))


def benchmark_reward_pairs(pipe: Any, family: Any, bench: Any, dimensions: Sequence[str], num_frames: int,
                           height: int, width: int, max_sequence_length: int | None = None) -> RewardPairs:
    """Every pair of a ``PairBenchmark`` with its labels on ``dimensions`` (NaN where the benchmark has none)."""
    from videobench.data.benchmark import label_column

    present = [d for d in dimensions if label_column(d) in bench.pairs.columns]
    if not present:
        raise EmptyDataError(f"benchmark {bench.name!r} has no labels for {list(dimensions)}; it has "
                             f"{list(bench.dimensions)}")
    df = bench.pairs
    pairs = [PreferencePair(str(r.pair_id), str(r.prompt), bench.video_path(r.video_A), bench.video_path(r.video_B))
             for r in df.itertuples(index=False)]
    data = encode_pairs(pipe, family, pairs, num_frames, height, width, max_sequence_length,
                        meta={"benchmark": bench.name, "pairs_total": len(df)})
    labels = torch.full((len(df), len(dimensions)), float("nan"))
    for j, dim in enumerate(dimensions):
        if dim in present:
            labels[:, j] = torch.as_tensor(df[label_column(dim)].to_numpy(dtype=np.float64)).float()
    return RewardPairs(data, data.pairs.clone(), labels, tuple(dimensions))


class _PerDimensionScorer:
    """A reward callable for ``render_rollouts`` that scores every dimension and keeps the rows in render order."""

    def __init__(self, rewards: Mapping[str, Any], dimensions: Sequence[str]) -> None:
        from .rewards import resolve_reward

        resolved: dict[str, Any] = {}
        self.rewards: dict[str, tuple[Any, str | None]] = {}
        for dim in dimensions:
            spec = rewards.get(dim)
            if spec is None:
                continue
            reward_dim = None
            if isinstance(spec, str) and "#" in spec:  # "videoreward:PATH#VQ": one dimension of a multi-score model
                spec, reward_dim = spec.split("#", 1)
            key = spec if isinstance(spec, str) else id(spec)
            resolved.setdefault(key, resolve_reward(spec))
            self.rewards[dim] = (resolved[key], reward_dim)
        if not self.rewards:
            raise ValueError(f"dimension_rewards names none of the dimensions {list(dimensions)}")
        self.dimensions = tuple(dimensions)
        self.rows: list[list[float]] = []

    def __call__(self, frames: Any, prompt: str) -> float:
        from .rewards import score_frames

        row = []
        for dim in self.dimensions:
            if dim not in self.rewards:
                row.append(float("nan"))
                continue
            reward, reward_dim = self.rewards[dim]
            row.append(float(score_frames(reward, [frames], [prompt], reward_dim)[0]))
        self.rows.append(row)
        return next((v for v in row if not np.isnan(v)), float("nan"))


def rollout_reward_pairs(pipe: Any, family: Any, prompts: Sequence[str], samples_per_prompt: int,
                         dimension_rewards: Mapping[str, Any], dimensions: Sequence[str], num_frames: int,
                         height: int, width: int, num_inference_steps: int = 30, guidance_scale: float = 5.0,
                         seed: int = 0, max_sequence_length: int | None = None,
                         tie_threshold: float = 0.0) -> RewardPairs:
    """Render K samples per prompt, score each dimension with its reward, pair every two samples of a prompt."""
    scorer = _PerDimensionScorer(dimension_rewards, dimensions)
    data = render_rollouts(pipe, family, prompts, samples_per_prompt, scorer, num_frames, height, width,
                           num_inference_steps, guidance_scale, seed, max_sequence_length, show_progress=True)
    scores = torch.tensor(scorer.rows, dtype=torch.float32)
    data.meta["dimension_rewards"] = {d: str(dimension_rewards.get(d)) for d in dimensions}
    return pairs_from_scores(data, scores, dimensions, tie_threshold)
