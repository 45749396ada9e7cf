"""Resolve reward model spec strings to ``RewardModel`` objects, lazily.

Spec syntax (the grammar of ``videobench.specs``, shared with generator specs)::

    PREFIX[:ARGUMENT][@REVISION][?key=value&key=value]

e.g. ``videoreward:KwaiVGI/VideoReward@main?template=vr.txt&fps=2``, ``random:0``, ``classical?fps=8``. Options
are the factory's keyword parameters, read from its signature: values are converted to the parameter's type
(int, float, bool, path, str, a comma-separated tuple), an unknown option is an error that lists the valid ones, and
a path option (or a path ARGUMENT) naming an existing file relative to the current folder is recorded absolute, so
the spec written into a result reruns from any folder. ``@REVISION`` is split off only for factories that take a
``revision`` keyword. Options given both in the spec and as Python keywords must agree (else an error): a silent
winner would make the recorded spec lie about the run.

Built in: ``videoreward:PATH_OR_HUB_ID[@REV]``, ``scores:FILE``, ``random[:SEED]``, ``classical[:ARG]``,
``pixel:KIND``, ``python:module:attr``, ``judge:PATH_OR_HUB_ID`` (a generative VLM judge), ``http://HOST:PORT`` (a model served by ``videobench serve-reward``). Third-party packages add prefixes through the ``videobench.reward_models``
entry point group (name = prefix, value = ``module:attr`` of a factory); code can call ``register_reward_model``.

A factory is called as ``factory(ARGUMENT, **options)``, or ``factory(**options)`` when the spec has no argument, so a
class whose constructor takes (argument, **options) is a factory. A factory whose signature ends in ``**options``
accepts any option (passed on as text). A factory may carry ``videobench_options(argument) -> {name: Parameter}``
when its real options live elsewhere (``videoreward`` reads ``VideoRewardModel.load``). Factories given as
``"module:attr"`` strings are imported only when their prefix is used: ``load_reward_model("random")`` never imports
torch.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import os
import types
import typing
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Sequence, Union

import numpy as np

from videobench.rewards.base import Clip, ModelOutputError, RewardModel, Sampling
from videobench.specs import SpecError, format_part, parse_part

ENTRY_POINT_GROUP = "videobench.reward_models"
Factory = Union[Callable[..., Any], str]


class RewardSpecError(SpecError):
    """A model spec that cannot be resolved: unknown prefix or option, missing module, bad argument or value."""


def _loads_from(target: str, usage: str) -> Callable[..., Any]:
    """A factory for a class whose ``load(source, **options)`` builds the model from a folder or Hub id (imported
    only when used); its options are ``load``'s keywords."""

    def factory(argument: str | Path | None = None, **options: Any) -> RewardModel:
        if not argument:
            raise RewardSpecError(usage)
        return _import_target(target, usage).load(str(argument), **options)

    def options(argument: str | None) -> dict[str, inspect.Parameter]:
        return _keyword_parameters(_import_target(target, usage).load, skip_first=True)

    factory.videobench_options = options  # type: ignore[attr-defined]
    return factory


_videoreward = _loads_from("videobench.rewards.videoreward:VideoRewardModel",
                           "videoreward needs a checkpoint: videoreward:PATH_OR_HUB_ID[@REVISION][?OPTIONS]")
_judge = _loads_from("videobench.rewards.judge:VLMJudge",
                     "judge needs a model: judge:PATH_OR_HUB_ID[@REVISION][?mode=scores|pairwise&OPTIONS]")


def _scores(argument: str | Path | None = None, *, name: str | None = None, dimensions: tuple[str, ...] | None = None,
            file_format: str | None = None, root: Path | None = None) -> RewardModel:
    from videobench.rewards.precomputed import PrecomputedScores

    if not argument:
        raise RewardSpecError("scores needs a file: scores:FILE (CSV/JSONL/Parquet)")
    given = {"name": name, "dimensions": dimensions, "file_format": file_format, "root": root}
    return PrecomputedScores(str(argument), **{k: v for k, v in given.items() if v is not None})


def _random(argument: str | None = None, *, seed: int | None = None, dimensions: tuple[str, ...] | None = None,
            name: str | None = None) -> RewardModel:
    from videobench.rewards.random import RandomReward

    if argument and seed is not None:
        raise RewardSpecError(f"random:{argument}: give the seed once (random:SEED or random?seed=SEED)")
    try:
        seed = int(argument) if argument else int(seed or 0)
    except ValueError:
        raise RewardSpecError(f"random[:SEED] takes an integer seed, got {argument!r}") from None
    extra = {k: v for k, v in {"dimensions": dimensions, "name": name}.items() if v is not None}
    return RandomReward(seed=seed, **extra)


def _python(argument: str | None = None, **options: Any) -> RewardModel:
    if not argument or ":" not in argument:
        raise RewardSpecError(f"python spec must be python:module:attr, got python:{argument or ''}")
    target = _import_target(argument, f"python:{argument}")
    return as_reward_model(target, spec=f"python:{argument}", **options)


def _function_options(*, name: str | None = None, dimensions: tuple[str, ...] = ("Overall",), needs_frames: bool = True,
                      fps: float | None = None, num_frames: int | None = None, max_pixels: int | None = None,
                      version: str = "", sampling: Sampling | None = None) -> None:
    """The options ``as_reward_model`` takes for a plain function (a signature to introspect, never called)."""


def _python_options(argument: str | None) -> dict[str, inspect.Parameter] | None:
    if not argument or ":" not in argument:
        return {}  # the factory itself reports the malformed spec
    target = _import_target(argument, f"python:{argument}")
    if inspect.isclass(target):
        return _keyword_parameters(target, skip_first=False)
    if isinstance(target, RewardModel) or not callable(target):
        return {}
    return _keyword_parameters(_function_options, skip_first=False)


_python.videobench_options = _python_options  # type: ignore[attr-defined]


_BUILTINS: dict[str, Factory] = {
    "videoreward": _videoreward,
    "judge": _judge,
    "scores": _scores,
    "random": _random,
    "classical": "videobench.rewards.classical:ClassicalReward",
    "pixel": "videobench.align.rewards:PixelReward",
    "python": _python,
    "http": "videobench.rewards.served_client:http_reward",
    "https": "videobench.rewards.served_client:https_reward",
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


# ------------------------------------------------------------------------------------------------- options


def _keyword_parameters(fn: Callable[..., Any], *, skip_first: bool) -> dict[str, inspect.Parameter] | None:
    """The options a callable takes: its named parameters (less the first when that is the spec's ARGUMENT), with
    annotations evaluated; None when it ends in ``**kwargs`` (anything goes)."""
    target = fn.__init__ if inspect.isclass(fn) else fn  # type: ignore[misc]
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return None
    try:
        hints = typing.get_type_hints(target)
    except Exception:  # an annotation naming something not importable here: fall back to the raw annotations
        hints = {}
    params = list(sig.parameters.values())
    if skip_first and params and params[0].kind in (inspect.Parameter.POSITIONAL_ONLY,
                                                    inspect.Parameter.POSITIONAL_OR_KEYWORD):
        params = params[1:]
    out: dict[str, inspect.Parameter] = {}
    for p in params:
        if p.kind == inspect.Parameter.VAR_KEYWORD:
            return None
        if p.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.POSITIONAL_ONLY):
            continue
        out[p.name] = p.replace(annotation=hints.get(p.name, p.annotation))
    return out


def option_parameters(factory: Callable[..., Any], argument: str | None) -> dict[str, inspect.Parameter] | None:
    """``{option: Parameter}`` for ``factory`` (None: it accepts any option)."""
    describe = getattr(factory, "videobench_options", None)
    if describe is not None:
        return describe(argument)
    # Called as factory(ARGUMENT, **options) or factory(**options): without an argument the first parameter is an
    # option too, unless it is named `argument` (the built-ins' convention).
    params = _keyword_parameters(factory, skip_first=argument is not None)
    if params is not None:
        params.pop("argument", None)
    return params


def _kinds(hint: Any) -> tuple[Any, ...]:
    """The alternatives of a type hint: ``str | Path | None`` -> (str, Path, NoneType)."""
    if hint is inspect.Parameter.empty or hint is Any:
        return ()
    origin = typing.get_origin(hint)
    if origin is Union or (hasattr(types, "UnionType") and isinstance(hint, types.UnionType)):
        return tuple(k for a in typing.get_args(hint) for k in _kinds(a))
    return (hint,)


def _is_path_kind(kind: Any) -> bool:
    return inspect.isclass(kind) and (issubclass(kind, os.PathLike) or kind is os.PathLike)


def _is_text_sequence(kind: Any) -> bool:
    origin = typing.get_origin(kind)
    return origin in (tuple, list, Sequence, typing.Sequence) or kind in (tuple, list)  # type: ignore[comparison-overlap]


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _absolute(value: str, always: bool) -> str:
    """A relative path as the absolute path it names from the current folder: always for a parameter that is only
    a path, and for one that may also be a Hub id (``str | Path``) only when the file or folder exists here."""
    path = Path(value).expanduser()
    if path.is_absolute() or not (always or path.exists()):
        return value
    return str(path.resolve())


def coerce_option(where: str, key: str, raw: Any, param: inspect.Parameter | None) -> Any:
    """A spec option's text as the parameter's type; a Python value passes (a relative path made absolute)."""
    hint = param.annotation if param is not None else inspect.Parameter.empty
    kinds = _kinds(hint)
    if not kinds and param is not None and param.default not in (None, inspect.Parameter.empty):
        kinds = (type(param.default),)
    path_kinds = [k for k in kinds if _is_path_kind(k)]
    only_path = bool(path_kinds) and str not in kinds
    if not isinstance(raw, str):
        if isinstance(raw, os.PathLike) and path_kinds:
            return Path(_absolute(os.fspath(raw), True))
        return raw
    if not kinds:
        return raw
    literal = [k for k in kinds if typing.get_origin(k) is typing.Literal]
    if literal:
        choices = [c for k in literal for c in typing.get_args(k)]
        if raw in [str(c) for c in choices]:
            return next(c for c in choices if str(c) == raw)
        if str not in kinds:
            raise RewardSpecError(f"{where}option {key}={raw!r} is not one of {', '.join(map(str, choices))}")
    if type(None) in kinds and raw.lower() in ("none", "null") and str not in kinds:
        return None
    if bool in kinds:
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        if str not in kinds:
            raise RewardSpecError(f"{where}option {key}={raw!r} is not a boolean (true/false)")
    for number in (int, float):
        if number in kinds:
            try:
                return number(raw)
            except ValueError:
                pass
    if path_kinds:
        absolute = _absolute(raw, only_path)
        return Path(absolute) if only_path else absolute
    if str in kinds:
        return raw
    if any(_is_text_sequence(k) for k in kinds):
        return tuple(x.strip() for x in raw.split(",") if x.strip())
    names = " | ".join(getattr(k, "__name__", str(k)) for k in kinds if k is not type(None))
    if int in kinds or float in kinds:
        raise RewardSpecError(f"{where}option {key}={raw!r} is not a valid {names}")
    raise RewardSpecError(f"{where}option {key!r} takes a {names}, which a spec cannot write; pass it from Python")


def _format_value(value: Any) -> str | None:
    """A value as spec text, or None when text cannot carry it (a Python object given as a keyword)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, (int, float, str)):
        return str(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (tuple, list)) and all(isinstance(v, str) and "," not in v for v in value):
        return ",".join(value)
    return None


@dataclass(frozen=True)
class RewardSpec:
    """A parsed reward spec: what ``load()`` builds, and ``str(spec)`` the canonical text that rebuilds it.

    ``options`` are typed and hold the spec's and the Python keywords together; ``unrecorded`` names options whose
    values text cannot carry (Python objects), which the canonical text therefore lacks.
    """

    prefix: str
    argument: str | None
    revision: str | None = None
    options: dict[str, Any] = field(default_factory=dict, hash=False)
    unrecorded: tuple[str, ...] = ()

    def __str__(self) -> str:
        text = {k: t for k, v in self.options.items() if k not in self.unrecorded and (t := _format_value(v)) is not None}
        return format_part(self.prefix, self.argument, self.revision, text)

    def pinned(self, revision: str | None) -> "RewardSpec":
        """This spec at ``revision`` (the commit a Hub checkpoint resolved to) when it names none: the text a result
        records then reruns on the same weights after the repo moves on."""
        if self.revision is not None or not revision or self.argument is None:
            return self
        params = option_parameters(_resolve_factory(self.prefix), self.argument)
        if params is None or "revision" not in params:  # a factory without revisions: '@' would stay in the argument
            return self
        return RewardSpec(self.prefix, self.argument, revision, self.options, self.unrecorded)

    def load(self, **context: Any) -> RewardModel:
        """Build the model. ``context``: options the caller knows that are no part of the spec (a benchmark's root
        for ``scores:``); the spec's own options win over them."""
        factory = _resolve_factory(self.prefix)
        options = {**context, **self.options}
        if self.revision is not None:
            options["revision"] = self.revision
        model = factory(self.argument, **options) if self.argument else factory(**options)
        _check_protocol(model, str(self))
        return model


def parse_reward_spec(spec: "str | RewardSpec", **options: Any) -> RewardSpec:
    """Parse ``PREFIX[:ARGUMENT][@REVISION][?OPTIONS]`` and check the options (spec text and ``options`` keywords)
    against the factory's parameters; nothing is loaded (the factory's module is imported to read its signature)."""
    if isinstance(spec, RewardSpec):
        return parse_reward_spec(str(spec), **{**spec.options, **options}) if options else spec
    if not isinstance(spec, str) or not spec.strip():
        raise RewardSpecError(f"a reward model spec is a non-empty string, got {spec!r}")
    text = spec.strip()
    try:
        part = parse_part(text, target_required=False, revision=False)
    except SpecError as exc:
        raise RewardSpecError(str(exc)) from None
    factory = _resolve_factory(part.name)
    where = f"{part.name}: "
    params = option_parameters(factory, part.target)
    argument, revision = part.target, None
    if argument is not None and params is not None and "revision" in params:
        from videobench.specs import split_revision

        try:
            argument, revision = split_revision(argument)
        except SpecError as exc:
            raise RewardSpecError(f"reward spec {text!r}: {exc}") from None
    if argument is not None:
        arg_param = _first_parameter(factory)
        if arg_param is not None and any(_is_path_kind(k) for k in _kinds(arg_param.annotation)):
            argument = _absolute(argument, False)  # a local checkpoint or file: absolute, so reruns find it

    def check(key: str) -> inspect.Parameter | None:
        if params is None:
            return None
        if key not in params:
            valid = ", ".join(sorted(params)) or "none"
            raise RewardSpecError(f"{where}unknown option {key!r}; valid options: {valid}")
        return params[key]

    merged: dict[str, Any] = {}
    for key, raw in part.options.items():
        merged[key] = coerce_option(where, key, raw, check(key))
    for key, value in options.items():
        typed = coerce_option(where, key, value, check(key))
        if key in merged and not _same(merged[key], typed):
            raise RewardSpecError(f"{where}option {key!r} is {merged[key]!r} in the spec and {typed!r} as a keyword: "
                                  "give it once")
        merged[key] = typed
    if "revision" in merged:
        given = merged.pop("revision")
        if revision is not None and given is not None and str(given) != revision:
            raise RewardSpecError(f"{where}revision {revision!r} after '@' and revision={given!r}: give it once")
        revision = revision or (str(given) if given is not None else None)
    unrecorded = tuple(k for k, v in merged.items() if _format_value(v) is None)
    return RewardSpec(part.name, argument, revision, merged, unrecorded)


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # e.g. tensors: equal only when the same object
        return a is b


def _first_parameter(factory: Callable[..., Any]) -> inspect.Parameter | None:
    try:
        params = list(inspect.signature(factory).parameters.values())
    except (TypeError, ValueError):
        return None
    if not params or params[0].kind not in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD):
        return None
    target = factory.__init__ if inspect.isclass(factory) else factory  # type: ignore[misc]
    try:
        hint = typing.get_type_hints(target).get(params[0].name, params[0].annotation)
    except Exception:
        hint = params[0].annotation
    return params[0].replace(annotation=hint)


def load_reward_model(spec: "str | RewardSpec", **options: Any) -> RewardModel:
    """Resolve ``spec`` and build the model; ``options`` are keyword options beside the spec's own ``?key=value``
    (e.g. device, dtype, batch_size for VideoReward; see ``parse_reward_spec`` for the rules)."""
    return parse_reward_spec(spec, **options).load()


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
