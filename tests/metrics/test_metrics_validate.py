"""Input checks of the metrics (``_validate``): returned dtypes and the exact messages naming the positions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from videobench.metrics._validate import as_clusters, as_labels, as_values


def message(fn, *args) -> str:
    with pytest.raises(ValueError) as info:
        fn(*args)
    return str(info.value)


def test_as_labels_returns_int64():
    for given in ([1.0, -1.0, 0.0], np.array([1, 0, -1], dtype=np.float32), np.array([1, 0, -1], dtype=np.int8)):
        out = as_labels(given)
        assert out.dtype == np.int64
        assert out.tolist() == [int(v) for v in given]
    for empty in (np.array([], dtype=object), np.array([], dtype=str)):
        out = as_labels(empty)
        assert out.dtype == np.int64 and out.shape == (0,)


def test_as_labels_messages():
    assert message(as_labels, [1, 2, 0, -3]) == (
        "labels must be +1 (A better), -1 (B better) or 0 (tie); bad values at positions [1, 3]")
    assert message(as_labels, np.array(["a"])) == "labels must be numbers in {+1, -1, 0}, got dtype <U1"


def test_as_values_returns_float64():
    out = as_values([1, 2, -3], "scores")
    assert out.dtype == np.float64 and out.tolist() == [1.0, 2.0, -3.0]
    assert message(as_values, [[1, 2], [3, 4]], "scores") == "scores must be 1-D, got shape (2, 2)"


def test_as_clusters_messages():
    assert message(as_clusters, [[1, 2]], 2) == "clusters must be 1-D, got shape (1, 2)"
    assert message(as_clusters, [1.0, math.nan, 2.0, math.nan], 4) == "clusters contain NaN at positions [1, 3]"
    prompts = np.array(["a", None, "b"], dtype=object)
    assert message(as_clusters, prompts, 3) == "clusters contain None at positions [1]"
