"""Benchmark of Flow-NRG sampling cost: unguided vs latent-RM guided vs pixel-space guided, on the same steps.

- unguided: the stock pipeline (classifier-free guidance on: two transformer calls per step).
- latent NRG: ``apply_nrg`` with a k-block latent reward model: one reward-model forward + backward per step.
- pixel guidance: ``apply_pixel_guidance``: decode x̂0 through the VAE and back-propagate a pixel reward, every step.
Target: latent NRG <= 2.0x unguided where the reward model keeps a quarter of the blocks (k = L, the tiny
models, is shown as the worst case). Each timing is the best of ``--repeats`` (the three modes interleaved) after
a warm-up round. The reward
models have random heads (cost does not depend on the weights).

    .venv/bin/python bench/nrg.py [--repeats 3] [--steps 8]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Callable

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from table import Table  # noqa: E402


def _configs() -> list[tuple[str, Callable[[], Any], int, dict[str, Any]]]:
    from diffusers import LTXVideoTransformer3DModel, WanTransformer3DModel

    from videobench.testing.tiny_pipelines import (
        TINY_LTX_TRANSFORMER,
        TINY_WAN_TRANSFORMER,
        build_tiny_ltx_pipeline,
        build_tiny_wan_pipeline,
    )

    def deep(build, cls, base, **changes):
        def make():
            pipe = build()
            torch.manual_seed(0)
            pipe.transformer = cls(**{**base, **changes}).eval()
            return pipe
        return make

    wan_call = dict(num_frames=17, height=64, width=64, guidance_scale=5.0, max_sequence_length=16)
    ltx_call = dict(num_frames=17, height=64, width=64, guidance_scale=3.0, max_sequence_length=16)
    return [
        ("tiny Wan, k=1 of 2 blocks", build_tiny_wan_pipeline, 1, wan_call),
        ("Wan, k=2 of 8 blocks", deep(build_tiny_wan_pipeline, WanTransformer3DModel, TINY_WAN_TRANSFORMER,
                                       num_layers=8, num_attention_heads=4, attention_head_dim=16, ffn_dim=128),
         2, wan_call),
        ("tiny LTX, k=1 of 1 block", build_tiny_ltx_pipeline, 1, ltx_call),
        ("LTX, k=2 of 8 blocks", deep(build_tiny_ltx_pipeline, LTXVideoTransformer3DModel, TINY_LTX_TRANSFORMER,
                                       num_layers=8, num_attention_heads=4, attention_head_dim=16,
                                       cross_attention_dim=64),
         2, ltx_call),
    ]


def _once(pipe: Any, call: dict[str, Any], steps: int, output_type: str) -> float:
    start = time.perf_counter()
    with torch.inference_mode():
        pipe(prompt="a cat playing the piano", num_inference_steps=steps, output_type=output_type,
             generator=torch.Generator().manual_seed(0), **call)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    from videobench.align.latent_rm import LatentRewardModel
    from videobench.align.nrg import apply_nrg
    from videobench.align.nrg_pixel import apply_pixel_guidance

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--steps", type=int, default=8)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    for name, build, k, call in _configs():
        pipe = build()
        rm = LatentRewardModel.from_pipeline(pipe, num_blocks=k, dimensions=("VQ", "MQ", "TA"))
        torch.nn.init.normal_(rm.head[2].weight)
        modes: dict[str, tuple[Callable[[], Any], tuple[str, ...]]] = {
            "unguided": (lambda: None, ("np", "latent")),
            "latent": (lambda: apply_nrg(pipe, rm, w=100.0, weights="VQ=0.1,MQ=0.1,TA=0.8"), ("np", "latent")),
            "pixel": (lambda: apply_pixel_guidance(pipe, "brightness", w=100.0), ("np",)),
        }
        best: dict[tuple[str, str], float] = {}
        for r in range(args.repeats + 1):  # interleaved, so load changes on a shared machine hit all modes alike
            for mode, (attach, outputs) in modes.items():
                handle = attach()
                for output in outputs:
                    seconds = _once(pipe, call, args.steps, output)
                    if r > 0:  # round 0 warms up
                        best[mode, output] = min(best.get((mode, output), float("inf")), seconds)
                if handle is not None:
                    handle.remove()
        rows.append((name, k, best))
    table = Table("nrg", "Flow-NRG sampling cost", ["unguided call", "NRG call", "pixel call", "NRG/unguided call",
                                                     "NRG/unguided loop", "pixel/NRG call"],
                  "OMP_NUM_THREADS=1 .venv/bin/python bench/nrg.py")
    table.note(f"{args.steps} steps, 17 frames 64x64, CFG on, best of {args.repeats} interleaved repeats, 1 torch "
               "thread, seconds of wall time. 'call': the whole pipeline call (text encoder, loop, VAE decode); "
               "'loop': output_type='latent' (denoising loop only).")
    table.note("The target applies where the reward model reads k/L = 1/4 of the transformer's blocks (as for Wan 2.1 "
               "14B with 40 blocks); rows with k = L are the worst case, reported without a target.")
    for name, k, best in rows:
        call_ratio = best["latent", "np"] / best["unguided", "np"]
        loop_ratio = best["latent", "latent"] / best["unguided", "latent"]
        gated = "of 8" in name
        table.add(name, **{"unguided call": f"{best['unguided', 'np']:.3f} s", "NRG call": f"{best['latent', 'np']:.3f} s",
                           "pixel call": f"{best['pixel', 'np']:.3f} s", "NRG/unguided call": f"{call_ratio:.2f}x",
                           "NRG/unguided loop": f"{loop_ratio:.2f}x",
                           "pixel/NRG call": f"{best['pixel', 'np'] / best['latent', 'np']:.2f}x"},
                  target="<= 2.0x call and loop" if gated else "",
                  met=(call_ratio <= 2.0 and loop_ratio <= 2.0) if gated else None)
    return table.write()


if __name__ == "__main__":
    raise SystemExit(main())
