"""The Hub store's read path against olah (a real Hub mirror server, PyPI) serving a local git repo of a store."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from leaderboard_helpers import add

from videobench.leaderboard.build import build, publish

OLAH = Path(sys.executable).with_name("olah-cli")
pytestmark = pytest.mark.needs_olah  # skipped without olah-cli and git; a failure under make test


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def olah_mirror(tmp_path, local_store):
    publish(local_store, {**add("org/a", seed=1), **add("org/b", seed=2, skill=0.8)})
    repo = tmp_path / "mirrors" / "datasets" / "board" / "results"
    shutil.copytree(local_store.root, repo, ignore=shutil.ignore_patterns(".videobench"))
    git = ["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "store"], check=True)
    port = _free_port()
    (tmp_path / "olah.toml").write_text(
        f'[basic]\nhost = "127.0.0.1"\nport = {port}\nmirror-netloc = "127.0.0.1:{port}"\n'
        f'mirror-lfs-netloc = "127.0.0.1:{port}"\nrepos-path = "{tmp_path / "repos"}"\n'
        f'mirrors-path = ["{tmp_path / "mirrors"}"]\n\n[accessibility]\noffline = true\n')
    proc = subprocess.Popen([str(OLAH), "-c", str(tmp_path / "olah.toml")], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("olah did not start")
        head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
        yield url, head
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_hub_store_reads_through_olah(online, olah_mirror, local_store, tmp_path):
    from videobench.leaderboard.hub_store import HubStore

    url, head = olah_mirror
    store = HubStore("board/results", endpoint=url, token=False, cache_dir=tmp_path / "cache")
    snap = store.snapshot()
    assert snap.revision == head
    local = local_store.snapshot()
    assert {p: f.oid for p, f in snap.files.items()} == {p: f.oid for p, f in local.files.items()}
    built = build(snap)
    assert built.tables.reused == 2 and built.tables.parsed == 0  # the history cache came through olah too
    assert built.files == build(local).files  # same bytes as building from the folder
