"""The render store: one mp4 per (checkpoint fingerprint, sampling arguments, prompt text, seed).

Layout: ``ROOT/<fingerprint>/<settings hash>/<prompt sha256[:24]>__seed<seed>.mp4``, with ``checkpoint.json`` and
``settings.json`` beside them for people. Videos are encoded to a hidden temporary file and renamed into place, so a
run killed at any instant leaves only complete videos; the next run renders what is missing. Any comparison that
uses the same checkpoint, settings, prompt text and seed reuses the file.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from videobench.atomic import replacing, write_text
from videobench.compare.spec import RenderSettings
from videobench.paths import user_cache_folder
from videobench.prompts import Prompt


def default_render_dir() -> Path:
    """``$VIDEOBENCH_RENDERS`` when set, else ``$XDG_CACHE_HOME/videobench/renders`` (``~/.cache/...``)."""
    return user_cache_folder("VIDEOBENCH_RENDERS", "renders")


class RenderStore:
    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root).expanduser()

    @staticmethod
    def settings_hash(settings: RenderSettings) -> str:
        return hashlib.sha256(settings.key().encode()).hexdigest()[:12]

    def path(self, fingerprint: str, settings: RenderSettings, prompt: Prompt, seed: int) -> Path:
        return (self.root / fingerprint / self.settings_hash(settings)
                / f"{prompt.text_hash[:24]}__seed{int(seed)}.mp4")

    def describe(self, fingerprint: str, settings: RenderSettings, info: dict[str, Any]) -> None:
        """Write the human-readable sidecars once per checkpoint / settings folder."""
        folder = self.root / fingerprint
        sidecars = ((folder / "checkpoint.json", info),
                    (folder / self.settings_hash(settings) / "settings.json", settings.as_dict()))
        for path, data in sidecars:
            if not path.exists():
                _atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str))

    @staticmethod
    def write(path: Path, frames: np.ndarray, fps: float) -> Path:
        """Encode and move into place atomically."""
        from videobench.video import write_video

        with replacing(path) as tmp:
            write_video(tmp, frames, fps)
        return path


def _atomic_write_text(path: Path, text: str) -> None:
    write_text(path, text)
