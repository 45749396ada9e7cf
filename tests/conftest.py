"""Shared pytest configuration. Area-specific fixtures live in conftest files beside their tests."""

from __future__ import annotations

import os
import sys

# Tests never reach the network: no Hub downloads, no telemetry.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# One OpenMP thread per test process: `make test` runs 2 xdist workers on 2 cores, and a 2-thread torch process whose
# second core is busy waits at every parallel region (measured: the online Flow-RWR test took 173 s with 2 threads
# beside one busy process, 53 s with 1; alone both take 55 s).
os.environ.setdefault("OMP_NUM_THREADS", "1")
if "torch" in sys.modules:  # imported before this file (a plugin): the variable came too late
    sys.modules["torch"].set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
