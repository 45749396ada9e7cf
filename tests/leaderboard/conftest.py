"""Fixtures for the leaderboard tests: stores (local folder, in-memory Hub API server) and result files."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from hub_server import HubTestServer  # noqa: E402

from videobench.leaderboard.store import LocalStore  # noqa: E402


@pytest.fixture
def online(monkeypatch):
    """tests/conftest.py sets HF_HUB_OFFLINE=1, which huggingface_hub reads at import: lift it for local servers."""
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)  # the test server speaks LFS, not Xet


@pytest.fixture
def hub(online):
    with HubTestServer() as server:
        yield server


@pytest.fixture
def hub_store(hub, tmp_path):
    from videobench.leaderboard.hub_store import HubStore

    return HubStore("board/results", endpoint=hub.url, token=False, cache_dir=tmp_path / "hf-cache", backoff=0.001)


@pytest.fixture
def local_store(tmp_path):
    return LocalStore(tmp_path / "store")


@pytest.fixture(params=["local", "hub"])
def store(request, tmp_path):
    if request.param == "local":
        return LocalStore(tmp_path / "store")
    return request.getfixturevalue("hub_store")
