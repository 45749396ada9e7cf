"""videobench: evaluate text-to-video reward models and generators against human preferences.

Importing the package is cheap: heavy dependencies (torch, transformers, diffusers) load only in the modules
that need them, so ``from videobench.metrics import accuracy_with_ties`` never imports torch.

``videobench.evaluate(model, bench, **options)`` is the one-call evaluation (see ``videobench.api``).
"""

from typing import Any

__version__ = "0.1.0"

_API = ("evaluate", "EvalConfig", "Evaluation", "run_evaluation")

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    # Lazy: `import videobench` stays cheap; the API module (pandas, the scoring engine) loads on first use.
    if name in _API:
        from videobench import api

        return getattr(api, name)
    raise AttributeError(f"module 'videobench' has no attribute {name!r}")
