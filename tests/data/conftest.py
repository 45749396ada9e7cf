"""Fixtures for benchmark-loader tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from data_helpers import VGRB_HEADER, vgrb_row, write_csv


@pytest.fixture
def vgrb_csv(tmp_path: Path) -> Path:
    rows = [vgrb_row(i, labels) for i, labels in enumerate(
        [("A", "B", "same", "A"), ("B", "B", "A", "B"), ("same", "A", "B", "same"), ("A", "A", "A", "A")])]
    return write_csv(tmp_path / "bench.csv", VGRB_HEADER, rows)
