"""Which of a model's score columns stands for which dimension of a benchmark.

Benchmarks name their dimensions their own way (MJ-Bench-Video's Fineness, VideoPhy-2's PC and SA, T2VQA-DB's
single MOS) while reward models score theirs (VideoReward's VQ, MQ, TA). A dimension map says, per benchmark
dimension, which model dimension to use, or several, combined by the paper's Overall rule (sum of z-scores over the
evaluated videos):

    {"PC": "MQ", "SA": "TA", "Overall": ["VQ", "MQ", "TA"]}      # text form: PC=MQ,SA=TA,Overall=VQ+MQ+TA

A benchmark dimension whose sources the model lacks keeps the model's own column of that name if it has one, else
it is reported n/a. The map applied is recorded in each result's provenance.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

import pandas as pd

DimensionMap = Mapping[str, "str | Sequence[str]"]
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.:/@-]{0,95}$")


class DimensionMapError(ValueError):
    """A dimension map that cannot be read; the message names the entry."""


def parse_dimension_map(value: Any, where: str = "dimension map") -> dict[str, list[str]]:
    """``"PC=MQ,Overall=VQ+MQ"`` or a mapping -> ``{"PC": ["MQ"], "Overall": ["VQ", "MQ"]}``."""
    if value is None:
        return {}
    if isinstance(value, str):
        pairs = []
        for item in filter(None, (p.strip() for p in value.split(","))):
            target, sep, source = item.partition("=")
            if not sep:
                raise DimensionMapError(f"{where}: expected BENCH_DIM=MODEL_DIM[+MODEL_DIM...], got {item!r}")
            pairs.append((target.strip(), source.split("+")))
    elif isinstance(value, Mapping):
        pairs = [(str(k), [v] if isinstance(v, str) else list(v) if isinstance(v, (list, tuple)) else [v])
                 for k, v in value.items()]
    else:
        raise DimensionMapError(f"{where}: expected a mapping BENCH_DIM: MODEL_DIM (or a list of them), got "
                                f"{type(value).__name__}")
    out: dict[str, list[str]] = {}
    for target, sources in pairs:
        sources = [str(s).strip() for s in sources]
        for name in (target, *sources):
            if not isinstance(name, str) or not _NAME.fullmatch(name):
                raise DimensionMapError(f"{where}: {name!r} is not a dimension name (a letter, then letters, digits "
                                        "or _ . : / @ -)")
        if not sources:
            raise DimensionMapError(f"{where}: {target!r} maps to no model dimension")
        out[target] = sources
    return out


def format_dimension_map(mapping: Mapping[str, Sequence[str]]) -> str:
    return ",".join(f"{k}={'+'.join(v)}" for k, v in mapping.items())


def apply_dimension_map(table: pd.DataFrame, model_dims: Sequence[str], bench_dims: Sequence[str],
                        mapping: Mapping[str, Sequence[str]]) -> tuple[pd.DataFrame, list[str], dict[str, list[str]]]:
    """The per-video ``table`` (``video``, ``prompt``, model dimensions) with columns named as the benchmark's.

    Returns (new table, its dimensions, the map actually applied). Mapped dimensions get their source column, or the
    z-score sum of several (over the rows given: the videos being evaluated); unmapped benchmark dimensions keep the
    model's own column of that name when it has one; model columns no benchmark dimension uses are dropped."""
    from videobench.evaluation import derive_overall

    unknown = [d for d in mapping if d not in bench_dims]
    if unknown:
        raise DimensionMapError(f"dimension map names {unknown}, which the benchmark lacks ({list(bench_dims)})")
    keys = [c for c in ("video", "prompt") if c in table.columns]
    out = table[keys].copy()
    used: dict[str, list[str]] = {}
    for dim in bench_dims:
        sources = list(mapping.get(dim, ()))
        if sources and all(s in model_dims and s in table.columns for s in sources):
            out[dim] = table[sources[0]].to_numpy(float) if len(sources) == 1 else derive_overall(table, sources)
            used[dim] = sources
        elif dim in model_dims and dim in table.columns:
            out[dim] = table[dim].to_numpy(float)
    dims = [d for d in bench_dims if d in out.columns]
    return out, dims, used
