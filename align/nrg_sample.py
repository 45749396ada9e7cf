"""Render prompts × seeds with Flow-NRG into a folder, one item at a time, resumable after a kill.

    from videobench.align.nrg_sample import NRGRun, sample_nrg
    sample_nrg(pipe, NRGRun(pipeline="wan-dir", reward_model="rm-dir", prompts=["a cat"], seeds=[0]), "out/")

Layout of the output folder:
    promptNNN__seedS.mp4        the videos (each written to a temp name and renamed: never half a file)
    .items/promptNNN__seedS.json  per item: its settings key and the per-step guidance history
    nrg.json                    the run (settings, sampling, every item), written last, atomically

An item whose video and record exist with the same settings key is not rendered again, so a killed run resumes where
it stopped; a changed setting (w, λ, σ window, sampling, model) renders every item anew.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from videobench.atomic import replacing, write_text

ITEMS_DIR = ".items"
RUN_FILE = "nrg.json"

__all__ = ["NRGRun", "sample_nrg", "item_name"]


@dataclass(frozen=True)
class NRGRun:
    """What one NRG sampling run renders (the guidance settings live in the pipeline's handle)."""

    pipeline: str
    reward_model: str
    prompts: Sequence[str]
    seeds: Sequence[int] = (0,)
    steps: int = 50
    guidance: float = 5.0
    height: int = 480
    width: int = 832
    num_frames: int = 81
    fps: float = 16.0

    @property
    def sampling(self) -> dict[str, Any]:
        return {"steps": self.steps, "guidance": self.guidance, "height": self.height, "width": self.width,
                "num_frames": self.num_frames, "fps": self.fps}


def item_name(index: int, seed: int) -> str:
    return f"prompt{index:03d}__seed{seed}"


def _settings_key(run: NRGRun, settings: dict[str, Any], prompt: str, seed: int) -> str:
    blob = json.dumps({"pipeline": run.pipeline, "reward_model": run.reward_model, "settings": settings,
                       "sampling": run.sampling, "prompt": prompt, "seed": seed}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def _read_record(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None  # missing or torn by a kill before the rename: render again


def sample_nrg(pipe: Any, run: NRGRun, output_dir: str | Path,
               progress: Callable[[int], Any] | None = None) -> dict[str, Any]:
    """Render every (prompt, seed) of ``run`` with the NRG-guided ``pipe`` (see :func:`apply_nrg`) into
    ``output_dir``, skipping items already rendered with the same settings; returns (and writes) ``nrg.json``.

    ``progress`` is called with 1 after each item (rendered or reused), e.g. a tqdm bar's ``update``.
    """
    from videobench.video.writer import write_video

    handle = pipe._videobench_nrg
    s = handle.settings
    settings = {"w": s.w, "weights": s.weights, "sigma_min": s.sigma_min, "sigma_max": s.sigma_max,
                "max_factor": s.max_factor, "max_grad_norm": s.max_grad_norm}
    out = Path(output_dir)
    (out / ITEMS_DIR).mkdir(parents=True, exist_ok=True)
    items = []
    for i, prompt in enumerate(run.prompts):
        for seed in run.seeds:
            name = item_name(i, seed)
            video, record_path = out / f"{name}.mp4", out / ITEMS_DIR / f"{name}.json"
            key = _settings_key(run, settings, prompt, seed)
            record = _read_record(record_path)
            if record is None or record.get("key") != key or not video.is_file():
                handle.guidance.history.clear()
                result = pipe(prompt=prompt, num_inference_steps=run.steps, guidance_scale=run.guidance,
                              height=run.height, width=run.width, num_frames=run.num_frames, output_type="np",
                              generator=torch.Generator("cpu").manual_seed(seed))
                frames = (np.clip(result.frames[0], 0, 1) * 255).round().astype(np.uint8)
                with replacing(video) as tmp:
                    write_video(tmp, frames, fps=run.fps)
                record = {"key": key, "prompt": prompt, "seed": seed, "video": video.name,
                          "steps": list(handle.guidance.history)}
                write_text(record_path, json.dumps(record))  # after the video: a record always has its video
            items.append({k: record[k] for k in ("prompt", "seed", "video", "steps")})
            if progress is not None:
                progress(1)
    summary = {"pipeline": run.pipeline, "reward_model": run.reward_model, **settings,
               "sampling": run.sampling,
               "items": items}
    write_text(out / RUN_FILE, json.dumps(summary, indent=2))
    return summary
