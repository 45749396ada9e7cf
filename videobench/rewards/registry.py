"""Resolve reward model spec strings (``PREFIX[:ARGUMENT]``) to ``RewardModel`` objects, lazily.

Built in: ``videoreward:PATH_OR_HUB_ID[@REV]``, ``scores:FILE``, ``random[:SEED]``, ``classical[:ARG]``,
``python:module:attr``. Third-party packages add prefixes through the ``videobench.reward_models`` entry point group
(name = prefix, value = ``module:attr`` of a factory); code can call ``register_reward_model``.

A factory is called as ``factory(ARGUMENT, **options)``, or ``factory(**options)`` when the spec has no argument, so a
class whose constructor takes (argument, **options) is a factory. Factories given as ``"module:attr"`` strings are
imported only when their prefix is used: ``load_reward_model("random")`` never imports torch.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Sequence, Union

import numpy as np

from videobench.rewards.base import Clip, ModelOutputError, RewardModel, Sampling

ENTRY_POINT_GROUP = "videobench.reward_models"
Factory = Union[Callable[..., Any], str]


class RewardSpecError(ValueError):
    """A model spec that cannot be resolved: unknown prefix, missing module, bad argument."""


def _videoreward(argument: str | None = None, **options: Any) -> RewardModel:
    from videobench.rewards.videoreward import VideoRewardModel

    argument = argument or ""
    source, revision = argument, options.pop("revision", None)
    if "@" in argument and not Path(argument).expanduser().exists():
        source, revision = argument.rsplit("@", 1)
    if not source:
        raise RewardSpecError("videoreward needs a checkpoint: videoreward:PATH_OR_HUB_ID[@REVISION]")
    return VideoRewardModel.load(source, revision=revision or None, **options)


def _random(argument: str | None = None, **options: Any) -> RewardModel:
    from videobench.rewards.random import RandomReward

    try:
        seed = int(argument) if argument else int(options.pop("seed", 0))
    except ValueError:
        raise RewardSpecError(f"random[:SEED] takes an integer seed, got {argument!r}") from None
    return RandomReward(seed=seed, **options)


def _python(argument: str | None = None, **options: Any) -> RewardModel:
    if not argument or ":" not in argument:
        raise RewardSpecError(f"python spec must be python:module:attr, got python:{argument or ''}")
    target = _import_target(argument, f"python:{argument}")
    return as_reward_model(target, spec=f"python:{argument}", **options)


_BUILTINS: dict[str, Factory] = {
    "videoreward": _videoreward,
    "scores": "videobench.rewards.precomputed:PrecomputedScores",
    "random": _random,
    "classical": "videobench.rewards.classical:ClassicalReward",
    "pixel": "videobench.align.rewards:PixelReward",
    "python": _python,
}
_REGISTERED: dict[str, Factory] = {}


def register_reward_model(prefix: str, factory: Factory, *, overwrite: bool = False) -> None:
    """Make ``prefix[:ARGUMENT]`` specs resolve through ``factory`` (a callable or a lazy ``"module:attr"``)."""
    if not prefix or ":" in prefix or prefix != prefix.strip():
        raise ValueError(f"a reward model prefix is a non-empty name without ':', got {prefix!r}")
    if not overwrite and (prefix in _BUILTINS or prefix in _REGISTERED):
        raise ValueError(f"reward model prefix {prefix!r} is already registered (pass overwrite=True to replace it)")
    _REGISTERED[prefix] = factory


def _entry_points() -> dict[str, Any]:
    return {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def available_reward_models() -> tuple[str, ...]:
    """Every prefix a spec can use: built in, registered, and from installed entry points."""
    return tuple(sorted({*_BUILTINS, *_REGISTERED, *_entry_points()}))


def _import_target(target: str, what: str) -> Any:
    module_name, _, attr = target.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise RewardSpecError(f"{what}: cannot import module {module_name!r}: {exc}") from exc
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise RewardSpecError(f"{what}: module {module_name!r} has no attribute {attr!r}") from None
    return obj


def _resolve_factory(prefix: str) -> Callable[..., Any]:
    factory: Factory | None = _REGISTERED.get(prefix) or _BUILTINS.get(prefix)
    what = f"reward model {prefix!r}"
    if factory is None:
        ep = _entry_points().get(prefix)
        if ep is None:
            raise RewardSpecError(
                f"unknown reward model {prefix!r}; known: {', '.join(available_reward_models())} "
                f"(third-party adapters register under the entry point group {ENTRY_POINT_GROUP!r})"
            )
        try:
            return ep.load()
        except Exception as exc:
            raise RewardSpecError(f"{what}: entry point {ep.value!r} failed to load: {exc}") from exc
    if isinstance(factory, str):
        return _import_target(factory, what)
    return factory


def split_spec(spec: str) -> tuple[str, str | None]:
    """``"prefix:rest"`` -> ("prefix", "rest"); ``"prefix"`` -> ("prefix", None)."""
    if not isinstance(spec, str) or not spec.strip():
        raise RewardSpecError(f"a reward model spec is a non-empty string, got {spec!r}")
    prefix, sep, argument = spec.strip().partition(":")
    return prefix, (argument if sep else None)


def load_reward_model(spec: str, **options: Any) -> RewardModel:
    """Resolve ``spec`` and build the model with ``options`` (e.g. device, dtype, batch_size for VideoReward)."""
    prefix, argument = split_spec(spec)
    factory = _resolve_factory(prefix)
    model = factory(argument, **options) if argument else factory(**options)
    _check_protocol(model, spec)
    return model


def _check_protocol(model: Any, spec: str) -> None:
    missing = [a for a in ("name", "dimensions", "sampling", "needs_frames", "fingerprint", "score") if not hasattr(model, a)]
    if missing:
        raise RewardSpecError(f"{spec}: the factory returned {type(model).__name__}, which lacks {missing}")


# ------------------------------------------------------------------------------------------- python:module:attr


class FunctionReward:
    """A plain function ``f(clips, prompts) -> {dimension: scores}`` behind the ``RewardModel`` protocol."""

    def __init__(
        self,
        fn: Callable[[Sequence[Clip], Sequence[str]], dict[str, Any]],
        *,
        name: str,
        dimensions: Sequence[str] = ("Overall",),
        sampling: Sampling | None = None,
        needs_frames: bool = True,
        version: str = "",
    ) -> None:
        self.fn = fn
        self.name = name
        self.dimensions = tuple(dimensions)
        self.sampling = sampling or Sampling()
        self.needs_frames = needs_frames
        self.version = version

    def fingerprint(self) -> str:
        # The function's source (when readable) stands for its weights: editing it invalidates cached scores.
        try:
            code = inspect.getsource(self.fn)
        except (OSError, TypeError):
            code = getattr(self.fn, "__qualname__", repr(self.fn))
        text = "\0".join([getattr(self.fn, "__module__", ""), getattr(self.fn, "__qualname__", ""), code, self.version])
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:32]

    def score(self, clips: Sequence[Clip], prompts: Sequence[str]) -> dict[str, np.ndarray]:
        out = self.fn(clips, prompts)
        if not isinstance(out, dict):
            raise ModelOutputError(f"{self.name}: the function must return a dict of dimension -> scores, got "
                                   f"{type(out).__name__}")
        result = {}
        for dim, values in out.items():
            try:
                arr = np.asarray(values, dtype=np.float64).reshape(-1)
            except (TypeError, ValueError) as exc:
                raise ModelOutputError(f"{self.name}: scores for {dim!r} are not numbers ({exc})") from None
            if len(arr) != len(clips):
                raise ModelOutputError(f"{self.name}: {len(arr)} scores for {dim} but {len(clips)} clips")
            result[str(dim)] = arr
        return result


def as_reward_model(target: Any, *, spec: str, **options: Any) -> RewardModel:
    """A class implementing the protocol (instantiated with ``options``), an instance, or a plain function."""
    if inspect.isclass(target):
        return target(**options)
    if isinstance(target, RewardModel):
        if options:
            raise RewardSpecError(f"{spec}: is a ready model instance and takes no options, got {sorted(options)}")
        return target
    if callable(target):
        sampling = options.pop("sampling", None)
        if sampling is None and any(k in options for k in ("fps", "num_frames", "max_pixels")):
            sampling = Sampling(
                fps=options.pop("fps", None if options.get("num_frames") else 2.0),
                num_frames=options.pop("num_frames", None),
                max_pixels=options.pop("max_pixels", None),
            )
        dims = options.pop("dimensions", ("Overall",))
        if isinstance(dims, str):
            dims = tuple(d.strip() for d in dims.split(",") if d.strip())
        name = options.pop("name", spec)
        needs_frames = bool(options.pop("needs_frames", True))
        version = str(options.pop("version", ""))
        if options:
            raise RewardSpecError(
                f"{spec}: unknown options for a function {sorted(options)} "
                "(known: name, dimensions, needs_frames, sampling, fps, num_frames, max_pixels, version)"
            )
        return FunctionReward(target, name=name, dimensions=dims, sampling=sampling, needs_frames=needs_frames,
                              version=version)
    raise RewardSpecError(f"{spec}: is a {type(target).__name__}, not a class, model or function")
