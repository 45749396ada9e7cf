"""Reward model adapters and the registry that resolves model spec strings."""
