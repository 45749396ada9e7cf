"""VideoReward scoring throughput on a GPU: a Qwen2-VL-2B-sized model (random weights, bf16) scoring 2 fps clips,
videobench's engine against a reference-style path, batch sizes 1-16.

Prepared for a lent GPU (no network there: the model's configuration is written out below, its weights are random;
throughput does not depend on the values); ``--tiny`` runs the same code on CPU with the tiny test model, so it is
checked here (tests/bench/test_gpu_scoring.py).

    python bench/gpu_scoring.py                 # 2B-sized, cuda, bf16, 448x448 clips, batch sizes 1 2 4 8 16
    python bench/gpu_scoring.py --tiny          # tiny model, CPU, float32, 64x64 clips

Clips: real H.264 files written before any timer (``--seconds`` long at 8 fps, smooth random content, side x side
pixels = the 448^2 pixel budget), sampled at 2 fps. Two paths over the same files and the same model:
- videobench: ``score_items`` as ``videobench eval`` runs it (2 threads decode, resize and patchify the next clips
  while the model runs; uint8 patch order; no score cache).
- reference-style, EMULATED in-process (VideoAlign's environment, transformers 4.45 + decord, is not installed on the
  device machine): what VideoAlign's ``reward()`` does per call, in the calling thread: decode, its torchvision-style
  float resize, the processor's numpy rescale/normalise/patch order on float frames, the chat template and the
  tokenizer, one padded batch, the forward. Its scores are checked against videobench's.
Reported per batch size: videos/s of each path (median of ``--repeats`` timed runs after a warm-up), the ratio, and
the peak GPU memory.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from videobench.rewards.base import Sampling  # noqa: E402
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


def write_clips(out: Path, n: int, side: int, seconds: float) -> list[str]:
    """Smooth random clips (upsampled noise that drifts over time: encodes like real footage, not like static)."""
    from videobench.video import write_video

    gen = torch.Generator().manual_seed(0)
    frames_n = max(4, round(seconds * 8))
    paths = []
    for i in range(n):
        coarse = torch.rand((frames_n // 4 + 2, 3, side // 16 + 1, side // 16 + 1), generator=gen) * 255
        x = torch.nn.functional.interpolate(coarse[None].permute(0, 2, 1, 3, 4), size=(frames_n, side, side),
                                            mode="trilinear", align_corners=False)[0].permute(1, 2, 3, 0)
        path = out / f"clip{i:02d}.mp4"
        write_video(path, x.clamp(0, 255).to(torch.uint8), fps=8, crf=23)
        paths.append(str(path))
    return paths


def reference_style_pixels(model: VideoRewardModel, frames: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int, int]]:
    """EMULATION of VideoAlign's per-call preprocessing: its ``fetch_video`` (resize, then ``.float()``) and the 4.45
    image processor's numpy rescale, normalise and patch order on the float frames."""
    from videobench.rewards.qwen2vl_inputs import resize_for_model

    spec = model.patch_spec
    video = resize_for_model(frames, spec, model.pixel_budget(frames.shape[0]), model.min_pixels)
    x = video.permute(0, 3, 1, 2).float().numpy()  # (T, C, H, W) float, as fetch_video returns it
    x = x * np.float32(1 / 255)
    x = (x - np.array(spec.image_mean, dtype=np.float32)[:, None, None]) / np.array(spec.image_std,
                                                                                    dtype=np.float32)[:, None, None]
    p, tp, m = spec.patch_size, spec.temporal_patch_size, spec.merge_size
    if x.shape[0] % tp:
        x = np.concatenate([x, np.repeat(x[-1:], tp - x.shape[0] % tp, axis=0)])
    t, c, h, w = x.shape
    gt, gh, gw = t // tp, h // p, w // p
    x = x.reshape(gt, tp, c, gh // m, m, p, gw // m, m, p).transpose(0, 3, 6, 4, 7, 2, 1, 5, 8)
    return torch.from_numpy(np.ascontiguousarray(x.reshape(gt * gh * gw, c * tp * p * p))), (gt, gh, gw)


def reference_style_score(model: VideoRewardModel, paths: list[str], prompts: list[str], batch: int) -> np.ndarray:
    """One padded batch per call, everything on the calling thread (VideoAlign's ``reward()`` loop)."""
    from videobench.video import load_clip

    out = []
    device, dtype = model.device, model.dtype
    for start in range(0, len(paths), batch):
        videos = [reference_style_pixels(model, torch.as_tensor(load_clip(p, model.sampling).frames))
                  for p in paths[start : start + batch]]
        m2 = model.patch_spec.merge_size**2
        text = model.text_inputs(prompts[start : start + batch], [g[0] * g[1] * g[2] // m2 for _, g in videos])
        with torch.inference_mode():
            hidden = model.net.hidden_states(
                text["input_ids"].to(device), text["attention_mask"].to(device),
                torch.cat([v for v, _ in videos]).to(device, dtype),
                torch.tensor([g for _, g in videos], dtype=torch.long, device=device),
            )
            out.append(model.net.rewards(hidden, text["reward_positions"].to(device)).float().cpu().numpy())
    return np.concatenate(out)


def our_score(model: VideoRewardModel, paths: list[str], prompts: list[str], batch: int) -> np.ndarray:
    from videobench.scoring import score_items

    model.batch_size = batch
    table = score_items(list(zip(paths, prompts)), [model], use_cache=False, batch_size=batch, num_workers=2,
                        show_progress=False)[model.name]
    raw = np.stack([table[d].to_numpy() for d in model.reward_dimensions], axis=1)
    mean = np.array([model.norm[d][0] for d in model.reward_dimensions])
    std = np.array([model.norm[d][1] for d in model.reward_dimensions])
    return raw * std + mean if model.use_norm else raw  # back to raw rewards, to compare with the reference path


def timed_runs(fn: Any, repeats: int, cuda: bool) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="tiny model on CPU (checks the script)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=None, help="default 1 2 4 8 16; tiny 1 4")
    parser.add_argument("--videos", type=int, default=None, help="videos per timed run (default 32; tiny 8)")
    parser.add_argument("--seconds", type=float, default=5.0, help="clip length (sampled at 2 fps)")
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
    cuda = device.type == "cuda"
    dtype = torch.float32 if tiny else torch.bfloat16
    side = args.side or (64 if tiny else 448)
    batch_sizes = args.batch_sizes or ([1, 4] if tiny else [1, 2, 4, 8, 16])
    n_videos = args.videos or (8 if tiny else 32)

    t0 = time.perf_counter()
    model = build_model(tiny, device, dtype, args.attn, side)
    build_s = time.perf_counter() - t0
    params = sum(p.numel() for p in model.net.parameters())
    prompts = [f"a dog runs in the snow, take {i}" for i in range(n_videos)]
    with tempfile.TemporaryDirectory(prefix="videobench-gpu-scoring-") as tmp:
        paths = write_clips(Path(tmp), n_videos, side, args.seconds)
        from videobench.video import load_clip

        first = load_clip(paths[0], model.sampling)
        frames_per_video = int(first.frames.shape[0])
        tokens = int(model.batch_inputs([first], prompts[:1])["input_ids"].shape[1])
        rows, max_diff = [], 0.0
        for bs in batch_sizes:
            row: dict[str, Any] = {"batch_size": bs}
            for name, fn in (("videobench", our_score), ("reference_style", reference_style_score)):
                fn(model, paths[:bs], prompts[:bs], bs)  # warm-up (kernels, allocator)
                if cuda:
                    torch.cuda.synchronize()
                    torch.cuda.reset_peak_memory_stats()
                seconds, raw = timed_runs(lambda: fn(model, paths, prompts, bs), args.repeats, cuda)
                assert np.isfinite(raw).all()
                row[name] = {"videos_per_s": n_videos / seconds, "seconds": seconds,
                             "peak_gib": torch.cuda.max_memory_allocated() / 2**30 if cuda else None}
                row.setdefault("raw", []).append(raw)
            a, b = row.pop("raw")
            max_diff = max(max_diff, float(np.abs(a - b).max()))
            row["ratio"] = row["videobench"]["videos_per_s"] / row["reference_style"]["videos_per_s"]
            rows.append(row)

    info = {
        "device": torch.cuda.get_device_name() if cuda else "cpu", "dtype": str(dtype), "params_m": params / 1e6,
        "frames_per_video": frames_per_video, "side": side, "tokens_per_video": tokens, "videos_per_run": n_videos,
        "build_s": build_s, "attn": args.attn, "max_abs_raw_reward_diff": max_diff, "rows": rows,
        "reference_style": "emulated in-process (VideoAlign's environment is not on the device machine)",
    }
    print(f"VideoReward, {'tiny' if tiny else 'Qwen2-VL-2B-sized'} ({params / 1e6:.1f}M params, random weights, "
          f"{dtype}) on {info['device']}; {n_videos} H.264 clips of {side}x{side}, {frames_per_video} frames each at "
          f"2 fps = {tokens} tokens per video; model built in {build_s:.1f} s; reference-style path EMULATED "
          f"in-process; max |raw reward difference| between the paths {max_diff:.1e}")
    print(f"{'batch':>5} {'videobench v/s':>15} {'reference-style v/s':>20} {'ratio':>6} {'peak GiB (ours/ref)':>20}")
    for r in rows:
        ours, ref = r["videobench"], r["reference_style"]
        peak = f"{ours['peak_gib']:.2f}/{ref['peak_gib']:.2f}" if cuda else "-"
        print(f"{r['batch_size']:>5} {ours['videos_per_s']:>15.2f} {ref['videos_per_s']:>20.2f} {r['ratio']:>5.2f}x "
              f"{peak:>20}")
    if args.json:
        args.json.write_text(json.dumps(info, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
