"""Prompt suites for rendering generators: the paper's three shipped suites, or any CSV / TXT / JSONL file.

A suite is an ordered list of ``Prompt(id, text)``. Ids are stable, file-name safe strings (``vbench-946-0000``,
or a file's own ``id`` / ``prompt_id`` column) because pre-rendered video folders are named ``<id>__seed<seed>.mp4``.
``subset(n)`` picks a deterministic, nested sample: every prompt gets a rank from a hash of its id, and the n
lowest ranks are kept in suite order (so the first 16 prompts of a 32-prompt subset are the 16-prompt subset).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

#: Shipped suites (attribution: ``videobench/resources/prompts/ATTRIBUTION.md``).
SUITES: dict[str, str] = {
    "vbench-946": "vbench_946.csv",
    "videogen-eval-400": "videogen_eval_400.csv",
    "ta-hard-72": "ta_hard_72.csv",
}
#: Short aliases accepted on the command line.
ALIASES = {"vbench": "vbench-946", "videogen-eval": "videogen-eval-400", "ta-hard": "ta-hard-72"}
ATTRIBUTION = (
    "Prompt suites from the VideoAlign repository (KwaiVGI/VideoAlign, datasets/video_eval_prompts/), MIT licence, "
    "Copyright (c) 2025 Kling Team, Kuaishou Technology."
)
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_ID_COLUMNS = ("prompt_id", "id")
MAX_PROMPT_FILE_BYTES = 50 * 1024 * 1024


class PromptError(ValueError):
    """A prompt suite or file that cannot be used; the message names the file and the row."""


@dataclass(frozen=True)
class Prompt:
    id: str
    text: str
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def text_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


@dataclass
class PromptSuite:
    name: str
    prompts: list[Prompt]
    source: str = ""
    attribution: str = ""

    def __len__(self) -> int:
        return len(self.prompts)

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for p in self.prompts:
            digest.update(f"{p.id}\x00{p.text}\x01".encode("utf-8"))
        return "sha256:" + digest.hexdigest()[:32]

    def subset(self, n: int | None) -> "PromptSuite":
        """A deterministic, nested subset of ``n`` prompts in suite order (all prompts when ``n`` is None)."""
        if n is None or n >= len(self.prompts):
            return self
        if n < 1:
            raise PromptError(f"--num-prompts must be at least 1, got {n}")
        ranked = sorted(range(len(self.prompts)), key=lambda i: hashlib.sha256(self.prompts[i].id.encode()).hexdigest())
        keep = sorted(ranked[:n])
        return PromptSuite(f"{self.name}[{n}]", [self.prompts[i] for i in keep], self.source, self.attribution)

    def info(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "n_prompts": len(self.prompts),
                "fingerprint": self.fingerprint(), "attribution": self.attribution}


def available_suites() -> list[str]:
    return list(SUITES)


def _check_ids(prompts: list[Prompt], source: str) -> None:
    seen: set[str] = set()
    for row, p in enumerate(prompts, start=1):
        if not _ID_RE.match(p.id):
            raise PromptError(f"{source}: prompt {row} has id {p.id!r}; ids may use letters, digits, '_', '.', '-'")
        if p.id in seen:
            raise PromptError(f"{source}: prompt id {p.id!r} appears twice")
        seen.add(p.id)
        if not p.text.strip():
            raise PromptError(f"{source}: prompt {row} ({p.id}) is empty")


def _from_rows(rows: list[dict[str, Any]], prefix: str, column: str, source: str) -> list[Prompt]:
    if rows and column not in rows[0]:
        raise PromptError(f"{source}: no {column!r} column (columns: {', '.join(map(str, rows[0]))})")
    prompts = []
    for i, row in enumerate(rows):
        text = row.get(column)
        if not isinstance(text, str):
            raise PromptError(f"{source}: row {i + 1} has no text in {column!r}")
        pid = next((str(row[c]) for c in _ID_COLUMNS if row.get(c) not in (None, "")), f"{prefix}-{i:04d}")
        meta = {k: v for k, v in row.items() if k not in (column, *_ID_COLUMNS)}
        prompts.append(Prompt(pid, text.strip(), meta))
    return prompts


def _parse(text: str, suffix: str, prefix: str, column: str, source: str) -> list[Prompt]:
    if suffix == ".csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        return _from_rows(rows, prefix, column, source)
    if suffix == ".jsonl":
        rows = []
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise PromptError(f"{source}: line {n} is not JSON ({exc})") from exc
            if isinstance(obj, str):
                obj = {column: obj}
            if not isinstance(obj, dict):
                raise PromptError(f"{source}: line {n} must be a JSON object or string")
            rows.append(obj)
        return _from_rows(rows, prefix, column, source)
    if suffix == ".txt":
        lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        return [Prompt(f"{prefix}-{i:04d}", ln) for i, ln in enumerate(lines)]
    raise PromptError(f"{source}: unsupported prompt file type {suffix!r} (use .csv, .txt or .jsonl)")


def load_prompts(spec: str | Path, num_prompts: int | None = None, column: str = "prompt") -> PromptSuite:
    """A shipped suite by name (``vbench-946``, ``videogen-eval-400``, ``ta-hard-72``) or a CSV / TXT / JSONL file.

    ``column`` is the text column of CSV / JSONL files (the shipped suites also have ``prompt_shorter``).
    """
    name = ALIASES.get(str(spec), str(spec))
    if name in SUITES:
        text = resources.files("videobench").joinpath("resources", "prompts", SUITES[name]).read_text(encoding="utf-8")
        prompts = _parse(text, ".csv", name, column, f"suite {name}")
        suite = PromptSuite(name, prompts, source=f"videobench:{SUITES[name]}", attribution=ATTRIBUTION)
    else:
        path = Path(spec)
        if not path.is_file():
            raise PromptError(
                f"prompt suite {str(spec)!r} is neither a shipped suite ({', '.join(SUITES)}) nor an existing file"
            )
        if path.stat().st_size > MAX_PROMPT_FILE_BYTES:
            raise PromptError(f"{path}: larger than {MAX_PROMPT_FILE_BYTES} bytes")
        prefix = re.sub(r"[^A-Za-z0-9_.-]", "_", path.stem) or "prompt"
        prompts = _parse(path.read_text(encoding="utf-8"), path.suffix.lower(), prefix, column, str(path))
        suite = PromptSuite(path.stem, prompts, source=str(path))
    if not suite.prompts:
        raise PromptError(f"{suite.source}: no prompts")
    _check_ids(suite.prompts, suite.source)
    return suite.subset(num_prompts)


__all__ = ["Prompt", "PromptSuite", "PromptError", "SUITES", "ATTRIBUTION", "load_prompts", "available_suites"]
