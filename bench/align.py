"""Flow-DPO cost against an SFT step on the same 2B videos (tiny Wan, CPU), in one run.

    python bench/align.py [--tokens 4096] [--pairs 2] [--steps 8]

Rows: SFT on 2B videos (the baseline), Flow-DPO on B pairs with the reference = adapters disabled (one extra
no-grad forward, no second model), and Flow-DPO with a separate frozen reference copy. Columns: median step time
(forward + backward + AdamW) and peak memory, each as a ratio to SFT.

How memory is measured (CPU): each configuration runs in a fresh subprocess with ``MALLOC_MMAP_THRESHOLD_=65536``
(large tensors are mmapped and given back to the OS when freed, so RSS follows torch's live memory). After a
warm-up step the kernel's peak-RSS counter is reset (``/proc/self/clear_refs`` ← 5) and ``VmHWM`` is read after the
timed steps. ``step peak`` = VmHWM − RSS before the steps (activations, gradients, reference forward);
``total peak`` = VmHWM − RSS before the model was built (adds the weights: the copy reference shows up here).
Step times are measured in one process that alternates the three configurations, so machine load hits all alike.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from table import Table  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MODES = ("sft", "dpo", "dpo-copy")
TARGETS = {"dpo": (1.5, 1.3)}  # (time, memory) ratio targets vs SFT


def _rss_kb(field: str = "VmRSS") -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _latent_fhw(tokens: int) -> tuple[int, int, int]:
    # Wan patch (1, 2, 2): tokens = F · (H/2) · (W/2); use F = 4 and a square latent
    side = max(2, int(round((tokens / 4) ** 0.5)) * 2)
    return 4, side, side


def _setup(mode: str, tokens: int, pairs: int, rank: int):
    import torch
    from diffusers import WanPipeline, WanTransformer3DModel

    from videobench.align.lora import LoraSettings, add_lora, lora_parameters
    from videobench.align.models import WanFamily
    from videobench.align.objectives import Reference, flow_dpo_step, flow_weighted_step
    from videobench.testing.tiny_pipelines import TINY_WAN_TRANSFORMER

    torch.manual_seed(0)
    model = WanTransformer3DModel(**TINY_WAN_TRANSFORMER)
    family = WanFamily(pipeline_cls=WanPipeline, channels=16)
    ref = Reference.frozen_copy(model, family) if mode == "dpo-copy" else None
    add_lora(model, LoraSettings(rank=rank, alpha=rank))
    model.train()
    if ref is None:
        ref = Reference(model, family, "disabled")
    opt = torch.optim.AdamW(lora_parameters(model), lr=1e-4)
    f, h, w = _latent_fhw(tokens)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2 * pairs, 16, f, h, w, generator=g)
    cond = {"prompt_embeds": torch.randn(2 * pairs, 64, 32, generator=g)}
    policy = lambda x_, t_, c_: family.predict(model, x_, t_, c_)  # noqa: E731

    def step() -> None:
        noise = torch.randn(pairs, *x.shape[1:], generator=g)
        sigma = torch.rand(pairs, generator=g)
        if mode == "sft":  # 2B videos through the policy, as many as DPO's winners + losers
            loss, _ = flow_weighted_step(policy, x, cond, torch.cat([noise, noise]), torch.cat([sigma, sigma]))
        else:
            out, _ = flow_dpo_step(policy, ref, x[:pairs], x[pairs:], {"prompt_embeds": cond["prompt_embeds"][:pairs]},
                                   noise, sigma)
            loss = out.loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    return step, f * (h // 2) * (w // 2)


def worker_memory(mode: str, tokens: int, pairs: int, steps: int, rank: int) -> dict:
    import gc

    import torch

    torch.set_num_threads(1)
    import diffusers  # noqa: F401  (imports are not part of the measured memory)

    import videobench.align.objectives  # noqa: F401

    before_model = _rss_kb()
    step, n_tokens = _setup(mode, tokens, pairs, rank)
    step()  # warm-up: one-off allocations (optimizer state, kernels)
    gc.collect()
    before_steps = _rss_kb()
    if not _reset_peak():
        raise RuntimeError("cannot reset the peak-RSS counter (/proc/self/clear_refs)")
    for _ in range(steps):
        step()
    peak = _rss_kb("VmHWM")
    return {"mode": mode, "tokens": n_tokens, "step_peak_mb": (peak - before_steps) / 1024,
            "total_peak_mb": (peak - before_model) / 1024}


def worker_time(tokens: int, pairs: int, steps: int, rank: int) -> dict:
    import torch

    torch.set_num_threads(1)
    fns = {m: _setup(m, tokens, pairs, rank)[0] for m in MODES}
    for fn in fns.values():
        fn()
        fn()
    times: dict[str, list[float]] = {m: [] for m in MODES}
    for _ in range(steps):
        for m, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[m].append(time.perf_counter() - start)
    return {m: statistics.median(v) for m, v in times.items()}


def _spawn(args: list[str]) -> dict:
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536", "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, __file__, *args], env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-4000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=4096, help="video tokens per video (latent F·H/2·W/2)")
    parser.add_argument("--pairs", type=int, default=2, help="B pairs per DPO step (SFT takes the 2B videos)")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--rank", type=int, default=16, help="LoRA rank")
    parser.add_argument("--worker", choices=[*MODES, "time"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    common = ["--tokens", str(args.tokens), "--pairs", str(args.pairs), "--steps", str(args.steps),
              "--rank", str(args.rank)]
    if args.worker == "time":
        print(json.dumps(worker_time(args.tokens, args.pairs, args.steps, args.rank)))
        return 0
    if args.worker:
        print(json.dumps(worker_memory(args.worker, args.tokens, args.pairs, args.steps, args.rank)))
        return 0

    mem = {m: _spawn(["--worker", m, *common]) for m in MODES}
    times = _spawn(["--worker", "time", *common])
    base_t, base_m, base_total = times["sft"], mem["sft"]["step_peak_mb"], mem["sft"]["total_peak_mb"]
    table = Table("align", "Align: cost of a Flow-DPO step against SFT", ["step ms", "time x", "step MB", "mem x",
                                                                        "total MB", "total x"],
                  ".venv/bin/python bench/align.py")
    table.note(f"tiny Wan transformer, {mem['sft']['tokens']} tokens/video, B={args.pairs} pairs vs SFT on "
               f"{2 * args.pairs} videos, LoRA rank {args.rank}, {args.steps} steps, 1 CPU thread; each method's "
               "memory is measured in a fresh process.")
    names = {"sft": "SFT (2B videos)", "dpo": "Flow-DPO, reference = adapters off",
             "dpo-copy": "Flow-DPO, reference = frozen copy"}
    for m in MODES:
        t, pm, tm = times[m], mem[m]["step_peak_mb"], mem[m]["total_peak_mb"]
        target = TARGETS.get(m)
        table.add(names[m], **{"step ms": f"{t * 1000:.1f}", "time x": f"{t / base_t:.2f}", "step MB": f"{pm:.1f}",
                               "mem x": f"{pm / base_m:.2f}", "total MB": f"{tm:.1f}", "total x": f"{tm / base_total:.2f}"},
                  target=f"<= {target[0]}x time, <= {target[1]}x mem" if target else "",
                  met=(t / base_t <= target[0] and pm / base_m <= target[1]) if target else None)
    return table.write()


if __name__ == "__main__":
    sys.exit(main())
