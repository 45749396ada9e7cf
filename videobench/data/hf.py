"""Benchmarks stored as Hugging Face ``datasets``: a ``save_to_disk`` folder, a local data folder, or a Hub id.

``datasets`` is imported inside the functions: the CLI's ``--help`` must stay fast.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any, Mapping

from videobench.data.benchmark import BenchmarkError, PairBenchmark
from videobench.data.loaders import build_benchmark, detect_format
from videobench.data.tables import from_frame

#: Split used when a dataset has several and the caller names none (benchmarks publish a test split).
PREFERRED_SPLITS = ("test", "validation", "train")


def is_saved_dataset(path: Path) -> bool:
    """A folder written by ``Dataset.save_to_disk`` or ``DatasetDict.save_to_disk``."""
    return (path / "dataset_dict.json").is_file() or (
        (path / "state.json").is_file() and (path / "dataset_info.json").is_file()
    )


def _why(exc: BaseException) -> str:
    """One line about a Hub or ``datasets`` failure (their messages span lines and start with "404 Client Error.")."""
    from huggingface_hub.errors import EntryNotFoundError, RepositoryNotFoundError, RevisionNotFoundError

    if isinstance(exc, RepositoryNotFoundError):
        return "no such dataset repository on the Hub, or it is private or gated (log in with `hf auth login`)"
    if isinstance(exc, RevisionNotFoundError):
        return "no such revision in the repository"
    if isinstance(exc, EntryNotFoundError):
        return "no such file in the repository"
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0] if lines else ''}"


def _pick_split(dataset: Any, split: str | None, source: str) -> Any:
    from datasets import DatasetDict

    if not isinstance(dataset, DatasetDict):
        return dataset
    names = list(dataset.keys())
    if split is not None:
        if split not in dataset:
            raise BenchmarkError(f"{source}: no split {split!r}; the dataset has {names}")
        return dataset[split]
    if len(names) == 1:
        return dataset[names[0]]
    for name in PREFERRED_SPLITS:
        if name in dataset:
            return dataset[name]
    raise BenchmarkError(f"{source}: several splits {names}; choose one with split= / --split")


def _from_dataset(dataset: Any, source: str, *, root: Path | None, name: str, revision: str | None,
                  format: str, columns: Mapping[str, str] | str | None, dedupe: bool,
                  allow_absolute: bool) -> PairBenchmark:
    # Only plain columns are read: a Video/Image feature would decode media we do not need here.
    raw = from_frame(dataset.to_pandas(), source)
    preset = detect_format(list(raw.frame.columns)) if format == "auto" else format
    return build_benchmark(raw, preset, columns, name=name, root=root, dedupe=dedupe,
                           allow_absolute=allow_absolute, revision=revision)


def load_dataset_folder(
    path: str | os.PathLike,
    *,
    split: str | None = None,
    format: str = "auto",
    columns: Mapping[str, str] | str | None = None,
    name: str | None = None,
    dedupe: bool = False,
    allow_absolute: bool = False,
) -> PairBenchmark:
    """A local folder: ``save_to_disk`` output (``load_from_disk``), else data files read by ``load_dataset``.

    Video paths are relative to the folder.
    """
    import datasets

    folder = Path(path)
    if not folder.is_dir():
        raise BenchmarkError(f"{folder}: not a folder")
    try:
        if is_saved_dataset(folder):
            dataset = datasets.load_from_disk(str(folder))
        else:
            # A throwaway cache: `datasets` keys its cache of local folders by path, so a folder rewritten in
            # place (e.g. `bench build --overwrite`) would otherwise load its old rows.
            with tempfile.TemporaryDirectory(prefix="videobench-ds-") as cache_dir:
                dataset = datasets.load_dataset(str(folder), split=split, cache_dir=cache_dir, keep_in_memory=True)
    except (FileNotFoundError, ValueError, datasets.exceptions.DatasetNotFoundError) as exc:
        raise BenchmarkError(f"{folder}: cannot load as a dataset ({_why(exc)})") from exc
    dataset = _pick_split(dataset, split, str(folder))
    return _from_dataset(dataset, str(folder), root=folder.resolve(), name=name or folder.name, revision=None,
                         format=format, columns=columns, dedupe=dedupe, allow_absolute=allow_absolute)


def load_hub_dataset(
    repo_id: str,
    *,
    revision: str | None = None,
    split: str | None = None,
    config: str | None = None,
    need_videos: bool = False,
    format: str = "auto",
    columns: Mapping[str, str] | str | None = None,
    name: str | None = None,
    dedupe: bool = False,
    allow_absolute: bool = False,
) -> PairBenchmark:
    """A Hub dataset repo through ``datasets.load_dataset(repo_id, revision=..., split=...)``.

    The revision is resolved to its commit first and that commit is used and recorded throughout. The table comes
    from ``load_dataset``; video files are only fetched when ``need_videos`` is set, since precomputed scores need
    none (see ``hub_video_root``).
    """
    import datasets

    source = f"{repo_id}@{revision}" if revision else repo_id
    # One commit for the table and the videos, recorded in the result: a branch may move between the two downloads.
    commit = resolve_commit(repo_id, revision) or revision
    try:
        dataset = datasets.load_dataset(repo_id, config, revision=commit, split=split)
    except Exception as exc:  # network, auth, missing repo: all end the same way for the user
        raise BenchmarkError(f"{source}: cannot load the dataset from the Hub ({_why(exc)})") from exc
    dataset = _pick_split(dataset, split, source)
    root = hub_video_root(repo_id, commit) if need_videos else None
    return _from_dataset(dataset, source, root=root, name=name or repo_id, revision=commit, format=format,
                         columns=columns, dedupe=dedupe, allow_absolute=allow_absolute)


def snapshot_root(repo_id: str, revision: str | None, allow_patterns: list[str] | None = None) -> Path:
    """Download (or reuse from the cache) a dataset repo at ``revision``; its folder is the benchmark root."""
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id, repo_type="dataset", revision=revision, allow_patterns=allow_patterns))
    except Exception as exc:
        raise BenchmarkError(f"{repo_id}: cannot download the dataset files ({_why(exc)})") from exc


#: The archive a dataset repo may ship its videos in instead of a ``videos/`` folder (VideoGen-RewardBench does).
VIDEO_ARCHIVE = "videos.zip"
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


def resolve_commit(repo_id: str, revision: str | None) -> str | None:
    """The commit a revision (branch, tag, hash; None = the default branch) points at: asked of the Hub online, and
    recorded in the Hub cache (its ``refs/``), so that an offline run later (a compute node) finds the same commit
    there. None when offline and nothing is cached (then the caller uses ``revision`` as it is)."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError, OfflineModeIsEnabled

    if revision and _COMMIT.match(revision):
        return revision
    try:
        # the card (and .gitattributes, which every Hub repo has): a tiny download that makes huggingface_hub resolve
        # the revision and cache the answer
        folder = snapshot_download(repo_id, repo_type="dataset", revision=revision,
                                   allow_patterns=[".gitattributes", "README.md"])
    except (OfflineModeIsEnabled, LocalEntryNotFoundError):
        return None
    except Exception as exc:  # missing repo or revision, network, auth
        raise BenchmarkError(f"{repo_id}@{revision or 'main'}: cannot resolve the revision on the Hub "
                             f"({_why(exc)})") from exc
    return snapshot_commit(Path(folder), revision)


def snapshot_commit(snapshot: Path, revision: str | None) -> str | None:
    """The commit of a ``snapshot_download`` folder (its name in the Hub cache), else ``revision``."""
    return snapshot.name if _COMMIT.match(snapshot.name) else revision


def hub_video_root(repo_id: str, revision: str | None) -> Path:
    """The folder a dataset repo's relative video paths resolve against: the extracted ``videos.zip`` when the repo
    ships one and no ``videos/`` folder, else a snapshot of the repo."""
    from huggingface_hub import HfApi, try_to_load_from_cache
    from huggingface_hub.errors import OfflineModeIsEnabled

    try:
        files = HfApi().list_repo_files(repo_id, repo_type="dataset", revision=revision)
    except OfflineModeIsEnabled:  # offline (e.g. a compute node): whatever an earlier online run left in the cache
        cached = try_to_load_from_cache(repo_id, VIDEO_ARCHIVE, repo_type="dataset", revision=revision)
        files = [VIDEO_ARCHIVE] if isinstance(cached, str) else []
    except Exception as exc:
        raise BenchmarkError(f"{repo_id}: cannot list the dataset's files ({_why(exc)})") from exc
    if VIDEO_ARCHIVE in files and not any(f.startswith("videos/") for f in files):
        return archive_video_root(repo_id, revision)
    return snapshot_root(repo_id, revision)


def archive_video_root(repo_id: str, revision: str | None, filename: str = VIDEO_ARCHIVE,
                       cache_dir: str | os.PathLike | None = None) -> Path:
    """Download ``filename`` of a dataset repo at ``revision`` (resumable: huggingface_hub continues a partial
    download) and extract it once into ``<cache>/hub-archives/`` (``$VIDEOBENCH_CACHE``, else
    ``~/.cache/videobench``); returns the folder holding ``videos/``. The extraction is keyed by the file's ETag
    (its content hash on the Hub), so a new commit that leaves the archive alone reuses it."""
    from huggingface_hub import hf_hub_download

    from videobench.data.archive import extract_once
    from videobench.sanity.build import default_cache_root

    try:
        local = Path(hf_hub_download(repo_id, filename, repo_type="dataset", revision=revision))
    except Exception as exc:
        raise BenchmarkError(f"{repo_id}: cannot download {filename} ({_why(exc)})") from exc
    # The Hub cache links snapshots/<commit>/<file> to blobs/<etag>; where links are not possible, the file is a
    # copy and the commit plus size stand in for the ETag.
    key = local.resolve().name if local.is_symlink() else f"{local.parent.name}-{local.stat().st_size}"
    base = Path(cache_dir) if cache_dir is not None else default_cache_root()
    target = base / "hub-archives" / f"datasets--{repo_id.replace('/', '--')}" / key[:40]
    return extract_once(local, target, key, desc=f"extracting {repo_id}/{filename}")
