"""A reward-hacking monitor for every align method: held-out prompts, fixed seeds, training and held-out rewards.

Every ``eval_every`` optimiser steps (and before the first and after the last) the pipeline, with the policy as
trained so far, renders ``monitor_prompts`` × ``monitor_seeds`` with its ordinary (ODE) sampler. Each video is scored
by the training rewards and by ``monitor_rewards``, rewards the trainer never optimises. Every evaluation is paired
with the first one (same prompts, same seeds), so a reward's change comes with a bootstrap CI over prompts
(:func:`videobench.metrics.bootstrap.bootstrap_items_ci`).

Divergence — the sign of reward hacking — is flagged when a training reward went up (its change's CI above
+tolerance·std) while a held-out reward went down (its change's CI below −tolerance·std), where std is the reward's
spread over the first evaluation's videos: renders with fixed seeds are so repeatable that a CI alone would call a
drift of 1e-5 significant. Written to ``OUTPUT_DIR/monitor.jsonl`` (one line per
evaluation, with the per-video scores) and ``monitor.html`` (plotly curves, every name escaped); an evaluation already
in ``monitor.jsonl`` is not repeated when a run resumes.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

__all__ = ["Monitor", "divergence", "reward_change"]

TRAIN, HELDOUT = "train", "heldout"
#: the name of the weighted sum when several training rewards are combined
TOTAL = "training reward"


@dataclass(frozen=True)
class Change:
    """A reward's mean now, and its paired change since the first evaluation, each with a bootstrap CI."""

    mean: float
    mean_low: float
    mean_high: float
    delta: float
    delta_low: float
    delta_high: float
    #: the reward's std over the baseline's items: the unit of the divergence tolerance
    scale: float

    def as_dict(self) -> dict[str, float]:
        return dict(self.__dict__)


def reward_change(scores: np.ndarray, baseline: np.ndarray, clusters: Sequence[Any], n_resamples: int = 1000,
                  seed: int = 0) -> Change:
    """Mean of ``scores`` and of ``scores − baseline`` (paired items), with percentile bootstrap CIs that resample
    ``clusters`` (the prompts)."""
    from videobench.metrics.bootstrap import bootstrap_items_ci

    scores, baseline = np.asarray(scores, dtype=np.float64), np.asarray(baseline, dtype=np.float64)
    mean_ci = bootstrap_items_ci(np.mean, (scores,), clusters, n_resamples, seed=seed, name="mean")
    diff_ci = bootstrap_items_ci(np.mean, (scores - baseline,), clusters, n_resamples, seed=seed, name="mean change")
    return Change(mean_ci.point, mean_ci.low, mean_ci.high, diff_ci.point, diff_ci.low, diff_ci.high,
                  float(baseline.std()))


def divergence(changes: dict[str, dict[str, Any]], tolerance: float = 0.1) -> list[str]:
    """Held-out rewards whose change's CI lies below −tolerance·scale while a training reward's lies above
    +tolerance·scale (else [])."""
    rose = any(c["role"] == TRAIN and c["delta_low"] > tolerance * c.get("scale", 0.0) for c in changes.values())
    if not rose:
        return []
    return [name for name, c in changes.items()
            if c["role"] == HELDOUT and c["delta_high"] < -tolerance * c.get("scale", 0.0)]


class Monitor:
    """Render, score, compare with the first evaluation, write ``monitor.jsonl`` / ``monitor.html``."""

    def __init__(self, pipe: Any, train_terms: list, heldout_terms: list, prompts: list[str], seeds: list[int],
                 render: dict[str, Any], out_dir: Path, eval_every: int, n_resamples: int = 1000,
                 accelerator: Any = None, tolerance: float = 0.1) -> None:
        self.pipe, self.prompts, self.seeds, self.render = pipe, prompts, seeds, render
        self.train_terms, self.heldout_terms = train_terms, heldout_terms
        self.path, self.html_path = Path(out_dir) / "monitor.jsonl", Path(out_dir) / "monitor.html"
        self.eval_every, self.n_resamples, self.acc, self.tolerance = eval_every, n_resamples, accelerator, tolerance
        self.records: list[dict[str, Any]] = []
        if self.path.is_file():  # resume: keep the baseline and the evaluations already made
            self.records = [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]

    @classmethod
    def from_config(cls, config: Any, pipe: Any, train_terms: list, accelerator: Any = None) -> "Monitor | None":
        if not config.eval_every:
            return None
        from videobench.prompts import load_prompts

        from .rewards import reward_terms

        if isinstance(config.monitor_prompts, str):
            prompts = [p.text for p in load_prompts(config.monitor_prompts, config.monitor_num_prompts).prompts]
        else:
            prompts = [str(p) for p in config.monitor_prompts][: config.monitor_num_prompts]
        heldout = reward_terms(config.monitor_rewards or [])
        render = {"num_frames": config.num_frames, "height": config.height, "width": config.width,
                  "num_inference_steps": config.num_inference_steps, "guidance_scale": config.guidance_scale}
        if config.max_sequence_length:
            render["max_sequence_length"] = config.max_sequence_length
        return cls(pipe, train_terms, heldout, prompts, list(config.monitor_seeds), render, Path(config.output_dir),
                   config.eval_every, config.monitor_resamples, accelerator, config.monitor_tolerance)

    # -- evaluations --------------------------------------------------------------------------------------------
    def maybe_run(self, step: int, force: bool = False) -> dict[str, Any] | None:
        """Evaluate at ``step`` when it is due (or ``force``) and not yet recorded; every process must call it."""
        if not (force or step % self.eval_every == 0) or any(r["step"] == step for r in self.records):
            return None
        record = None
        if self.acc is None or self.acc.is_main_process:
            record = self._evaluate(step)
        if self.acc is not None:
            self.acc.wait_for_everyone()
        return record

    def _videos(self) -> tuple[list[Any], list[str], list[int]]:
        from tqdm.auto import tqdm

        videos, prompts, clusters = [], [], []
        bar = tqdm(total=len(self.prompts) * len(self.seeds), desc="monitor", unit="video", leave=False)
        for i, prompt in enumerate(self.prompts):
            for seed in self.seeds:
                out = self.pipe(prompt, output_type="np", generator=torch.Generator("cpu").manual_seed(seed),
                                **self.render)
                bar.update(1)
                videos.append(out.frames[0])
                prompts.append(prompt)
                clusters.append(i)
        bar.close()
        return videos, prompts, clusters

    def _evaluate(self, step: int) -> dict[str, Any]:
        videos, prompts, clusters = self._videos()
        scores: dict[str, np.ndarray] = {}
        roles: dict[str, str] = {}
        for term in self.train_terms:
            scores[term.name], roles[term.name] = term.score(videos, prompts), TRAIN
        if len(self.train_terms) > 1:
            scores[TOTAL] = sum(t.weight * scores[t.name] for t in self.train_terms)
            roles[TOTAL] = TRAIN
        for term in self.heldout_terms:
            name = term.name if term.name not in roles else f"{term.name} (held out)"
            scores[name], roles[name] = term.score(videos, prompts), HELDOUT
        base = self.records[0]["scores"] if self.records else {k: v.tolist() for k, v in scores.items()}
        changes = {}
        for name, values in scores.items():
            change = reward_change(values, np.asarray(base[name]), clusters, self.n_resamples)
            changes[name] = {"role": roles[name], **change.as_dict()}
        flagged = divergence(changes, self.tolerance)
        record = {"step": step, "items": len(videos), "rewards": changes, "diverged": bool(flagged),
                  "diverged_rewards": flagged, "scores": {k: v.tolist() for k, v in scores.items()}}
        self.records.append(record)
        with self.path.open("a") as fh:
            fh.write(json.dumps(record) + "\n")
        self._write_html()
        if flagged:
            print(f"[monitor] step {step}: possible reward hacking — training reward up, held-out "
                  f"{', '.join(flagged)} down beyond its 95% CI (see {self.html_path})")
        return record

    def summary(self) -> dict[str, Any]:
        """For ``run.json`` and the CLI: evaluations, whether and when divergence was flagged, the last changes."""
        first = next((r["step"] for r in self.records if r["diverged"]), None)
        last = self.records[-1] if self.records else None
        return {
            "evaluations": len(self.records),
            "diverged": first is not None,
            "first_divergence_step": first,
            "diverged_rewards": sorted({n for r in self.records for n in r["diverged_rewards"]}),
            "last": {k: {"role": v["role"], "delta": v["delta"], "delta_low": v["delta_low"],
                         "delta_high": v["delta_high"]} for k, v in last["rewards"].items()} if last else {},
            "log": str(self.path),
        }

    # -- the page -----------------------------------------------------------------------------------------------
    def _write_html(self) -> None:
        from videobench.atomic import write_text

        write_text(self.html_path, render_monitor_html(self.records))


def render_monitor_html(records: list[dict[str, Any]]) -> str:
    """One plot per reward: mean with its 95% CI by step; training rewards first; divergence steps listed."""
    import plotly.graph_objects as go

    e = lambda v: html.escape(str(v), quote=True)  # noqa: E731
    names = list(records[0]["rewards"]) if records else []
    names.sort(key=lambda n: records[0]["rewards"][n]["role"] != TRAIN)
    parts = []
    for k, name in enumerate(names):
        rows = [(r["step"], r["rewards"][name]) for r in records if name in r["rewards"]]
        steps = [s for s, _ in rows]
        fig = go.Figure()
        fig.add_trace(go.Scatter(x=steps + steps[::-1], y=[c["mean_high"] for _, c in rows] +
                                 [c["mean_low"] for _, c in rows][::-1], fill="toself", line={"width": 0},
                                 name="95% CI", hoverinfo="skip", opacity=0.3))
        fig.add_trace(go.Scatter(x=steps, y=[c["mean"] for _, c in rows], mode="lines+markers", name="mean"))
        role = "training reward" if rows and rows[0][1]["role"] == TRAIN else "held-out reward"
        fig.update_layout(title=f"{e(name)} ({role})", xaxis_title="step", yaxis_title="mean score", height=320)
        parts.append(fig.to_html(full_html=False, include_plotlyjs=(k == 0), config={"displaylogo": False}))
    flagged = [r for r in records if r["diverged"]]
    alert = ("<p class=alert>Divergence (training reward up, held-out reward down beyond its CI) at step(s) "
             + ", ".join(f"{r['step']} ({e(', '.join(r['diverged_rewards']))})" for r in flagged) + "</p>"
             if flagged else "<p>No divergence flagged.</p>")
    return (
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>videobench align monitor</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2em}.alert{color:#b00;font-weight:bold}</style></head>"
        f"<body><h1>Reward-hacking monitor</h1><p>{len(records)} evaluation(s); changes are paired with step "
        f"{e(records[0]['step']) if records else '-'} (same prompts and seeds).</p>{alert}{''.join(parts)}</body></html>"
    )
