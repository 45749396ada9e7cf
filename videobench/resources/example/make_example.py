"""Write the synthetic example benchmark and scores shipped with videobench (run it to regenerate them; seeded).

    python videobench/resources/example/make_example.py

Outputs, beside this file:
- ``example-bench.csv``: a VideoGen-RewardBench-format CSV (``path_A, path_B, A_model, B_model, prompt, fps_A,
  num_frames_A, fps_B, num_frames_B, VQ, MQ, TA, Overall``; labels ``A`` / ``B`` / ``same``). No video files exist:
  the example is for evaluating precomputed scores.
- ``example-model.scores.csv``: per-video scores (``video, VQ, MQ, TA``) of a synthetic reward model, no Overall (so
  the paper's derived Overall is exercised).

How it is made: each generator has a quality per dimension; each video's latent quality is its generator's plus
noise; a human label is the sign of the latent difference plus annotator noise, with "same" when that is small
(about a quarter of the labels, close to VideoGen-RewardBench's tie rates). Overall follows the sum of the three.
The model sees the latent quality through noise, so it agrees with humans clearly more often than chance, not always.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

SEED = 2501_13918
N_PAIRS = 300
DIMS = ("VQ", "MQ", "TA")
GENERATORS = {  # made-up names; quality offsets per dimension (VQ, MQ, TA)
    "gen-alpha": (0.6, 0.4, 0.5),
    "gen-beta": (0.3, 0.5, 0.1),
    "gen-gamma": (0.0, 0.0, 0.0),
    "gen-delta": (-0.2, -0.4, 0.3),
    "gen-epsilon": (-0.5, -0.3, -0.4),
}
SUBJECTS = ("a red fox", "an astronaut", "a paper boat", "two cyclists", "a hot-air balloon", "a chef",
            "a golden retriever", "a koi fish", "a steam train", "a ballet dancer")
ACTIONS = ("moves slowly across", "turns around in", "races through", "drifts above", "pauses in")
SETTINGS = ("a snowy forest", "a neon-lit street at night", "a quiet library", "a windy beach at sunset")
TIE_BAND = 0.35  # |difference| below this is labelled "same"
ANNOTATOR_NOISE = 0.45
MODEL_NOISE = 0.9


def _label(diff: float) -> str:
    return "same" if abs(diff) < TIE_BAND else ("A" if diff > 0 else "B")


def make(out_dir: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(SEED)
    prompts = [f"{s} {a} {p}" for s in SUBJECTS for a in ACTIONS for p in SETTINGS]
    prompts = [prompts[i] for i in rng.permutation(len(prompts))[:80]]
    names = list(GENERATORS)
    offsets = np.array([GENERATORS[g] for g in names])
    latent = offsets[None, :, :] + rng.normal(0.0, 0.6, size=(len(prompts), len(names), len(DIMS)))
    fps = rng.choice([8.0, 16.0, 24.0, 30.0], size=(len(prompts), len(names)))
    frames = (fps * rng.uniform(2.0, 6.0, size=fps.shape)).round()

    def video(p: int, g: int) -> str:
        return f"videos/{names[g]}/{p:03d}.mp4"

    # Distinct (prompt, generator pair) combinations, so no pair repeats.
    combos = [(p, a, b) for p in range(len(prompts)) for a in range(len(names)) for b in range(len(names)) if a != b]
    chosen = sorted(rng.choice(len(combos), size=N_PAIRS, replace=False))
    bench_path = out_dir / "example-bench.csv"
    used: set[tuple[int, int]] = set()
    with bench_path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["path_A", "path_B", "A_model", "B_model", "prompt", "fps_A", "num_frames_A", "fps_B",
                    "num_frames_B", *DIMS, "Overall"])
        for idx in chosen:
            p, a, b = combos[idx]
            used.update({(p, a), (p, b)})
            diffs = latent[p, a] - latent[p, b] + rng.normal(0.0, ANNOTATOR_NOISE, size=len(DIMS))
            overall = diffs.sum() / np.sqrt(len(DIMS)) + rng.normal(0.0, ANNOTATOR_NOISE)
            w.writerow([video(p, a), video(p, b), names[a], names[b], prompts[p], f"{fps[p, a]:.1f}",
                        f"{frames[p, a]:.0f}", f"{fps[p, b]:.1f}", f"{frames[p, b]:.0f}",
                        *(_label(d) for d in diffs), _label(overall)])

    scores_path = out_dir / "example-model.scores.csv"
    with scores_path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["video", *DIMS])
        for p, g in sorted(used):
            seen = latent[p, g] + rng.normal(0.0, MODEL_NOISE, size=len(DIMS))
            w.writerow([video(p, g), *(f"{x:.6f}" for x in seen)])
    return bench_path, scores_path


if __name__ == "__main__":
    for path in make(Path(__file__).resolve().parent):
        print(f"wrote {path}")
