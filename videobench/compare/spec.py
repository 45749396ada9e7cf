"""Generator spec strings.

Grammar (whitespace is not allowed around the separators; one part is parsed by ``videobench.specs``, the grammar
reward specs share)::

    spec     := source ("+" part)*
    source   := KIND ":" TARGET ["@" REVISION] ["?" QUERY]       KIND in wan, ltx, diffusers, videos
    part     := MODIFIER ":" TARGET ["@" REVISION] ["?" QUERY]   e.g. +lora:DIR, +lora:org/repo@v1?scale=0.8
    QUERY    := KEY "=" VALUE ("&" KEY "=" VALUE)*                values are %-decoded

TARGET is a local path or a Hub repo id; ``@REVISION`` is only split off when TARGET as a whole is not an existing
path. Sampling keys (``steps``, ``guidance``, ``height``, ``width``, ``num_frames``/``frames``, ``fps``,
``negative_prompt``) may appear in any part's query and always set the generator's sampling arguments; other keys
belong to their part (``dtype``/``variant`` on the source, ``scale`` on ``+lora``, a modifier's own options).
A new ``+name:`` part is split off wherever ``+`` is followed by a lower-case word and a colon.
"""

from __future__ import annotations

import glob
import json
import os
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

# The grammar of one part lives in videobench.specs, shared with reward-model specs; re-exported here.
from videobench.specs import Part, SpecError, parse_part

__all__ = ["GeneratorSpec", "Part", "RenderSettings", "SpecError", "SOURCE_KINDS", "SAMPLING_KEYS", "check_name",
           "expand_checkpoint_globs", "parse_generator_spec", "parse_named_spec", "parse_part", "settings_from_options", "split_parts"]

SOURCE_KINDS = ("wan", "ltx", "diffusers", "videos")
_PART_SPLIT = re.compile(r"\+(?=[a-z][a-z0-9_-]*:)")
#: a display name, or a board id ``org/name`` (what leaderboard submissions are called)
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}(/[A-Za-z0-9][A-Za-z0-9_.-]{0,63})?$")


@dataclass(frozen=True)
class RenderSettings:
    """Sampling arguments of a generator; every field is part of the render key. None = the pipeline's default."""

    steps: int | None = None
    guidance: float | None = None
    height: int | None = None
    width: int | None = None
    num_frames: int | None = None
    fps: float | None = None
    negative_prompt: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def key(self) -> str:
        return json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))

    def merged(self, other: "RenderSettings") -> "RenderSettings":
        """``other``'s set fields over ours."""
        return replace(self, **{k: v for k, v in other.as_dict().items() if v is not None})


_SAMPLING_TYPES: dict[str, type] = {
    "steps": int, "guidance": float, "height": int, "width": int, "num_frames": int, "fps": float,
    "negative_prompt": str,
}
_SAMPLING_ALIASES = {"frames": "num_frames", "guidance_scale": "guidance", "num_inference_steps": "steps"}
SAMPLING_KEYS = tuple(_SAMPLING_TYPES) + tuple(_SAMPLING_ALIASES)


def settings_from_options(options: dict[str, Any], where: str = "") -> RenderSettings:
    """Typed ``RenderSettings`` from string (or typed) values; unknown keys raise ``SpecError``."""
    values: dict[str, Any] = {}
    for key, raw in options.items():
        name = _SAMPLING_ALIASES.get(key, key)
        if name not in _SAMPLING_TYPES:
            raise SpecError(f"{where}unknown sampling argument {key!r} (known: {', '.join(_SAMPLING_TYPES)})")
        if raw is None:
            continue
        kind = _SAMPLING_TYPES[name]
        try:
            value = kind(raw)
        except (TypeError, ValueError):
            raise SpecError(f"{where}{key}={raw!r} is not a valid {kind.__name__}") from None
        if kind in (int, float) and not value > 0:
            raise SpecError(f"{where}{key} must be positive, got {raw!r}")
        values[name] = value
    return RenderSettings(**values)


@dataclass(frozen=True)
class GeneratorSpec:
    raw: str
    source: Part
    modifiers: tuple[Part, ...]
    settings: RenderSettings

    @property
    def kind(self) -> str:
        return self.source.name


def split_parts(spec: str) -> list[str]:
    """The ``+``-joined parts of a spec: a new part starts wherever ``+`` is followed by a lower-case word and ':'."""
    return _PART_SPLIT.split(spec)


def parse_generator_spec(spec: str) -> GeneratorSpec:
    """Parse ``KIND:TARGET[@REV][?QUERY](+MODIFIER:TARGET[@REV][?QUERY])*`` (see the module docstring)."""
    spec = spec.strip()
    if not spec:
        raise SpecError("empty generator spec")
    parts = [parse_part(p) for p in split_parts(spec)]
    source, modifiers = parts[0], parts[1:]
    if source.name not in SOURCE_KINDS:
        raise SpecError(f"{spec!r}: unknown generator kind {source.name!r} (known: {', '.join(SOURCE_KINDS)})")
    sampling: dict[str, str] = {}
    cleaned = []
    for part in parts:
        own = {}
        for key, value in part.options.items():
            if key in SAMPLING_KEYS:
                name = _SAMPLING_ALIASES.get(key, key)
                if name in sampling:
                    raise SpecError(f"{spec!r}: sampling argument {name!r} is given twice")
                sampling[name] = value
            else:
                own[key] = value
        cleaned.append(replace(part, options=own))
    settings = settings_from_options(sampling, f"{spec!r}: ")
    if source.name == "videos" and modifiers:
        raise SpecError(f"{spec!r}: pre-rendered videos take no modifiers")
    return GeneratorSpec(spec, cleaned[0], tuple(cleaned[1:]), settings)


def parse_named_spec(text: str) -> tuple[str, str]:
    """``NAME=SPEC`` from the command line; the name is what tables and reports show."""
    name, sep, spec = text.partition("=")
    if not sep or not spec:
        raise SpecError(f"--generator {text!r}: expected NAME=SPEC, e.g. base=wan:/models/wan")
    check_name(name)
    return name, spec


def _step_order(path: Path) -> tuple[int, int, str]:
    m = re.search(r"(\d+)$", path.name)
    return (0, int(m.group(1)), path.name) if m else (1, 0, path.name)


def expand_checkpoint_globs(named: dict[str, str]) -> dict[str, str]:
    """NAME=SPEC pairs where a ``+lora:`` target holds glob characters (``wan:BASE+lora:RUN/checkpoints/checkpoint-*``)
    become one generator per matching folder, in step order (the number ending each folder name), named
    NAME-FOLDER (``run-checkpoint-50``); other pairs pass unchanged. A pattern that matches nothing is an error."""
    out: dict[str, str] = {}
    for name, spec in named.items():
        parts = split_parts(spec)
        globbed = [i for i, text in enumerate(parts[1:], start=1)
                   if (p := parse_part(text)).name == "lora" and p.target and any(c in p.target for c in "*?[")]
        if not globbed:
            out[name] = spec
            continue
        if len(globbed) > 1:
            raise SpecError(f"{name}: only one +lora: part of a spec may be a glob pattern")
        i = globbed[0]
        part = parse_part(parts[i])
        # a trainer's checkpoint being written is CHECKPOINT.tmp: never a generator
        folders = sorted((Path(m) for m in glob.glob(os.path.expanduser(part.target))
                          if Path(m).is_dir() and not m.endswith(".tmp")), key=_step_order)
        if not folders:
            raise SpecError(f"{name}: +lora:{part.target} matches no folder")
        for folder in folders:
            expanded = [*parts[:i], str(replace(part, target=str(folder))), *parts[i + 1:]]
            out[check_name(f"{name}-{folder.name}")] = "+".join(expanded)
    return out


def check_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise SpecError(f"generator name {name!r}: use 1-64 letters, digits, '_', '.', '-' (starting with a letter "
                        "or digit), optionally as org/name")
    return name
