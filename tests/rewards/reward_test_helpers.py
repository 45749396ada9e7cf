"""Shared values of the reward tests (a module with a unique name: every test folder has its own conftest)."""

from __future__ import annotations

import ssl
import threading
from contextlib import contextmanager
from pathlib import Path

import torch

from videobench.rewards.base import Clip

#: The tiny tests' frames: VideoAlign's floor (128*28*28) would scale every small clip up to 336x336; a floor of
#: 56x56 keeps them small (the checkpoint's budget, 64x64, then brings larger frames down to 56x56 or 28x56).
TINY_OPTIONS = dict(min_pixels=56 * 56)
#: a self-signed certificate for 127.0.0.1 (test only; how it was made: its README)
TLS_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "tls"


def frames_clip(frames: torch.Tensor, name: str = "mem") -> Clip:
    return Clip(path=name, content_hash=name, frames=frames)


@contextmanager
def serving(spec: str, port: int = 0, *, tls: bool = False, **options):
    """``videobench serve-reward SPEC`` in a thread of this process, on loopback (port 0: a free one); ``tls``: behind
    TLS with the test certificate of ``tests/fixtures/tls`` (as a TLS proxy in front of it would be)."""
    from videobench.rewards.served_server import make_server

    server = make_server(spec, "127.0.0.1", port, **options)
    if tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(TLS_DIR / "cert.pem", TLS_DIR / "key.pem")
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
