"""Synthetic result files for the leaderboard tests (a module of its own: test modules import it by name)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np

from videobench.leaderboard.build import result_files
from videobench.leaderboard.layout import result_path
from videobench.leaderboard.synthetic import eval_result
from videobench.results import result_to_dict


def result_bytes(model: str = "org/rm", bench: str = "videogen-rewardbench", **kw) -> bytes:
    return json.dumps(result_to_dict(eval_result(model, bench, **kw))).encode()


def add(model: str, stamp: str = "20260101T000000000000Z", bench: str = "videogen-rewardbench",
        model_name: str | None = None, **kw) -> dict:
    """Files of one synthetic result stored for ``model`` (``model_name``: the display name inside the result)."""
    return result_files(result_bytes(model_name or model, bench, **kw), result_path(bench, model, stamp))


def safetensors_bytes() -> bytes:
    from safetensors.numpy import save

    return save({"w": np.zeros((2, 2), dtype=np.float32)})


def model_folder(root, files):
    root.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def model_config_json(base) -> bytes:
    """A VideoReward checkpoint's model_config.json naming its base model."""
    return json.dumps({"model_config": {"model_name_or_path": str(base)}}).encode()


def base_model_folder(tmp_path, files=None):
    return model_folder(tmp_path / "base", files or {"model.safetensors": safetensors_bytes(), "config.json": b"{}"})


def reward_model_folder(tmp_path, name="rm", extra=None):
    files = {"model.safetensors": safetensors_bytes(), "config.json": b'{"model_type": "qwen2_vl"}',
             "model_config.json": model_config_json(base_model_folder(tmp_path)), **(extra or {})}
    return model_folder(tmp_path / name, files)


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    """Headless chromium on ``url`` (a file: URI or a local server) with ``args`` (--dump-dom, --screenshot=...)."""
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
           "--virtual-time-budget=4000", "--window-size=1200,1600", *args, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)
