"""Scoring engine: per-video reward scores for benchmarks and generated videos, deduplicated, cached and resumable.

``score_benchmark(benchmark, models)`` / ``score_items(items, models)`` return ``{model name: DataFrame}`` (a
``ScoreTables``). Scores persist in a ``ScoreStore`` (SQLite) so reruns and killed runs recompute nothing stored;
``merge_shards`` joins the shards of a cluster job array. See docs/scale.md.
"""

from videobench.scoring.api import KEY_COLUMNS, ScoreTables, check_benchmark, score_benchmark, score_items
from videobench.scoring.engine import ScoringStats, WorkItem
from videobench.scoring.preflight import PreflightError, VideoCheck, clear_check_cache
from videobench.scoring.shards import ShardError, merge_shards, shard_filename, write_shard
from videobench.scoring.store import ScoreStore, default_cache_dir, prompt_hash
from videobench.scoring.videoio import DefaultVideoIO, VideoIO

__all__ = [
    "KEY_COLUMNS",
    "DefaultVideoIO",
    "PreflightError",
    "ScoreStore",
    "ScoreTables",
    "ScoringStats",
    "ShardError",
    "VideoCheck",
    "VideoIO",
    "WorkItem",
    "check_benchmark",
    "clear_check_cache",
    "default_cache_dir",
    "merge_shards",
    "prompt_hash",
    "score_benchmark",
    "score_items",
    "shard_filename",
    "write_shard",
]
