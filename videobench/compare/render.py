"""Rendering: the paired plan (every generator × prompt × seed), what is missing from the store, and the loop.

With several processes (``accelerate launch``), ``shard`` gives each rank a contiguous, balanced slice of the
missing renders (ordered by generator, so a rank loads few pipelines, one at a time); ranks write to the shared store
through atomic renames and meet at a barrier before scoring.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence, TypeVar

from videobench.compare.generators import Generator, GeneratorLoadError, PipelineGenerator, load_failure, release
from videobench.compare.store import RenderStore
from videobench.prompts import Prompt
from videobench.scoring.distributed import split

T = TypeVar("T")


@dataclass(frozen=True)
class RenderItem:
    generator: str
    prompt: Prompt
    seed: int
    path: Path | None  # None: a pre-rendered video is missing


class MissingVideosError(FileNotFoundError):
    def __init__(self, missing: list[RenderItem]) -> None:
        self.missing = missing
        shown = ", ".join(f"{m.generator}:{m.prompt.id}__seed{m.seed}" for m in missing[:10])
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        super().__init__(f"{len(missing)} pre-rendered video(s) missing (expected <prompt_id>__seed<seed>.mp4): "
                         f"{shown}{more}")


def plan(generators: dict[str, Generator], prompts: Sequence[Prompt], seeds: Sequence[int],
         store: RenderStore) -> list[RenderItem]:
    """Every (generator, prompt, seed) with the video path it has or will have. Raises when a pre-rendered
    folder lacks a video (checked before any compute is spent)."""
    items: list[RenderItem] = []
    missing: list[RenderItem] = []
    for name, gen in generators.items():
        for prompt in prompts:
            for seed in seeds:
                if isinstance(gen, PipelineGenerator):
                    items.append(RenderItem(name, prompt, seed, store.path(gen.fingerprint, gen.settings, prompt, seed)))
                else:
                    path = gen.video_for(prompt, seed)
                    (items if path else missing).append(RenderItem(name, prompt, seed, path))
    if missing:
        raise MissingVideosError(missing)
    return items


def shard(items: Sequence[T], num_processes: int, process_index: int) -> list[T]:
    """Contiguous slice ``process_index`` of ``num_processes`` near-equal slices (the scoring engine's split)."""
    return split(items, num_processes, process_index)


@dataclass
class RenderStats:
    planned: int = 0
    reused: int = 0
    rendered: int = 0
    load_seconds: float = 0.0
    render_seconds: float = 0.0


def render_missing(items: Sequence[RenderItem], generators: dict[str, Generator], store: RenderStore,
                   device: str = "cpu", num_processes: int = 1, process_index: int = 0,
                   progress: Callable[[int, int], None] | None = None) -> RenderStats:
    """Render this rank's share of the items whose video is not in the store yet.

    One pipeline is in memory at a time: each generator is loaded, renders all its items, and is released before the
    next loads (eight 14B checkpoints need the memory of one). A generator that fails to load is skipped; the others
    render, their videos stay in the store, and one ``GeneratorLoadError`` at the end names every failure.
    """
    stats = RenderStats(planned=len(items))
    renderable = [it for it in items if isinstance(generators[it.generator], PipelineGenerator)]
    # Shard the full plan (not what is missing now): every rank sees the same list whatever the others have written.
    mine = [it for it in shard(renderable, num_processes, process_index) if not it.path.exists()]
    stats.reused = len(items) - sum(not it.path.exists() for it in renderable)
    by_generator: dict[str, list[RenderItem]] = {}
    for item in mine:
        by_generator.setdefault(item.generator, []).append(item)
    failures: dict[str, str] = {}
    done = 0
    for name, todo in by_generator.items():
        gen = generators[name]
        assert isinstance(gen, PipelineGenerator)
        t0 = time.perf_counter()
        failed = load_failure(gen)
        stats.load_seconds += time.perf_counter() - t0
        if failed:
            failures.update(failed)
            done += len(todo)
            continue
        t0 = time.perf_counter()
        try:
            gen.to(device)
            store.describe(gen.fingerprint, gen.settings, {"spec": gen.spec.raw, "fingerprint": gen.fingerprint,
                                                            "commit": gen.commit})
            for item in todo:
                done += 1
                if item.path.exists():  # another rank or run finished it meanwhile
                    continue
                store.write(item.path, gen.render(item.prompt.text, item.seed), gen.settings.fps or 8.0)
                stats.rendered += 1
                if progress is not None:
                    progress(done, len(mine))
        finally:
            release(gen)
            stats.render_seconds += time.perf_counter() - t0
    if failures:
        kept = f"{stats.rendered} other video(s) were rendered and kept" if stats.rendered else "nothing was rendered"
        raise GeneratorLoadError(failures, note=kept, stats=stats)
    return stats
