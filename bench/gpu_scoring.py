"""VideoReward adapter throughput on a GPU: a Qwen2-VL-2B-sized model (random weights, bf16) scoring 2 fps clips.

Prepared for a lent GPU; ``--tiny`` runs the same code path on CPU with the tiny test model, so it is checked here.

    python bench/gpu_scoring.py                 # 2B-sized, cuda, bf16, 448x448 frames, batch sizes 1 4 8
    python bench/gpu_scoring.py --tiny          # tiny model, CPU, float32, 64x64 frames

Frames are random uint8 already sampled at 2 fps (``--seconds`` long, default 5 s: 10 frames); decoding is measured
elsewhere (bench/scoring.py). Reported: videos/s per batch size (median of ``--repeats`` timed runs after a warm-up),
tokens per video, and the peak GPU memory of each batch size. Random weights give the real model's cost: compute
does not depend on the values.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from videobench.rewards.base import Clip, Sampling  # noqa: E402
from videobench.rewards.videoreward import RewardNet, VideoRewardModel  # noqa: E402
from videobench.testing.tiny_qwen2vl import (  # noqa: E402
    REWARD_TOKENS,
    TINY_TEMPLATE,
    build_tiny_tokenizer,
    tiny_qwen2vl_config,
)


def qwen2vl_2b_config():
    """Qwen2-VL-2B-Instruct's architecture. Token ids point at the offline test tokenizer's specials (0-6), which
    does not change any cost: the vocabulary keeps its real size."""
    from transformers import Qwen2VLConfig

    return Qwen2VLConfig(
        text_config=dict(
            vocab_size=151936, hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12,
            num_key_value_heads=2, max_position_embeddings=32768, rms_norm_eps=1e-6,
            rope_parameters={"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [16, 24, 24]},
            bos_token_id=0, eos_token_id=2, pad_token_id=0,
        ),
        vision_config=dict(depth=32, embed_dim=1280, hidden_size=1536, num_heads=16, mlp_ratio=4, patch_size=14,
                           spatial_merge_size=2, temporal_patch_size=2, in_channels=3),
        image_token_id=5, video_token_id=6, vision_start_token_id=3, vision_end_token_id=4, tie_word_embeddings=True,
    )


def build_model(tiny: bool, device: torch.device, dtype: torch.dtype, attn: str, side: int) -> VideoRewardModel:
    from transformers import Qwen2VLForConditionalGeneration

    tokenizer = build_tiny_tokenizer(reward_tokens=True)
    config = tiny_qwen2vl_config(len(tokenizer)) if tiny else qwen2vl_2b_config()
    config._attn_implementation = attn
    with torch.device(device):  # initialise on the device: a 2B model initialised on CPU takes minutes
        backbone = Qwen2VLForConditionalGeneration._from_config(config, dtype=dtype)
        net = RewardNet(backbone, len(REWARD_TOKENS)).to(dtype)
    net.eval()
    return VideoRewardModel(
        net, tokenizer, TINY_TEMPLATE, name="videoreward:bench-random", dimensions=("VQ", "MQ", "TA"),
        reward_tokens=REWARD_TOKENS, norm={d: (0.0, 1.0) for d in ("VQ", "MQ", "TA")},
        sampling=Sampling(fps=2.0, max_pixels=side * side), use_norm=True, min_pixels=min(side * side, 128 * 28 * 28),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="tiny model on CPU (checks the script)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=None)
    parser.add_argument("--videos", type=int, default=None, help="videos per timed run (default 16; tiny 8)")
    parser.add_argument("--seconds", type=float, default=5.0, help="clip length at 2 fps")
    parser.add_argument("--side", type=int, default=None, help="frame side in pixels (default 448; tiny 64)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--attn", default="sdpa", help="attention implementation (sdpa, eager, flash_attention_2)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)

    tiny = args.tiny
    device = torch.device("cpu" if tiny or not torch.cuda.is_available() else "cuda")
    if not tiny and device.type != "cuda":
        print("no CUDA device: run with --tiny to check the script on CPU", file=sys.stderr)
        return 2
    dtype = torch.float32 if tiny else torch.bfloat16
    side = args.side or (64 if tiny else 448)
    batch_sizes = args.batch_sizes or ([1, 4] if tiny else [1, 4, 8])
    n_videos = args.videos or (8 if tiny else 16)
    frames_per_video = max(4, round(args.seconds * 2 / 2) * 2)

    t0 = time.perf_counter()
    model = build_model(tiny, device, dtype, args.attn, side)
    build_s = time.perf_counter() - t0
    params = sum(p.numel() for p in model.net.parameters())
    gen = torch.Generator().manual_seed(0)
    clips = [
        Clip(path=f"v{i}", content_hash=f"v{i}",
             frames=torch.randint(0, 256, (frames_per_video, side, side, 3), dtype=torch.uint8, generator=gen))
        for i in range(n_videos)
    ]
    prompts = [f"a dog runs in the snow, take {i}" for i in range(n_videos)]
    tokens = int(model.batch_inputs(clips[:1], prompts[:1])["input_ids"].shape[1])

    rows = []
    for bs in batch_sizes:
        model.batch_size = bs
        model.score(clips[:bs], prompts[:bs])  # warm-up (kernels, allocator)
        if device.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            scores = model.score(clips, prompts)
            if device.type == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - t)
        assert all(torch.isfinite(torch.as_tensor(v)).all() for v in scores.values())
        med = statistics.median(times)
        peak = torch.cuda.max_memory_allocated() / 2**30 if device.type == "cuda" else None
        rows.append({"batch_size": bs, "videos_per_s": n_videos / med, "seconds": med, "peak_gib": peak})

    info = {
        "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu", "dtype": str(dtype),
        "params_m": params / 1e6, "frames_per_video": frames_per_video, "side": side, "tokens_per_video": tokens,
        "videos_per_run": n_videos, "build_s": build_s, "attn": args.attn, "rows": rows,
    }
    print(f"VideoReward adapter, {'tiny' if tiny else 'Qwen2-VL-2B-sized'} ({params / 1e6:.1f}M params, random "
          f"weights, {dtype}) on {info['device']}; {frames_per_video} frames of {side}x{side} "
          f"(2 fps, {args.seconds:g} s) = {tokens} tokens per video; model built in {build_s:.1f} s")
    print(f"{'batch':>5} {'videos/s':>9} {'s/run':>7} {'peak GiB':>9} {'vs batch ' + str(rows[0]['batch_size']):>11}")
    for r in rows:
        peak = f"{r['peak_gib']:.2f}" if r["peak_gib"] is not None else "-"
        ratio = r["videos_per_s"] / rows[0]["videos_per_s"]
        print(f"{r['batch_size']:>5} {r['videos_per_s']:>9.2f} {r['seconds']:>7.2f} {peak:>9} {ratio:>10.2f}x")
    if args.json:
        args.json.write_text(json.dumps(info, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
