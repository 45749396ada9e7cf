"""Training a VideoReward-style reward model from human pairwise labels, with accelerate.

    from videobench.align import train_reward_model
    result = train_reward_model({"base_model": "Qwen/Qwen2-VL-2B-Instruct", "benchmark": "train.csv",
                                 "output_dir": "rm"})
    # videobench eval --model videoreward:rm --bench videogen-rewardbench

Each optimiser step takes ``batch_size`` pairs per process and micro-step (a deterministic stream of the training
pairs, shared by every process: 2 processes with batch B equal 1 with 2B), scores both videos of each pair in one
forward, and minimises :func:`~videobench.align.losses.preference_loss` over VQ/MQ/TA (masked where unlabelled).
After the step every embedding row but the reward tokens' is put back.

Outputs in ``output_dir``: the model in VideoAlign's released layout (``model_config.json`` with the validation
split's mean/std as ``inference_config``, ``prompt_template.txt``, ``checkpoint-N/``), ``reward_model_config.yaml``,
``log.jsonl`` (loss per step), ``eval.jsonl`` (validation accuracy with and without ties per evaluation),
``split.json`` + ``val_pairs.txt`` (the held-out pair ids: ``videobench eval --subset``), ``run.json``,
``checkpoints/checkpoint-N/`` (resume) and ``cache/frames/`` (decoded, resized frames).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, Mapping, get_args, get_origin, get_type_hints

import numpy as np
import torch

from videobench.settings import read_settings_yaml, settings_from_mapping
from videobench.video.resize import VIDEO_MIN_PIXELS

from .checkpoints import (checkpoint_due, load_tensors_into, read_training_state, resume_step, warmup_scheduler,
                          write_checkpoint)
from .config import ConfigError, coerce_fields
from .data import EmptyDataError
from .losses import preference_loss
from .reward_model import (
    EmbeddingRowRestore,
    PartsPolicy,
    build_reward_model,
    parameter_groups,
    save_released_layout,
)
from .reward_model_data import FrameCache, RewardPairs
from .trainer import _stream

__all__ = ["RewardModelConfig", "RewardModelResult", "train_reward_model", "DEFAULT_TEMPLATE"]

#: Our own wording, with VideoAlign's token placement: VQ and MQ after the video and before the prompt (they see
#: only the video under causal attention), TA after the prompt.
DEFAULT_TEMPLATE = (
    "Rate this video. Visual quality: <|VQ_reward|> Motion quality: <|MQ_reward|>\n"
    "It was generated from the text: {text_prompt}\nHow well it follows the text: <|TA_reward|>"
)
DIMENSIONS = ("VQ", "MQ", "TA")


@dataclass
class RewardModelConfig:
    # -- model --------------------------------------------------------------------------------------------------
    #: the Qwen2-VL or Qwen2.5-VL base: a folder or a Hub id (safetensors weights, tokenizer, chat template)
    base_model: str = ""
    base_revision: str | None = None
    output_dir: str = "reward-model"
    seed: int = 0
    #: a text file with {text_prompt} and the three reward tokens (default: DEFAULT_TEMPLATE)
    template: str | None = None
    dtype: Literal["float32", "bfloat16"] = "float32"

    # -- data ---------------------------------------------------------------------------------------------------
    #: a benchmark name, file, folder or Hub id (videobench.data.registry.load_benchmark)
    benchmark: str | None = None
    benchmark_format: str = "auto"
    #: the column whose values are held out whole ("prompt", or e.g. "source_clip" for sanity)
    split_by: str = "prompt"
    val_fraction: float = 0.05
    #: explicit held-out values of split_by (instead of val_fraction)
    val_groups: list[str] | None = None
    use_tied_data: bool = True
    #: frame sampling recorded in the model (VideoAlign: 2 fps; num_frames wins when set)
    fps: float | None = 2.0
    num_frames: int | None = None
    #: per-frame pixel budget (VideoAlign's train.sh: 448*448)
    max_pixels: int | None = 448 * 448
    #: per-frame floor of the resize (VideoAlign 128*28*28; a lower value is stored in model_config.json's
    #: "videobench" section and read back by the videoreward: adapter)
    min_pixels: int = VIDEO_MIN_PIXELS
    #: decoded, resized frames (default OUTPUT_DIR/cache/frames)
    frame_cache_dir: str | None = None

    # -- objective and trainable parts --------------------------------------------------------------------------
    loss: Literal["btt", "bt", "reg"] = "btt"
    theta: float = 5.0
    mos_center: float = 3.0
    lora_rank: int = 64
    lora_alpha: float = 128.0
    lora_dropout: float = 0.0
    train_vision: bool = True
    train_merger: bool = True

    # -- optimisation -------------------------------------------------------------------------------------------
    #: pairs per process and micro-step
    batch_size: int = 1
    grad_accum: int = 4
    #: optimiser steps (default: `epochs` passes over the training pairs)
    max_steps: int | None = None
    epochs: float = 3.0
    lr: float = 2e-6
    vision_lr: float | None = None
    merger_lr: float | None = None
    special_token_lr: float | None = None
    head_lr: float | None = None
    weight_decay: float = 0.0
    warmup_steps: int = 0
    max_grad_norm: float | None = 1.0
    mixed_precision: Literal["no", "bf16", "fp16"] = "no"
    #: validation accuracy every N steps (0: only at the end)
    eval_every: int = 0
    eval_batch_size: int = 8
    checkpoint_every: int = 0
    resume_from: str | None = None
    log_every: int = 1
    cpu: bool = False
    #: also write non_lora_state_dict.pth, the file VideoAlign's own inference reads (it reads no safetensors there)
    write_pth: bool = False
    #: after training: evaluate on this benchmark and write the EvalResult into OUTPUT_DIR/eval/
    eval_bench: str | None = None

    def __post_init__(self) -> None:
        coerce_fields(self)
        hints = get_type_hints(type(self))
        for f in fields(self):
            value = getattr(self, f.name)
            if get_origin(hints[f.name]) is Literal and value not in get_args(hints[f.name]):
                raise ConfigError(f"{f.name}={value!r} is not one of {', '.join(get_args(hints[f.name]))}")
        for name in ("batch_size", "grad_accum", "lora_rank", "log_every", "eval_batch_size", "min_pixels"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        if self.theta <= 1:
            raise ConfigError(f"theta must be > 1 (Rao–Kupper), got {self.theta}")
        if self.lr <= 0 or self.epochs <= 0:
            raise ConfigError("lr and epochs must be positive")
        if min(self.max_steps or 0, self.checkpoint_every, self.eval_every, self.warmup_steps) < 0:
            raise ConfigError("max_steps, checkpoint_every, eval_every and warmup_steps must be >= 0")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ConfigError(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        if self.fps is None and self.num_frames is None:
            raise ConfigError("set fps or num_frames (the frame sampling the model is trained and scored with)")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "RewardModelConfig":
        return settings_from_mapping(cls, values, ConfigError)

    @classmethod
    def from_yaml(cls, path: str | Path, overrides: Mapping[str, Any] | None = None) -> "RewardModelConfig":
        values = read_settings_yaml(path, ConfigError)
        try:
            return cls.from_dict({**values, **(overrides or {})})
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    def sampling(self) -> Any:
        from videobench.rewards.base import Sampling

        if self.num_frames:
            return Sampling(fps=None, num_frames=int(self.num_frames), max_pixels=self.max_pixels)
        return Sampling(fps=float(self.fps), num_frames=None, max_pixels=self.max_pixels)

    def policy(self) -> PartsPolicy:
        return PartsPolicy(self.lora_rank, self.lora_alpha, self.lora_dropout, self.train_vision, self.train_merger,
                           self.lr, self.vision_lr, self.merger_lr, self.special_token_lr, self.head_lr,
                           self.weight_decay)


@dataclass
class RewardModelResult:
    output_dir: Path
    steps: int
    log: list[dict[str, Any]] = field(default_factory=list)
    #: the last validation evaluation ({"VQ": {"accuracy_without_ties", "accuracy_with_ties"}, ...})
    eval: dict[str, Any] = field(default_factory=dict)
    #: mean/std per dimension on the validation split (model_config.json's inference_config)
    norm: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: the EvalResult file written by eval_bench, if any
    eval_result: Path | None = None
    #: the trained ``VideoRewardModel`` in memory (raw rewards, no normalisation), in the main process
    model: Any = field(default=None, repr=False)

    @property
    def spec(self) -> str:
        """The reward spec that loads the trained model (``videobench eval --model``)."""
        return f"videoreward:{Path(self.output_dir).resolve()}"


# ---------------------------------------------------------------------------------------------------------------
# scoring pairs
# ---------------------------------------------------------------------------------------------------------------
class _Inputs:
    """Model inputs of videos (frames from the cache, patchified on the fly) with their prompts."""

    def __init__(self, model: Any, pairs: RewardPairs, cache: FrameCache) -> None:
        self.model, self.pairs, self.cache = model, pairs, cache

    def batch(self, video_rows: list[int], prompts: list[str]) -> dict[str, torch.Tensor]:
        videos = [self.cache.inputs(self.pairs.videos[v]) for v in video_rows]
        return self.model.to_device(self.model.encode(videos, prompts))

    def pair_batch(self, rows: list[int]) -> dict[str, torch.Tensor]:
        """A then B of every pair, one forward: rewards[:n] are the A sides, rewards[n:] the B sides."""
        idx = self.pairs.index[rows]
        prompts = [self.pairs.prompts[r] for r in rows]
        return self.batch(idx[:, 0].tolist() + idx[:, 1].tolist(), prompts + prompts)


def pair_loss(net: torch.nn.Module, inputs: _Inputs, rows: list[int], config: RewardModelConfig,
              autocast: Any = contextlib.nullcontext, batch: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
    """The loss of the pairs ``rows`` of ``inputs.pairs``: both videos of every pair scored in one forward of ``net``
    (possibly DDP-wrapped), then :func:`preference_loss` over VQ/MQ/TA. ``batch``: ``inputs.pair_batch(rows)``,
    when already built."""
    pairs = inputs.pairs
    with autocast():
        rewards = net(**(batch if batch is not None else inputs.pair_batch(rows)))
    ra, rb = rewards.float().chunk(2)
    sel = torch.tensor(rows)
    return preference_loss(ra, rb, pairs.labels[sel], config.loss, config.theta, pairs.mos_a[sel], pairs.mos_b[sel],
                           config.mos_center)


@torch.no_grad()
def score_videos(net: torch.nn.Module, inputs: _Inputs, batch_size: int) -> dict[tuple[int, str], np.ndarray]:
    """Raw rewards (VQ, MQ, TA) of every (video, prompt) of ``inputs.pairs``."""
    items = list(dict.fromkeys((int(v), p) for (a, b), p in zip(inputs.pairs.index.tolist(), inputs.pairs.prompts)
                               for v in (a, b)))
    out: dict[tuple[int, str], np.ndarray] = {}
    was = net.training
    net.eval()
    for start in range(0, len(items), batch_size):
        chunk = items[start:start + batch_size]
        rewards = net(**inputs.batch([v for v, _ in chunk], [p for _, p in chunk])).float().cpu().numpy()
        out.update(zip(chunk, rewards))
    net.train(was)
    return out


def validation_metrics(scores: dict[tuple[int, str], np.ndarray], pairs: RewardPairs) -> dict[str, Any]:
    """Accuracy per dimension without ties (a zero margin is wrong) and with ties (tie-calibrated), on the pairs
    whose label on that dimension is known."""
    from videobench.metrics import accuracy_with_ties, accuracy_without_ties

    a = np.stack([scores[(int(i), p)] for i, p in zip(pairs.index[:, 0].tolist(), pairs.prompts)])
    b = np.stack([scores[(int(i), p)] for i, p in zip(pairs.index[:, 1].tolist(), pairs.prompts)])
    out: dict[str, Any] = {}
    for j, dim in enumerate(pairs.dimensions):
        known = ~torch.isnan(pairs.labels[:, j]).numpy()
        labels, margins = pairs.labels[known, j].numpy().astype(np.int8), (a - b)[known, j]
        if not known.any():
            continue
        decided = labels != 0
        out[dim] = {
            "pairs": int(known.sum()),
            "accuracy_without_ties": float(accuracy_without_ties(labels, margins)) if decided.any() else None,
            "accuracy_with_ties": float(accuracy_with_ties(labels, margins).value),
        }
    return out


def norm_stats(scores: dict[tuple[int, str], np.ndarray], dimensions: tuple[str, ...]) -> dict[str, tuple[float, float]]:
    """Mean and (population) std of each dimension's raw reward over the scored items; a zero std becomes 1."""
    values = np.stack(list(scores.values()))
    stats = {}
    for j, dim in enumerate(dimensions):
        std = float(values[:, j].std())
        stats[dim] = (float(values[:, j].mean()), std if std > 0 else 1.0)
    return stats


# ---------------------------------------------------------------------------------------------------------------
# resume checkpoints (our own: trainable weights, optimiser, scheduler, step)
# ---------------------------------------------------------------------------------------------------------------
def _trainable(net: torch.nn.Module) -> dict[str, torch.nn.Parameter]:
    return {n: p for n, p in net.named_parameters() if p.requires_grad}


def _save_checkpoint(folder: Path, step: int, net: torch.nn.Module, optimizer: Any, scheduler: Any) -> None:
    from safetensors.torch import save_file

    def weights(tmp: Path) -> None:
        save_file({n: p.detach().cpu().contiguous() for n, p in _trainable(net).items()},
                  str(tmp / "trainable.safetensors"))

    write_checkpoint(folder, step, optimizer, scheduler, weights, fault="reward-model:checkpoint-written")


def _load_checkpoint(folder: Path, net: torch.nn.Module, optimizer: Any, scheduler: Any) -> int:
    load_tensors_into(_trainable(net), folder / "trainable.safetensors",
                      f"checkpoint {folder} does not match this run's trainable parts (LoRA rank, vision, merger settings)")
    return read_training_state(folder, optimizer, scheduler)


# ---------------------------------------------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------------------------------------------
def _read_template(config: RewardModelConfig) -> str:
    if config.template is None:
        return DEFAULT_TEMPLATE
    try:
        return Path(config.template).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"template: cannot read {config.template}: {exc}") from None


def _model_config(config: RewardModelConfig, base_dir: Path, norm: dict[str, tuple[float, float]],
                  steps: int) -> dict[str, Any]:
    from videobench.rewards.videoreward_files import released_model_config

    extra: dict[str, Any] = {"videobench": {"min_pixels": config.min_pixels, "template": "prompt_template.txt",
                                            "trained_with": "videobench align reward-model"}}
    return released_model_config(
        str(base_dir.resolve()) if Path(config.base_model).expanduser().is_dir() else config.base_model,
        lora=True, mean_std=norm, max_frame_pixels=config.max_pixels, fps=None if config.num_frames else config.fps,
        num_frames=config.num_frames, lora_r=config.lora_rank, lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout, tune_merger=config.train_merger,
        freeze_vision_tower=not config.train_vision, loss_type=config.loss, use_tied_data=config.use_tied_data,
        torch_dtype=config.dtype, model_revision=config.base_revision or "main",
        training_args={"output_dir": config.output_dir, "max_steps": steps, "learning_rate": config.lr,
                       "per_device_train_batch_size": config.batch_size,
                       "gradient_accumulation_steps": config.grad_accum, "save_full_model": False,
                       "load_from_pretrained": None},
        data_files={"meta_data": config.benchmark, "data_dir": None}, extra=extra,
    )


def train_reward_model(config: RewardModelConfig | Mapping[str, Any], *, bench: Any = None,
                       accelerator: Any = None) -> RewardModelResult:
    """Train a reward model on ``config.benchmark`` (or the ``PairBenchmark`` ``bench``) and save it in VideoAlign's
    released layout in ``config.output_dir``; see the module docstring for everything written there."""
    from accelerate import Accelerator
    from tqdm.auto import tqdm

    if not isinstance(config, RewardModelConfig):
        config = RewardModelConfig.from_dict(config)
    if not config.base_model:
        raise ConfigError("base_model is required: a Qwen2-VL or Qwen2.5-VL folder or Hub id")
    acc = accelerator or Accelerator(mixed_precision=config.mixed_precision, cpu=config.cpu)
    out = Path(config.output_dir)
    if acc.is_main_process:
        out.mkdir(parents=True, exist_ok=True)
        (out / "reward_model_config.yaml").write_text(config.to_yaml())

    # -- data -----------------------------------------------------------------------------------------------------
    if bench is None:
        from videobench.data.registry import load_benchmark

        if not config.benchmark:
            raise ConfigError("benchmark is required: a name, file, folder or Hub id with pairwise labels")
        bench = load_benchmark(config.benchmark, format=config.benchmark_format)
    pairs = RewardPairs.from_benchmark(bench, DIMENSIONS, group_by=config.split_by,
                                       use_tied_data=config.use_tied_data)
    train_pairs, val_pairs = pairs.split(config.val_fraction, config.seed, config.val_groups)
    usable = [i for i in range(len(train_pairs)) if not torch.isnan(train_pairs.labels[i]).all()]
    if not usable:
        raise EmptyDataError(f"{bench.name}: no training pair with a label (after the held-out split)")
    if acc.is_main_process:
        split = {"split_by": config.split_by, "val_groups": sorted(set(val_pairs.groups)),
                 "train_pairs": len(train_pairs), "val_pairs": len(val_pairs), "dropped": train_pairs.dropped}
        (out / "split.json").write_text(json.dumps(split, indent=2))
        (out / "val_pairs.txt").write_text("".join(f"{p}\n" for p in val_pairs.pair_ids))

    # -- model ----------------------------------------------------------------------------------------------------
    policy = config.policy()
    dtype = torch.bfloat16 if config.dtype == "bfloat16" else torch.float32
    model = build_reward_model(config.base_model, _read_template(config), policy, sampling=config.sampling(),
                               min_pixels=config.min_pixels, revision=config.base_revision, seed=config.seed,
                               dtype=dtype)
    net = model.net.to(acc.device)
    net.train()
    restore = EmbeddingRowRestore(net, list(model.reward_token_ids))
    cache = FrameCache(Path(config.frame_cache_dir or out / "cache" / "frames"), model.sampling, model.patch_spec,
                       config.min_pixels, budget=model.pixel_budget)
    train_inputs, val_inputs = _Inputs(model, train_pairs, cache), _Inputs(model, val_pairs, cache)

    optimizer = torch.optim.AdamW(parameter_groups(net, policy))
    scheduler = warmup_scheduler(optimizer, config.warmup_steps)
    wrapped, optimizer = acc.prepare(net, optimizer)
    rank, world, bs, ga = acc.process_index, acc.num_processes, config.batch_size, config.grad_accum
    max_steps = config.max_steps or max(1, round(config.epochs * len(usable) / (bs * ga * world)))

    step = resume_step(config.resume_from, out, lambda f: _load_checkpoint(f, net, optimizer, scheduler), acc)

    log: list[dict[str, Any]] = []
    log_path, eval_path = out / "log.jsonl", out / "eval.jsonl"
    if acc.is_main_process and step == 0:
        for p in (log_path, eval_path):
            p.unlink(missing_ok=True)
    last_eval: dict[str, Any] = {}
    val_scores: dict[tuple[int, str], np.ndarray] = {}

    def run_eval() -> dict[str, Any]:
        nonlocal val_scores
        if len(val_pairs) == 0 or not acc.is_main_process:
            return {}
        val_scores = score_videos(net, val_inputs, config.eval_batch_size)
        result = {"step": step, **validation_metrics(val_scores, val_pairs)}
        with eval_path.open("a") as fh:
            fh.write(json.dumps(result) + "\n")
        return result

    def micro_rows(m: int) -> list[int]:
        return [usable[i] for i in _stream(len(usable), (m * world + rank) * bs, bs, config.seed)]

    t_start = time.perf_counter()
    prefetched: dict[int, dict[str, torch.Tensor]] = {}
    bar = tqdm(total=max_steps, initial=step, desc="reward-model", unit="step", disable=not acc.is_main_process)
    while step < max_steps:
        started = time.perf_counter()
        sums: dict[str, float] = {}
        for micro in range(ga):
            m = step * ga + micro
            rows = micro_rows(m)
            sync = contextlib.nullcontext() if micro == ga - 1 else acc.no_sync(wrapped)
            with sync:
                loss = pair_loss(wrapped, train_inputs, rows, config, acc.autocast, prefetched.pop(m, None))
                acc.backward(loss / ga)
            sums["loss"] = sums.get("loss", 0.0) + float(loss.detach()) / ga
        if config.max_grad_norm:
            sums["grad_norm"] = float(acc.clip_grad_norm_(net.parameters(), config.max_grad_norm))
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        restore.restore()
        step += 1
        if step < max_steps:  # the next batch, built now that activations and gradients are freed (lower peak)
            prefetched[step * ga] = train_inputs.pair_batch(micro_rows(step * ga))
        bar.update(1)
        bar.set_postfix(loss=f"{sums['loss']:.4g}", refresh=False)
        if step % config.log_every == 0 or step == max_steps:
            reduced = acc.reduce(torch.tensor(list(sums.values()), device=acc.device), reduction="mean").tolist()
            entry = {"step": step, **dict(zip(sums, reduced)), "lr": scheduler.get_last_lr()[0],
                     "step_seconds": time.perf_counter() - started}
            log.append(entry)
            if acc.is_main_process:
                with log_path.open("a") as fh:
                    fh.write(json.dumps(entry) + "\n")
        if config.eval_every and step % config.eval_every == 0 and step < max_steps:
            last_eval = run_eval() or last_eval
        if checkpoint_due(step, config.checkpoint_every, max_steps):
            if acc.is_main_process:
                _save_checkpoint(out / "checkpoints" / f"checkpoint-{step}", step, net, optimizer, scheduler)
            acc.wait_for_everyone()
    bar.close()
    train_seconds = time.perf_counter() - t_start

    # -- outputs --------------------------------------------------------------------------------------------------
    acc.wait_for_everyone()
    result = RewardModelResult(out, step, log, model=model)
    if acc.is_main_process:
        result.eval = run_eval() or last_eval
        if not val_scores:  # no held-out pairs: the statistics come from the training videos (recorded)
            val_scores = score_videos(net, train_inputs, config.eval_batch_size)
        result.norm = norm_stats(val_scores, DIMENSIONS)
        base_dir = getattr(model, "base_dir", Path(config.base_model))
        save_released_layout(model, out, step, _model_config(config, base_dir, result.norm, step), policy,
                             write_pth=config.write_pth)
        info = {"steps": step, "num_processes": world, "benchmark": bench.name, "train_seconds": train_seconds,
                "pairs": {"train": len(usable), "val": len(val_pairs)}, "videos_decoded": cache.decoded,
                "norm_from": "validation" if len(val_pairs) else "training", "eval": result.eval,
                "command": os.environ.get("VIDEOBENCH_COMMAND", "")}
        (out / "run.json").write_text(json.dumps(info, indent=2, default=str))
        if config.eval_bench:
            result.eval_result = evaluate_trained(out, config.eval_bench)
    acc.wait_for_everyone()
    return result


def evaluate_trained(out: Path, bench: str) -> Path:
    """``videobench eval --model videoreward:OUT --bench BENCH``, its EvalResult written to ``OUT/eval/``."""
    import videobench

    evaluation = videobench.evaluate(f"videoreward:{out}", bench)
    return evaluation.save(out / "eval")
