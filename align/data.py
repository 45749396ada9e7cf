"""Training data as cached latents: preference pairs from a ``PairBenchmark`` or scored on-policy rollouts.

Everything the trainer needs is precomputed once — VAE latents of every video and text-encoder embeddings of every
prompt — and stored in a folder of safetensors files, so the VAE and the text encoder are not in memory while training:

    latents.safetensors   latents (N, C, F, H, W) float32, rewards (N,), prompt_index (N,), group (N,), pairs (M, 2)
    prompts.safetensors   prompt_embeds (P, L, D) [+ prompt_attention_mask (P, L)]
    meta.json             prompts, counts (pairs, ties dropped, …), settings, video ids

``pairs`` rows are (winner, loser) indices into the videos; ``group`` ties videos that are compared with each other
(one group per prompt for rollouts, one per pair for benchmark pairs).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import torch

__all__ = [
    "EmptyDataError",
    "LatentDataset",
    "PreferencePair",
    "pairs_from_benchmark",
    "encode_pairs",
    "render_rollouts",
]


class EmptyDataError(ValueError):
    """No usable training example (e.g. every pair is a tie)."""


@dataclass
class LatentDataset:
    latents: torch.Tensor  # (N, C, F, H, W)
    cond: dict[str, torch.Tensor]  # each (P, ...)
    prompt_index: torch.Tensor  # (N,) long
    rewards: torch.Tensor  # (N,) float, NaN when unknown
    group: torch.Tensor  # (N,) long
    pairs: torch.Tensor  # (M, 2) long: winner, loser
    prompts: list[str]
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = self.latents.shape[0]
        if n == 0:
            raise EmptyDataError("the dataset has no videos")
        for name in ("prompt_index", "rewards", "group"):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"{name} must have shape ({n},), got {tuple(getattr(self, name).shape)}")
        if self.pairs.ndim != 2 or self.pairs.shape[1] != 2:
            raise ValueError(f"pairs must have shape (M, 2), got {tuple(self.pairs.shape)}")
        if self.pairs.numel() and (self.pairs.min() < 0 or self.pairs.max() >= n):
            raise ValueError("pair indices out of range")
        for key, value in self.cond.items():
            if value.shape[0] != len(self.prompts):
                raise ValueError(f"{key} has {value.shape[0]} rows for {len(self.prompts)} prompts")

    def __len__(self) -> int:
        return self.latents.shape[0]

    @property
    def latent_shape(self) -> tuple[int, ...]:
        return tuple(self.latents.shape[1:])

    def condition(self, video_indices: torch.Tensor) -> dict[str, torch.Tensor]:
        """Prompt conditioning for the given videos, stacked along the batch."""
        p = self.prompt_index[video_indices]
        return {k: v[p] for k, v in self.cond.items()}

    def groups(self) -> list[torch.Tensor]:
        """Video indices of each group, in order of first appearance."""
        order: dict[int, list[int]] = {}
        for i, g in enumerate(self.group.tolist()):
            order.setdefault(g, []).append(i)
        return [torch.tensor(v) for v in order.values()]

    def sft_indices(self) -> torch.Tensor:
        """Winners of the pairs (each video once): what SFT trains on."""
        if self.pairs.numel() == 0:
            raise EmptyDataError("no preference pairs, so no winners to fine-tune on")
        return torch.unique(self.pairs[:, 0])

    # -- disk ---------------------------------------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        from safetensors.torch import save_file

        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        save_file(
            {
                "latents": self.latents.contiguous(),
                "rewards": self.rewards.float().contiguous(),
                "prompt_index": self.prompt_index.long().contiguous(),
                "group": self.group.long().contiguous(),
                "pairs": self.pairs.long().contiguous(),
            },
            str(out / "latents.safetensors"),
        )
        save_file({k: v.contiguous() for k, v in self.cond.items()}, str(out / "prompts.safetensors"))
        (out / "meta.json").write_text(json.dumps({"prompts": self.prompts, **self.meta}, indent=2))
        return out

    @classmethod
    def load(cls, folder: str | Path) -> "LatentDataset":
        from safetensors.torch import load_file

        folder = Path(folder)
        t = load_file(str(folder / "latents.safetensors"))
        cond = load_file(str(folder / "prompts.safetensors"))
        meta = json.loads((folder / "meta.json").read_text())
        prompts = meta.pop("prompts")
        return cls(t["latents"], cond, t["prompt_index"], t["rewards"], t["group"], t["pairs"], prompts, meta)

    @staticmethod
    def exists(folder: str | Path) -> bool:
        folder = Path(folder)
        return all((folder / n).is_file() for n in ("latents.safetensors", "prompts.safetensors", "meta.json"))


# ---------------------------------------------------------------------------------------------------------------
# (a) offline pairs from a PairBenchmark
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PreferencePair:
    pair_id: str
    prompt: str
    winner: Path
    loser: Path


def pairs_from_benchmark(
    bench: Any, dimension: str | None = "Overall", weights: Mapping[str, float] | None = None
) -> tuple[list[PreferencePair], dict[str, int]]:
    """Winner/loser pairs from a PairBenchmark's labels on one ``dimension`` or ``sign(Σ_d w_d·label_d)``.

    Ties (label 0, or a weighted sum of 0) are dropped and counted. Returns (pairs, counts).
    """
    from videobench.data.benchmark import label_column

    df = bench.pairs
    if weights:
        missing = [d for d in weights if label_column(d) not in df.columns]
        if missing:
            raise ValueError(f"benchmark {bench.name!r} has no labels for {missing}; it has {list(bench.dimensions)}")
        combined = sum(float(w) * df[label_column(d)].astype(float) for d, w in weights.items())
        labels = np.sign(combined.to_numpy())
    else:
        if dimension is None or label_column(dimension) not in df.columns:
            raise ValueError(f"benchmark {bench.name!r} has no labels for {dimension!r}; it has {list(bench.dimensions)}")
        labels = df[label_column(dimension)].to_numpy().astype(float)
    pairs: list[PreferencePair] = []
    for row, label in zip(df.itertuples(index=False), labels):
        if label == 0 or math.isnan(label):
            continue
        a, b = bench.video_path(row.video_A), bench.video_path(row.video_B)
        win, lose = (a, b) if label > 0 else (b, a)
        pairs.append(PreferencePair(str(row.pair_id), str(row.prompt), win, lose))
    counts = {"pairs_total": int(len(df)), "pairs_used": len(pairs), "ties_dropped": int(len(df) - len(pairs))}
    if not pairs:
        raise EmptyDataError(f"benchmark {bench.name!r}: all {len(df)} pairs are ties on the chosen labels")
    return pairs, counts


def _load_video(path: Path, num_frames: int, height: int, width: int) -> torch.Tensor:
    """Decode a file into pixels (3, num_frames, height, width) in [−1, 1] (frames evenly spaced, resized)."""
    from videobench.rewards.base import Sampling
    from videobench.video import load_clip
    from videobench.video.resize import resize_frames

    # the shared sampler takes even counts; ask for one more and pick num_frames of them evenly
    clip = load_clip(path, Sampling(fps=None, num_frames=num_frames + (num_frames % 2)))
    frames = clip.frames
    idx = torch.linspace(0, frames.shape[0] - 1, num_frames).round().long()
    frames = resize_frames(frames[idx], height, width)
    return frames.permute(3, 0, 1, 2).float().div(127.5).sub(1.0)


def encode_pairs(
    pipe: Any,
    family: Any,
    pairs: Sequence[PreferencePair],
    num_frames: int,
    height: int,
    width: int,
    max_sequence_length: int | None = None,
    meta: dict[str, Any] | None = None,
) -> LatentDataset:
    """Decode, resize and VAE-encode every distinct video of ``pairs`` once; encode every distinct prompt once."""
    if not pairs:
        raise EmptyDataError("no preference pairs to encode")
    video_ids: dict[str, int] = {}
    prompt_ids: dict[str, int] = {}
    video_prompt: list[int] = []
    video_group: list[int] = []
    rows: list[tuple[int, int]] = []
    for g, pair in enumerate(pairs):
        p = prompt_ids.setdefault(pair.prompt, len(prompt_ids))
        idx = []
        for path in (pair.winner, pair.loser):
            key = f"{path}\x00{pair.prompt}"
            if key not in video_ids:
                video_ids[key] = len(video_ids)
                video_prompt.append(p)
                video_group.append(g)
            idx.append(video_ids[key])
        rows.append((idx[0], idx[1]))
    latents = []
    for key in video_ids:
        path = Path(key.split("\x00", 1)[0])
        pixels = _load_video(path, num_frames, height, width).unsqueeze(0)
        latents.append(family.encode_video(pipe, pixels))
    prompts = list(prompt_ids)
    cond = family.encode_prompts(pipe, prompts, max_sequence_length)
    n = len(video_ids)
    return LatentDataset(
        latents=torch.cat(latents),
        cond=cond,
        prompt_index=torch.tensor(video_prompt),
        rewards=torch.full((n,), float("nan")),
        group=torch.tensor(video_group),
        pairs=torch.tensor(rows, dtype=torch.long),
        prompts=prompts,
        meta={"source": "pairs", "videos": [k.split("\x00", 1)[0] for k in video_ids], **(meta or {})},
    )


# ---------------------------------------------------------------------------------------------------------------
# (b) on-policy rollouts
# ---------------------------------------------------------------------------------------------------------------
def render_rollouts(
    pipe: Any,
    family: Any,
    prompts: Sequence[str],
    samples_per_prompt: int,
    reward: Any,
    num_frames: int,
    height: int,
    width: int,
    num_inference_steps: int = 30,
    guidance_scale: float = 5.0,
    seed: int = 0,
    max_sequence_length: int | None = None,
    reward_dimension: str | None = None,
    reward_weights: Mapping[str, float] | None = None,
    process_index: int = 0,
    num_processes: int = 1,
    show_progress: bool = False,
) -> LatentDataset:
    """K samples per prompt from the current pipeline, scored by ``reward``; best vs worst of each prompt = a pair.

    Sample j of prompt i uses seed ``seed + i·K + j``. The final latents are captured from the last denoising step,
    so training sees exactly the latents the pipeline produced (no VAE re-encoding). Prompts whose K rewards are all
    equal give no pair (counted as ties). With several processes each renders prompts[rank::world]; gather the shards
    with :meth:`LatentDataset` ``save`` / ``load`` or call it with the defaults on one process.
    """
    from .rewards import resolve_reward, score_frames

    if samples_per_prompt < 2:
        raise ValueError("on-policy pairs need at least 2 samples per prompt")
    if not prompts:
        raise EmptyDataError("no prompts to render")
    reward = resolve_reward(reward)
    from tqdm.auto import tqdm

    my_prompts = [(i, p) for i, p in enumerate(prompts) if i % num_processes == process_index]
    latents, rewards, prompt_index, group, pairs = [], [], [], [], []
    ties = 0
    bar = tqdm(total=len(my_prompts) * samples_per_prompt, desc="rollouts", unit="video", disable=not show_progress,
               leave=False)
    for i, prompt in my_prompts:
        videos = []
        for j in range(samples_per_prompt):
            captured: dict[str, torch.Tensor] = {}

            def keep_latents(_pipe, step, _t, kwargs, _store=captured):
                _store["latents"] = kwargs["latents"]
                return {}

            out = pipe(
                prompt,
                num_frames=num_frames,
                height=height,
                width=width,
                num_inference_steps=num_inference_steps,
                guidance_scale=guidance_scale,
                output_type="np",
                generator=torch.Generator(device="cpu").manual_seed(seed + i * samples_per_prompt + j),
                callback_on_step_end=keep_latents,
                callback_on_step_end_tensor_inputs=["latents"],
                **({"max_sequence_length": max_sequence_length} if max_sequence_length else {}),
            )
            videos.append(out.frames[0])
            latents.append(family.final_latents(captured["latents"], num_frames, height, width).float().cpu())
            bar.update(1)
        scores = score_frames(reward, videos, [prompt] * samples_per_prompt, reward_dimension, reward_weights)
        base = len(rewards)
        rewards.extend(scores.tolist())
        prompt_index.extend([i] * samples_per_prompt)
        group.extend([i] * samples_per_prompt)
        if scores.max() > scores.min():
            pairs.append((base + int(np.argmax(scores)), base + int(np.argmin(scores))))
        else:
            ties += 1
    bar.close()
    cond = family.encode_prompts(pipe, list(prompts), max_sequence_length)
    # prompt_index refers to the full prompt list so shards from several processes can be concatenated
    return LatentDataset(
        latents=torch.cat(latents),
        cond=cond,
        prompt_index=torch.tensor(prompt_index),
        rewards=torch.tensor(rewards, dtype=torch.float32),
        group=torch.tensor(group),
        pairs=torch.tensor(pairs, dtype=torch.long).reshape(-1, 2),
        prompts=list(prompts),
        meta={
            "source": "rollouts",
            "samples_per_prompt": samples_per_prompt,
            "ties_dropped": ties,
            "reward": getattr(reward, "name", repr(reward)),
            "seed": seed,
        },
    )


def concat_datasets(parts: Sequence[LatentDataset]) -> LatentDataset:
    """Join rollout shards that share one prompt list (as rendered by several processes)."""
    if not parts:
        raise EmptyDataError("nothing to concatenate")
    offsets = np.cumsum([0] + [len(p) for p in parts[:-1]])
    meta = dict(parts[0].meta)
    meta["ties_dropped"] = sum(int(p.meta.get("ties_dropped", 0)) for p in parts)
    return LatentDataset(
        latents=torch.cat([p.latents for p in parts]),
        cond=parts[0].cond,
        prompt_index=torch.cat([p.prompt_index for p in parts]),
        rewards=torch.cat([p.rewards for p in parts]),
        group=torch.cat([p.group for p in parts]),
        pairs=torch.cat([p.pairs + int(o) for p, o in zip(parts, offsets)]),
        prompts=parts[0].prompts,
        meta=meta,
    )
