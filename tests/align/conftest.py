"""Fixtures for videobench.align tests: tiny pipelines built offline (once per session, then deep-copied)."""

from __future__ import annotations

import copy

import pytest

from videobench.testing.tiny_pipelines import build_tiny_ltx_pipeline, build_tiny_wan_pipeline


@pytest.fixture(scope="session")
def _wan_session():
    return build_tiny_wan_pipeline(seed=0)


@pytest.fixture(scope="session")
def _ltx_session():
    return build_tiny_ltx_pipeline(seed=0)


@pytest.fixture
def wan(_wan_session):
    return copy.deepcopy(_wan_session)


@pytest.fixture
def ltx(_ltx_session):
    return copy.deepcopy(_ltx_session)
