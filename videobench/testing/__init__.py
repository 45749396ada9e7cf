"""Tiny models and data built offline, for tests, demos and benchmarks."""
