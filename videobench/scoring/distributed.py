"""Which process this is when several score together (``accelerate launch``, ``torchrun``), and how they share results.

Ranks exchange small Python objects (scores, pre-flight findings) with ``torch.distributed.all_gather_object``; on CPU
accelerate starts a gloo group. Without ``WORLD_SIZE`` > 1 nothing here imports torch.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Sequence, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class ProcessInfo:
    rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def current_process() -> ProcessInfo:
    """This process's rank: from an initialised torch.distributed group, else from accelerate's launcher environment."""
    if "torch" in sys.modules:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            return ProcessInfo(dist.get_rank(), dist.get_world_size())
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if world <= 1:
        return ProcessInfo()
    import torch.distributed as dist

    if not dist.is_initialized():
        # accelerate initialises the group the way its launcher was configured (nccl on GPUs, gloo on CPU).
        from accelerate import PartialState

        PartialState()
    if not dist.is_initialized():
        # Seen with `accelerate launch --multi_gpu` on a machine without GPUs: PartialState reports one process and
        # leaves the group alone. The launcher's env (MASTER_ADDR/PORT, RANK, WORLD_SIZE) is all gloo needs.
        dist.init_process_group(backend="gloo")
    # Ask torch, not accelerate: PartialState's counts can say 1 process when it does not recognise the setup.
    return ProcessInfo(dist.get_rank(), dist.get_world_size())


def all_gather(obj: T, proc: ProcessInfo) -> list[T]:
    """Every rank's ``obj``, in rank order, on every rank."""
    if not proc.distributed:
        return [obj]
    import torch.distributed as dist

    gathered: list[T] = [None] * proc.world_size  # type: ignore[list-item]
    dist.all_gather_object(gathered, obj)
    return gathered


def split(seq: Sequence[T], parts: int, index: int) -> list[T]:
    """The ``index``-th of ``parts`` contiguous, near-equal slices of ``seq`` (sizes differ by at most one)."""
    if parts < 1 or not 0 <= index < parts:
        raise ValueError(f"shard index {index} is outside 0..{parts - 1}")
    base, extra = divmod(len(seq), parts)
    start = index * base + min(index, extra)
    stop = start + base + (1 if index < extra else 0)
    return list(seq[start:stop])
