"""Settings dataclasses read from mappings and YAML files, one way for eval, align and the latent reward model."""

from __future__ import annotations

import os
from dataclasses import fields
from pathlib import Path
from typing import Any, Mapping, TypeVar

T = TypeVar("T")


def settings_from_mapping(cls: type[T], values: Mapping[str, Any], error: type[Exception]) -> T:
    """``cls(**values)``, refusing unknown keys with one line that lists the known ones."""
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:
        raise error(f"unknown setting(s) {unknown}; known: {', '.join(sorted(names))}")
    return cls(**dict(values))


def read_settings_yaml(path: str | os.PathLike, error: type[Exception]) -> dict[str, Any]:
    """The mapping of settings in a YAML file (empty file: no settings); bad YAML or a non-mapping raise ``error``."""
    import yaml

    try:
        values = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(values, dict):
        raise error(f"{path}: expected a mapping of settings, got {type(values).__name__}")
    return values
