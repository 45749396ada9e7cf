"""``AlignConfig``: every setting of a Flow-DPO / Flow-RWR / SFT / Flow-GRPO run, from YAML, flags or Python keywords.

One flat namespace: the YAML keys, the ``--set key=value`` overrides of ``videobench align`` and the keyword
arguments of :func:`videobench.align.dpo` / ``rwr`` / ``sft`` are the same names.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, Mapping, get_args, get_origin, get_type_hints

from videobench.settings import read_settings_yaml, settings_from_mapping

__all__ = ["AlignConfig", "ConfigError", "check_reward_spec", "coerce_fields", "parse_override"]

Method = Literal["dpo", "rwr", "sft", "grpo"]


class ConfigError(ValueError):
    """A setting that is unknown or has an invalid value; the message names it."""


@dataclass
class AlignConfig:
    # -- what to train ----------------------------------------------------------------------------------------
    method: Method = "dpo"
    #: a diffusers pipeline folder or Hub id (WanPipeline or LTXPipeline, flow-matching)
    pipeline: str = ""
    output_dir: str = "align-output"
    seed: int = 0

    # -- data ---------------------------------------------------------------------------------------------------
    #: "rollouts" (render K samples per prompt and score them), "pairs" (a PairBenchmark), or "cache" (cache_dir)
    data: Literal["rollouts", "pairs", "cache"] = "rollouts"
    #: latent cache folder (default: OUTPUT_DIR/cache); reused when it exists
    cache_dir: str | None = None
    #: for data=pairs: a benchmark name, path or Hub id (videobench.data.registry.load_benchmark)
    benchmark: str | None = None
    #: for data=pairs: label dimension, or label_weights {dim: w} to use sign(Σ w·label); ties are dropped
    label_dimension: str = "Overall"
    label_weights: dict[str, float] | None = None
    #: for data=rollouts: a list of prompts or a prompt suite / file (videobench.prompts.load_prompts)
    prompts: list[str] | str | None = None
    num_prompts: int | None = None
    samples_per_prompt: int = 4
    #: for data=rollouts: render fresh rollouts with the policy being trained every N optimiser steps (online
    #: DPO / RWR; the VAE, text encoder and reward then stay in memory); 0 = render once, before training
    rollout_every: int = 0
    #: a reward spec as for ``videobench eval --model`` ("pixel:brightness", "videoreward:DIR?template=vr.txt"),
    #: checked when the config is made — Python callers may pass any RewardModel or callable
    reward: Any = "pixel:brightness"
    reward_dimension: str | None = None
    reward_weights: dict[str, float] | None = None
    num_frames: int = 33
    height: int = 480
    width: int = 832
    num_inference_steps: int = 30
    guidance_scale: float = 5.0
    #: text-encoder length; None = the pipeline's own default (Wan 512, LTX 128) so training matches inference
    max_sequence_length: int | None = None

    # -- LoRA and reference ------------------------------------------------------------------------------------
    lora_rank: int = 64
    lora_alpha: float = 128.0
    lora_targets: list[str] = field(default_factory=lambda: ["to_q", "to_k", "to_v", "to_out.0"])
    lora_dropout: float = 0.0
    #: start from this diffusers-format LoRA; the reference is then a frozen copy of it
    init_lora: str | None = None
    #: "adapter": reference = adapters disabled (or the frozen initial adapter); "copy": a separate frozen copy
    reference: Literal["adapter", "copy"] = "adapter"

    # -- objective ----------------------------------------------------------------------------------------------
    beta: float = 500.0
    beta_schedule: Literal["constant", "sigma"] = "constant"
    rwr_temperature: float = 1.0
    rwr_weighting: Literal["softmax", "zscore", "raw"] = "softmax"
    #: normalise RWR weights over each prompt "group" or over the whole micro-"batch"
    rwr_normalize: Literal["group", "batch"] = "group"
    sigma_sampler: Literal["uniform", "logit_normal"] = "uniform"
    sigma_mean: float = 0.0
    sigma_std: float = 1.0
    sigma_shift: float = 1.0
    sigma_min: float = 0.0
    sigma_max: float = 1.0

    # -- Flow-GRPO (method=grpo): online RL with the SDE sampler ------------------------------------------------
    #: several rewards at once: a list of specs or {spec, weight, dimension, weights, name} mappings; the training
    #: reward is Σ weight·score (each score one dimension, or Σ weights[d]·score_d). None = ``reward`` alone
    rewards: list[Any] | None = None
    #: prompts per process in one GRPO step (each rendered samples_per_prompt times)
    prompts_per_step: int = 2
    #: the SDE noise level a (s_σ = a·sqrt(σ / (1 − σ))); 0 would be the deterministic ODE sampler
    noise_level: float = 0.7
    #: the same initial noise for the samples of one prompt (they then differ only by the SDE noise)
    shared_initial_noise: bool = False
    #: train on a random window of this many consecutive denoising steps, deterministic (ODE) outside it ("fast"
    #: Flow-GRPO); 0 = every step is stochastic and trained
    sde_window: int = 0
    #: coefficient of the KL to the reference (the policy with its adapter disabled); 0 = no KL term
    kl_beta: float = 0.004
    #: PPO clip range ε of the ratio; Flow-GRPO's ratios are per-element means, so ε is small
    clip_range: float = 1e-4
    #: clamp advantages to [−c, c]; null = no clamp
    adv_clip: float | None = 5.0
    #: advantage std: "group" (per prompt) or "global" (over all samples of the step, all processes)
    advantage_std: Literal["group", "global"] = "group"
    #: optimiser steps per GRPO step and pass (the samples split into this many minibatches)
    grpo_minibatches: int = 1
    #: passes over one step's rollouts
    grpo_inner_epochs: int = 1
    negative_prompt: str = ""

    # -- reward-hacking monitor (every method) -------------------------------------------------------------------
    #: render the monitor prompts every N steps (and before the first and after the last); 0 = off
    eval_every: int = 0
    #: held-out rewards the trainer never optimises (specs or mappings as in ``rewards``)
    monitor_rewards: list[Any] | None = None
    #: held-out prompts (a list or a prompt suite / file); fixed for the whole run
    monitor_prompts: list[str] | str | None = None
    monitor_num_prompts: int | None = None
    monitor_seeds: list[int] = field(default_factory=lambda: [0])
    monitor_resamples: int = 1000
    #: a change counts when its CI clears ± this many stds of the reward over the first evaluation's videos
    monitor_tolerance: float = 0.1

    # -- optimisation -------------------------------------------------------------------------------------------
    #: per process and micro-step: pairs (dpo), prompt groups (rwr) or videos (sft)
    batch_size: int = 1
    grad_accum: int = 1
    max_steps: int = 1000
    lr: float = 1e-4
    weight_decay: float = 0.0
    warmup_steps: int = 0
    max_grad_norm: float | None = 1.0
    mixed_precision: Literal["no", "bf16", "fp16"] = "no"
    #: dtype of the frozen base weights ("bfloat16" halves their memory); LoRA weights stay float32
    base_dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    gradient_checkpointing: bool = False
    ema_decay: float | None = None
    #: checkpoints/checkpoint-N every N steps and after the last one (0: none)
    checkpoint_every: int = 0
    #: "latest", a checkpoint folder, or None
    resume_from: str | None = None
    log_every: int = 1
    #: force the CPU even when a GPU is present
    cpu: bool = False

    def __post_init__(self) -> None:
        coerce_fields(self)
        self.validate()

    # -- checks ------------------------------------------------------------------------------------------------
    def validate(self) -> None:
        hints = get_type_hints(type(self))
        for f in fields(self):
            choices = _literal_choices(hints[f.name])
            value = getattr(self, f.name)
            if choices and value not in choices:
                raise ConfigError(f"{f.name}={value!r} is not one of {', '.join(map(str, choices))}")
        positive = ["batch_size", "grad_accum", "samples_per_prompt", "lora_rank", "num_frames", "height", "width",
                    "num_inference_steps", "log_every"]
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        if min(self.max_steps, self.checkpoint_every, self.warmup_steps, self.rollout_every) < 0:
            raise ConfigError("max_steps, checkpoint_every, warmup_steps and rollout_every must be >= 0")
        if self.rollout_every and self.data != "rollouts":
            raise ConfigError(f"rollout_every needs data=rollouts (data={self.data!r} is fixed before training)")
        if self.beta <= 0 or self.rwr_temperature <= 0 or self.lr <= 0:
            raise ConfigError("beta, rwr_temperature and lr must be positive")
        if self.ema_decay is not None and not 0.0 < self.ema_decay < 1.0:
            raise ConfigError(f"ema_decay must be in (0, 1), got {self.ema_decay}")
        if isinstance(self.reward, str):
            self.reward = check_reward_spec(self.reward, "reward")
        self._validate_grpo()
        self._validate_monitor()

    def _validate_grpo(self) -> None:
        if self.rewards is not None:
            self.rewards = check_reward_entries(self.rewards, "rewards")
        for name in ("prompts_per_step", "grpo_minibatches", "grpo_inner_epochs"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        if self.noise_level < 0 or self.kl_beta < 0 or self.sde_window < 0:
            raise ConfigError("noise_level, kl_beta and sde_window must be >= 0")
        if self.clip_range <= 0 or (self.adv_clip is not None and self.adv_clip <= 0):
            raise ConfigError("clip_range and adv_clip must be positive")
        if self.method != "grpo":
            if self.rewards is not None:
                raise ConfigError(f"rewards (several weighted rewards) is for method=grpo; method={self.method} "
                                  "takes one `reward` (with reward_dimension / reward_weights)")
            return
        if self.rollout_every:
            raise ConfigError("method=grpo renders fresh rollouts every step; rollout_every does not apply")
        if self.data != "rollouts":
            raise ConfigError(f"method=grpo renders its own rollouts; data={self.data!r} does not apply")
        if self.noise_level <= 0:
            raise ConfigError("method=grpo needs noise_level > 0 (the SDE sampler's log-probabilities)")
        if self.samples_per_prompt < 2:
            raise ConfigError("method=grpo needs samples_per_prompt >= 2 (advantages are relative to the group)")
        if self.sde_window > self.num_inference_steps:
            raise ConfigError(f"sde_window={self.sde_window} exceeds num_inference_steps={self.num_inference_steps}")
        n = self.prompts_per_step * self.samples_per_prompt
        if n % self.grpo_minibatches:
            raise ConfigError(f"grpo_minibatches={self.grpo_minibatches} must divide prompts_per_step × "
                              f"samples_per_prompt = {n}")

    def _validate_monitor(self) -> None:
        if self.eval_every < 0:
            raise ConfigError("eval_every must be >= 0")
        if self.monitor_rewards is not None:
            self.monitor_rewards = check_reward_entries(self.monitor_rewards, "monitor_rewards")
        if self.monitor_resamples <= 0 or not self.monitor_seeds or self.monitor_tolerance < 0:
            raise ConfigError("monitor_resamples must be positive, monitor_seeds non-empty, monitor_tolerance >= 0")
        if self.eval_every and not self.monitor_prompts:
            raise ConfigError("eval_every needs monitor_prompts (a fixed held-out prompt list or suite)")


    # -- (de)serialisation -------------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "AlignConfig":
        return settings_from_mapping(cls, values, ConfigError)

    @classmethod
    def from_yaml(cls, path: str | Path, overrides: Mapping[str, Any] | None = None) -> "AlignConfig":
        values = read_settings_yaml(path, ConfigError)
        values.update(overrides or {})
        return cls.from_dict(values)

    def replace(self, **changes: Any) -> "AlignConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        # not dataclasses.asdict: it would deep-copy a live reward model
        out = {f.name: _plain(getattr(self, f.name)) for f in fields(self)}
        if not isinstance(out["reward"], (str, type(None))):
            out["reward"] = _reward_label(self.reward)
        for key in ("rewards", "monitor_rewards"):
            if out[key] is not None:
                out[key] = [{**e, "spec": _reward_label(e["spec"])} if isinstance(e, dict) else _reward_label(e)
                            for e in out[key]]
        return out

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=False)


def _reward_label(reward: Any) -> str:
    return reward if isinstance(reward, str) else getattr(reward, "name", repr(reward))


def _plain(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def coerce_fields(config: Any) -> None:
    """YAML 1.1 reads ``1e-4`` as a string and ``5`` as an int: convert a dataclass's fields to their declared
    scalar types, in place (shared by every config dataclass of videobench.align)."""
    hints = get_type_hints(type(config))
    for f in fields(config):
        value = getattr(config, f.name)
        kinds = set(get_args(hints[f.name])) | {hints[f.name]}
        try:
            if float in kinds and isinstance(value, (str, int)) and not isinstance(value, bool):
                setattr(config, f.name, float(value))
            elif int in kinds and isinstance(value, str) and float not in kinds:
                setattr(config, f.name, int(value))
            elif bool in kinds and isinstance(value, str):
                setattr(config, f.name, value.strip().lower() in ("1", "true", "yes", "on"))
        except ValueError:
            raise ConfigError(f"{f.name}={value!r} is not a number") from None


def _literal_choices(hint: Any) -> tuple[Any, ...]:
    if get_origin(hint) is Literal:
        return get_args(hint)
    return ()


def parse_override(text: str, config_cls: type = None) -> tuple[str, Any]:
    """``key=value`` → (key, value) with the value parsed as YAML (``lr=1e-4``, ``lora_targets=[to_q,to_v]``).

    The key must name a field of ``config_cls`` (default :class:`AlignConfig`).
    """
    import yaml

    if "=" not in text:
        raise ConfigError(f"--set expects key=value, got {text!r}")
    key, raw = text.split("=", 1)
    key = key.strip().replace("-", "_")
    names = {f.name for f in fields(config_cls or AlignConfig)}
    if key not in names:
        raise ConfigError(f"unknown setting {key!r}; known: {', '.join(sorted(names))}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as exc:
        raise ConfigError(f"cannot parse the value of {key}: {exc}") from None
    # YAML reads 1e-4 as a string (no dot): accept numbers written that way
    if isinstance(value, str):
        try:
            value = json.loads(value) if value.lower() not in ("nan", "inf") else value
        except ValueError:
            try:
                value = float(value)
            except ValueError:
                pass
    return key, value


_ENTRY_KEYS = ("spec", "weight", "dimension", "weights", "name")


def check_reward_entries(entries: Any, key: str) -> list[Any]:
    """``rewards`` / ``monitor_rewards``: each entry a spec string or a mapping with ``spec`` and optional
    ``weight`` (a number), ``dimension``, ``weights`` ({dimension: number}) and ``name``; specs checked and made
    canonical. Python callers may also pass reward objects or callables (as ``spec`` or the entry itself)."""
    if isinstance(entries, (str, dict)) or not isinstance(entries, (list, tuple)):
        entries = [entries]
    out: list[Any] = []
    for i, entry in enumerate(entries):
        where = f"{key}[{i}]"
        if isinstance(entry, str):
            out.append(check_reward_spec(entry, where))
            continue
        if not isinstance(entry, dict):
            out.append(entry)  # a RewardModel or callable from Python
            continue
        unknown = set(entry) - set(_ENTRY_KEYS)
        if unknown or "spec" not in entry:
            raise ConfigError(f"{where}: needs `spec` and takes only {', '.join(_ENTRY_KEYS)}"
                              + (f" (unknown: {', '.join(sorted(map(str, unknown)))})" if unknown else ""))
        item = dict(entry)
        if isinstance(item["spec"], str):
            item["spec"] = check_reward_spec(item["spec"], f"{where}.spec")
        try:
            item["weight"] = float(item.get("weight", 1.0))
            if item.get("weights") is not None:
                item["weights"] = {str(d): float(w) for d, w in dict(item["weights"]).items()}
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: weight and weights must be numbers") from None
        out.append(item)
    return out


def check_reward_spec(spec: str, key: str) -> str:
    """A reward spec checked like every other (prefix, option names and types, without loading anything) and made
    canonical (local paths absolute), so the config the run records reruns from any folder."""
    from videobench.rewards.registry import parse_reward_spec

    try:
        return str(parse_reward_spec(spec))
    except ValueError as exc:  # RewardSpecError
        raise ConfigError(f"{key}: {exc}") from None
