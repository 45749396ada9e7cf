"""Video input: probe, sample (VideoAlign's rules), decode (torchcodec or PyAV), resize (Qwen2-VL's rule), hash."""

from videobench.video.decode import (
    BACKENDS,
    VideoInfo,
    available_backends,
    load_clip,
    probe,
    resolve_backend,
)
from videobench.video.errors import VideoDecodeError
from videobench.video.hashing import content_hash
from videobench.video.resize import resize_frames, smart_resize
from videobench.video.sampling import num_sampled_frames, sample_indices
from videobench.video.writer import write_video

__all__ = [
    "BACKENDS",
    "VideoDecodeError",
    "VideoInfo",
    "available_backends",
    "content_hash",
    "load_clip",
    "num_sampled_frames",
    "probe",
    "resize_frames",
    "resolve_backend",
    "sample_indices",
    "smart_resize",
    "write_video",
]
