"""The default evaluator of the queue: wires a request to videobench's evaluation and comparison machinery.

Imports are lazy so the leaderboard works (and is tested) with any evaluator; this one needs the scoring stack.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from videobench.leaderboard.layout import GEN_TABLE
from videobench.leaderboard.store import Store
from videobench.leaderboard.submissions import Request
from videobench.leaderboard.tables import read_parquet_bytes


def component_spec(req: Request) -> str:
    """The spec with every Hub component pinned to the checked commit (``adapter:target@sha?options``)."""
    from videobench.specs import format_part, parse_query

    parts = []
    for c in req.components:
        revision = None if c.revision.startswith("local-") else c.revision
        parts.append(format_part(c.adapter, c.target, revision, parse_query(c.options)))
    return "+".join(parts)


def evaluate_reward_model(req: Request, work: Path, *, cache_dir: Path | None = None, batch_size: int = 8) -> list[Path]:
    """Score the request's reward model on its benchmark as ``videobench eval`` does (``videobench.evaluate``), with
    the scores cached in ``cache_dir`` (default: ``scores/`` beside the request's work folder, which the queue keeps
    per store), so a job killed half way and resumed scores only what it had not stored yet."""
    from videobench.api import evaluate

    if len(req.components) != 1:
        raise ValueError(f"a reward model request has one component, got {len(req.components)}")
    cache = Path(cache_dir) if cache_dir is not None else board_cache(work)
    # The name in the result is the board's model id; the revision the commit (or local fingerprint) checked at submit.
    ev = evaluate(component_spec(req), req.benchmark, name=req.model_id, cache_dir=cache, batch_size=batch_size)
    ev.result.model.revision = req.revision
    return [ev.save(work, "result")]


def board_cache(work: Path) -> Path:
    """The board's score cache when none is given: ``scores/`` in the store's work folder (the parent of every
    request's work folder), so it outlives each request's own folder."""
    return Path(work).parent / "scores"


def board_generators(store: Store, suite: str) -> dict[str, str]:
    """Name -> spec of the generators already ranked on ``suite`` (newest result of each board entry)."""
    snap = store.snapshot()
    path = f"{GEN_TABLE}.parquet"
    table = read_parquet_bytes(snap.read(path)) if snap.exists(path) else None
    if table is None or table.empty:
        return {}
    rows = table[table["benchmark"] == suite]
    rows = rows[rows["timestamp"] == rows.groupby("model")["timestamp"].transform("max")]
    # The board's baseline first: the comparison pins it at strength 0, as the board's earlier results did.
    rows = rows.assign(_first=rows["checkpoint"] != rows["baseline"]).sort_values(["_first", "timestamp"], kind="stable")
    out: dict[str, str] = {}
    for name, spec in zip(rows["checkpoint"], rows["spec"]):
        if spec and spec not in out.values():
            out.setdefault(str(name), str(spec))
    return out


@dataclass
class BoardEvaluator:
    """The queue's default evaluator. Reward models: scored on the benchmark like ``videobench eval``. Generators:
    rendered and scored with the board's reward models beside the generators the board already ranks on the same
    prompt suite (the compare machinery needs at least two; ``baseline`` seeds an empty board). Keep ``render_dir``
    and ``cache_dir`` between runs so the board's own renders and scores are reused; without ``cache_dir`` scores
    are cached in ``scores/`` of the store's work folder (:func:`board_cache`), so a killed job resumes without
    rescoring either way.

    The board's sampling protocol applies to every generator it renders: ``settings`` (steps, guidance, size, frames,
    fps; None = each pipeline family's defaults), the first ``num_prompts`` of the suite (None = all) and ``seeds``.
    """

    store: Store
    rewards: tuple[str, ...] = ("videoreward:KwaiVGI/VideoReward",)
    baseline: str | None = None
    render_dir: Path | None = None
    cache_dir: Path | None = None
    settings: Any = None  # videobench.compare.spec.RenderSettings
    num_prompts: int | None = None
    seeds: tuple[int, ...] = (0,)

    batch_size: int = 8

    def __call__(self, req: Request, work: Path) -> list[Path]:
        if req.kind == "reward_model":
            return evaluate_reward_model(req, work, cache_dir=self.cache_dir, batch_size=self.batch_size)
        return self.evaluate_generator(req, work)

    def evaluate_generator(self, req: Request, work: Path) -> list[Path]:
        from videobench.compare.engine import CompareConfig, run_compare

        generators = board_generators(self.store, req.benchmark)
        if not generators and self.baseline:
            generators["baseline"] = self.baseline
        if not generators:
            raise ValueError(f"the board ranks no generator on {req.benchmark!r} yet: start the queue with a baseline "
                             "generator (--baseline-generator SPEC)")
        name = req.model_id if req.model_id not in generators else f"{req.model_id}@{req.revision[:12]}"
        generators[name] = component_spec(req)
        outcome = run_compare(CompareConfig(
            generators=generators, prompts=req.benchmark, rewards=list(self.rewards), output=work / "compare",
            baseline=next(iter(generators)), render_dir=self.render_dir,
            cache_dir=self.cache_dir if self.cache_dir is not None else board_cache(work), report=False,
            settings=self.settings, num_prompts=self.num_prompts, seeds=self.seeds))
        if outcome.result_path is None:
            raise RuntimeError("the comparison wrote no result")
        return [outcome.result_path]


def make_default_evaluator(store: Store, rewards: tuple[str, ...] = ("videoreward:KwaiVGI/VideoReward",),
                           baseline: str | None = None, render_dir: Path | None = None,
                           cache_dir: Path | None = None, **protocol: Any) -> BoardEvaluator:
    """``protocol``: the board's ``settings``, ``num_prompts`` and ``seeds`` (see :class:`BoardEvaluator`).

    The board's reward specs are checked here, before any request is claimed, and kept in canonical form."""
    from videobench.rewards.registry import parse_reward_spec

    rewards = tuple(str(parse_reward_spec(spec)) for spec in rewards)
    return BoardEvaluator(store, rewards, baseline, render_dir, cache_dir, **protocol)
