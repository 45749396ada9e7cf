"""Benchmark of ``videobench compare`` orchestration on 2 tiny Wan checkpoints × 32 prompts (1 seed).

- bare: the same work by hand: load both pipelines, call them per item, write the mp4s, ``score_items`` them.
- compare (first run): ``run_compare`` with an empty render store and score cache (includes analysis, tables, report).
- compare (rerun): the same call again: every render and score comes from the stores.
Targets: first run <= 1.2x bare; rerun <= 10% of the first run. Each timing is the best of ``--repeats``.

    .venv/bin/python bench/compare.py [--prompts 32] [--repeats 3]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

import numpy as np

from videobench.rewards.base import Clip, Sampling

sys.path.insert(0, str(Path(__file__).resolve().parent))
from table import Table  # noqa: E402

SETTINGS = dict(steps=2, height=32, width=32, num_frames=5, fps=8.0)
QUERY = "?steps=2&height=32&width=32&num_frames=5&fps=8"


class Sharpness:
    """A weight-free pixel reward (mean |Laplacian|), so the benchmark measures orchestration, not a model."""

    name = "sharpness"
    dimensions = ("VQ",)
    sampling = Sampling(fps=None, num_frames=4)
    needs_frames = True

    def fingerprint(self) -> str:
        return hashlib.sha256(b"bench.compare.Sharpness.v1").hexdigest()[:16]

    def score(self, clips: Sequence[Clip], prompts: Sequence[str]) -> dict[str, np.ndarray]:
        out = []
        for clip in clips:
            x = np.asarray(clip.frames, dtype=np.float64).mean(axis=-1)
            lap = 4 * x[:, 1:-1, 1:-1] - x[:, :-2, 1:-1] - x[:, 2:, 1:-1] - x[:, 1:-1, :-2] - x[:, 1:-1, 2:]
            out.append(np.abs(lap).mean())
        return {"VQ": np.asarray(out)}


def bare(models: dict[str, Path], prompts, out: Path) -> float:
    import torch
    from diffusers import WanPipeline

    from videobench.scoring import score_items
    from videobench.video import write_video

    t0 = time.perf_counter()
    items = []
    for name, path in models.items():
        pipe = WanPipeline.from_pretrained(str(path))
        pipe.set_progress_bar_config(disable=True)
        for p in prompts:
            with torch.inference_mode():
                frames = pipe(prompt=p.text, num_inference_steps=SETTINGS["steps"], height=SETTINGS["height"],
                              width=SETTINGS["width"], num_frames=SETTINGS["num_frames"], output_type="np",
                              generator=torch.Generator("cpu").manual_seed(0)).frames[0]
            path_out = out / name / f"{p.id}.mp4"
            write_video(path_out, (np.clip(frames, 0, 1) * 255).round().astype(np.uint8), SETTINGS["fps"])
            items.append((str(path_out), p.text))
    score_items(items, [Sharpness()], cache_dir=out / "scores", show_progress=False)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--prompts", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)

    from videobench.compare import CompareConfig, run_compare
    from videobench.prompts import load_prompts
    from videobench.testing.tiny_pipelines import build_tiny_wan_pipeline

    suite = load_prompts("vbench-946", args.prompts)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        models = {"a": root / "wan-a", "b": root / "wan-b"}
        for seed, path in enumerate(models.values()):
            build_tiny_wan_pipeline(out_dir=path, seed=seed)
        bare(models, suite.prompts[:2], root / "warmup")  # imports, first-call costs

        bare_s, first_s, rerun_s, fastest = [], [], [], None
        for rep in range(args.repeats):
            bare_s.append(bare(models, suite.prompts, root / f"bare{rep}"))
            cfg = CompareConfig(generators={n: f"wan:{p}{QUERY}" for n, p in models.items()}, prompts=suite,
                                rewards=[Sharpness()], output=root / f"out{rep}", render_dir=root / f"renders{rep}",
                                cache_dir=root / f"scores{rep}")
            t0 = time.perf_counter()
            out = run_compare(cfg)
            first_s.append(time.perf_counter() - t0)
            if first_s[-1] == min(first_s):
                fastest = out
            t0 = time.perf_counter()
            again = run_compare(cfg)
            rerun_s.append(time.perf_counter() - t0)
            assert again.render_stats.rendered == 0

    b, f, r = min(bare_s), min(first_s), min(rerun_s)
    n = 2 * args.prompts
    table = Table("compare", "Compare: rendering and scoring two tiny Wan checkpoints", ["seconds", "ratio"],
                  "OMP_NUM_THREADS=1 .venv/bin/python bench/compare.py")
    table.add("bare pipeline calls + write + score_items", seconds=f"{b:.2f}")
    table.add("compare, first run (vs bare)", seconds=f"{f:.2f}", ratio=f"{f / b:.2f}x", target="<= 1.20x",
              met=f / b <= 1.2)
    table.add("compare, rerun from the stores (vs first run)", seconds=f"{r:.2f}", ratio=f"{r / f:.2f}x",
              target="<= 0.10x", met=r / f <= 0.10)
    table.note(f"2 tiny Wan checkpoints x {args.prompts} prompts = {n} renders, best of {args.repeats}, wall seconds. "
               "Fastest first run, breakdown (s): " + ", ".join(f"{k} {v:.2f}" for k, v in fastest.timings.items()))
    return table.write()


if __name__ == "__main__":
    sys.exit(main())
