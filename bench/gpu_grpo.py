"""One Flow-GRPO step on a GPU, split into rollout / decode / reward / train, against one Flow-DPO step on the same
model: a Wan-1.3B-sized transformer and the Wan 2.1 VAE, random bf16 weights (no download).

    python bench/gpu_grpo.py               # Wan2.1-T2V-1.3B config, 480p × 33 frames, K = 4 samples, 10 steps
    python bench/gpu_grpo.py --tiny        # the same code on the tiny configs (CPU is fine), a smoke test

The GRPO step is the library's own code (:func:`videobench.align.grpo_trainer.sample_sde` for the K rollouts of one prompt,
the family's decode, ``pixel:contrast`` as the reward, :func:`videobench.align.grpo_trainer.loss_and_backward` on every
window step with the KL to the disabled adapter). LoRA rank 64 in float32, gradient checkpointing on, text
embeddings random (512 × 4096, as UMT5-XXL gives). The DPO step is ``flow_dpo_step`` on one pair of the same size.
Peak memory is ``torch.cuda.max_memory_allocated`` over the timed repetitions (weights included).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gpu_align import WAN_1_3B  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def run(tiny: bool, k: int, steps: int, window: int, repeats: int, rank: int, decode: bool) -> dict:
    import torch
    from diffusers import AutoencoderKLWan, WanPipeline, WanTransformer3DModel
    from diffusers.video_processor import VideoProcessor

    from videobench.align.config import AlignConfig
    from videobench.align.grpo_trainer import Rollouts, loss_and_backward, sample_sde
    from videobench.align.grpo_math import group_advantages
    from videobench.align.lora import LoraSettings, add_lora, lora_parameters
    from videobench.align.models import WanFamily
    from videobench.align.objectives import Reference, flow_dpo_step
    from videobench.align.rewards import PixelReward
    from videobench.align.trainer import _cast_base
    from videobench.testing.tiny_pipelines import TINY_WAN_TRANSFORMER, TINY_WAN_VAE

    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    dtype = torch.bfloat16
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    torch.manual_seed(0)
    with torch.device(device):
        model = WanTransformer3DModel(**(TINY_WAN_TRANSFORMER if tiny else WAN_1_3B))
        vae = AutoencoderKLWan(**(TINY_WAN_VAE if tiny else {}))  # the default config is Wan 2.1's VAE
    _cast_base(model, dtype)
    vae.to(dtype)
    add_lora(model, LoraSettings(rank=rank, alpha=2 * rank))
    model.to(device)
    model.enable_gradient_checkpointing()
    model.train()
    family = WanFamily(pipeline_cls=WanPipeline, channels=16, latents_mean=tuple(vae.config.latents_mean),
                       latents_std=tuple(vae.config.latents_std))

    class _Pipe:  # what WanFamily.decode reads
        pass

    pipe = _Pipe()
    pipe.vae, pipe.video_processor = vae, VideoProcessor(vae_scale_factor=8)
    reference = Reference(model, family, "disabled")
    optimizer = torch.optim.AdamW(lora_parameters(model), lr=1e-5)
    frames, height, width = (9, 32, 32) if tiny else (33, 480, 832)
    shape = family.latent_shape(frames, height, width)
    text = (16, 32) if tiny else (512, 4096)
    cond = {"prompt_embeds": torch.randn(k, *text, device=device, dtype=dtype)}
    sigmas = torch.linspace(1.0, 0.0, steps + 1)
    win = range(steps // 2 - window // 2, steps // 2 - window // 2 + window)
    config = AlignConfig(method="grpo", samples_per_prompt=k, prompts_per_step=1, num_inference_steps=steps,
                         sde_window=window, guidance_scale=1.0, kl_beta=0.004, noise_level=0.7)
    reward = PixelReward("contrast")
    predict = lambda x, t, c: family.predict(model, x, t, c)  # noqa: E731

    def grpo_step() -> dict[str, float]:
        times = {}
        t0 = time.perf_counter()
        model.eval()
        with torch.autocast(device.type, dtype=dtype):
            traj = sample_sde(predict, torch.randn(k, *shape, device=device), cond, sigmas, 0.7, win,
                              [torch.Generator().manual_seed(i) for i in range(k)])
        model.train()
        sync()
        times["rollout"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        videos = family.decode(pipe, traj.final) if decode else None
        sync()
        times["decode"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        rewards = torch.tensor([reward(v) for v in videos]) if decode else torch.randn(k)
        times["reward"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        roll = Rollouts(traj.states, traj.log_probs, cond, rewards.double(), {}, torch.zeros(k, dtype=torch.long))
        adv = group_advantages(rewards, torch.zeros(k, dtype=torch.long))
        for wi, j in enumerate(win):
            for i in range(k):  # one sample per forward: the memory of one video, as a 1.3B run at 480p needs
                with torch.autocast(device.type, dtype=dtype):
                    loss_and_backward(config, lambda loss: loss.backward(), predict, reference.predict, roll, adv,
                                      torch.tensor([i], device=device), wi, float(sigmas[j]), float(sigmas[j + 1]),
                                      None, 1.0 / (k * len(win)), device)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        sync()
        times["train"] = time.perf_counter() - t0
        return times

    def dpo_step() -> float:
        t0 = time.perf_counter()
        x = torch.randn(2, *shape, device=device, dtype=dtype)
        with torch.autocast(device.type, dtype=dtype):
            out, _ = flow_dpo_step(predict, reference, x[:1], x[1:], {"prompt_embeds": cond["prompt_embeds"][:1]},
                                   torch.randn(1, *shape, device=device, dtype=dtype), torch.rand(1, device=device))
        out.loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        sync()
        return time.perf_counter() - t0

    grpo_step()  # warm-up (kernels, allocator)
    dpo_step()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    grpo = [grpo_step() for _ in range(repeats)]
    peak = torch.cuda.max_memory_allocated() / 2**30 if cuda else 0.0
    dpo = statistics.median(dpo_step() for _ in range(repeats))
    med = {key: statistics.median(t[key] for t in grpo) for key in grpo[0]}
    total = sum(med.values())
    return {"device": str(device), "tokens": shape[1] * (shape[2] // 2) * (shape[3] // 2), "k": k, "steps": steps,
            "window": window, **{f"{key}_s": v for key, v in med.items()}, "grpo_step_s": total, "dpo_step_s": dpo,
            "grpo_over_dpo": total / dpo, "peak_gib": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="tiny configs: a smoke test that runs on a CPU")
    parser.add_argument("--k", type=int, default=4, help="samples per prompt (the group)")
    parser.add_argument("--steps", type=int, default=10, help="denoising steps of a rollout")
    parser.add_argument("--window", type=int, default=2, help="stochastic (trained) steps: the 'fast' variant")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--rank", type=int, default=64)
    parser.add_argument("--no-decode", action="store_true", help="skip the VAE decode and the reward")
    parser.add_argument("--json", type=Path, help="also write the row here")
    args = parser.parse_args()
    row = run(args.tiny, args.k, args.steps, args.window, args.repeats, args.rank, not args.no_decode)
    print(f"Wan {'tiny' if args.tiny else '1.3B'} (bf16, LoRA rank {args.rank}, checkpointing), {row['tokens']} "
          f"tokens/video, K={row['k']}, {row['steps']} steps, window {row['window']}, {row['device']}")
    for key in ("rollout_s", "decode_s", "reward_s", "train_s", "grpo_step_s", "dpo_step_s"):
        print(f"  {key:<13}{row[key]:>9.3f}")
    print(f"  GRPO step / DPO step: {row['grpo_over_dpo']:.1f}x; peak {row['peak_gib']:.1f} GiB")
    if args.json:
        args.json.write_text(json.dumps(row, indent=2))


if __name__ == "__main__":
    main()
