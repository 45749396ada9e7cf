"""Shared pytest configuration. Area-specific fixtures live in conftest files beside their tests."""

from __future__ import annotations

import os
import sys

# Tests never reach the network: no Hub downloads, no telemetry.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
# huggingface_hub uploads through Xet whenever hf_xet is installed; the test Hub server (tests/leaderboard/hub_server.py)
# speaks the LFS batch API only, as the Hub still does for clients without Xet.
os.environ.setdefault("HF_HUB_DISABLE_XET", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# One OpenMP thread per test process: `make test` runs 2 xdist workers on 2 cores, and a 2-thread torch process whose
# second core is busy waits at every parallel region (measured: the online Flow-RWR test took 173 s with 2 threads
# beside one busy process, 53 s with 1; alone both take 55 s).
os.environ.setdefault("OMP_NUM_THREADS", "1")
if "torch" in sys.modules:  # imported before this file (a plugin): the variable came too late
    sys.modules["torch"].set_num_threads(int(os.environ["OMP_NUM_THREADS"]))


# --- No silent skips -------------------------------------------------------------------------------------------------
# A test that needs an optional system dependency carries a marker (needs_torchcodec, needs_chromium, needs_olah).
# Without the dependency it is skipped for a developer, with the reason printed at the end (`-ra`). Under
# `make test` and CI, VIDEOBENCH_STRICT_DEPS=1: the same test FAILS, because there the dependency is part of the
# install and its absence is a broken install, not a reason to run less. Any other skip under strict mode fails too
# unless its reason matches ALLOWED_SKIPS: reasons that a correct install can legitimately have.

import functools  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

STRICT_ENV = "VIDEOBENCH_STRICT_DEPS"
ALLOWED_SKIPS: tuple[str, ...] = (
    r"needs a CUDA GPU",  # CPU machines are a correct install; GPU checks live in bench/gpu_*.py
)


def strict() -> bool:
    return os.environ.get(STRICT_ENV, "") not in ("", "0")


@functools.cache
def _torchcodec_missing() -> str | None:
    from videobench.video.decode import _torchcodec_import_error

    err = _torchcodec_import_error()
    return None if err is None else (f"torchcodec does not load ({err}); `make dev system-deps` installs it and "
                                     "Debian's FFmpeg 5 libraries")


@functools.cache
def _chromium_missing() -> str | None:
    if shutil.which("chromium") or shutil.which("chromium-browser"):
        return None
    return "Debian's chromium is not installed (`make system-deps` installs it)"


@functools.cache
def _olah_missing() -> str | None:
    if not Path(sys.executable).with_name("olah-cli").exists():
        return "the olah-cli script is missing (dev extra `olah`)"
    return None if shutil.which("git") else "git is not installed"


DEPENDENCIES = {"needs_torchcodec": _torchcodec_missing, "needs_chromium": _chromium_missing,
                "needs_olah": _olah_missing}


def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker, missing in DEPENDENCIES.items():
        if item.get_closest_marker(marker) and (reason := missing()):
            if strict():
                pytest.fail(f"{marker}: {reason} ({STRICT_ENV}=1: a missing dependency is a failure)", pytrace=False)
            pytest.skip(reason)


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report = outcome.get_result()
    if not (report.skipped and strict()) or hasattr(report, "wasxfail"):
        return
    reason = _skip_reason(report)
    if not any(re.search(pattern, reason) for pattern in ALLOWED_SKIPS):
        report.outcome = "failed"
        report.longrepr = (f"skipped under {STRICT_ENV}=1 for a reason not on the allow-list in tests/conftest.py: "
                           f"{reason}")


@pytest.fixture(autouse=True, scope="session")
def _queue_work_folder(tmp_path_factory):
    """The leaderboard queue's work folders and board score cache (default ~/.cache/videobench/queue) go to this
    session's temp folder, so tests never leave anything in the home folder."""
    if "VIDEOBENCH_QUEUE_DIR" not in os.environ:
        os.environ["VIDEOBENCH_QUEUE_DIR"] = str(tmp_path_factory.mktemp("queue"))
    yield
