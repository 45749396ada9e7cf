"""Typed result files: ``EvalResult`` (reward model vs human labels) and ``CompareResult`` (generator checkpoints).

Results are JSON, written atomically (temp file + rename), with a schema version. ``load_result`` reads every schema
version this package has written. Raw per-item numbers (per-pair margins, per-video scores) sit beside the JSON as
Parquet; the JSON names that file relative to itself and records the sha256 of every file beside it that belongs to
the result (``files``), so a set torn by an interrupted rewrite is refused instead of read (``save_result_set``).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Mapping

from videobench.atomic import clean_stale, temp_path, write_bytes
from videobench.faults import fault_point

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
    picks the threshold on held-out folds (the honest number); ``accuracy_with_ties_fixed`` uses the hand-set ``tie_threshold``
    (|margin| <= tie_threshold is a predicted tie, as VideoScore2 reports; None unless asked for). ``available`` is False when the model does not score this
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
    accuracy_with_ties_fixed: Estimate | None = None
    tie_threshold: float | None = None
    n_excluded: int = 0
    excluded_pair_ids: list[str] = field(default_factory=list)
    available: bool = True


@dataclass
class CorrelationResult:
    """Agreement of one reward model's per-video scores with the mean opinion scores of one dimension of a MOS
    benchmark (``videobench.metrics.mos``): SRCC, KRCC and PLCC (after the 4-parameter logistic fit, whose parameters
    b1..b4 are ``logistic_params``; None when the fit did not converge), with prompt-clustered bootstrap CIs.
    ``available`` is False when the model does not score this dimension."""

    n_videos: int
    srcc: Estimate
    krcc: Estimate
    plcc: Estimate
    logistic_params: list[float] | None = None
    n_excluded: int = 0
    excluded_item_ids: list[str] = field(default_factory=list)
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
    #: "pairs" (pairwise preferences: ``EvalResult.dimensions``) or "mos" (rated single videos:
    #: ``EvalResult.correlations``; ``n_pairs`` is 0 and ``n_videos`` counts the rated videos)
    kind: str = "pairs"
    n_videos: int | None = None


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
    #: file beside the JSON -> sha256 of its bytes: the files written with this result, checked by ``load_result``
    files: dict[str, str] = field(default_factory=dict)
    #: per dimension of a MOS benchmark (``benchmark.kind == "mos"``): correlations with the human ratings
    correlations: dict[str, CorrelationResult] = field(default_factory=dict)
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
    files: dict[str, str] = field(default_factory=dict)
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


def _json_bytes(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n").encode("utf-8")


def write_json_atomic(path: str | os.PathLike, data: dict[str, Any]) -> Path:
    """Write JSON so that a crash never leaves a half-written file behind."""
    return write_bytes(path, _json_bytes(data))


def save_result(result: Result, path: str | os.PathLike) -> Path:
    return write_json_atomic(path, result_to_dict(result))


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _plain_name(name: str, source: str) -> str:
    if not isinstance(name, str) or not name or "/" in name or "\\" in name or name.startswith("."):
        raise ResultFormatError(f"{source}: {name!r} is not a plain file name beside the result")
    return name


def save_result_set(result: Result, path: str | os.PathLike, files: Mapping[str, bytes]) -> Path:
    """Write the result JSON at ``path`` together with ``files`` (name beside the JSON -> bytes) as one set.

    Everything is first written under temp names; then the old JSON is removed, the files are renamed into place, and
    the new JSON, which records each file's sha256, is renamed in last. A reader finds the old set, no JSON (for the
    instant of the renames), or the new set; a JSON whose files were swapped under it fails ``load_result``.
    """
    path = Path(path)
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    result.files = {_plain_name(name, str(path)): sha256_bytes(data) for name, data in files.items()}
    temps: dict[Path, Path] = {}
    try:
        for name, data in [*files.items(), (path.name, _json_bytes(result_to_dict(result)))]:
            clean_stale(directory, name)  # leftovers of an earlier, killed write of this same file
            tmp = temp_path(directory / name)
            temps[directory / name] = tmp  # before writing: a failed write is cleaned up too
            tmp.write_bytes(data)
            os.chmod(tmp, 0o644)
    except BaseException:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)
        raise
    fault_point("result-set:prepared")
    json_tmp = temps.pop(path)
    if temps:
        path.unlink(missing_ok=True)  # the old JSON names files about to change: no reader may pair it with them
    fault_point("result-set:old-json-removed")
    for target, tmp in temps.items():
        os.replace(tmp, target)
        fault_point("result-set:file-replaced")
    os.replace(json_tmp, path)
    return path


def _estimate(d: Any) -> Estimate | None:
    return None if d is None else Estimate(**d)


def _dimension(d: dict[str, Any]) -> DimensionResult:
    d = dict(d)
    for key in ("accuracy_without_ties", "accuracy_with_ties", "accuracy_with_ties_reference", "accuracy_with_ties_crossfit",
                "accuracy_with_ties_fixed"):
        if key in d:
            d[key] = _estimate(d[key])
    t = d.get("tie_threshold")
    if t is not None and (isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 <= t < math.inf):
        raise TypeError(f"tie_threshold must be a finite number >= 0 or null, got {t!r}")  # reported as malformed
    return DimensionResult(**d)


def _correlation(d: dict[str, Any]) -> CorrelationResult:
    d = dict(d)
    for key in ("srcc", "krcc", "plcc"):
        d[key] = Estimate(**d[key])
    return CorrelationResult(**d)


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
                files=_files(data.get("files"), source),
                correlations={k: _correlation(v) for k, v in (data.get("correlations") or {}).items()},
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
                files=_files(data.get("files"), source),
                schema_version=SCHEMA_VERSION,
            )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ResultFormatError(f"{source}: malformed {kind} result ({type(exc).__name__}: {exc})") from exc
    raise ResultFormatError(f"{source}: unknown result kind {kind!r} (expected 'eval' or 'compare')")


def _files(value: Any, source: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ResultFormatError(f"{source}: 'files' must map file names to sha256 hex digests")
    return {_plain_name(k, source): v for k, v in value.items()}


def check_result_files(result: Result, path: str | os.PathLike) -> None:
    """Every file the result recorded that is present beside ``path`` has the recorded sha256; raises
    ``ResultFormatError`` naming the file otherwise (a missing file is not checked: a JSON may travel alone)."""
    path = Path(path)
    for name, digest in result.files.items():
        side = path.parent / name
        if not side.is_file():
            continue
        actual = sha256_bytes(side.read_bytes())
        if actual != digest:
            raise ResultFormatError(
                f"{side}: does not belong to {path.name} (sha256 {actual[:12]}, the result recorded {digest[:12]}); "
                "the set was torn by an interrupted write or edited by hand: rerun the command that wrote it")


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
    result = result_from_dict(data, source=str(path))
    check_result_files(result, path)
    return result
