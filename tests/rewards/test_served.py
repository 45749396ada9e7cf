"""`videobench serve-reward` and the `http:` spec: a served tiny VideoReward scores as the in-process one does (each
way of sending the video), eval runs through it, and a server killed mid-run ends the run with one line while the
score cache keeps what was scored, so the same command resumes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from clip_benches import pair_row, write_bench, write_clips
from reward_test_helpers import TINY_OPTIONS, serving
from typer.testing import CliRunner

from videobench.cli import _register, app
from videobench.rewards.base import Clip
from videobench.rewards.registry import load_reward_model
from videobench.rewards.served_client import HttpReward, ServedRewardError
from videobench.rewards.served_protocol import (
    ProtocolError,
    decode_frames,
    decode_scores,
    encode_frames,
    encode_scores,
)
from videobench.scoring.store import ScoreStore

_register()
runner = CliRunner()


def _spec(tiny_lora: Path) -> str:
    return f"videoreward:{tiny_lora}?min_pixels={TINY_OPTIONS['min_pixels']}"


# ----------------------------------------------------------------------------------------------- the wire format


def test_frames_and_scores_round_trip_exactly():
    frames = np.random.default_rng(0).integers(0, 256, (3, 5, 7, 3), dtype=np.uint8)
    back = decode_frames(json.loads(json.dumps(encode_frames(frames))), "items[0]")
    assert back.shape == (3, 5, 7, 3) and np.array_equal(back.numpy(), frames)
    wire = json.loads(json.dumps(encode_scores({"VQ": [1.5, np.nan]}, ["VQ"], 2)))
    assert wire == {"VQ": [1.5, None]}  # NaN travels as null (JSON has no NaN)
    out = decode_scores({"scores": wire}, ["VQ"], 2)["VQ"]
    assert out[0] == 1.5 and np.isnan(out[1])
    with pytest.raises(ProtocolError, match="bytes for shape"):
        decode_frames({**encode_frames(frames), "shape": [3, 5, 8, 3]}, "items[0]")
    with pytest.raises(ProtocolError, match="not a list of 2"):
        decode_scores({"scores": {"VQ": [1.0]}}, ["VQ"], 2)


# ------------------------------------------------------------------------------------- served == in process


@pytest.fixture(scope="module")
def served_vr(tiny_lora):
    with serving(_spec(tiny_lora), allow_paths=True) as server:
        yield server


@pytest.mark.parametrize("send", ["frames", "file", "path"])
def test_served_tiny_videoreward_scores_as_in_process(served_vr, lora_model, clips, prompts, send):
    client = load_reward_model(f"{served_vr.url}?send={send}")
    assert isinstance(client, HttpReward)
    assert client.dimensions == lora_model.dimensions and client.sampling == lora_model.sampling
    assert client.needs_frames is (send == "frames")
    sent = clips if send == "frames" else [Clip(c.path, c.content_hash) for c in clips]  # what the engine gives
    remote = client.score(sent, prompts)
    local = lora_model.score(clips, prompts)
    for dim in lora_model.dimensions:
        np.testing.assert_allclose(remote[dim], local[dim], rtol=1e-5, atol=1e-5)
    assert served_vr.info["fingerprint"] == lora_model.fingerprint()
    assert client.fingerprint() != lora_model.fingerprint()  # its own cache key: another environment's numbers


def test_paths_are_refused_unless_the_server_allows_them(tiny_lora):
    with serving("random:0") as server:
        with pytest.raises(ServedRewardError, match="does not accept send=path"):
            load_reward_model(f"{server.url}?send=path")


def test_a_server_serving_another_model_is_refused(tmp_path):
    with serving("random:0") as server:
        client = load_reward_model(server.url)
        client.served_fingerprint = "sha256:another"  # as if the server was restarted with other weights
        with pytest.raises(ServedRewardError, match="409.*restarted with another model"):
            client.score([Clip("a.mp4", "h")], ["p"])


def test_https_scores_through_a_tls_server_whose_certificate_is_trusted(monkeypatch):
    from reward_test_helpers import TLS_DIR

    videos = [Clip(f"v{i}", f"h{i}", frames=torch.full((2, 4, 4, 3), v, dtype=torch.uint8)) for i, v in
              enumerate((51, 204))]
    with serving("pixel:brightness", tls=True) as server:
        url = server.url.replace("http://", "https://")
        monkeypatch.setenv("SSL_CERT_FILE", str(TLS_DIR / "cert.pem"))  # the private CA a user would name
        client = load_reward_model(f"{url}?timeout=30")
        assert isinstance(client, HttpReward) and client.url == url
        scores = client.score(videos, ["a", "b"])
        assert scores["Overall"].tolist() == pytest.approx([51 / 255, 204 / 255])
        # the system's CAs do not vouch for a self-signed certificate: one line that says what to do
        monkeypatch.setenv("SSL_CERT_FILE", str(TLS_DIR / "README.md"))
        with pytest.raises(ServedRewardError, match=r"^https://127\.0\.0\.1:\d+: its TLS certificate is not "
                                                    r"trusted \(self.signed certificate\); for a private CA, name its "
                                                    r"certificate file in SSL_CERT_FILE$"):
            load_reward_model(url)


def test_a_served_spec_without_an_address_names_its_scheme():
    for scheme in ("http", "https"):
        with pytest.raises(ServedRewardError, match=f"^{scheme}:127.0.0.1: write the server's address, "
                                                    f"{scheme}://HOST:PORT$"):
            load_reward_model(f"{scheme}:127.0.0.1")


# ------------------------------------------------------------------------------------------ eval, kill, resume


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("bench")
    write_clips(root, 4, 48, np.random.default_rng(3), step=2)
    rows = [pair_row(a, b, f"a cat {k % 2}", lab) for k, (a, b, lab) in
            enumerate([(0, 1, "A"), (2, 3, "B"), (1, 2, "A"), (3, 0, "same")])]
    return write_bench(root, rows)  # 8 (video, prompt) items


def _eval(bench: Path, out: Path, cache: Path, *specs: str):
    args = ["eval", "--bench", str(bench), "--n-resamples", "0", "--no-report", "--quiet", "--batch-size", "2",
            "--cache-dir", str(cache), "-o", str(out)]
    for spec in specs:
        args += ["--model", spec]
    return runner.invoke(app, args, env={"COLUMNS": "200"})


def _videos(out: Path, served: bool) -> pd.DataFrame:
    return pd.read_parquet(next(p for p in out.glob("*.videos.parquet") if p.name.startswith("served") == served))


def test_eval_through_a_served_videoreward_equals_in_process(bench, tiny_lora, tmp_path):
    with serving(_spec(tiny_lora)) as server:
        res = _eval(bench, tmp_path / "out", tmp_path / "cache", server.url, _spec(tiny_lora))
        assert res.exit_code == 0, res.output
        assert server.n_scored == 6  # 8 (video, prompt) rows, 6 unique: the engine's dedupe happens client side
    served, local = _videos(tmp_path / "out", True), _videos(tmp_path / "out", False)
    assert len(served) == 6 and served["video"].tolist() == local["video"].tolist()
    for dim in ("VQ", "MQ", "TA", "Overall"):
        np.testing.assert_allclose(served[dim].to_numpy(), local[dim].to_numpy(), rtol=1e-5, atol=1e-5)
    recorded = json.loads(next((tmp_path / "out").glob("served*.json")).read_text())["model"]["spec"]
    assert recorded == server.url


def _start_killable_server(spec: str, fault: str) -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "VIDEOBENCH_FAULT": fault, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "videobench", "serve-reward", spec, "--port", "0"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if "http://" not in line:
        proc.kill()
        pytest.fail(f"the server did not start: {line}{proc.stderr.read()}")
    return proc, line[line.index("http://"):].split()[0]


def test_a_server_killed_mid_run_is_one_line_and_the_cache_resumes(bench, tmp_path):
    # A real `videobench serve-reward` process, ended by the fault hook (os._exit, as a SIGKILL would) when its 2nd
    # score request arrives: the client is left with a request in flight.
    proc, url = _start_killable_server("random:0", "serve:score:2")
    try:
        res = _eval(bench, tmp_path / "out", tmp_path / "cache", url)
        assert proc.wait(timeout=60) == 137
    finally:
        proc.kill()
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert "Traceback" not in res.output and "closed the connection mid-request" in text
    assert "rerun the same command to resume" in text
    with ScoreStore(tmp_path / "cache") as store:
        assert store.count() == 2  # the first batch (--batch-size 2) was stored before the kill

    port = int(url.rsplit(":", 1)[1])
    with serving("random:0", port=port) as server:  # the same model back at the same address
        res = _eval(bench, tmp_path / "out", tmp_path / "cache", url, "random:0")
        assert res.exit_code == 0, res.output
        assert server.n_scored == 4  # 6 unique items, 2 of them cached: nothing scored twice
    served, local = _videos(tmp_path / "out", True), _videos(tmp_path / "out", False)
    for dim in ("VQ", "MQ", "TA"):  # JSON carries float64 exactly (shortest repr round-trips)
        assert served[dim].tolist() == local[dim].tolist()


def test_no_server_is_one_line_and_exit_2(bench, tmp_path):
    with serving("random:0") as server:
        url = server.url
    res = _eval(bench, tmp_path / "out", tmp_path / "cache", url)  # closed: nothing listens there now
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and "connection refused" in " ".join(res.output.split())


def test_align_scores_rollouts_through_a_served_reward():
    # align scores frames held in memory (no file): send=frames carries them, and the numbers are the model's own
    from videobench.align.rewards import resolve_reward, score_frames

    videos = [np.full((4, 8, 8, 3), v, dtype=np.uint8) for v in (10, 200, 90)]
    with serving("pixel:brightness") as server:
        served = score_frames(resolve_reward(server.url), videos, ["a", "b", "c"])
    local = score_frames(resolve_reward("pixel:brightness"), videos, ["a", "b", "c"])
    assert served.tolist() == local.tolist() == pytest.approx([10 / 255, 200 / 255, 90 / 255])
