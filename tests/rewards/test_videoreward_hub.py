"""Loading by Hub id for real: olah (a Hub mirror server) serves local git repos holding a tiny checkpoint and its
base model; huggingface_hub downloads them through HF_ENDPOINT."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reward_test_helpers import TINY_OPTIONS

OLAH = Path(sys.executable).with_name("olah-cli")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not OLAH.exists() or shutil.which("git") is None, reason="needs olah and git"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _git_repo(src: Path, dest: Path) -> str:
    shutil.copytree(src, dest)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    for cmd in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "tiny checkpoint"]):
        subprocess.run(["git", *cmd], cwd=dest, check=True, env=env)
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=dest, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="module")
def olah_server(tmp_path_factory):
    from videobench.testing.tiny_qwen2vl import build_tiny_videoreward_checkpoint

    work = tmp_path_factory.mktemp("hub")
    root = build_tiny_videoreward_checkpoint(work / "build", "lora", seed=0, base_model_name="vbtest/tiny-base")
    mirrors = work / "mirrors" / "models" / "vbtest"
    commit = _git_repo(root, mirrors / "tiny-videoreward")
    _git_repo(work / "build" / "base", mirrors / "tiny-base")
    port = _free_port()
    config = work / "olah.toml"
    config.write_text(
        f'[basic]\nhost = "127.0.0.1"\nport = {port}\nrepos-path = "{work / "repos"}"\n'
        f'mirrors-path = ["{work / "mirrors"}"]\n[accessibility]\noffline = true\n'
    )
    log = open(work / "olah.log", "wb")
    proc = subprocess.Popen([str(OLAH), "-c", str(config)], stdout=log, stderr=subprocess.STDOUT, cwd=work)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"olah did not start: {(work / 'olah.log').read_text()[-2000:]}")
                time.sleep(0.3)
        yield {"url": url, "commit": commit, "work": work, "root": root}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


SCRIPT = """
import json, sys, torch
from videobench.rewards.base import Clip
from videobench.rewards.registry import load_reward_model
from videobench.rewards.videoreward import CheckpointError
frames = torch.randint(0, 256, (4, 48, 64, 3), dtype=torch.uint8, generator=torch.Generator().manual_seed(3))
out = {}
for key, spec, opts in json.loads(sys.argv[1]):
    model = load_reward_model(spec, **opts)
    scores = model.score([Clip(path="m", content_hash="m", frames=frames)], ["a cat"])
    out[key] = {"revision": model.revision, "base_revision": model.source.base_revision,
                "fingerprint": model.fingerprint(), "VQ": float(scores["VQ"][0]), "TA": float(scores["TA"][0])}
try:
    load_reward_model("videoreward:vbtest/absent")
except CheckpointError as exc:
    out["absent"] = str(exc)
print(json.dumps(out))
"""


def test_load_by_hub_id_through_olah(olah_server):
    work = olah_server["work"]
    # huggingface_hub reads HF_ENDPOINT / HF_HUB_OFFLINE at import (tests/conftest.py sets offline): a fresh process.
    env = {**os.environ, "HF_ENDPOINT": olah_server["url"], "HF_HUB_OFFLINE": "0", "HF_HOME": str(work / "hf"),
           "HF_HUB_DISABLE_PROGRESS_BARS": "1", "OMP_NUM_THREADS": "1"}
    jobs = [
        ("hub", "videoreward:vbtest/tiny-videoreward@main", TINY_OPTIONS),
        # the same files from local folders (base overridden by a local path): nothing is downloaded
        ("local", f"videoreward:{olah_server['root']}", {**TINY_OPTIONS, "base_model": str(work / "build" / "base")}),
    ]
    proc = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(jobs)], capture_output=True, text=True, env=env,
                          timeout=400)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    hub, local = out["hub"], out["local"]
    assert hub["revision"] == olah_server["commit"]  # the resolved commit is recorded, not "main"
    assert hub["base_revision"] and len(hub["base_revision"]) == 40  # the base model came from the mirror too
    assert local["revision"] is None
    # content, not location, makes the fingerprint; the scores agree
    assert local["fingerprint"] == hub["fingerprint"]
    assert local["VQ"] == pytest.approx(hub["VQ"], abs=1e-6) and local["TA"] == pytest.approx(hub["TA"], abs=1e-6)
    assert "vbtest/absent" in out["absent"]
