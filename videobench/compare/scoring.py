"""The one seam between ``compare`` and the scoring engine that ``eval`` uses (``videobench.scoring.score_items``).

``score_renders`` returns one DataFrame per reward model with columns ``video, prompt, <dimensions>`` in item order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from videobench.rewards.base import RewardModel, check_per_video


def resolve_rewards(specs: Sequence[str | RewardModel], **options: Any) -> list[RewardModel]:
    """Reward spec strings through the registry (``videobench.rewards.registry``); model objects pass through."""
    models: list[RewardModel] = []
    for spec in specs:
        if isinstance(spec, str):
            from videobench.rewards.registry import load_reward_model

            models.append(load_reward_model(spec, **options))
        else:
            models.append(spec)
    if not models:
        raise ValueError("compare needs at least one reward model (--reward)")
    for model in models:
        check_per_video(model, "compare")
    names = [m.name for m in models]
    if len(set(names)) != len(names):
        raise ValueError(f"reward model names must differ, got {names}")
    return models


def score_renders(items: Sequence[tuple[str, str]], models: Sequence[RewardModel],
                  cache_dir: str | Path | None = None, **options: Any) -> dict[str, pd.DataFrame]:
    """Scores of (video path, prompt) items per model name: one row per item, in item order (duplicates allowed).

    Raises when a model's table lacks an item (an unreadable render is a bug, not something to skip)."""
    from videobench.scoring import score_items

    tables = score_items(list(items), list(models), cache_dir=cache_dir, **options)
    index = pd.MultiIndex.from_tuples([(str(v), str(p)) for v, p in items], names=["video", "prompt"])
    out: dict[str, pd.DataFrame] = {}
    for model in models:
        table = tables[model.name].set_index(["video", "prompt"])
        missing = index.difference(table.index)
        if len(missing):
            raise RuntimeError(f"{model.name}: no scores for {len(missing)} render(s), e.g. {missing[0][0]}")
        out[model.name] = table.reindex(index).reset_index()
    return out
