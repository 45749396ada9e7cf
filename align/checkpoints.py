"""Training checkpoints shared by every trainer (align methods, latent reward model, VideoReward-style reward model).

``OUTPUT/checkpoints/checkpoint-N/`` holds the trainer's own weights files, ``optimizer.pt`` (optimiser and
scheduler state, read back with ``weights_only=True``) and ``state.json`` (the step). A checkpoint is written under
``checkpoint-N.tmp`` and renamed, so a kill never leaves a half checkpoint under the final name, and
``latest_checkpoint`` never sees one.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable, Mapping

import torch

from videobench.faults import fault_point

__all__ = ["checkpoint_due", "latest_checkpoint", "load_tensors_into", "read_training_state", "resume_step",
           "warmup_scheduler", "write_checkpoint"]


def latest_checkpoint(output_dir: str | Path) -> Path | None:
    """The newest complete checkpoint: ``checkpoint-N`` only (a save killed midway leaves ``checkpoint-N.tmp``)."""
    folder = Path(output_dir) / "checkpoints"
    found = [p for p in folder.glob("checkpoint-*") if p.name.split("-", 1)[1].isdigit()] if folder.is_dir() else []
    return max(found, key=lambda p: int(p.name.split("-", 1)[1])) if found else None


def checkpoint_due(step: int, every: int, max_steps: int, *, at_end: bool = False) -> bool:
    """Every ``every`` steps; after the last step only with ``at_end``. The align methods pass it, so that a run's
    checkpoints (its history on the leaderboard) end at its final LoRA; the reward-model trainers do not, as their
    final model is written once, as the run's output (a second full copy would be large)."""
    if not every:
        return False
    return at_end if step == max_steps else step % every == 0


def warmup_scheduler(optimizer: Any, warmup_steps: int) -> Any:
    """Linear warm-up over ``warmup_steps`` optimiser steps, then a constant learning rate."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / (warmup_steps + 1)))


def write_checkpoint(folder: Path, step: int, optimizer: Any, scheduler: Any, write_weights: Callable[[Path], None],
                     fault: str | None = None) -> None:
    """``folder`` with what ``write_weights(tmp)`` writes, the optimiser/scheduler state and the step; ``fault`` names
    the fault point hit after everything is written and before the rename (kill tests)."""
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    write_weights(tmp)
    torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}, tmp / "optimizer.pt")
    (tmp / "state.json").write_text(json.dumps({"step": step}))
    if fault:
        fault_point(fault)
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)


def read_training_state(folder: Path, optimizer: Any, scheduler: Any) -> int:
    """Restore the optimiser and scheduler of ``folder``; returns its step."""
    states = torch.load(folder / "optimizer.pt", weights_only=True, map_location="cpu")
    optimizer.load_state_dict(states["optimizer"])
    scheduler.load_state_dict(states["scheduler"])
    return int(json.loads((folder / "state.json").read_text())["step"])


def load_tensors_into(params: Mapping[str, torch.Tensor], file: Path, mismatch: str) -> None:
    """Copy the tensors of a safetensors ``file`` into ``params`` (same names, each converted to its parameter's
    device and dtype); a different set of names raises ``ValueError(mismatch)``."""
    from safetensors.torch import load_file

    weights = load_file(str(file))
    if set(weights) != set(params):
        raise ValueError(mismatch)
    with torch.no_grad():
        for name, p in params.items():
            p.copy_(weights[name].to(p.device, p.dtype))


def resume_step(resume_from: str | None, output_dir: str | Path, load: Callable[[Path], int], acc: Any) -> int:
    """The step to start from: 0, or what ``load(folder)`` restored from ``resume_from`` (a checkpoint folder, or
    ``latest``: the newest under ``output_dir``, nothing when there is none yet)."""
    if not resume_from:
        return 0
    folder = latest_checkpoint(output_dir) if resume_from == "latest" else Path(resume_from)
    if folder is None:
        return 0
    if resume_from != "latest" and not folder.is_dir():
        raise FileNotFoundError(f"no checkpoint at {resume_from}")
    step = load(folder)
    acc.print(f"resumed from {folder} at step {step}")
    return step
