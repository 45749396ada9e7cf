"""Helpers for benchmark-loader tests: small files written into tmp_path (unique module name: tests have no packages)."""

from __future__ import annotations

import csv
from pathlib import Path


VGRB_HEADER = ["path_A", "path_B", "A_model", "B_model", "prompt", "fps_A", "num_frames_A", "fps_B", "num_frames_B",
               "VQ", "MQ", "TA", "Overall"]


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def vgrb_row(i: int, labels: tuple[str, str, str, str] = ("A", "B", "same", "A"), prompt: str | None = None) -> list[object]:
    return [f"videos/{i}_a.mp4", f"videos/{i}_b.mp4", "gen-x", "gen-y", prompt or f"prompt number {i}",
            24.0, 120, 16.0, 64, *labels]
