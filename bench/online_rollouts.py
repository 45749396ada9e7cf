"""What online rollouts cost and buy: Flow-RWR on tiny Wan with one round of rollouts vs a fresh round every N steps.

    python bench/online_rollouts.py [--steps 200] [--every 50 25] [--seed 0]

Every row trains the same LoRA for the same number of optimiser steps from the same start (K = 8 samples for each
of 4 prompts, z-scored weights, τ = 0.1, decoder made informative as in the end-to-end test), then renders 12
held-out seeds per prompt with the trained and the base pipeline and scores them with ``pixel:contrast``. Columns:
wall time of the run, the share of it spent rendering and scoring rollouts (from ``run.json``), the paired win rate
against the base with its bootstrap CI, and the round mean rewards. The rows run in one process, one after another.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from table import Table  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PROMPTS = ["a bright white light", "a dark black scene", "a red car at night", "a cat playing the piano"]
RENDER = dict(num_frames=9, height=32, width=32, num_inference_steps=4, guidance_scale=1.0, max_sequence_length=16)
HELD_OUT = range(1000, 1012)


def _scores(pipe, reward) -> "list[float]":
    import torch

    return [reward(pipe(p, output_type="np", generator=torch.Generator().manual_seed(s), **RENDER).frames[0])
            for p in PROMPTS for s in HELD_OUT]


def run(steps: int, every: list[int], seed: int) -> list[dict]:
    import numpy as np

    from videobench.align import rwr
    from videobench.align.rewards import PixelReward
    from videobench.metrics.compare import win_rate
    from videobench.testing.tiny_pipelines import build_tiny_wan_pipeline, make_decoder_informative

    base = make_decoder_informative(build_tiny_wan_pipeline(seed=0))
    reward = PixelReward("contrast")
    before = np.array(_scores(base, reward))
    rows = []
    for n in [0, *every]:
        pipe = copy.deepcopy(base)
        with tempfile.TemporaryDirectory() as out:
            t0 = time.perf_counter()
            rwr(pipe=pipe, output_dir=out, max_steps=steps, lr=2e-3, rwr_weighting="zscore", rwr_temperature=0.1,
                rollout_every=n, seed=seed, prompts=PROMPTS, samples_per_prompt=8, reward="pixel:contrast",
                lora_rank=8, lora_alpha=8, lora_targets=["to_q", "to_k", "to_v", "to_out.0", "proj_out"], **RENDER)
            wall = time.perf_counter() - t0
            rounds = json.loads((Path(out) / "run.json").read_text())["rollout_rounds"]
        stat = win_rate(np.array(_scores(pipe, reward)), before, seed=0)
        rows.append({"rollouts": f"every {n} steps" if n else "once, before training", "rounds": len(rounds), "wall_s": wall,
                     "rollout_share": sum(r["seconds"] for r in rounds) / wall, "win_rate": stat.value,
                     "ci": (stat.ci_low, stat.ci_high), "round_rewards": [r["mean_reward"] for r in rounds]})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=200, help="optimiser steps of every run")
    parser.add_argument("--every", type=int, nargs="+", default=[50, 25], help="rollout_every values to compare")
    parser.add_argument("--seed", type=int, default=0, help="training seed (LoRA init, data order, rollouts)")
    args = parser.parse_args()
    rows = run(args.steps, args.every, args.seed)
    table = Table("online_rollouts", "Online rollouts: cost and effect of rollout rounds (Flow-RWR, tiny Wan)",
                  ["rounds", "wall", "rollout share", "win rate vs base (95% CI)", "round mean reward, first -> last"],
                  ".venv/bin/python bench/online_rollouts.py")
    table.note(f"{args.steps} optimiser steps per run, training seed {args.seed}; reported, no targets (the tests "
               "assert the win-rate CI of the online run above 50%).")
    for r in rows:
        rewards = " -> ".join(f"{x:.4f}" for x in (r["round_rewards"][0], r["round_rewards"][-1]))
        table.add(r["rollouts"], **{"rounds": r["rounds"], "wall": f"{r['wall_s']:.1f} s",
                                    "rollout share": f"{r['rollout_share']:.0%}",
                                    "win rate vs base (95% CI)": f"{r['win_rate']:.2f} [{r['ci'][0]:.2f}, {r['ci'][1]:.2f}]",
                                    "round mean reward, first -> last": rewards})
    return table.write()


if __name__ == "__main__":
    sys.exit(main())
