"""What a Flow-GRPO step costs on tiny Wan: rollout / reward / train, and against a Flow-DPO step on the same model.

    python bench/grpo.py [--steps 6]

GRPO runs ``--steps`` steps of 4 prompts × K = 4 samples (4 denoising steps, all stochastic and trained, 2
minibatches × 2 passes, KL on), as the end-to-end test does; the split comes from its ``log.jsonl`` (median over the
steps after the first). Baseline of the rollout: the pipeline's own (ODE) renders of the same 16 videos, same
settings, threads and LoRA, timed in the same process after the run; the target is the SDE sampler + decode within 1.5× of that (it does
the same transformer calls plus the Gaussian step). Flow-DPO then trains the same LoRA on one round of 16 rollouts
for the same number of optimiser steps as GRPO made (batch 2 pairs); its one-time rollouts are reported apart.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from table import Table  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PROMPTS = ["a bright white light", "a dark black scene", "a red car at night", "a cat playing the piano"]
RENDER = dict(num_frames=9, height=32, width=32, num_inference_steps=4, guidance_scale=1.0, max_sequence_length=16)
COMMON = dict(prompts=PROMPTS, reward="pixel:contrast", samples_per_prompt=4, lora_rank=8, lora_alpha=8,
              lora_targets=["to_q", "to_k", "to_v", "to_out.0", "proj_out"], **RENDER)


def run(steps: int) -> dict:
    import torch

    from videobench.align import dpo, grpo
    from videobench.testing.tiny_pipelines import build_tiny_wan_pipeline, make_decoder_informative

    base = make_decoder_informative(build_tiny_wan_pipeline(seed=0))
    with tempfile.TemporaryDirectory() as out:
        trained = copy.deepcopy(base)
        g = grpo(pipe=trained, output_dir=out + "/grpo", max_steps=steps, prompts_per_step=4, lr=3e-2,
                 batch_size=16, grpo_minibatches=2, grpo_inner_epochs=2, clip_range=0.2, kl_beta=0.01, **COMMON)
        # the baseline: the same pipeline, LoRA included, rendering the same 16 videos with its own ODE sampler
        trained(PROMPTS[0], output_type="np", **RENDER)
        t0 = time.perf_counter()
        for i, prompt in enumerate(PROMPTS):
            trained(prompt, num_videos_per_prompt=4, output_type="np", generator=torch.Generator().manual_seed(i),
                    **RENDER)
        pipeline_per_video = (time.perf_counter() - t0) / 16
        rows = g.log[1:] or g.log
        med = {k: statistics.median(e[k] for e in rows) for k in
               ("rollout_seconds", "reward_seconds", "train_seconds", "step_seconds")}
        updates = int(g.log[0]["updates"])
        d = dpo(pipe=copy.deepcopy(base), output_dir=out + "/dpo", max_steps=steps * updates, lr=2e-3, beta=20.0,
                batch_size=2, **COMMON)
        dpo_step = statistics.median(e["step_seconds"] for e in d.log[1:] or d.log)
        dpo_data = json.loads((Path(out) / "dpo" / "run.json").read_text())["data_seconds"]
    return {"pipeline_per_video": pipeline_per_video, "grpo": med, "updates": updates, "dpo_step": dpo_step,
            "dpo_data": dpo_data, "videos": 16, "reward_first": g.log[0]["reward"], "reward_last": g.log[-1]["reward"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=6, help="GRPO steps (DPO makes as many optimiser steps)")
    args = parser.parse_args()
    table = Table("grpo", "Flow-GRPO step cost (tiny Wan, CPU): rollout / reward / train, and vs Flow-DPO",
                  ["seconds", "share of the GRPO step", "ratio"], ".venv/bin/python bench/grpo.py")
    r = run(args.steps)
    g = r["grpo"]
    table.note(f"{args.steps} GRPO steps of {r['videos']} videos each ({r['updates']} optimiser steps per GRPO step); "
               f"rollout reward {r['reward_first']:.4f} -> {r['reward_last']:.4f}. Medians over the steps after the "
               "first; tiny models, so the numbers show the split and the overheads, not a GPU's.")
    step = g["step_seconds"]
    per_video = g["rollout_seconds"] / r["videos"]
    ratio = per_video / r["pipeline_per_video"]
    table.add("rollout per video (SDE sampler + decode) vs the pipeline's ODE render",
              seconds=f"{per_video:.4f} vs {r['pipeline_per_video']:.4f}", ratio=f"{ratio:.2f}x",
              target="<= 1.5x", met=ratio <= 1.5)
    for key, what in (("rollout_seconds", "rollouts (16 videos)"), ("reward_seconds", "rewards (scored once)"),
                      ("train_seconds", "train (window steps × samples, KL on)")):
        table.add(what, seconds=f"{g[key]:.3f}", **{"share of the GRPO step": f"{g[key] / step:.0%}"})
    table.add("GRPO step vs DPO optimiser step (same LoRA, same model)",
              seconds=f"{step:.3f} vs {r['dpo_step']:.3f}", ratio=f"{step / r['dpo_step']:.1f}x")
    per_update = step / r["updates"]
    table.add("GRPO per optimiser step (its step / updates) vs a DPO optimiser step",
              seconds=f"{per_update:.3f} vs {r['dpo_step']:.3f}", ratio=f"{per_update / r['dpo_step']:.1f}x")
    table.add("GRPO step vs DPO step incl. its one-time rollouts spread over the run",
              seconds=f"{step:.3f} vs {r['dpo_step'] + r['dpo_data'] / (args.steps * r['updates']):.3f}",
              ratio=f"{step / (r['dpo_step'] + r['dpo_data'] / (args.steps * r['updates'])):.1f}x")
    return table.write()


if __name__ == "__main__":
    sys.exit(main())
