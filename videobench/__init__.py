"""videobench: evaluate text-to-video reward models and generators against human preferences.

Importing the package is cheap: heavy dependencies (torch, transformers, diffusers) load only in the modules
that need them, so ``from videobench.metrics import accuracy_with_ties`` never imports torch.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
