"""Video archives shipped beside a benchmark table (VideoGen-RewardBench's ``videos.zip``), extracted once into a
cache folder, safely, and reused.

- Every member is checked before anything is written: absolute names, drive letters, ``..`` components, symlinks and
  other special files are refused with one ``ArchiveError`` naming the members, so nothing lands outside the target.
- The videos may sit under ``videos/`` at the archive's root or under one top folder (``<top>/videos/``); the folder
  holding ``videos/`` is what the table's relative paths (``videos/<model>/<file>.mp4``) resolve against.
- Extraction goes into a temporary sibling folder; a marker naming the archive's key is written last and the folder
  is then renamed into place, so the target either does not exist or is complete. A folder without the right marker
  (a copy made by hand, an older layout) is removed and extracted again; so are temporary folders left by a kill.
  A lock file serialises processes extracting the same archive; the second one finds the work done.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Iterator

from videobench.data.benchmark import BenchmarkError

MARKER = ".videobench-extracted.json"
VIDEOS_DIR = "videos"
_CHUNK = 1 << 20
_IGNORED_TOP = ("__MACOSX",)  # resource forks that macOS's archiver adds; never extracted
_MAX_LISTED = 10


class ArchiveError(BenchmarkError):
    """An archive that cannot be extracted safely or does not hold the expected layout."""


def _member_problem(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    kind = stat.S_IFMT(info.external_attr >> 16)  # 0 when the archiver recorded permissions only (or none)
    if kind == stat.S_IFLNK:
        return "is a symbolic link"
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        return "is not a regular file or folder"
    posix = name.replace("\\", "/")
    if "\x00" in name or not posix.strip("/"):
        return "has an empty or invalid name"
    if posix.startswith("/") or re.match(r"^[A-Za-z]:", posix):
        return "has an absolute path"
    if ".." in posix.split("/"):
        return "climbs out of the target folder (..)"
    return None


def checked_members(archive: zipfile.ZipFile, source: str) -> list[zipfile.ZipInfo]:
    """The members to extract (``__MACOSX/`` left out); raises ``ArchiveError`` listing every unsafe member."""
    problems = [f"{info.filename!r} {why}" for info in archive.infolist() if (why := _member_problem(info))]
    if problems:
        listed = "; ".join(problems[:_MAX_LISTED]) + (f"; ... ({len(problems)} in all)" if len(problems) > _MAX_LISTED
                                                      else "")
        raise ArchiveError(f"{source}: refusing to extract an archive with unsafe members: {listed}")
    return [i for i in archive.infolist() if i.filename.replace("\\", "/").split("/")[0] not in _IGNORED_TOP]


def video_prefix(names: list[str], source: str) -> str:
    """``""`` when ``videos/`` is at the archive's root, ``"<top>/"`` when it is under one top folder."""
    posix = [n.replace("\\", "/") for n in names]
    if any(n.startswith(VIDEOS_DIR + "/") for n in posix):
        return ""
    tops = {n.split("/")[0] for n in posix if "/" in n}
    if len(tops) == 1:
        top = tops.pop()
        if any(n.startswith(f"{top}/{VIDEOS_DIR}/") for n in posix):
            return top + "/"
    shown = sorted({n.split("/")[0] + ("/" if "/" in n else "") for n in posix})[:_MAX_LISTED]
    raise ArchiveError(f"{source}: no '{VIDEOS_DIR}/' folder at the archive's root or under one top folder; "
                       f"its top level holds {shown}")


def is_extracted(folder: Path, key: str) -> bool:
    """A finished extraction of the archive with this ``key`` (the marker is written last)."""
    try:
        return json.loads((folder / MARKER).read_text(encoding="utf-8")).get("key") == key
    except (OSError, ValueError, AttributeError):
        return False


def extracted_video_root(folder: Path) -> Path:
    """The folder holding ``videos/`` inside a finished extraction."""
    prefix = json.loads((folder / MARKER).read_text(encoding="utf-8")).get("prefix", "")
    return folder / prefix if prefix else folder


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    import fcntl

    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def extract_once(zip_path: str | os.PathLike, target: str | os.PathLike, key: str, *, desc: str = "extracting",
                 progress: bool = True) -> Path:
    """Extract ``zip_path`` into ``target`` unless a finished extraction with ``key`` is there; returns the folder
    holding ``videos/``. ``key`` identifies the archive's content (e.g. its Hub ETag)."""
    target = Path(target)
    if is_extracted(target, key):
        return extracted_video_root(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target.parent / f".{target.name}.lock"):
        if is_extracted(target, key):  # another process finished while we waited
            return extracted_video_root(target)
        # Holding the lock, any temporary sibling is a leftover of a killed run.
        for stale in target.parent.glob(f".{target.name}.partial-*"):
            shutil.rmtree(stale, ignore_errors=True)
        if target.exists():
            shutil.rmtree(target)  # unfinished or of another archive: never trusted
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
        try:
            prefix = _extract(Path(zip_path), tmp, desc, progress)
            marker = {"key": key, "prefix": prefix, "archive": Path(zip_path).name}
            (tmp / MARKER).write_text(json.dumps(marker), encoding="utf-8")
            os.rename(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return extracted_video_root(target)


def _extract(zip_path: Path, out: Path, desc: str, progress: bool) -> str:
    from huggingface_hub.utils import tqdm  # honours HF_HUB_DISABLE_PROGRESS_BARS

    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ArchiveError(f"{zip_path}: not a readable zip archive ({exc})") from exc
    with archive:
        members = checked_members(archive, str(zip_path))
        prefix = video_prefix([m.filename for m in members], str(zip_path))
        total = sum(m.file_size for m in members if not m.is_dir())
        free = shutil.disk_usage(out).free
        if total > free:
            raise ArchiveError(f"{zip_path}: extracting needs {total / 1e9:.1f} GB, {out.parent} has "
                               f"{free / 1e9:.1f} GB free (set VIDEOBENCH_CACHE to a larger disk)")
        with tqdm(total=total, unit="B", unit_scale=True, desc=desc, disable=not progress or None) as bar:
            for info in members:
                dest = out.joinpath(*info.filename.replace("\\", "/").strip("/").split("/"))
                if info.is_dir():
                    dest.mkdir(parents=True, exist_ok=True)
                    continue
                dest.parent.mkdir(parents=True, exist_ok=True)
                try:
                    with archive.open(info) as src, open(dest, "wb") as dst:
                        while chunk := src.read(_CHUNK):
                            dst.write(chunk)
                            bar.update(len(chunk))
                except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                    raise ArchiveError(f"{zip_path}: member {info.filename!r} is damaged ({exc})") from exc
    return prefix

