"""Benchmarks as data: ``PairBenchmark`` and the loaders that build it.

``load_benchmark(spec)`` resolves a registered name, a local file or folder, or a Hub dataset id (``owner/name@rev``).
"""

from videobench.data.benchmark import BenchmarkError, PairBenchmark, PathEscapeError, label_column, resolve_under_root
from videobench.data.hf import load_dataset_folder, load_hub_dataset
from videobench.data.loaders import (
    PRESETS,
    build_benchmark,
    content_pair_id,
    detect_format,
    load_genai_bench,
    load_table_benchmark,
    load_videoalign,
    load_videogen_rewardbench,
    parse_column_mapping,
)
from videobench.data.registry import load_benchmark, register_benchmark, registered_benchmarks

__all__ = [
    "BenchmarkError",
    "PRESETS",
    "PairBenchmark",
    "PathEscapeError",
    "build_benchmark",
    "content_pair_id",
    "detect_format",
    "label_column",
    "load_benchmark",
    "load_dataset_folder",
    "load_genai_bench",
    "load_hub_dataset",
    "load_table_benchmark",
    "load_videoalign",
    "load_videogen_rewardbench",
    "parse_column_mapping",
    "register_benchmark",
    "registered_benchmarks",
    "resolve_under_root",
]
