"""A tiny Wan loaded by Hub id (``wan:org/name@main``) from a local olah mirror serving a git repo."""

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    sys.path.insert(0, {helpers!r})
    from compare_helpers import TINY
    from videobench.compare.generators import build_generator, load_all
    hub = build_generator("hub", "wan:tiny-org/tiny-wan@main" + TINY)
    local = build_generator("local", "wan:{local}" + TINY)
    load_all([hub, local])
    same = np.array_equal(hub.render("a cat", 0), local.render("a cat", 0))
    print("RESULT", hub.commit, same)
""")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _git(*args: str, cwd: Path) -> str:
    cmd = ["git", "-c", "user.name=videobench-tests", "-c", "user.email=tests@videobench.invalid", *args]
    return subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.mark.needs_olah
def test_load_by_hub_id_from_olah_mirror(tiny_wan, tmp_path):
    olah = Path(sys.executable).with_name("olah-cli")
    repo = tmp_path / "mirrors" / "models" / "tiny-org" / "tiny-wan"
    shutil.copytree(tiny_wan, repo)
    _git("init", "-q", "-b", "main", cwd=repo)
    _git("add", "-A", cwd=repo)
    _git("commit", "-qm", "tiny wan", cwd=repo)
    commit = _git("rev-parse", "HEAD", cwd=repo)
    port = _free_port()
    (tmp_path / "olah.toml").write_text(textwrap.dedent(f"""
        [basic]
        host = "127.0.0.1"
        port = {port}
        mirrors-path = ["{tmp_path / 'mirrors'}"]
        repos-path = "{tmp_path / 'olah-cache'}"
        mirror-netloc = "127.0.0.1:{port}"
        mirror-lfs-netloc = "127.0.0.1:{port}"

        [accessibility]
        offline = true
    """))
    server = subprocess.Popen([str(olah), "-c", str(tmp_path / "olah.toml")], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, cwd=tmp_path)
    try:
        deadline = time.time() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    pytest.fail("olah did not start")
                time.sleep(0.3)
        env = {**os.environ, "HF_ENDPOINT": f"http://127.0.0.1:{port}", "HF_HUB_OFFLINE": "0",
               "HF_HUB_CACHE": str(tmp_path / "hf-cache"), "OMP_NUM_THREADS": "1"}
        script = _SCRIPT.format(helpers=str(Path(__file__).parent), local=str(tiny_wan))
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    finally:
        server.terminate()
        server.wait(timeout=20)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("RESULT")), None)
    assert line is not None, out.stderr[-3000:]
    assert line.split()[1:] == [commit, "True"]  # the revision resolved to the mirror's commit; same weights
