"""VideoGen-RewardBench's videos as the dataset repo ships them: one ``videos.zip`` beside the CSV and the card, no
``videos/`` folder. A miniature repo in exactly that layout is served by the local Hub test server; ``videobench
eval`` downloads the zip, extracts it once into the cache and scores the pairs end to end."""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from data_helpers import VGRB_HEADER

from videobench.data.archive import MARKER, ArchiveError, extract_once

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "leaderboard"))
from hub_server import HubTestServer  # noqa: E402

REPO = "kwai-mini/VideoGen-RewardBench-mini"
MODELS = ("kling", "gen3")
# The real card's YAML: one config whose only split, eval, is the CSV.
CARD = b"""---
license: apache-2.0
configs:
- config_name: default
  data_files:
  - split: eval
    path: videogen-rewardbench.csv
---
# VideoGen-RewardBench (miniature, for tests)
"""


def _mp4_bytes(tmp: Path, seed: int) -> bytes:
    from videobench.video import write_video

    rng = np.random.default_rng(seed)
    frames = (rng.integers(0, 255, size=(1, 32, 32, 3)) + np.arange(6)[:, None, None, None] * (seed + 3)) % 256
    path = write_video(tmp / f"clip{seed}.mp4", frames.astype(np.uint8), fps=8)
    return Path(path).read_bytes()


def _zip(members: dict[str, bytes], symlinks: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for name, link_target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, link_target)
    return buf.getvalue()


@pytest.fixture(scope="module")
def mini_repo(tmp_path_factory):
    """The dataset repo's files: the CSV in VideoGen-RewardBench's columns, README.md and videos.zip with
    ``videos/<model>/<model>_<id>.mp4`` (4 real H.264 clips per model)."""
    tmp = tmp_path_factory.mktemp("clips")
    videos = {f"videos/{m}/{m}_{i}.mp4": _mp4_bytes(tmp, 10 * k + i) for k, m in enumerate(MODELS) for i in range(4)}
    rows = [",".join(VGRB_HEADER)]
    labels = ["A", "B", "same", "A"]
    for i in range(4):
        lab = labels[i]
        rows.append(f"videos/kling/kling_{i}.mp4,videos/gen3/gen3_{i}.mp4,kling,gen3,\"a prompt, number {i}\","
                    f"8,6,8,6,{lab},{labels[(i + 1) % 4]},{labels[(i + 2) % 4]},{lab}")
    csv = ("\n".join(rows) + "\n").encode()
    return {"videogen-rewardbench.csv": csv, "README.md": CARD, "videos.zip": _zip(videos)}, videos


def _publish(hub: HubTestServer, files: dict[str, bytes]) -> tuple[str, str]:
    """Create the dataset repo with ``videos.zip`` stored through LFS, as on the Hub; returns (commit, zip sha256)."""
    data = files["videos.zip"]
    sha = hashlib.sha256(data).hexdigest()
    hub.state.lfs_objects[sha] = data
    repo = hub.state.create("dataset", REPO, {k: v for k, v in files.items() if k != "videos.zip"})
    commit = hub.state.apply(repo, "main", {}, [], "add videos.zip", repo.branches["main"], {"videos.zip": sha})
    return commit.oid, sha


def _env(hub_url: str, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
    env.update(HF_ENDPOINT=hub_url, HF_HOME=str(tmp / "hf-home"), VIDEOBENCH_CACHE=str(tmp / "vb-cache"),
               HF_HUB_DISABLE_TELEMETRY="1", HF_HUB_DISABLE_XET="1", OMP_NUM_THREADS="1")
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "videobench", *args], capture_output=True, text=True, env=env,
                          timeout=180)


def test_eval_downloads_extracts_and_scores_the_zip(mini_repo, tmp_path: Path) -> None:
    files, videos = mini_repo
    with HubTestServer() as hub:
        commit, sha = _publish(hub, files)
        env = _env(hub.url, tmp_path)
        run = _run(["eval", "--bench", REPO, "--model", "classical", "--n-resamples", "20", "--no-report", "--quiet",
                    "-o", str(tmp_path / "out")], env)
        assert run.returncode == 0, run.stderr
        result = json.loads(next((tmp_path / "out").glob("classical*.json")).read_text())
        assert result["benchmark"]["n_pairs"] == 4 and result["benchmark"]["revision"] == commit
        dims = result["dimensions"]  # classical scores VQ and MQ; Overall is derived from them, TA stays n/a
        assert all(dims[d]["available"] and dims[d]["n_excluded"] == 0 for d in ("VQ", "MQ", "Overall"))
        assert not dims["TA"]["available"]

        # extracted once into the cache, keyed by the zip's ETag (its LFS sha256), with the marker written last
        extracted = [p.parent for p in (tmp_path / "vb-cache" / "hub-archives").rglob(MARKER)]
        assert len(extracted) == 1 and json.loads((extracted[0] / MARKER).read_text())["key"] == sha
        for name, data in videos.items():
            assert (extracted[0] / name).read_bytes() == data
        clip = extracted[0] / "videos" / "kling" / "kling_0.mp4"
        stamp = clip.stat().st_mtime_ns

        # offline afterwards (a compute node), the Hub id and the registered name (pointed at this repo) both find
        # the CSV and the zip of that commit in the caches and reuse the extraction
        code = ("import json\n"
                "from videobench.data import registry\n"
                f"registry.VIDEOGEN_REWARDBENCH_REPO = {REPO!r}\n"
                "out = []\n"
                f"for spec in ({REPO!r}, 'videogen-rewardbench'):\n"
                "    b = registry.load_benchmark(spec, need_videos=True)\n"
                "    out.append([b.revision, str(b.root), [str(b.video_path(v)) for v in b.pairs.video_A]])\n"
                "print(json.dumps(out))\n")
        requests_before = len(hub.state.requests)
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                              env={**env, "HF_HUB_OFFLINE": "1"})
        assert proc.returncode == 0, proc.stderr
        assert len(hub.state.requests) == requests_before  # not one request
        for revision, root, paths in json.loads(proc.stdout.strip().splitlines()[-1]):
            assert revision == commit and Path(root) == extracted[0]
            assert [Path(p).read_bytes() for p in paths] == [videos[f"videos/kling/kling_{i}.mp4"] for i in range(4)]
        assert clip.stat().st_mtime_ns == stamp


@pytest.mark.parametrize("bad", [
    {"videos/a.mp4": b"x", "../evil.mp4": b"x"},
    {"videos/a.mp4": b"x", "/tmp/evil.mp4": b"x"},
    {"videos/a.mp4": b"x", "videos/..\\..\\evil.mp4": b"x"},
    "symlink",
], ids=["dotdot", "absolute", "backslash-dotdot", "symlink"])
def test_unsafe_archive_is_refused_before_writing_anything(bad, tmp_path: Path) -> None:
    data = _zip({"videos/a.mp4": b"x"}, {"videos/link.mp4": "/etc/passwd"}) if bad == "symlink" else _zip(bad)
    archive = tmp_path / "videos.zip"
    archive.write_bytes(data)
    with pytest.raises(ArchiveError, match="unsafe members"):
        extract_once(archive, tmp_path / "cache" / "x", "k1", progress=False)
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [".x.lock"]  # no folder, no file
    assert not (tmp_path / "evil.mp4").exists()


def test_zip_slip_through_the_cli_exits_2_with_one_line(mini_repo, tmp_path: Path) -> None:
    files, _ = mini_repo
    evil = dict(files, **{"videos.zip": _zip({"videos/kling/kling_0.mp4": b"x", "../../escaped.mp4": b"x"})})
    with HubTestServer() as hub:
        _publish(hub, evil)
        proc = _run(["eval", "--bench", REPO, "--model", "classical", "-o", str(tmp_path / "out"), "--quiet"],
                    _env(hub.url, tmp_path))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "../../escaped.mp4" in proc.stderr and "unsafe" in proc.stderr
    assert not list(tmp_path.rglob("escaped.mp4"))


def test_videos_under_one_top_folder_and_interrupted_extractions(tmp_path: Path) -> None:
    archive = tmp_path / "videos.zip"
    archive.write_bytes(_zip({"VideoGen-RewardBench/videos/m/m_1.mp4": b"one", "__MACOSX/._junk": b"",
                              "VideoGen-RewardBench/README.txt": b"r"}))
    target = tmp_path / "cache" / "abc"
    # a kill mid-way leaves a temporary sibling; a hand-made copy has no marker: neither is trusted
    stale = tmp_path / "cache" / ".abc.partial-old"
    stale.mkdir(parents=True)
    (stale / "half.mp4").write_bytes(b"ha")
    target.mkdir()
    (target / "junk").write_text("not from this archive")
    root = extract_once(archive, target, "etag-1", progress=False)
    assert root == target / "VideoGen-RewardBench"
    assert (root / "videos" / "m" / "m_1.mp4").read_bytes() == b"one"
    assert not stale.exists() and not (target / "junk").exists() and not (target / "__MACOSX").exists()
    # finished: reused without reading the archive again
    archive.unlink()
    assert extract_once(archive, target, "etag-1", progress=False) == root
    # another archive content (new key) is extracted afresh
    archive.write_bytes(_zip({"videos/n.mp4": b"two"}))
    assert extract_once(archive, target, "etag-2", progress=False) == target
    assert (target / "videos" / "n.mp4").read_bytes() == b"two"


def test_archive_without_videos_folder_is_named(tmp_path: Path) -> None:
    archive = tmp_path / "videos.zip"
    archive.write_bytes(_zip({"clips/a.mp4": b"x", "other/b.mp4": b"y"}))
    with pytest.raises(ArchiveError, match=r"no 'videos/' folder.*\['clips/', 'other/'\]"):
        extract_once(archive, tmp_path / "t", "k", progress=False)
    (tmp_path / "broken.zip").write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(ArchiveError, match="not a readable zip"):
        extract_once(tmp_path / "broken.zip", tmp_path / "u", "k", progress=False)
