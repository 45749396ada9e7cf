"""Build the ``sanity`` benchmark into a folder, and load it from a cache that is built on first use.

The folder is a ``datasets``-loadable dataset: ``data/test.parquet`` (one row per pair), ``videos/`` (H.264 mp4),
``README.md`` (the dataset card, whose YAML ``configs`` point at the Parquet file) and ``manifest.json`` (recipe
version and the SHA-256 of every file). Everything is written to a temporary sibling folder first and renamed into
place, so a crash or a concurrent build never leaves a half-built folder behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from videobench.sanity import degrade
from videobench.sanity.recipe import MQ_LEVELS, VQ_LEVELS, Plan, VideoSpec, make_plan, pair_table
from videobench.sanity.sources import SOURCE_CLIPS, SourceClip, centre_crop, decode_canvases, source_file, source_fps

#: Version of the recipe and its output; bump it whenever a build would produce different bytes or labels.
SANITY_VERSION = "1"
TABLE_PATH = "data/test.parquet"
MANIFEST = "manifest.json"
CACHE_ENV = "VIDEOBENCH_CACHE"

# Pinned encoder settings: one x264 thread (the frame-threaded encoder's output depends on the core count),
# a fixed preset and quality, so a build gives the same bytes on any machine with the same PyAV/FFmpeg build.
X264: dict[str, Any] = {"preset": "superfast", "crf": 20, "threads": 1}


@dataclass(frozen=True)
class BuildReport:
    root: Path
    num_pairs: int
    num_videos: int
    seconds: float
    total_bytes: int


def encode_h264(path: Path, frames: np.ndarray, fps: Fraction) -> None:
    """Write uint8 frames (T, H, W, 3) as H.264 yuv420p mp4 with the pinned, deterministic settings above."""
    from videobench.video import write_video

    write_video(path, frames, float(fps), crf=X264["crf"], preset=X264["preset"], threads=X264["threads"])


def render(spec: VideoSpec, clip: SourceClip, canvas: np.ndarray) -> np.ndarray:
    """The frames of one video of the plan, from its clip's canvas (see ``videobench.sanity.degrade``)."""
    clean = centre_crop(canvas, clip)
    if spec.kind == "clean":
        return clean
    rng = np.random.default_rng(spec.seed) if spec.seed is not None else None
    p = spec.parameter
    if spec.kind == "blur":
        return degrade.gaussian_blur(clean, p)
    if spec.kind == "noise":
        return degrade.add_noise(clean, p, rng)
    if spec.kind == "blocky":
        return degrade.block_compress(clean, p)
    if spec.kind == "rescale":
        return degrade.down_up_scale(clean, p)
    if spec.kind == "stutter":
        return degrade.stutter(clean, int(p))
    if spec.kind == "freeze":
        return degrade.freeze(clean, p)
    if spec.kind == "shuffle":
        return degrade.shuffle(clean, int(p), rng)
    if spec.kind == "jitter":
        return degrade.jitter(canvas, clip.size, int(p), rng)
    raise ValueError(f"no renderer for video kind {spec.kind!r}")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_into(folder: Path, plan: Plan, clips: tuple[SourceClip, ...], progress: bool = False) -> None:
    """Render every video of ``plan`` into ``folder``, then the table, the card and the manifest. ``progress``: a
    bar on stderr while rendering (shown on a terminal only)."""
    from tqdm.auto import tqdm

    from videobench.sanity.card import card_text

    by_id = {c.clip_id: c for c in clips}
    canvases = decode_canvases(clips)
    fps = {s: source_fps(s) for s in sorted({c.source for c in clips})}
    info: dict[str, tuple[float, int]] = {}
    for spec in tqdm(plan.videos, desc="building sanity", unit="video", disable=None if progress else True,
                     file=sys.stderr, leave=False):
        target = folder / spec.path
        if spec.kind == "real":
            name = Path(spec.path).stem  # carphone_pristine / carphone_distorted
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source_file(name), target)
            info[spec.path] = (float(source_fps(name)), _frame_count(target))
            continue
        clip = by_id[spec.clip_id]
        if spec.kind == "twin":
            shutil.copyfile(folder / f"videos/{clip.clip_id}/clean.mp4", target)  # clean is planned first
        else:
            encode_h264(target, render(spec, clip, canvases[clip.clip_id]), fps[clip.source])
        info[spec.path] = (float(fps[clip.source]), clip.num_frames)
    table = pair_table(plan, info)
    (folder / TABLE_PATH).parent.mkdir(parents=True, exist_ok=True)
    table.to_parquet(folder / TABLE_PATH, index=False)
    (folder / "README.md").write_text(card_text(), encoding="utf-8")
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    manifest = {
        "name": "sanity",
        "version": SANITY_VERSION,
        "num_pairs": len(table),
        "files": {f: _sha256(folder / f) for f in files},
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _frame_count(path: Path) -> int:
    import av

    with av.open(str(path)) as container:
        return int(container.streams.video[0].frames)


def build_sanity(out: str | os.PathLike, *, clips: tuple[SourceClip, ...] | None = None,
                 include_real: bool = True, overwrite: bool = False) -> BuildReport:
    """Build the benchmark into ``out`` (a new folder; an existing one only with ``overwrite``).

    ``clips`` and ``include_real`` select part of the recipe (tests build a small part); the published benchmark
    is the default, the whole recipe.
    """
    clips = SOURCE_CLIPS if clips is None else tuple(clips)
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not overwrite:
        raise FileExistsError(f"{out} exists and is not empty; choose another folder or pass overwrite")
    start = time.perf_counter()
    plan = make_plan(clips, include_real=include_real)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    try:
        _write_into(tmp, plan, clips)
        if out.is_dir():
            shutil.rmtree(out)
        elif out.exists():
            out.unlink()
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return BuildReport(out, len(plan.pairs), len(plan.videos), time.perf_counter() - start, size)


def default_cache_root() -> Path:
    """``$VIDEOBENCH_CACHE``, else ``~/.cache/videobench``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "videobench"


def is_complete(folder: Path) -> bool:
    """A finished build: the manifest is written last, and every file it lists is there with its size > 0."""
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return False
    try:
        files = json.loads(manifest.read_text(encoding="utf-8"))["files"]
    except (ValueError, KeyError):
        return False
    return all((folder / f).is_file() for f in files)


def ensure_built(cache_dir: str | os.PathLike | None = None) -> Path:
    """The cached benchmark folder ``<cache>/sanity-v<version>``, built first when it is missing or incomplete."""
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_root()
    folder = root / f"sanity-v{SANITY_VERSION}"
    if is_complete(folder):
        return folder
    root.mkdir(parents=True, exist_ok=True)
    # First use: say why the command is busy (about half a minute), in logs too, where the bar is not drawn.
    print(f"building the built-in sanity benchmark into {folder} (first use only, about half a minute)",
          file=sys.stderr, flush=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.building-", dir=root))
    try:
        _write_into(tmp, make_plan(SOURCE_CLIPS), SOURCE_CLIPS, progress=True)
        if folder.exists() and not is_complete(folder):
            shutil.rmtree(folder)  # left by an older, interrupted layout; never by us (we rename whole folders)
        try:
            os.replace(tmp, folder)
        except OSError:
            if not is_complete(folder):  # a concurrent build won the race only if its folder is complete
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder
