"""Run by tests/align/test_reward_model_ddp.py (under torch.distributed.run or alone): ``OUT BASE CSV BATCH`` trains
the tiny reward model for 2 steps and writes each rank's trainable weights to ``OUT/rank<R>.safetensors``."""

from __future__ import annotations

import os
import sys

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from tests.align.rm_helpers import TINY_SETTINGS  # noqa: E402

from videobench.align.reward_model_train import train_reward_model  # noqa: E402


def main(out: str, base: str, csv: str, batch_size: int) -> None:
    captured = {}

    import videobench.align.reward_model_train as trainer

    original = trainer.save_released_layout

    def capture(model, *args, **kwargs):  # the trained weights, taken where the run saves them
        captured.update({n: p.detach().clone() for n, p in model.net.named_parameters() if p.requires_grad})
        return original(model, *args, **kwargs)

    trainer.save_released_layout = capture
    settings = dict(TINY_SETTINGS, base_model=base, benchmark=csv, output_dir=out, val_groups=["a rabbit in a meadow"],
                    max_steps=2, batch_size=batch_size, frame_cache_dir=os.path.join(out, "frames"))
    result = train_reward_model(settings)
    rank = int(os.environ.get("RANK", "0"))
    if rank == 0:
        save_file({k: v.contiguous() for k, v in captured.items()}, os.path.join(out, "rank0.safetensors"))
        print("losses", [x["loss"] for x in result.log])


if __name__ == "__main__":
    torch.set_num_threads(1)
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
