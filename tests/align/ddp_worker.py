"""Run by tests/align/test_ddp.py under torch.distributed.run: ``OUT [BATCH]`` a DPO run on tiny Wan, ``OUT online``
an online RWR run whose rollout rounds are rendered in shards, ``OUT grpo PROMPTS_PER_STEP`` a Flow-GRPO run; the
LoRA weights are written per rank."""

from __future__ import annotations

import os
import sys

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(__file__))
from align_helpers import random_dataset  # noqa: E402

from videobench.align import dpo, grpo, rwr  # noqa: E402
from videobench.align.lora import lora_state_dict  # noqa: E402
from videobench.testing.tiny_pipelines import build_tiny_wan_pipeline  # noqa: E402


def main(out: str, batch_size: int) -> None:
    pipe = build_tiny_wan_pipeline(seed=0)
    result = dpo(pipe=pipe, dataset=random_dataset(pipe), output_dir=out, max_steps=2, batch_size=batch_size,
                 lora_rank=4, lora_alpha=4, lr=1e-3, max_sequence_length=16, cpu=True, beta=2000.0)
    rank = int(os.environ.get("RANK", "0"))
    save_file(lora_state_dict(pipe.transformer), os.path.join(out, f"rank{rank}.safetensors"))
    if rank == 0:
        print("losses", [x["loss"] for x in result.log])


def online(out: str) -> None:
    pipe = build_tiny_wan_pipeline(seed=0)
    rwr(pipe=pipe, output_dir=out, max_steps=3, rollout_every=2, cpu=True, samples_per_prompt=2,
        prompts=["a bright white light", "a dark black scene", "a red car at night"], reward="pixel:contrast",
        num_frames=5, height=16, width=16, num_inference_steps=2, guidance_scale=1.0, lora_rank=4, lora_alpha=4,
        lr=1e-3, max_sequence_length=16)
    rank = int(os.environ.get("RANK", "0"))
    save_file(lora_state_dict(pipe.transformer), os.path.join(out, f"rank{rank}.safetensors"))


def grpo_run(out: str, prompts_per_step: int) -> None:
    pipe = build_tiny_wan_pipeline(seed=0)
    result = grpo(pipe=pipe, output_dir=out, max_steps=2, cpu=True, samples_per_prompt=2,
                  prompts_per_step=prompts_per_step, prompts=["a bright white light", "a dark black scene",
                                                              "a red car at night", "a cat playing the piano"],
                  reward="pixel:contrast", num_frames=5, height=16, width=16, num_inference_steps=2,
                  guidance_scale=1.0, lora_rank=4, lora_alpha=4, lr=1e-2, max_sequence_length=16, kl_beta=0.1,
                  advantage_std="global")
    rank = int(os.environ.get("RANK", "0"))
    save_file(lora_state_dict(pipe.transformer), os.path.join(out, f"rank{rank}.safetensors"))
    if rank == 0:
        print("rewards", [x["reward"] for x in result.log])


if __name__ == "__main__":
    torch.set_num_threads(1)
    if sys.argv[2:] == ["online"]:
        online(sys.argv[1])
    elif sys.argv[2:3] == ["grpo"]:
        grpo_run(sys.argv[1], int(sys.argv[3]))
    else:
        main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1)
