"""Flow-DPO vs SFT step time and peak memory on a GPU: a Wan-1.3B-sized transformer, random bf16 weights.

    python bench/gpu_align.py              # Wan2.1-T2V-1.3B config, 480p × 33 frames, B = 1 pair, rank 64
    python bench/gpu_align.py --tiny       # the same code on the tiny config (CPU is fine), a smoke test

The transformer is built from the released 1.3B config (no download), cast to bf16; LoRA (rank 64, alpha 128,
q/k/v/o) in float32; gradient checkpointing on; text embeddings random (512 × 4096, as UMT5-XXL gives).
480p × 33 frames → latents (16, 9, 60, 104) → 9 · 30 · 52 = 14,040 tokens per video. Peak memory is
``torch.cuda.max_memory_allocated`` after a reset, around the timed steps (weights included), and the step-only
increase over the memory held before the steps.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WAN_1_3B = dict(
    patch_size=(1, 2, 2), num_attention_heads=12, attention_head_dim=128, in_channels=16, out_channels=16,
    text_dim=4096, freq_dim=256, ffn_dim=8960, num_layers=30, cross_attn_norm=True, qk_norm="rms_norm_across_heads",
    eps=1e-6, rope_max_seq_len=1024,
)


def run(mode: str, tiny: bool, pairs: int, steps: int, rank: int, checkpointing: bool) -> dict:
    import torch
    from diffusers import WanPipeline, WanTransformer3DModel

    from videobench.align.lora import LoraSettings, add_lora, lora_parameters
    from videobench.align.models import WanFamily
    from videobench.align.objectives import Reference, flow_dpo_step, flow_weighted_step
    from videobench.align.trainer import _cast_base
    from videobench.testing.tiny_pipelines import TINY_WAN_TRANSFORMER

    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    dtype = torch.bfloat16
    torch.manual_seed(0)
    config = TINY_WAN_TRANSFORMER if tiny else WAN_1_3B
    with torch.device(device):
        model = WanTransformer3DModel(**config)
    _cast_base(model, dtype)  # bf16, except the modules Wan keeps in float32
    family = WanFamily(pipeline_cls=WanPipeline, channels=16)
    ref = Reference.frozen_copy(model, family) if mode == "dpo-copy" else None
    add_lora(model, LoraSettings(rank=rank, alpha=2 * rank))
    model.to(device)
    if checkpointing:
        model.enable_gradient_checkpointing()
    model.train()
    if ref is None:
        ref = Reference(model, family, "disabled")
    opt = torch.optim.AdamW(lora_parameters(model), lr=1e-5)
    f, h, w = (3, 8, 8) if tiny else (9, 60, 104)
    text_len, text_dim = (16, config["text_dim"]) if tiny else (512, 4096)
    x = torch.randn(2 * pairs, 16, f, h, w, device=device, dtype=dtype)
    cond = {"prompt_embeds": torch.randn(2 * pairs, text_len, text_dim, device=device, dtype=dtype)}
    policy = lambda a, t, c: family.predict(model, a, t, c)  # noqa: E731

    def step() -> None:
        noise = torch.randn(pairs, *x.shape[1:], device=device, dtype=dtype)
        sigma = torch.rand(pairs, device=device)
        with torch.autocast(device.type, dtype=dtype):
            if mode == "sft":
                loss, _ = flow_weighted_step(policy, x, cond, torch.cat([noise, noise]), torch.cat([sigma, sigma]))
            else:
                out, _ = flow_dpo_step(policy, ref, x[:pairs], x[pairs:],
                                       {"prompt_embeds": cond["prompt_embeds"][:pairs]}, noise, sigma)
                loss = out.loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    step()
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    held = torch.cuda.memory_allocated() if cuda else 0
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    peak = torch.cuda.max_memory_allocated() if cuda else 0
    return {"mode": mode, "tokens": f * (h // 2) * (w // 2), "step_s": statistics.median(times),
            "peak_gib": peak / 2**30, "step_peak_gib": (peak - held) / 2**30, "device": str(device)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="tiny config: a smoke test that runs on a CPU")
    parser.add_argument("--pairs", type=int, default=1)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--rank", type=int, default=64)
    parser.add_argument("--no-checkpointing", action="store_true")
    parser.add_argument("--modes", default="sft,dpo,dpo-copy")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    rows = []
    for mode in args.modes.split(","):
        rows.append(run(mode, args.tiny, args.pairs, args.steps, args.rank, not args.no_checkpointing))
        import gc

        import torch

        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    base = rows[0]
    print(f"Wan {'tiny' if args.tiny else '1.3B'} transformer, bf16, {base['tokens']} tokens/video, B={args.pairs} "
          f"pair(s), LoRA rank {args.rank}, checkpointing {'off' if args.no_checkpointing else 'on'}, {base['device']}")
    print(f"{'mode':<10}{'step s':>9}{'time x':>8}{'peak GiB':>10}{'mem x':>7}{'step GiB':>10}")
    for r in rows:
        mem_x = r["peak_gib"] / base["peak_gib"] if base["peak_gib"] else float("nan")
        print(f"{r['mode']:<10}{r['step_s']:>9.3f}{r['step_s'] / base['step_s']:>8.2f}{r['peak_gib']:>10.2f}"
              f"{mem_x:>7.2f}{r['step_peak_gib']:>10.2f}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
