"""Which process this is when several score together (``accelerate launch``, ``torchrun``), and how they share results.

Ranks exchange small Python objects (scores, pre-flight findings) with ``torch.distributed.all_gather_object``; on CPU
accelerate starts a gloo group. Without ``WORLD_SIZE`` > 1 nothing here imports torch.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Callable, Sequence, TypeVar

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


class RankFailedError(RuntimeError):
    """Another process of the run failed; this one stops with it instead of waiting at the gather."""


def gather_results(work: Callable[[], T], proc: ProcessInfo) -> list[T]:
    """Every rank's ``work()``, in rank order, on every rank. When ``work`` raises on some ranks, every rank still
    reaches the gather (with the error's text instead of a result): those ranks re-raise their own exception and the
    others raise ``RankFailedError`` naming the first failed rank, so the run stops at once everywhere instead of the
    healthy ranks waiting at the gather until torch's timeout (30 minutes)."""
    if not proc.distributed:
        return [work()]
    try:
        outcome: tuple[bool, object] = (True, work())
    except Exception as exc:
        all_gather((False, f"{type(exc).__name__}: {exc}"), proc)
        raise
    parts = all_gather(outcome, proc)
    failed = [(rank, message) for rank, (ok, message) in enumerate(parts) if not ok]
    if failed:
        rank, message = failed[0]
        others = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        raise RankFailedError(f"process {rank} of {proc.world_size} failed{others}: {message}")
    return [value for _, value in parts]  # type: ignore[misc]


def split(seq: Sequence[T], parts: int, index: int) -> list[T]:
    """The ``index``-th of ``parts`` contiguous, near-equal slices of ``seq`` (sizes differ by at most one)."""
    if parts < 1 or not 0 <= index < parts:
        raise ValueError(f"shard index {index} is outside 0..{parts - 1}")
    base, extra = divmod(len(seq), parts)
    start = index * base + min(index, extra)
    stop = start + base + (1 if index < extra else 0)
    return list(seq[start:stop])
