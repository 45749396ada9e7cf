"""Benchmarks as data: ``PairBenchmark`` and the loaders that build it."""

from videobench.data.benchmark import BenchmarkError, PairBenchmark, PathEscapeError, label_column, resolve_under_root

__all__ = ["BenchmarkError", "PairBenchmark", "PathEscapeError", "label_column", "resolve_under_root"]
