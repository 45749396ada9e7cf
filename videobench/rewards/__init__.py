"""Reward model adapters and the registry that resolves model spec strings.

Importing this package is cheap (no torch): adapters load on first use through ``load_reward_model``.
"""

from videobench.rewards.registry import (
    RewardSpec,
    RewardSpecError,
    available_reward_models,
    load_reward_model,
    parse_reward_spec,
    register_reward_model,
)

__all__ = ["RewardSpec", "RewardSpecError", "available_reward_models", "load_reward_model", "parse_reward_spec",
           "register_reward_model"]
