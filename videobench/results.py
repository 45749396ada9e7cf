"""Typed result files: ``EvalResult`` (reward model vs human labels) and ``CompareResult`` (generator checkpoints).

Results are JSON, written atomically (temp file + rename), with a schema version. ``load_result`` reads every schema
version this package has written. Raw per-item numbers (per-pair margins, per-video scores) sit beside the JSON as
Parquet; the JSON names that file relative to itself.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

SCHEMA_VERSION = 1
#: Largest result file ``load_result`` accepts (results come from submissions, so they are untrusted).
MAX_RESULT_BYTES = 20 * 1024 * 1024


class ResultFormatError(ValueError):
    """A result file that is not valid JSON of a known schema."""


@dataclass
class Estimate:
    """A number with its confidence interval (``ci_low``/``ci_high`` are None when not computed)."""

    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    level: float = 0.95

    @property
    def half_width(self) -> float | None:
        if self.ci_low is None or self.ci_high is None:
            return None
        return (self.ci_high - self.ci_low) / 2


@dataclass
class DimensionResult:
    """Accuracy of one reward model on one dimension of a pairwise benchmark.

    ``accuracy_with_ties`` is the order-independent tie-calibrated accuracy (grouped mode) with the chosen threshold
    ``epsilon``; ``accuracy_with_ties_reference`` reproduces the published VideoAlign script; ``accuracy_with_ties_crossfit``
    picks the threshold on held-out folds (the honest number). ``available`` is False when the model does not score this
    dimension (then every metric is None and tables show "n/a").
    """

    n_pairs: int
    n_ties: int
    human_tie_rate: float
    accuracy_without_ties: Estimate
    accuracy_with_ties: Estimate
    epsilon: float | None = None
    accuracy_with_ties_reference: Estimate | None = None
    epsilon_reference: float | None = None
    accuracy_with_ties_crossfit: Estimate | None = None
    n_excluded: int = 0
    excluded_pair_ids: list[str] = field(default_factory=list)
    available: bool = True


@dataclass
class ModelInfo:
    name: str
    spec: str
    fingerprint: str
    dimensions: list[str]
    sampling: dict[str, Any] = field(default_factory=dict)
    revision: str | None = None


@dataclass
class BenchmarkInfo:
    name: str
    fingerprint: str
    n_pairs: int
    dimensions: list[str]
    source: str = ""
    revision: str | None = None


@dataclass
class EvalResult:
    model: ModelInfo
    benchmark: BenchmarkInfo
    dimensions: dict[str, DimensionResult]
    #: The VideoGen-RewardBench leaderboard's averages: mean w/o ties, mean w/ ties, and their mean.
    averages: dict[str, float | None]
    provenance: dict[str, Any]
    per_pair_file: str | None = None
    per_video_file: str | None = None
    kind: Literal["eval"] = "eval"
    schema_version: int = SCHEMA_VERSION


@dataclass
class WinRate:
    """Win rate of ``checkpoint`` against ``baseline`` on one dimension over paired (prompt, seed) items.

    Ties count as half a win. ``p_value`` is the two-sided sign test on the non-tied items.
    """

    checkpoint: str
    baseline: str
    dimension: str
    win_rate: Estimate
    wins: int
    losses: int
    ties: int
    p_value: float | None


@dataclass
class RankEntry:
    checkpoint: str
    rank: int
    strength: Estimate


@dataclass
class CheckpointInfo:
    name: str
    spec: str
    fingerprint: str
    sampling: dict[str, Any] = field(default_factory=dict)


@dataclass
class CompareResult:
    checkpoints: list[CheckpointInfo]
    baseline: str
    prompts: dict[str, Any]
    seeds: list[int]
    rewards: list[ModelInfo]
    weights: dict[str, float]
    win_rates: list[WinRate]
    #: Bradley-Terry ranking per dimension (strengths are log-odds, the baseline pinned at 0).
    ranking: dict[str, list[RankEntry]]
    provenance: dict[str, Any]
    per_item_file: str | None = None
    kind: Literal["compare"] = "compare"
    schema_version: int = SCHEMA_VERSION


Result = EvalResult | CompareResult


def _clean(obj: Any) -> Any:
    """JSON has no NaN/inf: store them as null."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy scalars
        return _clean(obj.item())
    return obj


def result_to_dict(result: Result) -> dict[str, Any]:
    return _clean(asdict(result))


def write_json_atomic(path: str | os.PathLike, data: dict[str, Any]) -> Path:
    """Write JSON so that a crash never leaves a half-written file behind."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, sort_keys=False, allow_nan=False)
            f.write("\n")
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; results are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def save_result(result: Result, path: str | os.PathLike) -> Path:
    return write_json_atomic(path, result_to_dict(result))


def _estimate(d: Any) -> Estimate | None:
    return None if d is None else Estimate(**d)


def _dimension(d: dict[str, Any]) -> DimensionResult:
    d = dict(d)
    for key in ("accuracy_without_ties", "accuracy_with_ties", "accuracy_with_ties_reference", "accuracy_with_ties_crossfit"):
        if key in d:
            d[key] = _estimate(d[key])
    return DimensionResult(**d)


def result_from_dict(data: dict[str, Any], source: str = "<dict>") -> Result:
    """Rebuild a result from its JSON form; raises ``ResultFormatError`` naming ``source`` on anything unexpected."""
    if not isinstance(data, dict):
        raise ResultFormatError(f"{source}: a result must be a JSON object, got {type(data).__name__}")
    version = data.get("schema_version")
    if not isinstance(version, int) or version < 1 or version > SCHEMA_VERSION:
        raise ResultFormatError(
            f"{source}: unsupported schema_version {version!r} (this videobench reads 1..{SCHEMA_VERSION}; upgrade videobench)"
        )
    data = _upgrade(dict(data), version)
    kind = data.get("kind")
    try:
        if kind == "eval":
            return EvalResult(
                model=ModelInfo(**data["model"]),
                benchmark=BenchmarkInfo(**data["benchmark"]),
                dimensions={k: _dimension(v) for k, v in data["dimensions"].items()},
                averages=dict(data["averages"]),
                provenance=dict(data["provenance"]),
                per_pair_file=data.get("per_pair_file"),
                per_video_file=data.get("per_video_file"),
                schema_version=SCHEMA_VERSION,
            )
        if kind == "compare":
            return CompareResult(
                checkpoints=[CheckpointInfo(**c) for c in data["checkpoints"]],
                baseline=data["baseline"],
                prompts=dict(data["prompts"]),
                seeds=list(data["seeds"]),
                rewards=[ModelInfo(**m) for m in data["rewards"]],
                weights=dict(data["weights"]),
                win_rates=[WinRate(**{**w, "win_rate": Estimate(**w["win_rate"])}) for w in data["win_rates"]],
                ranking={
                    dim: [RankEntry(**{**e, "strength": Estimate(**e["strength"])}) for e in entries]
                    for dim, entries in data["ranking"].items()
                },
                provenance=dict(data["provenance"]),
                per_item_file=data.get("per_item_file"),
                schema_version=SCHEMA_VERSION,
            )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ResultFormatError(f"{source}: malformed {kind} result ({type(exc).__name__}: {exc})") from exc
    raise ResultFormatError(f"{source}: unknown result kind {kind!r} (expected 'eval' or 'compare')")


def _upgrade(data: dict[str, Any], version: int) -> dict[str, Any]:
    """Bring an older schema up to the current one. Each future version adds one step here."""
    return data


def load_result(path: str | os.PathLike) -> Result:
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_RESULT_BYTES:
        raise ResultFormatError(f"{path}: result file is {size} bytes, over the {MAX_RESULT_BYTES}-byte limit")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultFormatError(f"{path}: not valid JSON ({exc})") from exc
    return result_from_dict(data, source=str(path))
