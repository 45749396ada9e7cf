"""The training loop: accelerate (devices, DDP, mixed precision), LoRA, checkpoints, EMA, logs.

    result = train(AlignConfig(method="dpo", pipeline="path/to/wan", prompts=[...], max_steps=200))

Outputs in ``output_dir``: ``pytorch_lora_weights.safetensors`` (diffusers format: ``pipe.load_lora_weights(dir)``),
``ema/`` (EMA weights, same format, when ``ema_decay`` is set), ``align_config.yaml``, ``log.jsonl`` (one line per
optimiser step), ``run.json`` (data counts, timings, versions), ``checkpoints/checkpoint-N/`` and ``cache/``.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .checkpoints import (checkpoint_due, latest_checkpoint, load_tensors_into, read_training_state, resume_step,
                          warmup_scheduler, write_checkpoint)
from .config import AlignConfig
from .data import EmptyDataError, LatentDataset, concat_datasets, encode_pairs, pairs_from_benchmark, render_rollouts
from .flow import SigmaSampler
from .lora import (
    POLICY_ADAPTER,
    REFERENCE_ADAPTER,
    LoraSettings,
    add_lora,
    load_lora_into,
    lora_parameters,
    named_lora_tensors,
    save_lora,
)
from .models import FlowFamily, family_for
from .objectives import Reference, flow_dpo_step, flow_weighted_step

__all__ = ["AlignResult", "train", "load_pipeline", "prepare_dataset", "latest_checkpoint"]


@dataclass
class AlignResult:
    output_dir: Path
    steps: int
    log: list[dict[str, Any]] = field(default_factory=list)
    dataset_meta: dict[str, Any] = field(default_factory=dict)
    #: the pipeline family ("wan", "ltx"): the prefix of the LoRA's `compare` / leaderboard spec
    family: str = ""
    #: the reward-hacking monitor's summary (``eval_every``): evaluations, last deltas, divergence flags
    monitor: dict[str, Any] | None = None

    @property
    def lora_dir(self) -> Path:
        return self.output_dir


def load_pipeline(spec: str, device: torch.device | str = "cpu") -> Any:
    """A diffusers pipeline from a folder or Hub id (offline when HF_HUB_OFFLINE is set)."""
    from diffusers import DiffusionPipeline

    if not spec:
        raise ValueError("no pipeline given: set `pipeline` to a diffusers folder or Hub id")
    pipe = DiffusionPipeline.from_pretrained(spec)
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


# ---------------------------------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------------------------------
_DATA_KEYS = ("data", "benchmark", "label_dimension", "label_weights", "prompts", "num_prompts", "samples_per_prompt",
              "reward", "reward_dimension", "reward_weights", "num_frames", "height", "width", "num_inference_steps",
              "guidance_scale", "max_sequence_length", "seed", "pipeline", "init_lora")


def _cache_key(config: AlignConfig) -> str:
    values = {k: v for k, v in config.to_dict().items() if k in _DATA_KEYS}
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _prompt_list(config: AlignConfig) -> list[str]:
    if config.prompts is None:
        raise ValueError("data=rollouts needs `prompts` (a list or a prompt suite / file)")
    if isinstance(config.prompts, str):
        from videobench.prompts import load_prompts

        return [p.text for p in load_prompts(config.prompts, config.num_prompts).prompts]
    prompts = [str(p) for p in config.prompts]
    return prompts[: config.num_prompts] if config.num_prompts else prompts


def prepare_dataset(config: AlignConfig, pipe: Any, family: FlowFamily, accelerator: Any = None) -> LatentDataset:
    """Latents + prompt embeddings for the run, from the cache when present (``cache_dir/<settings hash>``)."""
    rank = accelerator.process_index if accelerator else 0
    barrier = accelerator.wait_for_everyone if accelerator else (lambda: None)
    if config.data == "cache":
        if not config.cache_dir or not LatentDataset.exists(config.cache_dir):
            raise FileNotFoundError(f"data=cache needs an existing latent cache in cache_dir, got {config.cache_dir!r}")
        return LatentDataset.load(config.cache_dir)
    root = Path(config.cache_dir or Path(config.output_dir) / "cache") / _cache_key(config)
    if LatentDataset.exists(root):
        return LatentDataset.load(root)
    if config.data == "pairs":
        if rank == 0:
            from videobench.data.registry import load_benchmark

            if not config.benchmark:
                raise ValueError("data=pairs needs `benchmark` (a name, path or Hub id)")
            bench = load_benchmark(config.benchmark)
            dimension = None if config.label_weights else config.label_dimension
            pairs, counts = pairs_from_benchmark(bench, dimension, config.label_weights)
            ds = encode_pairs(pipe, family, pairs, config.num_frames, config.height, config.width,
                              config.max_sequence_length, meta={"benchmark": bench.name, **counts})
            ds.save(root)
        barrier()
        return LatentDataset.load(root)
    return render_rollout_dataset(config, pipe, family, accelerator, root, config.seed, with_init_lora=True)


def render_rollout_dataset(config: AlignConfig, pipe: Any, family: FlowFamily, accelerator: Any, root: Path,
                           seed: int, with_init_lora: bool = False) -> LatentDataset:
    """Render and score ``config``'s rollouts with ``pipe`` as it is (each process its share of the prompts) and
    save them to ``root``; reused when ``root`` already holds them."""
    if LatentDataset.exists(root):
        return LatentDataset.load(root)
    rank = accelerator.process_index if accelerator else 0
    world = accelerator.num_processes if accelerator else 1
    barrier = accelerator.wait_for_everyone if accelerator else (lambda: None)
    prompts = _prompt_list(config)
    load_init = with_init_lora and config.init_lora
    if load_init:
        pipe.load_lora_weights(config.init_lora, adapter_name="init")
    try:
        shard = render_rollouts(
            pipe, family, prompts, config.samples_per_prompt, config.reward, config.num_frames, config.height,
            config.width, config.num_inference_steps, config.guidance_scale, seed, config.max_sequence_length,
            config.reward_dimension, config.reward_weights, rank, world, show_progress=rank == 0,
        )
    finally:
        if load_init:
            pipe.unload_lora_weights()
    if world == 1:
        shard.save(root)
        return shard
    shard.save(root / f"shard-{rank}")
    barrier()
    if rank == 0:
        concat_datasets([LatentDataset.load(root / f"shard-{r}") for r in range(world)]).save(root)
    barrier()
    return LatentDataset.load(root)


def round_seed(seed: int, round_index: int) -> int:
    """Rollout seed of on-policy round ``round_index`` (round 0 = ``seed``): fresh noise every round, far from the
    small seeds people evaluate on."""
    if round_index == 0:
        return seed
    digest = hashlib.sha256(f"{seed}/rollout-round/{round_index}".encode()).digest()
    return int.from_bytes(digest[:4], "little") % (2**31 - 2**20)


def _policy_rollouts(config: AlignConfig, pipe: Any, family: FlowFamily, accelerator: Any, round_index: int,
                     module: torch.nn.Module) -> LatentDataset:
    """Round ``round_index`` of on-policy rollouts, rendered by the pipeline with the policy adapter as trained so
    far; kept in OUTPUT_DIR/rollouts/round-K (it depends on this run's weights, so never in a shared cache)."""
    root = Path(config.output_dir) / "rollouts" / f"round-{round_index}"
    was_training = module.training
    module.eval()
    try:
        return render_rollout_dataset(config, pipe, family, accelerator, root, round_seed(config.seed, round_index))
    finally:
        module.train(was_training)


# ---------------------------------------------------------------------------------------------------------------
# batches: a deterministic stream of unit indices (pairs, prompt groups or videos), shared by all processes
# ---------------------------------------------------------------------------------------------------------------
def _stream(n_units: int, start: int, length: int, seed: int) -> list[int]:
    """Positions [start, start + length) of the concatenation of per-epoch permutations of range(n_units)."""
    out: list[int] = []
    pos = start
    while len(out) < length:
        epoch, offset = divmod(pos, n_units)
        perm = torch.randperm(n_units, generator=torch.Generator().manual_seed(seed * 7919 + epoch))
        take = min(n_units - offset, length - len(out))
        out.extend(perm[offset : offset + take].tolist())
        pos += take
    return out


def _generator(seed: int, position: int) -> torch.Generator:
    """The noise / σ generator of the unit at ``position`` of the stream: independent of how many processes share
    the global batch, so one process with batch 2B and two with batch B see the same samples."""
    digest = hashlib.sha256(f"{seed}/{position}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:7], "little"))


# ---------------------------------------------------------------------------------------------------------------
# checkpoints
# ---------------------------------------------------------------------------------------------------------------
def save_checkpoint(folder: Path, step: int, model: torch.nn.Module, optimizer: Any, scheduler: Any,
                    ema: dict[str, torch.Tensor] | None, pipeline_cls: type) -> None:
    """``checkpoint-N/``: the training state (resume) and the LoRA in diffusers format, so that
    ``videobench compare -g NAME=wan:BASE+lora:RUN/checkpoints/checkpoint-N`` renders it."""
    from safetensors.torch import save_file

    def weights(tmp: Path) -> None:
        save_lora(model, pipeline_cls, tmp)
        save_file({n: p.detach().cpu().contiguous() for n, p in named_lora_tensors(model)}, str(tmp / "lora.safetensors"))
        if ema is not None:
            save_file({n: t.cpu().contiguous() for n, t in ema.items()}, str(tmp / "ema.safetensors"))

    write_checkpoint(folder, step, optimizer, scheduler, weights, fault="align:checkpoint-written")


def _load_checkpoint(folder: Path, model: torch.nn.Module, optimizer: Any, scheduler: Any,
                     ema: dict[str, torch.Tensor] | None) -> int:
    from safetensors.torch import load_file

    load_tensors_into(dict(named_lora_tensors(model)), folder / "lora.safetensors",
                      f"checkpoint {folder} does not match the LoRA settings of this run (different adapter keys)")
    if ema is not None and (folder / "ema.safetensors").is_file():
        for name, t in load_file(str(folder / "ema.safetensors")).items():
            ema[name].copy_(t.to(ema[name].device))
    return read_training_state(folder, optimizer, scheduler)


@dataclass
class TrainingSetup:
    """The trainable policy and what goes with it, shared by every method's loop."""

    model: torch.nn.Module  # as prepared by accelerate (DDP-wrapped with several processes)
    unwrapped: torch.nn.Module
    optimizer: Any
    scheduler: Any
    params: list[torch.nn.Parameter]
    reference: Reference
    ema: dict[str, torch.Tensor] | None
    #: the optimiser step to continue from (0, or the resumed checkpoint's)
    step: int


def setup_training(config: AlignConfig, transformer: torch.nn.Module, pipeline_cls: type, family: FlowFamily,
                   acc: Any) -> TrainingSetup:
    """Cast the base weights, add the LoRA (or load ``init_lora`` twice: trainable policy + frozen reference), build
    AdamW with warm-up, prepare with accelerate, and resume from ``resume_from``."""
    _cast_base(transformer, _DTYPES[config.base_dtype])
    ref_copy = None
    if config.reference == "copy":
        ref_copy = Reference.frozen_copy(transformer, family, autocast=acc.autocast)
        ref_copy.module.to(acc.device)
    settings = LoraSettings(config.lora_rank, config.lora_alpha, list(config.lora_targets), config.lora_dropout)
    if config.init_lora:
        transformer.requires_grad_(False)
        load_lora_into(transformer, config.init_lora, pipeline_cls, POLICY_ADAPTER, trainable=True)
        load_lora_into(transformer, config.init_lora, pipeline_cls, REFERENCE_ADAPTER, trainable=False)
        transformer.set_adapter(POLICY_ADAPTER)
        for p in lora_parameters(transformer, POLICY_ADAPTER):
            p.requires_grad_(True)
    else:
        with torch.random.fork_rng(devices=[]):  # LoRA A is random: make it a function of the seed
            torch.manual_seed(config.seed)
            add_lora(transformer, settings)
    if config.gradient_checkpointing:
        transformer.enable_gradient_checkpointing()
    transformer.train()
    params = lora_parameters(transformer, POLICY_ADAPTER)
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    scheduler = warmup_scheduler(optimizer, config.warmup_steps)
    model, optimizer = acc.prepare(transformer, optimizer)
    unwrapped = acc.unwrap_model(model)
    if ref_copy is not None:
        reference = ref_copy
    else:
        reference = Reference(unwrapped, family, "adapter" if config.init_lora else "disabled", acc.autocast)
    ema = {n: p.detach().clone() for n, p in named_lora_tensors(unwrapped)} if config.ema_decay else None
    step = resume_step(config.resume_from, config.output_dir,
                       lambda folder: _load_checkpoint(folder, unwrapped, optimizer, scheduler, ema), acc)
    return TrainingSetup(model, unwrapped, optimizer, scheduler, params, reference, ema, step)


def append_log(log: list[dict[str, Any]], entry: dict[str, Any], path: Path, acc: Any) -> None:
    """One ``log.jsonl`` line (written by the main process), kept in ``log`` too."""
    log.append(entry)
    if acc.is_main_process:
        with path.open("a") as fh:
            fh.write(json.dumps(entry) + "\n")


def maybe_checkpoint(config: AlignConfig, step: int, setup: TrainingSetup, pipeline_cls: type, acc: Any) -> None:
    """``checkpoints/checkpoint-N`` every ``checkpoint_every`` steps and after the last one (``checkpoint-*`` then
    covers the whole run, up to the final LoRA)."""
    if checkpoint_due(step, config.checkpoint_every, config.max_steps, at_end=True):
        if acc.is_main_process:
            save_checkpoint(Path(config.output_dir) / "checkpoints" / f"checkpoint-{step}", step, setup.unwrapped,
                            setup.optimizer, setup.scheduler, setup.ema, pipeline_cls)
        acc.wait_for_everyone()


def start_run(config: AlignConfig, pipe: Any, accelerator: Any) -> tuple[Any, Path, Any, bool]:
    """The accelerator, the output folder with ``align_config.yaml``, and the pipeline (loaded when not given;
    the last value says whether it was)."""
    from accelerate import Accelerator

    acc = accelerator or Accelerator(mixed_precision=config.mixed_precision, cpu=config.cpu)
    out = Path(config.output_dir)
    if acc.is_main_process:
        out.mkdir(parents=True, exist_ok=True)
        (out / "align_config.yaml").write_text(config.to_yaml())
    owns_pipe = pipe is None
    if owns_pipe:
        pipe = load_pipeline(config.pipeline, acc.device)
    return acc, out, pipe, owns_pipe


def update_ema(ema: dict[str, torch.Tensor] | None, model: torch.nn.Module, decay: float | None) -> None:
    """EMA of the LoRA weights after an optimiser step (no-op without ``ema_decay``)."""
    if ema is None:
        return
    with torch.no_grad():
        for name, p in named_lora_tensors(model):
            ema[name].mul_(decay).add_(p.detach(), alpha=1 - decay)


# ---------------------------------------------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------------------------------------------
_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def train(config: AlignConfig, pipe: Any = None, dataset: LatentDataset | None = None,
          accelerator: Any = None) -> AlignResult:
    """Run ``config.method`` (dpo, rwr or sft) and write the LoRA, config and log to ``config.output_dir``.

    ``pipe``: an already loaded pipeline (its transformer receives the trained adapter, so it can render at once);
    default: ``load_pipeline(config.pipeline)``, whose VAE and text encoder are released once the data is cached.
    ``dataset``: precomputed latents (skips data preparation).
    """
    if config.method == "grpo":
        from .grpo_trainer import train_grpo

        return train_grpo(config, pipe=pipe, accelerator=accelerator)
    from tqdm.auto import tqdm

    from .monitor import Monitor

    acc, out, pipe, owns_pipe = start_run(config, pipe, accelerator)
    family = family_for(pipe)
    if config.rollout_every:  # load a registry reward once, not once per round
        from .rewards import resolve_reward

        config = config.replace(reward=resolve_reward(config.reward))
    t0 = time.perf_counter()
    if dataset is None:
        dataset = prepare_dataset(config, pipe, family, acc)
    data_seconds = time.perf_counter() - t0
    transformer = pipe.transformer
    pipeline_cls = type(pipe)
    if owns_pipe and not config.rollout_every and not config.eval_every:  # only the transformer stays in memory
        del pipe
        gc.collect()
    _check_dataset(config, dataset, transformer, family)

    # -- model, LoRA, reference, resume -------------------------------------------------------------------------
    setup = setup_training(config, transformer, pipeline_cls, family, acc)
    model, unwrapped, optimizer, scheduler = setup.model, setup.unwrapped, setup.optimizer, setup.scheduler
    params, reference, ema, step = setup.params, setup.reference, setup.ema, setup.step
    monitor = None
    if config.eval_every:
        from .rewards import reward_terms

        trained = [config.reward] if config.data == "rollouts" else []
        monitor = Monitor.from_config(config, pipe, reward_terms(trained, config.reward_dimension,
                                                                 config.reward_weights), acc)
        monitor.maybe_run(step, force=step == 0)

    # -- loop ---------------------------------------------------------------------------------------------------
    sampler = SigmaSampler(config.sigma_sampler, config.sigma_mean, config.sigma_std, config.sigma_shift,
                           config.sigma_min, config.sigma_max)
    units = _units(config, dataset)
    policy = lambda x, t, c: family.predict(model, x, t, c)  # noqa: E731
    log: list[dict[str, Any]] = []
    log_path = out / "log.jsonl"
    if acc.is_main_process and step == 0 and log_path.exists():
        log_path.unlink()
    rank, world, bs, ga = acc.process_index, acc.num_processes, config.batch_size, config.grad_accum
    round_index, rounds = 0, [_round_info(0, 0, dataset, data_seconds)]
    bar = tqdm(total=config.max_steps, initial=step, desc=config.method, unit="step", disable=not acc.is_main_process)
    while step < config.max_steps:
        wanted = step // config.rollout_every if config.rollout_every else 0
        if wanted != round_index:  # on-policy: the next round of rollouts (or, on resume, the current one)
            t0 = time.perf_counter()
            dataset = _policy_rollouts(config, pipe, family, acc, wanted, unwrapped)
            units, round_index = _units(config, dataset), wanted
            rounds.append(_round_info(wanted, step, dataset, time.perf_counter() - t0))
        started = time.perf_counter()
        sums: dict[str, float] = {}
        for micro in range(ga):
            m = step * ga + micro
            start = (m * world + rank) * bs
            chosen = _stream(len(units), start, bs, config.seed)
            gens = [_generator(config.seed, start + j) for j in range(bs)]
            sync = contextlib.nullcontext() if micro == ga - 1 else acc.no_sync(model)
            with sync:
                loss, stats = _micro_step(config, dataset, units, chosen, gens, sampler, policy, reference, acc.device)
                acc.backward(loss / ga)
            for k, v in stats.items():
                sums[k] = sums.get(k, 0.0) + v / ga
        grad_norm = None
        if config.max_grad_norm:
            grad_norm = float(acc.clip_grad_norm_(params, config.max_grad_norm))
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        bar.update(1)
        bar.set_postfix(loss=f"{sums.get('loss', float('nan')):.4g}", refresh=False)
        update_ema(ema, unwrapped, config.ema_decay)
        if step % config.log_every == 0 or step == config.max_steps:
            reduced = acc.reduce(torch.tensor(list(sums.values()), device=acc.device), reduction="mean").tolist()
            entry = {"step": step, **dict(zip(sums, reduced)), "lr": scheduler.get_last_lr()[0],
                     "step_seconds": time.perf_counter() - started}
            if config.rollout_every:
                entry |= {"round": round_index, "rollout_reward": rounds[-1]["mean_reward"]}
            if grad_norm is not None:
                entry["grad_norm"] = grad_norm
            append_log(log, entry, log_path, acc)
        maybe_checkpoint(config, step, setup, pipeline_cls, acc)
        if monitor is not None:
            module_mode = unwrapped.training
            unwrapped.eval()
            monitor.maybe_run(step, force=step == config.max_steps)
            unwrapped.train(module_mode)

    bar.close()

    # -- outputs ------------------------------------------------------------------------------------------------
    acc.wait_for_everyone()
    summary = monitor.summary() if monitor is not None else None
    if acc.is_main_process:
        save_final(unwrapped, ema, pipeline_cls, out)
        info = run_info(config, step, world, dataset, data_seconds) | {"rollout_rounds": rounds}
        if summary is not None:
            info["monitor"] = summary
        (out / "run.json").write_text(json.dumps(info, indent=2))
    acc.wait_for_everyone()
    return AlignResult(out, step, log, dict(dataset.meta), family.name, monitor=summary)


def save_final(model: torch.nn.Module, ema: dict[str, torch.Tensor] | None, pipeline_cls: type, out: Path) -> None:
    """The trained LoRA in diffusers format in ``out`` (and its EMA in ``out/ema``)."""
    save_lora(model, pipeline_cls, out)
    if ema is not None:
        ema_state = {k.replace(f".{POLICY_ADAPTER}.", "."): v for k, v in ema.items()}
        save_lora(model, pipeline_cls, out / "ema", state=ema_state)


def _round_info(round_index: int, step: int, dataset: LatentDataset, seconds: float) -> dict[str, Any]:
    rewards = dataset.rewards[~torch.isnan(dataset.rewards)]
    mean = float(rewards.mean()) if rewards.numel() else None
    return {"round": round_index, "step": step, "videos": len(dataset), "pairs": int(dataset.pairs.shape[0]),
            "mean_reward": mean, "seconds": seconds}


def _cast_base(transformer: torch.nn.Module, dtype: torch.dtype) -> None:
    """Cast the frozen base weights, keeping the modules the model marks as float32-only in float32."""
    if dtype == torch.float32:
        return
    transformer.to(dtype)
    keep = getattr(transformer, "_keep_in_fp32_modules", None) or []
    for name, tensor in [*transformer.named_parameters(), *transformer.named_buffers()]:
        if any(k in name.split(".") for k in keep) and tensor.is_floating_point():
            tensor.data = tensor.data.float()


def _units(config: AlignConfig, dataset: LatentDataset) -> list[Any]:
    if config.method == "dpo":
        if dataset.pairs.shape[0] == 0:
            raise EmptyDataError("no preference pairs (every prompt's samples tied, or every label was a tie)")
        return list(range(dataset.pairs.shape[0]))
    if config.method == "sft":
        return dataset.sft_indices().tolist()
    return dataset.groups()


def _rewards(dataset: LatentDataset) -> torch.Tensor:
    """Rewards per video; for benchmark pairs (no scores) the winner gets 1 and the loser 0."""
    r = dataset.rewards.clone()
    if torch.isnan(r).any():
        r = torch.zeros_like(r)
        r[dataset.pairs[:, 0]] = 1.0
    return r


def _noise_and_sigma(shapes: list[tuple[int, ...]], gens: list[torch.Generator], sampler: SigmaSampler):
    """Per unit: noise of its shape and one σ per row, from that unit's own generator."""
    noise = [torch.randn(shape, generator=g) for shape, g in zip(shapes, gens)]
    sigma = [sampler.sample(shape[0], generator=g) for shape, g in zip(shapes, gens)]
    return torch.cat(noise), torch.cat(sigma)


def _micro_step(config, dataset, units, chosen, gens, sampler, policy, reference, device):
    latent = dataset.latent_shape
    if config.method == "dpo":
        rows = dataset.pairs[torch.tensor([units[i] for i in chosen])]
        x_w, x_l = dataset.latents[rows[:, 0]], dataset.latents[rows[:, 1]]
        noise, sigma = _noise_and_sigma([(1, *latent)] * len(rows), gens, sampler)
        cond = {k: v.to(device) for k, v in dataset.condition(rows[:, 0]).items()}
        out, stats = flow_dpo_step(policy, reference, x_w.to(device), x_l.to(device), cond, noise.to(device),
                                   sigma.to(device), config.beta, config.beta_schedule)
        return out.loss, stats
    if config.method == "sft":
        parts = [torch.tensor([units[i]]) for i in chosen]
        rewards = groups = None
    else:
        parts = [units[i] for i in chosen]
    idx = torch.cat(parts)
    if config.method == "rwr":
        rewards = _rewards(dataset)[idx]
        groups = None if config.rwr_normalize == "batch" else dataset.group[idx]
    x0 = dataset.latents[idx]
    noise, sigma = _noise_and_sigma([(len(p), *latent) for p in parts], gens, sampler)
    cond = {k: v.to(device) for k, v in dataset.condition(idx).items()}
    return flow_weighted_step(policy, x0.to(device), cond, noise.to(device), sigma.to(device), rewards, groups,
                              config.rwr_temperature, config.rwr_weighting)


def _check_dataset(config: AlignConfig, dataset: LatentDataset, transformer: torch.nn.Module,
                   family: FlowFamily) -> None:
    channels = transformer.config.in_channels
    if dataset.latents.ndim != 5 or dataset.latents.shape[1] != channels:
        raise ValueError(f"cached latents have shape {tuple(dataset.latents.shape)} but the transformer expects "
                         f"(N, {channels}, F, H, W): the cache was made with another model")
    for key, value in dataset.cond.items():
        if key == "prompt_embeds":
            dim = transformer.config.get("text_dim") or transformer.config.get("caption_channels")
            if dim and value.shape[-1] != dim:
                raise ValueError(f"cached prompt embeddings have width {value.shape[-1]}, the transformer takes {dim}")


def run_info(config: AlignConfig, steps: int, world: int, dataset: LatentDataset | None = None,
             data_seconds: float = 0.0) -> dict:
    """``run.json``: what ran (method, steps, processes, data counts), package versions and the command."""
    import accelerate
    import diffusers
    import peft

    info: dict[str, Any] = {"method": config.method, "steps": steps, "num_processes": world}
    if dataset is not None:
        info |= {"data": dataset.meta, "num_videos": len(dataset), "num_pairs": int(dataset.pairs.shape[0]),
                 "data_seconds": data_seconds}
    return info | {
        "versions": {"torch": torch.__version__, "diffusers": diffusers.__version__, "peft": peft.__version__,
                     "accelerate": accelerate.__version__},
        "command": os.environ.get("VIDEOBENCH_COMMAND", ""),
    }
