"""Write real H.264 mp4 files from frames (tests, demos and generators use it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from videobench.video.decode import fps_fraction


def write_video(
    path: str | Path,
    frames: object,
    fps: float,
    *,
    crf: int = 18,
    preset: str | None = None,
    threads: int | None = None,
    faststart: bool = False,
    x264_options: dict[str, str] | None = None,
) -> Path:
    """Encode uint8 frames (T, H, W, 3) — a torch tensor or numpy array — as H.264 yuv420p mp4.

    yuv420p needs even sides: odd heights/widths are cropped by one pixel. ``faststart`` puts the index (moov atom)
    at the front, as web videos have it. ``threads=1`` (with a fixed ``preset``) makes the bytes reproducible.
    """
    import av

    arr = frames.numpy() if hasattr(frames, "numpy") else np.asarray(frames)
    if arr.dtype != np.uint8 or arr.ndim != 4 or arr.shape[-1] != 3 or arr.shape[0] == 0:
        raise ValueError(f"expected uint8 frames of shape (T, H, W, 3) with T > 0, got {arr.shape} {arr.dtype}")
    arr = arr[:, : arr.shape[1] // 2 * 2, : arr.shape[2] // 2 * 2]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), mode="w", options=options) as container:
        stream = container.add_stream("libx264", rate=fps_fraction(fps))
        stream.width, stream.height = arr.shape[2], arr.shape[1]
        stream.pix_fmt = "yuv420p"
        opts = {"crf": str(crf)}
        if preset:
            opts["preset"] = preset
        opts.update(x264_options or {})
        stream.options = opts
        if threads is not None:
            stream.codec_context.thread_count = threads
        for image in arr:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
