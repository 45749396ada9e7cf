"""A tiny labelled benchmark (VideoAlign's training CSV format) over the three real fixture clips, and tiny settings."""

from __future__ import annotations

import shutil
from pathlib import Path

FIXTURE_CLIPS = Path(__file__).resolve().parents[1] / "fixtures" / "videoalign_reference" / "clips"
#: Small frames and few of them: a step of the tiny model takes milliseconds.
TINY_SETTINGS = dict(num_frames=4, fps=None, max_pixels=56 * 56, min_pixels=28 * 28, lora_rank=4, lora_alpha=8,
                     batch_size=2, grad_accum=1, lr=1e-3, cpu=True)


def write_pair_csv(folder: Path) -> Path:
    """6 pairs, 2 per prompt (VQ/MQ/TA labels A/B/same); each prompt has its own copies of the 3 clips, so holding
    out a prompt holds out its videos."""
    for k in range(3):
        (folder / "videos" / str(k)).mkdir(parents=True, exist_ok=True)
        for clip in ("bikes", "bunny", "carphone"):
            shutil.copy(FIXTURE_CLIPS / f"{clip}.mp4", folder / "videos" / str(k) / f"{clip}.mp4")
    rows = [
        ("bikes", "bunny", "people ride bikes in a street", "A", "B", "A"),
        ("bunny", "carphone", "people ride bikes in a street", "same", "A", "B"),
        ("carphone", "bikes", "a rabbit in a meadow", "B", "same", "same"),
        ("bunny", "bikes", "a rabbit in a meadow", "A", "A", "A"),
        ("carphone", "bunny", "a man talks on a phone in a car", "A", "B", "A"),
        ("bikes", "carphone", "a man talks on a phone in a car", "B", "A", "same"),
    ]
    lines = ["path_A,path_B,prompt,VQ,MQ,TA"] + [f"videos/{i // 2}/{a}.mp4,videos/{i // 2}/{b}.mp4,{p},{vq},{mq},{ta}"
                                                  for i, (a, b, p, vq, mq, ta) in enumerate(rows)]
    csv = folder / "train.csv"
    csv.write_text("\n".join(lines) + "\n")
    return csv
