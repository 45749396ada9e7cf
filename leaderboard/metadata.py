"""What the board says about a submitted checkpoint beyond its scores: parameter count, licence, base model, and when
it was submitted.

Read from the checkpoint's files at submission, never by running code or loading weights: the parameter count sums
the tensor shapes in the safetensors headers (``huggingface_hub``'s header parsers: a local file's first bytes, or a
range request on the Hub); the licence and base model come from the README's front matter (``license``,
``license_name`` for "other", ``base_model``), else VideoReward's ``model_config.json`` or a LoRA's
``adapter_config.json`` names the base. A value that cannot be read is left empty (0 / ""): metadata never refuses a
submission.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import pandas as pd

if TYPE_CHECKING:
    from videobench.leaderboard.submissions import Request

#: Front matter larger than this is not read (a model card's YAML is a few KiB).
README_MAX_BYTES = 1024 * 1024
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.S)


@dataclass
class CheckpointInfo:
    parameters: int = 0
    license: str = ""
    base_model: str = ""


def _text(value: Any) -> str:
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value if isinstance(v, (str, int, float)))
    return value.strip()[:200] if isinstance(value, str) else ""


def front_matter(text: str) -> dict[str, Any]:
    """The README's YAML front matter as a mapping ({} when there is none or it does not parse)."""
    import yaml

    match = _FRONT_MATTER.match(text)
    if not match:
        return {}
    try:
        meta = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        return {}
    return meta if isinstance(meta, dict) else {}


def _json(fetch: Callable[[str], Path], rel: str) -> dict[str, Any]:
    try:
        obj = json.loads(fetch(rel).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    return obj if isinstance(obj, dict) else {}


def read_info(listing: dict[str, int], fetch: Callable[[str], Path], header: Callable[[str], Any]) -> CheckpointInfo:
    """``listing``: path -> size of the checkpoint's files; ``fetch(rel)``: a small file's local copy; ``header(rel)``:
    a safetensors file's parsed header (``SafetensorsFileMetadata``)."""
    info = CheckpointInfo()
    for rel in sorted(p for p in listing if p.endswith(".safetensors")):
        try:
            info.parameters += sum(header(rel).parameter_count.values())
        except Exception:  # an unreadable header (or the Hub refusing a range request): the count is unknown
            info.parameters = 0
            break
    if 0 < listing.get("README.md", README_MAX_BYTES + 1) <= README_MAX_BYTES:
        try:
            meta = front_matter(fetch("README.md").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            meta = {}
        licence = _text(meta.get("license"))
        info.license = _text(meta.get("license_name")) or licence if licence == "other" else licence
        info.base_model = _text(meta.get("base_model"))
    if not info.base_model and "model_config.json" in listing:
        cfg = _json(fetch, "model_config.json").get("model_config")
        info.base_model = _text(cfg.get("model_name_or_path")) if isinstance(cfg, dict) else ""
    if not info.base_model and "adapter_config.json" in listing:
        info.base_model = _text(_json(fetch, "adapter_config.json").get("base_model_name_or_path"))
    return info


def combine(infos: list[CheckpointInfo], targets: list[str]) -> CheckpointInfo:
    """One submission's info from its components: a reward model is one; a generator is a base pipeline (its
    parameters, and the base model) plus LoRAs (the licence of the last part that names one)."""
    if len(infos) == 1:
        return infos[0]
    licence = next((i.license for i in reversed(infos) if i.license), "")
    return CheckpointInfo(infos[0].parameters, licence, infos[0].base_model or targets[0])


INFO_COLUMNS = ["parameters", "license", "base_model", "submitted_at"]


def attach_to_board(board: pd.DataFrame, requests: list["Request"]) -> pd.DataFrame:
    """Columns ``parameters``, ``license``, ``base_model``, ``submitted_at`` on each board row, from the newest
    FINISHED request of that model on that benchmark (empty for results published by hand and the random row)."""
    newest: dict[tuple[str, str], Request] = {}
    for req in requests:
        key = (req.benchmark, req.model_id)
        if req.status == "FINISHED" and (key not in newest or req.submitted_at > newest[key].submitted_at):
            newest[key] = req
    out = board.copy()
    rows = [newest.get((b, m)) for b, m in zip(out["benchmark"], out["model"])] if len(out) else []
    out["parameters"] = pd.array([r.parameters if r and r.parameters > 0 else None for r in rows], dtype="Int64")
    for col in ("license", "base_model", "submitted_at"):
        out[col] = pd.array([getattr(r, col) or None if r else None for r in rows], dtype="string")
    return out
