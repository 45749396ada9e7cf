"""Metrics (numpy/scipy only; importing this package never imports torch)."""
