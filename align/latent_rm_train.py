"""Training the latent reward model: Bradley–Terry with ties on noisy latent pairs, with accelerate.

    from videobench.align.latent_rm_train import LatentRMConfig, train_latent_rm
    result = train_latent_rm(LatentRMConfig(pipeline="tiny-wan", prompts=[...],
                                            dimension_rewards={"VQ": "pixel:brightness"}, dimensions=["VQ"]))

Each step draws B labelled pairs (A, B), one noise ε and one σ per pair (σ from the training
:class:`~videobench.align.flow.SigmaSampler`), noises both latents with the *same* ε and σ, scores them and minimises

    L = mean over pairs and labelled dimensions of −log P(label | r_A − r_B; θ)      (Rao–Kupper, align.losses)

Held-out pairs (a share of the prompts) are scored at fixed σ buckets with fixed noise: accuracy per dimension and
per bucket (ties in the labels left out; a zero margin counts as wrong) goes to ``eval.jsonl`` and ``run.json``.

Outputs in ``output_dir``: the model (``config.json`` + ``diffusion_pytorch_model.safetensors``: the folder is what
``+nrg:DIR`` and ``apply_nrg`` take), ``latent_rm_config.yaml``, ``log.jsonl``, ``eval.jsonl``, ``run.json``,
``checkpoints/checkpoint-N/`` (model, optimiser, step) and ``cache/`` (latents and labels).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, Mapping, get_args, get_origin, get_type_hints

import torch

from videobench.settings import read_settings_yaml, settings_from_mapping

from .checkpoints import checkpoint_due, read_training_state, resume_step, warmup_scheduler, write_checkpoint
from .config import ConfigError, coerce_fields, parse_override
from .data import EmptyDataError
from .flow import SigmaSampler, add_noise
from .latent_rm import DEFAULT_DIMENSIONS, LatentRewardModel
from .latent_rm_data import RewardPairs, benchmark_reward_pairs, rollout_reward_pairs
from .losses import bt_ties_loss
from .trainer import load_pipeline

__all__ = ["LatentRMConfig", "LatentRMResult", "train_latent_rm", "evaluate_pairs", "prepare_reward_pairs",
           "parse_rm_override"]


@dataclass
class LatentRMConfig:
    # -- model --------------------------------------------------------------------------------------------------
    pipeline: str = ""
    output_dir: str = "latent-rm"
    seed: int = 0
    #: k: how many transformer blocks the reward model copies
    num_blocks: int = 1
    dimensions: list[str] = field(default_factory=lambda: list(DEFAULT_DIMENSIONS))
    head_hidden: int = 128

    # -- data ---------------------------------------------------------------------------------------------------
    #: "rollouts" (render and score), "pairs" (a PairBenchmark) or "cache" (an existing cache_dir)
    data: Literal["rollouts", "pairs", "cache"] = "rollouts"
    cache_dir: str | None = None
    benchmark: str | None = None
    prompts: list[str] | str | None = None
    num_prompts: int | None = None
    samples_per_prompt: int = 4
    #: rollouts: a reward spec per dimension ("pixel:brightness", "videoreward:PATH#VQ")
    dimension_rewards: dict[str, str] | None = None
    tie_threshold: float = 0.0
    num_frames: int = 33
    height: int = 480
    width: int = 832
    num_inference_steps: int = 30
    guidance_scale: float = 5.0
    max_sequence_length: int | None = None

    # -- objective ----------------------------------------------------------------------------------------------
    theta: float = 5.0
    sigma_sampler: Literal["uniform", "logit_normal"] = "uniform"
    sigma_mean: float = 0.0
    sigma_std: float = 1.0
    sigma_shift: float = 1.0
    sigma_min: float = 0.0
    sigma_max: float = 1.0

    # -- evaluation ---------------------------------------------------------------------------------------------
    #: share of prompts held out
    eval_fraction: float = 0.2
    #: σ bucket edges: accuracy is reported for σ drawn in each [edge_i, edge_i+1)
    sigma_buckets: list[float] = field(default_factory=lambda: [0.0, 0.25, 0.5, 0.75, 1.0])
    #: noise draws per held-out pair and bucket
    eval_draws: int = 2
    #: evaluate every N steps (0: only at the end)
    eval_every: int = 0

    # -- optimisation -------------------------------------------------------------------------------------------
    batch_size: int = 8
    grad_accum: int = 1
    max_steps: int = 500
    lr: float = 1e-4
    weight_decay: float = 0.0
    warmup_steps: int = 0
    max_grad_norm: float | None = 1.0
    mixed_precision: Literal["no", "bf16", "fp16"] = "no"
    checkpoint_every: int = 0
    resume_from: str | None = None
    log_every: int = 1
    cpu: bool = False

    def __post_init__(self) -> None:
        coerce_fields(self)
        hints = get_type_hints(type(self))
        for f in fields(self):
            if get_origin(hints[f.name]) is Literal and getattr(self, f.name) not in get_args(hints[f.name]):
                raise ConfigError(f"{f.name}={getattr(self, f.name)!r} is not one of "
                                  f"{', '.join(get_args(hints[f.name]))}")
        for name in ("num_blocks", "head_hidden", "samples_per_prompt", "num_frames", "height", "width",
                     "num_inference_steps", "batch_size", "grad_accum", "eval_draws", "log_every"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        if self.theta <= 1:
            raise ConfigError(f"theta must be > 1, got {self.theta}")
        if self.lr <= 0 or self.max_steps < 0 or self.checkpoint_every < 0 or self.eval_every < 0:
            raise ConfigError("lr must be positive; max_steps, checkpoint_every and eval_every >= 0")
        if not 0.0 <= self.eval_fraction < 1.0:
            raise ConfigError(f"eval_fraction must be in [0, 1), got {self.eval_fraction}")
        edges = [float(e) for e in self.sigma_buckets]
        if len(edges) < 2 or edges != sorted(edges) or edges[0] < 0 or edges[-1] > 1:
            raise ConfigError(f"sigma_buckets must be >= 2 increasing edges in [0, 1], got {self.sigma_buckets}")
        self.sigma_buckets = edges
        if not self.dimensions or len(set(self.dimensions)) != len(self.dimensions):
            raise ConfigError(f"dimensions must be distinct names, got {self.dimensions}")
        if self.dimension_rewards:
            unknown = sorted(set(self.dimension_rewards) - set(self.dimensions))
            if unknown:
                raise ConfigError(f"dimension_rewards names {unknown}, not in dimensions {self.dimensions}")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "LatentRMConfig":
        return settings_from_mapping(cls, values, ConfigError)

    @classmethod
    def from_yaml(cls, path: str | Path, overrides: Mapping[str, Any] | None = None) -> "LatentRMConfig":
        values = read_settings_yaml(path, ConfigError)
        return cls.from_dict({**values, **(overrides or {})})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    def sigma_sampler_obj(self) -> SigmaSampler:
        return SigmaSampler(self.sigma_sampler, self.sigma_mean, self.sigma_std, self.sigma_shift, self.sigma_min,
                            self.sigma_max)


@dataclass
class LatentRMResult:
    output_dir: Path
    steps: int
    log: list[dict[str, Any]] = field(default_factory=list)
    #: the last held-out evaluation (see :func:`evaluate_pairs`), empty without held-out pairs
    eval: dict[str, Any] = field(default_factory=dict)

    def load(self) -> LatentRewardModel:
        return LatentRewardModel.from_pretrained(str(self.output_dir))


# ---------------------------------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------------------------------
_DATA_KEYS = ("data", "benchmark", "prompts", "num_prompts", "samples_per_prompt", "dimension_rewards", "dimensions",
              "tie_threshold", "num_frames", "height", "width", "num_inference_steps", "guidance_scale",
              "max_sequence_length", "seed", "pipeline")


def prepare_reward_pairs(config: LatentRMConfig, pipe: Any, family: Any) -> RewardPairs:
    """Labelled latent pairs for the run, from ``cache_dir/<settings hash>`` when present."""
    if config.data == "cache":
        if not config.cache_dir or not RewardPairs.exists(config.cache_dir):
            raise FileNotFoundError(f"data=cache needs an existing reward-pair cache in cache_dir, got "
                                    f"{config.cache_dir!r}")
        return RewardPairs.load(config.cache_dir)
    key_values = {k: v for k, v in config.to_dict().items() if k in _DATA_KEYS}
    key = hashlib.sha256(json.dumps(key_values, sort_keys=True, default=str).encode()).hexdigest()[:16]
    root = Path(config.cache_dir or Path(config.output_dir) / "cache") / key
    if RewardPairs.exists(root):
        return RewardPairs.load(root)
    if config.data == "pairs":
        from videobench.data.registry import load_benchmark

        if not config.benchmark:
            raise ValueError("data=pairs needs `benchmark` (a name, path or Hub id)")
        pairs = benchmark_reward_pairs(pipe, family, load_benchmark(config.benchmark), config.dimensions,
                                       config.num_frames, config.height, config.width, config.max_sequence_length)
    else:
        if not config.dimension_rewards:
            raise ValueError("data=rollouts needs `dimension_rewards`, e.g. {VQ: pixel:brightness}")
        prompts = _prompt_list(config)
        pairs = rollout_reward_pairs(pipe, family, prompts, config.samples_per_prompt, config.dimension_rewards,
                                     config.dimensions, config.num_frames, config.height, config.width,
                                     config.num_inference_steps, config.guidance_scale, config.seed,
                                     config.max_sequence_length, config.tie_threshold)
    pairs.save(root)
    return pairs


def _prompt_list(config: LatentRMConfig) -> list[str]:
    if config.prompts is None:
        raise ValueError("data=rollouts needs `prompts` (a list or a prompt suite / file)")
    if isinstance(config.prompts, str):
        from videobench.prompts import load_prompts

        return [p.text for p in load_prompts(config.prompts, config.num_prompts).prompts]
    return [str(p) for p in config.prompts][: config.num_prompts or None]


def _batch_rows(n: int, step: int, size: int, seed: int) -> torch.Tensor:
    """Rows [step·size, (step + 1)·size) of the concatenated per-epoch permutations of range(n) (resumable)."""
    out: list[torch.Tensor] = []
    pos, end = step * size, (step + 1) * size
    while pos < end:
        epoch, offset = divmod(pos, n)
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 7919 + epoch))
        take = min(n - offset, end - pos)
        out.append(perm[offset : offset + take])
        pos += take
    return torch.cat(out)


def _batch_generator(seed: int, micro_step: int, rank: int) -> torch.Generator:
    digest = hashlib.sha256(f"latent-rm/{seed}/{micro_step}/{rank}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:7], "little"))


# ---------------------------------------------------------------------------------------------------------------
# one batch and the held-out evaluation
# ---------------------------------------------------------------------------------------------------------------
def _pair_scores(model: Any, rm: LatentRewardModel, pairs: RewardPairs, rows: torch.Tensor, noise: torch.Tensor,
                 sigma: torch.Tensor, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Scores of both videos of each pair at the same noise and σ: (B, D), (B, D). ``model`` may be wrapped."""
    idx = pairs.index[rows]
    x0 = torch.cat([pairs.data.latents[idx[:, 0]], pairs.data.latents[idx[:, 1]]]).to(device)
    eps = torch.cat([noise, noise]).to(device)
    s = torch.cat([sigma, sigma]).to(device)
    cond = {k: v.to(device) for k, v in pairs.data.condition(torch.cat([idx[:, 0], idx[:, 1]])).items()}
    scores = model(**rm.forward_inputs(add_noise(x0, eps, s), s, cond))
    return scores.chunk(2)


def pair_loss(model: Any, rm: LatentRewardModel, pairs: RewardPairs, rows: torch.Tensor, noise: torch.Tensor,
              sigma: torch.Tensor, theta: float, device: torch.device) -> tuple[torch.Tensor, dict[str, float]]:
    """Bradley–Terry-with-ties loss of a batch of pairs; unlabelled (NaN) dimensions are left out."""
    s_a, s_b = _pair_scores(model, rm, pairs, rows, noise, sigma, device)
    labels = pairs.labels[rows].to(device)
    known = ~torch.isnan(labels)
    loss = bt_ties_loss(s_a, s_b, torch.nan_to_num(labels).long(), theta, weights=known.float())
    with torch.no_grad():
        decided = known & (labels != 0)
        correct = (torch.sign(s_a - s_b) == labels) & decided
        acc = float(correct.sum() / decided.sum().clamp_min(1))
    return loss, {"loss": float(loss.detach()), "train_acc": acc, "sigma": float(sigma.mean())}


@torch.no_grad()
def evaluate_pairs(rm: LatentRewardModel, pairs: RewardPairs, sigma_buckets: list[float], draws: int = 2,
                   seed: int = 0, batch_size: int = 16, device: torch.device | str = "cpu") -> dict[str, Any]:
    """Held-out accuracy per dimension, overall and per σ bucket (fixed noise and σ given ``seed``).

    Returns ``{"accuracy": {dim: acc}, "buckets": [{"sigma_low", "sigma_high", dim: acc, ...}], "pairs": M}``;
    accuracy counts pairs whose label is not a tie (nor missing) and where sign(r_A − r_B) equals the label.
    """
    rm = rm.eval()
    gen = torch.Generator().manual_seed(seed)
    dims = pairs.dimensions
    hits = torch.zeros(len(sigma_buckets) - 1, len(dims))
    counts = torch.zeros(len(sigma_buckets) - 1, len(dims))
    for b, (lo, hi) in enumerate(zip(sigma_buckets[:-1], sigma_buckets[1:])):
        for _ in range(draws):
            for start in range(0, len(pairs), batch_size):
                rows = torch.arange(start, min(start + batch_size, len(pairs)))
                noise = torch.randn((len(rows), *pairs.data.latent_shape), generator=gen)
                sigma = lo + (hi - lo) * torch.rand(len(rows), generator=gen)
                s_a, s_b = _pair_scores(rm, rm, pairs, rows, noise, sigma, torch.device(device))
                labels = pairs.labels[rows]
                decided = ~torch.isnan(labels) & (labels != 0)
                hits[b] += ((torch.sign(s_a - s_b).cpu() == labels) & decided).sum(0)
                counts[b] += decided.sum(0)
    acc = lambda h, n: float(h / n) if n > 0 else float("nan")  # noqa: E731
    total_h, total_n = hits.sum(0), counts.sum(0)
    return {
        "pairs": len(pairs),
        "accuracy": {d: acc(total_h[j], total_n[j]) for j, d in enumerate(dims)},
        "buckets": [
            {"sigma_low": lo, "sigma_high": hi, **{d: acc(hits[b, j], counts[b, j]) for j, d in enumerate(dims)}}
            for b, (lo, hi) in enumerate(zip(sigma_buckets[:-1], sigma_buckets[1:]))
        ],
    }


# ---------------------------------------------------------------------------------------------------------------
# checkpoints
# ---------------------------------------------------------------------------------------------------------------
def _save_checkpoint(folder: Path, step: int, rm: LatentRewardModel, optimizer: Any, scheduler: Any) -> None:
    write_checkpoint(folder, step, optimizer, scheduler, lambda tmp: rm.save_pretrained(str(tmp / "model")))


def _load_checkpoint(folder: Path, rm: LatentRewardModel, optimizer: Any, scheduler: Any) -> int:
    from safetensors.torch import load_file

    weights = load_file(str(folder / "model" / "diffusion_pytorch_model.safetensors"))
    missing, unexpected = rm.load_state_dict(weights, strict=False)
    if missing or unexpected:
        raise ValueError(f"checkpoint {folder} does not match this reward model (missing {missing[:3]}, "
                         f"unexpected {unexpected[:3]})")
    return read_training_state(folder, optimizer, scheduler)


# ---------------------------------------------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------------------------------------------
def train_latent_rm(config: LatentRMConfig, pipe: Any = None, pairs: RewardPairs | None = None,
                    accelerator: Any = None) -> LatentRMResult:
    """Build the reward model from the pipeline's transformer, train it on ``pairs`` (or the configured data)."""
    from accelerate import Accelerator
    from tqdm.auto import tqdm

    from .models import family_for

    acc = accelerator or Accelerator(mixed_precision=config.mixed_precision, cpu=config.cpu)
    out = Path(config.output_dir)
    if acc.is_main_process:
        out.mkdir(parents=True, exist_ok=True)
        (out / "latent_rm_config.yaml").write_text(config.to_yaml())
    if pipe is None:
        pipe = load_pipeline(config.pipeline, acc.device)
    family = family_for(pipe)
    t0 = time.perf_counter()
    if pairs is None:
        if acc.is_main_process:
            pairs = prepare_reward_pairs(config, pipe, family)
        acc.wait_for_everyone()
        if pairs is None:
            pairs = prepare_reward_pairs(config, pipe, family)  # the cache written by the main process
    data_seconds = time.perf_counter() - t0
    if tuple(pairs.dimensions) != tuple(config.dimensions):
        raise ValueError(f"the pairs are labelled on {list(pairs.dimensions)}, the config asks for "
                         f"{config.dimensions}")
    train_pairs, eval_pairs = pairs.split(config.eval_fraction, config.seed)
    rm = LatentRewardModel.from_pipeline(pipe, config.num_blocks, config.dimensions, config.head_hidden, config.seed)
    if pairs.data.latents.shape[1] != pipe.transformer.config.in_channels:
        raise ValueError(f"cached latents have {pairs.data.latents.shape[1]} channels, the transformer takes "
                         f"{pipe.transformer.config.in_channels}: the cache was made with another model")
    del pipe
    rm.train()
    optimizer = torch.optim.AdamW(rm.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = warmup_scheduler(optimizer, config.warmup_steps)
    model, optimizer = acc.prepare(rm, optimizer)
    unwrapped: LatentRewardModel = acc.unwrap_model(model)
    step = resume_step(config.resume_from, out, lambda f: _load_checkpoint(f, unwrapped, optimizer, scheduler), acc)

    sampler = config.sigma_sampler_obj()
    usable = torch.nonzero(~torch.isnan(train_pairs.labels).all(dim=1)).flatten()
    if len(usable) == 0:
        raise EmptyDataError("no training pair has a label")
    log: list[dict[str, Any]] = []
    log_path, eval_path = out / "log.jsonl", out / "eval.jsonl"
    if acc.is_main_process and step == 0:
        for p in (log_path, eval_path):
            p.unlink(missing_ok=True)
    last_eval: dict[str, Any] = {}
    rank, world, bs, ga = acc.process_index, acc.num_processes, config.batch_size, config.grad_accum

    def run_eval() -> dict[str, Any]:
        if eval_pairs is None or not acc.is_main_process:
            return {}
        result = {"step": step, **evaluate_pairs(unwrapped, eval_pairs, config.sigma_buckets, config.eval_draws,
                                                 config.seed + 1, max(bs, 16), acc.device)}
        unwrapped.train()
        with eval_path.open("a") as fh:
            fh.write(json.dumps(result) + "\n")
        return result

    bar = tqdm(total=config.max_steps, initial=step, desc="latent-rm", unit="step", disable=not acc.is_main_process)
    while step < config.max_steps:
        started = time.perf_counter()
        sums: dict[str, float] = {}
        for micro in range(ga):
            m = step * ga + micro
            chosen = usable[_batch_rows(len(usable), m * world + rank, bs, config.seed)]
            gen = _batch_generator(config.seed, m, rank)
            noise = torch.randn((len(chosen), *train_pairs.data.latent_shape), generator=gen)
            sigma = sampler.sample(len(chosen), generator=gen)
            with acc.autocast():
                loss, stats = pair_loss(model, unwrapped, train_pairs, chosen, noise, sigma, config.theta, acc.device)
            acc.backward(loss / ga)
            for k, v in stats.items():
                sums[k] = sums.get(k, 0.0) + v / ga
        if config.max_grad_norm:
            sums["grad_norm"] = float(acc.clip_grad_norm_(model.parameters(), config.max_grad_norm))
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        bar.update(1)
        bar.set_postfix(loss=f"{sums.get('loss', float('nan')):.4g}", refresh=False)
        if step % config.log_every == 0 or step == config.max_steps:
            entry = {"step": step, **sums, "lr": scheduler.get_last_lr()[0],
                     "step_seconds": time.perf_counter() - started}
            log.append(entry)
            if acc.is_main_process:
                with log_path.open("a") as fh:
                    fh.write(json.dumps(entry) + "\n")
        if config.eval_every and step % config.eval_every == 0 and step < config.max_steps:
            last_eval = run_eval()
        if checkpoint_due(step, config.checkpoint_every, config.max_steps):
            if acc.is_main_process:
                _save_checkpoint(out / "checkpoints" / f"checkpoint-{step}", step, unwrapped, optimizer, scheduler)
            acc.wait_for_everyone()
    bar.close()

    acc.wait_for_everyone()
    last_eval = run_eval() or last_eval
    if acc.is_main_process:
        unwrapped.save_pretrained(str(out))
        info = {"steps": step, "num_processes": world, "data": pairs.data.meta, "num_videos": len(pairs.data),
                "num_pairs": {"train": len(train_pairs), "eval": len(eval_pairs) if eval_pairs else 0},
                "data_seconds": data_seconds, "eval": last_eval}
        (out / "run.json").write_text(json.dumps(info, indent=2, default=str))
    acc.wait_for_everyone()
    return LatentRMResult(out, step, log, last_eval)


def parse_rm_override(text: str) -> tuple[str, Any]:
    """``key=value`` (value parsed as YAML) for a field of :class:`LatentRMConfig`."""
    return parse_override(text, LatentRMConfig)
