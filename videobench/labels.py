"""Preference labels shared by every part of videobench.

A pair (A, B) carries one label per dimension: +1 when A is preferred, -1 when B is preferred, 0 for a tie.
The margin of a reward model on a pair is score(A) - score(B).
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

A_BETTER, B_BETTER, TIE = 1, -1, 0

#: The dimensions of VideoGen-RewardBench and of the VideoReward model.
PAPER_DIMENSIONS: tuple[str, ...] = ("VQ", "MQ", "TA", "Overall")
#: What each dimension means, for tables and cards.
DIMENSION_NAMES: dict[str, str] = {
    "VQ": "visual quality",
    "MQ": "motion quality",
    "TA": "text alignment",
    "Overall": "overall preference",
}

# Spellings found in the benchmark files we read. Keys are lower-case.
_LABEL_SPELLINGS: dict[str, int] = {
    "a": A_BETTER, "1": A_BETTER, "+1": A_BETTER, "left": A_BETTER, "leftvote": A_BETTER,
    "b": B_BETTER, "-1": B_BETTER, "right": B_BETTER, "rightvote": B_BETTER,
    "same": TIE, "tie": TIE, "0": TIE, "tievote": TIE,
}


def parse_label(value: object) -> int:
    """Map one label spelling (``A``/``B``/``same``/``tie``, ±1/0) to +1/-1/0. Raises ``ValueError`` otherwise."""
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"unknown label value {value!r}")
    if isinstance(value, (int, np.integer)) and int(value) in (-1, 0, 1):
        return int(value)
    if isinstance(value, (float, np.floating)) and float(value) in (-1.0, 0.0, 1.0):
        return int(value)
    key = str(value).strip().lower()
    if key in _LABEL_SPELLINGS:
        return _LABEL_SPELLINGS[key]
    raise ValueError(f"unknown label value {value!r} (expected A, B, same/tie, or +1/-1/0)")


def label_to_str(label: int) -> str:
    return {A_BETTER: "A", B_BETTER: "B", TIE: "tie"}[int(label)]


def as_label_array(values: Iterable[object]) -> np.ndarray:
    """Parse a sequence of labels into an int8 array of +1/-1/0."""
    return np.fromiter((parse_label(v) for v in values), dtype=np.int8)
