"""Job-array shards: each job scores one slice and writes ``scores-<i>-of-<n>.parquet``; ``merge_shards`` joins them.

A shard is a long table (model, video, prompt, content_hash, dimension, score); its Parquet metadata records the shard
index and count, the fingerprint of the full item list, the model fingerprints and dimensions, and the unreadable
videos and excluded pairs of that slice. ``merge_shards`` refuses shards from different runs, duplicated indices and
missing indices, naming the files.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from videobench.atomic import replacing
from videobench.scoring.api import KEY_COLUMNS, ScoreTables

_META_KEY = b"videobench.scores_shard"
SHARD_FORMAT_VERSION = 1


class ShardError(ValueError):
    """Shard files that do not make up one complete run."""


def shard_filename(shard_index: int, num_shards: int) -> str:
    return f"scores-{shard_index:05d}-of-{num_shards:05d}.parquet"


def shard_tables(benchmark: Any, parts: list[ScoreTables], shard_index: int, num_shards: int) -> ScoreTables:
    """One shard's tables from several sharded results on ``benchmark`` (the reward models' video slice, each pairwise
    judge's question slice), for one ``write_shard``."""
    from videobench.scoring.api import benchmark_items_fingerprint

    result = ScoreTables()
    for part in parts:
        result.update(part)
        result.fingerprints.update(part.fingerprints)
        result.dimensions.update(part.dimensions)
        result.unreadable.update(part.unreadable)
        result.excluded_pair_ids = sorted(set(result.excluded_pair_ids) | set(part.excluded_pair_ids))
    result.items_fingerprint = benchmark_items_fingerprint(benchmark)
    result.shard = (shard_index, num_shards)
    return result


def write_shard(tables: ScoreTables, out_dir: str | os.PathLike) -> Path:
    """Write a sharded ``score_benchmark`` / ``score_items`` result atomically; returns the file."""
    if tables.shard is None:
        raise ValueError("write_shard needs the result of a sharded run (num_shards/shard_index)")
    index, count = tables.shard
    frames = []
    for model, table in tables.items():
        dims = list(tables.dimensions[model])
        long = table.melt(id_vars=list(KEY_COLUMNS), value_vars=dims, var_name="dimension", value_name="score")
        long.insert(0, "model", model)
        frames.append(long)
    data = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    data = data.reindex(columns=["model", *KEY_COLUMNS, "dimension", "score"])
    data = data.astype({**{c: str for c in ("model", *KEY_COLUMNS, "dimension")}, "score": np.float64})
    meta: dict[str, Any] = {
        "format_version": SHARD_FORMAT_VERSION,
        "shard_index": index,
        "num_shards": count,
        "items_fingerprint": tables.items_fingerprint,
        "models": {
            m: {"fingerprint": tables.fingerprints[m], "dimensions": list(tables.dimensions[m])} for m in tables
        },
        "unreadable": tables.unreadable,
        "excluded_pair_ids": tables.excluded_pair_ids,
    }
    table = pa.Table.from_pandas(data, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), _META_KEY: json.dumps(meta).encode()})
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / shard_filename(index, count)
    with replacing(path) as tmp:  # a job killed mid-write never leaves a shard that looks complete
        pq.write_table(table, tmp)
    return path


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        raw = (pq.read_schema(path).metadata or {}).get(_META_KEY)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ShardError(f"{path}: not a readable Parquet file ({exc})") from exc
    if raw is None:
        raise ShardError(f"{path}: not a videobench score shard (no {_META_KEY.decode()} metadata)")
    meta = json.loads(raw)
    if meta.get("format_version") != SHARD_FORMAT_VERSION:
        raise ShardError(
            f"{path}: shard format {meta.get('format_version')!r}, this videobench reads {SHARD_FORMAT_VERSION}"
        )
    return meta


def merge_shards(shard_dir: str | os.PathLike) -> ScoreTables:
    """Combine every ``scores-*.parquet`` in ``shard_dir`` into the tables a single unsharded run returns."""
    folder = Path(shard_dir)
    files = sorted(folder.glob("scores-*.parquet"))
    if not files:
        raise ShardError(f"no score shards (scores-*.parquet) in {folder}")
    metas = {f: _read_meta(f) for f in files}
    first_file, first = files[0], metas[files[0]]
    for f, meta in metas.items():
        for field in ("num_shards", "items_fingerprint", "models"):
            if meta[field] != first[field]:
                raise ShardError(
                    f"{f} and {first_file} come from different runs ({field} differs); "
                    f"keep one run's shards in {folder}"
                )
    count = first["num_shards"]
    by_index: dict[int, list[Path]] = {}
    for f, meta in metas.items():
        by_index.setdefault(meta["shard_index"], []).append(f)
    dupes = {i: fs for i, fs in by_index.items() if len(fs) > 1}
    if dupes:
        listed = "; ".join(f"shard {i}: {', '.join(str(f) for f in fs)}" for i, fs in sorted(dupes.items()))
        raise ShardError(f"duplicated shards in {folder}: {listed}")
    missing = sorted(set(range(count)) - set(by_index))
    if missing:
        names = ", ".join(shard_filename(i, count) for i in missing[:20])
        raise ShardError(f"{len(missing)} of {count} shards missing in {folder}: {names}")

    data = pd.concat([pq.read_table(f).to_pandas() for f in files], ignore_index=True)
    key = ["model", "video", "prompt", "dimension"]
    clash = data.duplicated(subset=key, keep=False)
    if clash.any():
        example = data.loc[clash, key].iloc[0].to_dict()
        raise ShardError(f"shards in {folder} overlap: {int(clash.sum())} rows scored twice, e.g. {example}")

    result = ScoreTables()
    result.items_fingerprint = first["items_fingerprint"]
    for model, info in first["models"].items():
        dims = list(info["dimensions"])
        part = data[data["model"] == model]
        wide = part.pivot(index=list(KEY_COLUMNS), columns="dimension", values="score")
        wide = wide.reindex(columns=dims).reset_index()
        wide.columns.name = None
        result[model] = wide.sort_values(["video", "prompt"], kind="stable").reset_index(drop=True).astype(
            {d: np.float64 for d in dims}
        )
        result.fingerprints[model] = info["fingerprint"]
        result.dimensions[model] = tuple(dims)
    for meta in metas.values():
        result.unreadable.update(meta["unreadable"])
        result.excluded_pair_ids.extend(meta["excluded_pair_ids"])
    result.excluded_pair_ids = sorted(set(result.excluded_pair_ids))
    return result
