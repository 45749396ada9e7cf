"""Shared pytest configuration. Area-specific fixtures live in conftest files beside their tests."""

from __future__ import annotations

import os

# Tests never reach the network: no Hub downloads, no telemetry.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
