"""videobench.align: Flow-DPO, Flow-RWR, Flow-GRPO, the noisy-latent reward model and Flow-NRG for flow-matching video pipelines.

    from videobench.align import dpo
    result = dpo(pipeline="path/to/wan", prompts=["a cat"], reward="pixel:brightness", max_steps=100)
    pipe.load_lora_weights(result.output_dir)

``train_reward_model(config)`` trains a VideoReward-style Qwen2-VL reward model from pairwise labels (see
``videobench.align.reward_model_train``). ``dpo`` / ``rwr`` / ``sft`` / ``grpo`` take an :class:`AlignConfig` or its
fields as keywords (the same names as the YAML keys and the ``videobench align`` flags). Importing this package does
not import torch; the submodules do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import AlignConfig
    from .trainer import AlignResult

__all__ = ["AlignConfig", "AlignResult", "dpo", "grpo", "rwr", "sft", "train", "train_reward_model"]


def _run(method: str, config: "AlignConfig | None", pipe: Any, dataset: Any, overrides: dict[str, Any]) -> "AlignResult":
    from .config import AlignConfig
    from .trainer import train

    base = {f: getattr(config, f) for f in config.__dataclass_fields__} if config is not None else {}
    cfg = AlignConfig.from_dict({**base, **overrides, "method": method})
    return train(cfg, pipe=pipe, dataset=dataset)


def dpo(config: "AlignConfig | None" = None, *, pipe: Any = None, dataset: Any = None, **overrides: Any) -> "AlignResult":
    """Flow-DPO on preference pairs (benchmark pairs or best-vs-worst rollouts); see :class:`AlignConfig`."""
    return _run("dpo", config, pipe, dataset, overrides)


def rwr(config: "AlignConfig | None" = None, *, pipe: Any = None, dataset: Any = None, **overrides: Any) -> "AlignResult":
    """Flow-RWR: flow matching weighted by normalised exp(reward / τ) over all K rollouts of a prompt."""
    return _run("rwr", config, pipe, dataset, overrides)


def sft(config: "AlignConfig | None" = None, *, pipe: Any = None, dataset: Any = None, **overrides: Any) -> "AlignResult":
    """Supervised flow matching on the winners (baseline)."""
    return _run("sft", config, pipe, dataset, overrides)


def grpo(config: "AlignConfig | None" = None, *, pipe: Any = None, **overrides: Any) -> "AlignResult":
    """Flow-GRPO: online RL with the SDE sampler, group-relative advantages, the clipped-ratio objective and a KL
    to the base policy; several rewards with weights (``rewards``). See :mod:`videobench.align.grpo_trainer`."""
    return _run("grpo", config, pipe, None, overrides)


def __getattr__(name: str) -> Any:
    if name == "AlignConfig":
        from .config import AlignConfig

        return AlignConfig
    if name == "AlignResult":
        from .trainer import AlignResult

        return AlignResult
    if name == "train":
        from .trainer import train

        return train
    if name == "train_reward_model":
        from .reward_model_train import train_reward_model

        return train_reward_model
    raise AttributeError(name)
