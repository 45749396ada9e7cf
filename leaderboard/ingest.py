"""Reading result files from submissions and stores: every byte is untrusted.

A result is accepted only when it is under the size limit, valid UTF-8 JSON of a known schema, and every name in it
that reaches a path or a report is acceptable (names that become paths must match ``layout``'s alphabet; free-text
display names may hold any printable text, and reports escape them).
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from typing import Any

from videobench.leaderboard.errors import LeaderboardError
from videobench.leaderboard.layout import check_benchmark
from videobench.results import MAX_RESULT_BYTES, CompareResult, EvalResult, Result, ResultFormatError, result_from_dict

#: VQ / MQ / TA / Overall, or a compare score column named after its reward (``pixel:contrast.Overall``,
#: ``VideoReward.VQ``): no spaces, quotes, brackets or control characters (names are escaped when shown anyway)
_DIMENSION = re.compile(r"^[A-Za-z][A-Za-z0-9_.:/@-]{0,95}$")
MAX_TEXT = 200


def check_text(value: Any, what: str, source: str) -> str:
    """Free text shown in reports: a string of printable characters, at most 200 long (escaped when shown)."""
    if not isinstance(value, str) or not value or len(value) > MAX_TEXT:
        raise ResultFormatError(f"{source}: {what} must be a non-empty string of at most {MAX_TEXT} characters")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") for ch in value):
        raise ResultFormatError(f"{source}: {what} {value!r} contains control or format characters")
    return value


def _check_dimension(name: Any, source: str) -> None:
    if not isinstance(name, str) or not _DIMENSION.fullmatch(name):
        raise ResultFormatError(f"{source}: dimension name {name!r} is not allowed (a letter, then letters, digits "
                                "or _ . : / @ -; max 96)")


def _check_rate(value: Any, what: str, source: str) -> None:
    if value is None:
        return
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or not 0 <= value <= 1:
        raise ResultFormatError(f"{source}: {what} = {value!r} is not a number in [0, 1]")


def _check_correlation(value: Any, what: str, source: str) -> None:
    if value is None:
        return
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or abs(value) > 1:
        raise ResultFormatError(f"{source}: {what} = {value!r} is not a correlation in [-1, 1]")


def validate_result(result: Result, source: str) -> Result:
    try:
        if isinstance(result, EvalResult):
            check_text(result.model.name, "model name", source)
            check_text(result.model.spec, "model spec", source)
            check_benchmark(result.benchmark.name)
            for dim, d in result.dimensions.items():
                _check_dimension(dim, source)
                for key in ("accuracy_without_ties", "accuracy_with_ties", "accuracy_with_ties_crossfit"):
                    est = getattr(d, key)
                    if est is not None:
                        for part in ("value", "ci_low", "ci_high"):
                            _check_rate(getattr(est, part), f"{dim}.{key}.{part}", source)
                _check_rate(d.human_tie_rate, f"{dim}.human_tie_rate", source)
                if not isinstance(d.n_pairs, int) or d.n_pairs < 0:
                    raise ResultFormatError(f"{source}: {dim}.n_pairs must be a non-negative integer")
            for dim, c in result.correlations.items():  # a MOS benchmark's result
                _check_dimension(dim, source)
                for key in ("srcc", "krcc", "plcc"):
                    est = getattr(c, key)
                    for part in ("value", "ci_low", "ci_high"):
                        _check_correlation(getattr(est, part), f"{dim}.{key}.{part}", source)
                if not isinstance(c.n_videos, int) or c.n_videos < 0:
                    raise ResultFormatError(f"{source}: {dim}.n_videos must be a non-negative integer")
        elif isinstance(result, CompareResult):
            check_text(result.baseline, "baseline", source)
            for c in result.checkpoints:
                check_text(c.name, "checkpoint name", source)
                check_text(c.spec, "checkpoint spec", source)
            for w in result.win_rates:
                _check_dimension(w.dimension, source)
                _check_rate(w.win_rate.value, f"win rate {w.checkpoint} vs {w.baseline}", source)
            for dim in result.ranking:
                _check_dimension(dim, source)
    except LeaderboardError as exc:
        raise ResultFormatError(f"{source}: {exc}") from exc
    return result


def parse_result(data: bytes, source: str) -> Result:
    """Bytes of a result JSON -> a validated result; ``ResultFormatError`` naming ``source`` otherwise."""
    if len(data) > MAX_RESULT_BYTES:
        raise ResultFormatError(f"{source}: result file is {len(data)} bytes, over the {MAX_RESULT_BYTES}-byte limit")
    try:
        obj = json.loads(data.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
        raise ResultFormatError(f"{source}: not valid JSON ({exc})") from exc
    return validate_result(result_from_dict(obj, source=source), source)


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")
