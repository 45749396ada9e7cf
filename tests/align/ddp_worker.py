"""Run by tests/align/test_ddp.py under torch.distributed.run: one DPO run on tiny Wan, weights written per rank."""

from __future__ import annotations

import os
import sys

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(__file__))
from align_helpers import random_dataset  # noqa: E402

from videobench.align import dpo  # noqa: E402
from videobench.align.lora import lora_state_dict  # noqa: E402
from videobench.testing.tiny_pipelines import build_tiny_wan_pipeline  # noqa: E402


def main(out: str, batch_size: int) -> None:
    torch.set_num_threads(1)
    pipe = build_tiny_wan_pipeline(seed=0)
    result = dpo(pipe=pipe, dataset=random_dataset(pipe), output_dir=out, max_steps=2, batch_size=batch_size,
                 lora_rank=4, lora_alpha=4, lr=1e-3, max_sequence_length=16, cpu=True, beta=2000.0)
    rank = int(os.environ.get("RANK", "0"))
    save_file(lora_state_dict(pipe.transformer), os.path.join(out, f"rank{rank}.safetensors"))
    if rank == 0:
        print("losses", [x["loss"] for x in result.log])


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1)
