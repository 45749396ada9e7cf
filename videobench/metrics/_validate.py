"""Input checks shared by the metrics: one clear ``ValueError`` per problem, naming the positions at fault."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

_MAX_LISTED = 10


def _positions(mask: np.ndarray) -> str:
    idx = np.flatnonzero(mask)
    shown = ", ".join(str(i) for i in idx[:_MAX_LISTED])
    more = f", ... ({idx.size} in all)" if idx.size > _MAX_LISTED else ""
    return f"[{shown}{more}]"


def as_labels(labels: ArrayLike, name: str = "labels") -> np.ndarray:
    """Labels as an int64 1-D array of +1 / -1 / 0; anything else raises ``ValueError``."""
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        if arr.size == 0:
            return np.zeros(0, dtype=np.int64)
        raise ValueError(f"{name} must be numbers in {{+1, -1, 0}}, got dtype {arr.dtype}")
    bad = ~((arr == 1) | (arr == 0) | (arr == -1))  # NaN compares unequal, so it is caught here too
    if bad.any():
        raise ValueError(
            f"{name} must be +1 (A better), -1 (B better) or 0 (tie); bad values at positions {_positions(bad)}"
        )
    return arr.astype(np.int64)


def as_values(values: ArrayLike, name: str) -> np.ndarray:
    """Scores or margins as a float64 1-D array; NaN raises ``ValueError`` naming the positions (inf is allowed)."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    nan = np.isnan(arr)
    if nan.any():
        raise ValueError(f"{name} contain NaN at positions {_positions(nan)}")
    return arr


def same_length(**arrays: np.ndarray) -> int:
    lengths = {k: len(v) for k, v in arrays.items()}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{k}={n}" for k, n in lengths.items())
        raise ValueError(f"length mismatch: {detail}")
    return next(iter(lengths.values()))


def as_clusters(clusters: ArrayLike | None, n: int, name: str = "clusters") -> np.ndarray:
    """Any hashable cluster ids (prompts, ints) -> dense codes 0..C-1; ``None`` makes every item its own cluster."""
    if clusters is None:
        return np.arange(n, dtype=np.int64)
    arr = np.asarray(clusters)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if len(arr) != n:
        raise ValueError(f"length mismatch: {name}={len(arr)}, items={n}")
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise ValueError(f"{name} contain NaN at positions {_positions(np.isnan(arr))}")
    if arr.dtype == object:
        missing = np.array([v is None for v in arr], dtype=bool)
        if missing.any():
            raise ValueError(f"{name} contain None at positions {_positions(missing)}")
        arr = arr.astype(str)
    _, codes = np.unique(arr, return_inverse=True)
    return codes.reshape(-1).astype(np.int64)
