"""Reward-model training step against a plain forward + backward of the same model and batch (tiny Qwen2-VL, CPU).

    python bench/reward_model.py [--pairs 2] [--frames 8] [--side 224] [--steps 8]

Rows: "plain" = the batch prepared once outside the timer, then forward, preference loss, backward, AdamW step (the
same trainable parts: LoRA, vision tower, merger, head, embedding table); "trainer" = what
``train_reward_model`` does per step: the batch built again from the in-memory frame cache (patchify, chat text,
tokenize), the same forward/backward/step, then every embedding row but the reward tokens' restored. The frame cache
is filled before the timer (decoding is a first-epoch cost that the cache removes from later epochs); as in the
trainer, each step's batch is built after the previous optimiser step, when activations and gradients are freed. Targets:
<= 1.3x the time and <= 1.2x the step memory of plain.

Memory is measured as bench/align.py does (a fresh process per mode, ``MALLOC_MMAP_THRESHOLD_=65536``, the kernel's
peak-RSS counter reset after a warm-up step; "step MB" = peak − RSS before the timed steps). Times come from one
process that alternates the two modes, so machine load hits both alike. ``bench/gpu_reward_model.py`` runs the same
two steps on a GPU at the 2B size.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # first: bench/align.py, not the repo's align/ package

MODES = ("plain", "trainer")
TARGET = (1.3, 1.2)  # (time, memory) ratio targets of trainer vs plain


def write_videos(folder: Path, count: int, frames: int, side: int) -> list[Path]:
    """``count`` synthetic clips (a moving gradient with noise, distinct per clip) as H.264 files."""
    import numpy as np

    from videobench.video import write_video

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:side, 0:side]
    paths = []
    for k in range(count):
        clip = np.stack([np.stack([(x + 4 * t * (k + 1)) % 256, (y + 3 * t) % 256, (x + y + 17 * k) % 256], -1)
                         for t in range(frames)]).astype(np.float64)
        clip = np.clip(clip + rng.normal(0, 6, clip.shape), 0, 255).astype(np.uint8)
        path = folder / f"clip{k}.mp4"
        write_video(path, clip, 8.0)
        paths.append(path)
    return paths


def setup(mode: str, base: str, videos: list[Path], pairs: int, frames: int, side: int, device: str = "cpu",
          dtype: str = "float32", rank: int = 16, vocab_rows: int | None = None) -> tuple[Callable[[], None], Any, Any, list[int]]:
    """One training step of ``mode`` on ``pairs`` pairs of ``videos`` (A = clip i, B = clip i + 1); returns the step,
    the model, the inputs (frame cache filled) and the pair rows. ``vocab_rows``: embedding rows to train with (the
    real tokenizer's length + 3, where the bench runs a stand-in tokenizer)."""
    import pandas as pd
    import torch

    from videobench.align.losses import preference_loss
    from videobench.align.reward_model import EmbeddingRowRestore, build_reward_model, parameter_groups
    from videobench.align.reward_model_data import FrameCache, RewardPairs
    from videobench.align.reward_model_train import DEFAULT_TEMPLATE, RewardModelConfig, _Inputs, pair_loss
    from videobench.data.benchmark import PairBenchmark

    torch.manual_seed(0)
    n = len(videos)
    table = pd.DataFrame({
        "pair_id": [f"p{i}" for i in range(pairs)], "prompt": [f"a clip number {i}" for i in range(pairs)],
        "video_A": [str(videos[i % n]) for i in range(pairs)], "video_B": [str(videos[(i + 1) % n]) for i in range(pairs)],
        "label_VQ": [1] * pairs, "label_MQ": [-1] * pairs, "label_TA": [0] * pairs,
    })
    bench = PairBenchmark("bench", table, ("VQ", "MQ", "TA"))
    config = RewardModelConfig(base_model=base, num_frames=frames, fps=None, max_pixels=side * side,
                               min_pixels=min(side * side, 128 * 28 * 28), lora_rank=rank, lora_alpha=2 * rank,
                               lr=1e-5, dtype=dtype)  # type: ignore[arg-type]
    model = build_reward_model(base, DEFAULT_TEMPLATE, config.policy(), sampling=config.sampling(),
                               min_pixels=config.min_pixels, dtype=getattr(torch, dtype))
    if vocab_rows:  # a stand-in tokenizer is smaller than the real one: keep the real embedding table's size
        model.net.backbone.resize_token_embeddings(vocab_rows)
    net = model.net.to(device).train()
    data = RewardPairs.from_benchmark(bench, ("VQ", "MQ", "TA"))
    cache = FrameCache(None, model.sampling, model.patch_spec, config.min_pixels, budget=model.pixel_budget)
    inputs = _Inputs(model, data, cache)
    rows = list(range(pairs))
    for v in range(len(data.videos)):  # decode outside the timer: later epochs read the cache
        cache.inputs(data.videos[v])
    optimizer = torch.optim.AdamW(parameter_groups(net, config.policy()))

    if mode == "plain":
        batch = inputs.pair_batch(rows)
        sel = torch.tensor(rows)

        def step() -> None:
            ra, rb = net(**batch).float().chunk(2)
            preference_loss(ra, rb, data.labels[sel], "btt").backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
    else:
        restore = EmbeddingRowRestore(net, list(model.reward_token_ids))
        ready = {"batch": inputs.pair_batch(rows)}

        def step() -> None:  # as the trainer: the next batch is built after the optimiser step
            pair_loss(net, inputs, rows, config, batch=ready.pop("batch")).backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            restore.restore()
            ready["batch"] = inputs.pair_batch(rows)

    return step, model, inputs, rows


def _prepare(frames: int, side: int, pairs: int) -> tuple[str, list[Path]]:
    from videobench.testing.tiny_qwen2vl import build_tiny_base

    root = Path(tempfile.mkdtemp(prefix="bench-rm-"))
    base = build_tiny_base(root / "base")
    return str(base), write_videos(root / "videos", max(2, pairs + 1), frames, side)


def worker_memory(mode: str, base: str, videos: list[Path], args: argparse.Namespace) -> dict:
    import gc

    import torch

    from align import _reset_peak, _rss_kb

    torch.set_num_threads(1)
    step = setup(mode, base, videos, args.pairs, args.frames, args.side)[0]
    step()  # warm-up: optimizer state, one-off allocations
    gc.collect()
    before = _rss_kb()
    if not _reset_peak():
        raise RuntimeError("cannot reset the peak-RSS counter (/proc/self/clear_refs)")
    for _ in range(args.steps):
        step()
    return {"mode": mode, "step_peak_mb": (_rss_kb("VmHWM") - before) / 1024}


def worker_time(base: str, videos: list[Path], args: argparse.Namespace) -> dict:
    import torch

    torch.set_num_threads(1)
    steps = {m: setup(m, base, videos, args.pairs, args.frames, args.side)[0] for m in MODES}
    for fn in steps.values():
        fn()
        fn()
    times: dict[str, list[float]] = {m: [] for m in MODES}
    for _ in range(args.steps):
        for m, fn in steps.items():
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
    parser.add_argument("--pairs", type=int, default=2, help="pairs per step (2 videos each)")
    parser.add_argument("--frames", type=int, default=8, help="frames sampled per video")
    parser.add_argument("--side", type=int, default=224, help="frame side in pixels (a multiple of 28)")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--worker", choices=[*MODES, "time"], help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    parser.add_argument("--videos", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        videos = [Path(v) for v in args.videos]
        result = worker_time(args.base, videos, args) if args.worker == "time" else \
            worker_memory(args.worker, args.base, videos, args)
        print(json.dumps(result))
        return 0

    from table import Table

    base, videos = _prepare(args.frames, args.side, args.pairs)
    common = ["--pairs", str(args.pairs), "--frames", str(args.frames), "--side", str(args.side), "--steps",
              str(args.steps), "--base", base, "--videos", *map(str, videos)]
    mem = {m: _spawn(["--worker", m, *common]) for m in MODES}
    times = _spawn(["--worker", "time", *common])
    table = Table("reward_model", "Reward model: a training step against a plain forward + backward",
                  ["step ms", "time x", "step MB", "mem x"], ".venv/bin/python bench/reward_model.py")
    table.note(f"tiny Qwen2-VL (hidden 64, 2 layers), {args.pairs} pairs = {2 * args.pairs} videos of {args.frames} "
               f"frames at {args.side}x{args.side}, LoRA rank 16, vision tower + merger + head + embeddings trained, "
               f"{args.steps} steps, 1 CPU thread; each mode's memory in a fresh process.")
    names = {"plain": "plain forward + backward + AdamW (batch prepared once)",
             "trainer": "training step (batch from the frame cache, embedding rows restored)"}
    base_t, base_m = times["plain"], mem["plain"]["step_peak_mb"]
    for m in MODES:
        t, pm = times[m], mem[m]["step_peak_mb"]
        target = m == "trainer"
        table.add(names[m], **{"step ms": f"{t * 1000:.1f}", "time x": f"{t / base_t:.2f}", "step MB": f"{pm:.1f}",
                               "mem x": f"{pm / base_m:.2f}"},
                  target=f"<= {TARGET[0]}x time, <= {TARGET[1]}x mem" if target else "",
                  met=(t / base_t <= TARGET[0] and pm / base_m <= TARGET[1]) if target else None)
    return table.write()


if __name__ == "__main__":
    sys.exit(main())
