"""Where things live in a results store, and how untrusted names become path components.

Layout (identical in a local folder and in a Hub dataset repo)::

    results/<benchmark>/<org>__<model>/<timestamp>.json        one EvalResult / CompareResult
    results/<benchmark>/<org>__<model>/<timestamp>.pairs.parquet  per-item numbers beside it (optional)
    requests/<request-id>.json                                 submission queue entries
    table/reward_models.parquet, table/reward_models.csv       built reward-model table (long form)
    table/generators.parquet, table/generators.csv             built generator table
    table/reward_models_mos.parquet, table/reward_models_mos.csv  built MOS-benchmark table (SRCC / KRCC / PLCC)
    report.html                                                self-contained report
    README.md                                                  dataset card (configs: results, requests, table)

Names are never "cleaned" into something else silently: a name either matches the allowed alphabet or is refused,
so two different models can never map onto the same folder.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re

from videobench.leaderboard.errors import UnsafeNameError

RESULTS_DIR = "results"
REQUESTS_DIR = "requests"
TABLE_DIR = "table"
RM_TABLE = f"{TABLE_DIR}/reward_models"
GEN_TABLE = f"{TABLE_DIR}/generators"
#: MOS benchmarks (rated single videos): correlations, not accuracies, so a table of their own
MOS_TABLE = f"{TABLE_DIR}/reward_models_mos"
REPORT = "report.html"
CARD = "README.md"
ORG_SEPARATOR = "__"
LOCAL_ORG = "local"

# Hub-style repo names: letters, digits, '-', '_', '.', not starting with '.' or '-', no '--' or '..' runs.
_COMPONENT = re.compile(r"^(?!.*(?:\.\.|--))[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
_BENCHMARK = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_TIMESTAMP = re.compile(r"^\d{8}T\d{12}Z$")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,220}$")


def _component(value: str, what: str) -> str:
    if not isinstance(value, str) or not _COMPONENT.fullmatch(value) or ORG_SEPARATOR in value:
        raise UnsafeNameError(
            f"{what} {value!r} is not allowed: use 1-96 letters, digits, '.', '_' or '-', starting with a letter or "
            "digit, without '..', '--' or '__' (names become folder names and appear in reports)"
        )
    return value


def split_model_id(model_id: str) -> tuple[str, str]:
    """``org/model`` -> (org, model); a bare name gets the org ``local``. Refuses anything else."""
    if not isinstance(model_id, str) or not model_id:
        raise UnsafeNameError(f"model id {model_id!r} is empty")
    parts = model_id.split("/")
    if len(parts) == 1:
        return LOCAL_ORG, _component(parts[0], "model name")
    if len(parts) == 2:
        return _component(parts[0], "organisation"), _component(parts[1], "model name")
    raise UnsafeNameError(f"model id {model_id!r} must be 'org/name' or 'name' (found {len(parts) - 1} slashes)")


def model_dir(model_id: str) -> str:
    org, name = split_model_id(model_id)
    return f"{org}{ORG_SEPARATOR}{name}"


def model_id_from_dir(folder: str) -> str:
    org, sep, name = folder.partition(ORG_SEPARATOR)
    if not sep:
        raise UnsafeNameError(f"folder {folder!r} is not '<org>__<model>'")
    _component(org, "organisation")
    _component(name, "model name")
    return name if org == LOCAL_ORG else f"{org}/{name}"


def check_benchmark(name: str) -> str:
    if not isinstance(name, str) or not _BENCHMARK.fullmatch(name) or ".." in name:
        raise UnsafeNameError(
            f"benchmark name {name!r} is not allowed: use 1-64 lower-case letters, digits, '.', '_' or '-'"
        )
    return name


def timestamp(now: _dt.datetime | None = None) -> str:
    now = now or _dt.datetime.now(_dt.timezone.utc)
    return now.strftime("%Y%m%dT%H%M%S%fZ")


def result_path(benchmark: str, model_id: str, stamp: str) -> str:
    if not _TIMESTAMP.fullmatch(stamp):
        raise UnsafeNameError(f"timestamp {stamp!r} is not YYYYMMDDTHHMMSSffffffZ")
    return f"{RESULTS_DIR}/{check_benchmark(benchmark)}/{model_dir(model_id)}/{stamp}.json"


def sidecar_path(result_json_path: str, kind: str) -> str:
    """``.../<ts>.json`` -> ``.../<ts>.<kind>.parquet`` (kind: pairs, videos, items)."""
    if kind not in ("pairs", "videos", "items"):
        raise ValueError(f"unknown per-item file kind {kind!r}")
    return f"{result_json_path.removesuffix('.json')}.{kind}.parquet"


def parse_result_path(path: str) -> tuple[str, str, str] | None:
    """(benchmark, model_id, timestamp) for a result JSON path of this layout, else None (e.g. sidecars)."""
    parts = path.split("/")
    if len(parts) != 4 or parts[0] != RESULTS_DIR or not parts[3].endswith(".json"):
        return None
    stamp = parts[3].removesuffix(".json")
    try:
        check_benchmark(parts[1])
        model_id = model_id_from_dir(parts[2])
    except UnsafeNameError:
        return None
    if not _TIMESTAMP.fullmatch(stamp):
        return None
    return parts[1], model_id, stamp


def request_id(kind: str, model_id: str, revision: str, target: str) -> str:
    """Deterministic id, so the same submission always maps to the same request file (duplicate detection)."""
    digest = hashlib.sha256("\0".join((kind, model_id, revision, target)).encode()).hexdigest()[:16]
    return f"{model_dir(model_id)}--{check_benchmark(target)}--{digest}"


def request_path(req_id: str) -> str:
    if not _REQUEST_ID.fullmatch(req_id) or ".." in req_id or "/" in req_id:
        raise UnsafeNameError(f"request id {req_id!r} is not allowed")
    return f"{REQUESTS_DIR}/{req_id}.json"


def git_blob_sha1(data: bytes) -> str:
    """The git object id of a blob; the Hub's tree listing reports it for every non-LFS file."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
