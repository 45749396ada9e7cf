"""``+name:target`` parts of a generator spec: a registry, and the built-in ``+lora``.

A modifier has two steps: ``fingerprint(part)`` (cheap, no loading: it keys the render store, so it must change
whenever the modifier's output would; it may raise ``SpecError`` for a part that cannot load) and ``apply(generator, part)`` (after the pipeline loads, before any
rendering). ``apply`` may change ``generator.pipe``, add keyword arguments for the pipeline call
(``generator.call_kwargs``) or frame post-processors (``generator.postprocess``). Register new ones with
``register_modifier("nrg", MyModifier())`` or lazily with ``register_modifier("nrg", "package.module:attr")``.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from videobench.compare.fingerprint import combine, target_fingerprint
from videobench.compare.spec import Part, SpecError

if TYPE_CHECKING:
    from videobench.compare.generators import PipelineGenerator


@runtime_checkable
class Modifier(Protocol):
    #: Option keys this modifier accepts in its query (others raise ``SpecError``).
    options: tuple[str, ...]

    def fingerprint(self, part: Part) -> str: ...

    def apply(self, generator: "PipelineGenerator", part: Part) -> None: ...


_REGISTRY: dict[str, Modifier | str] = {}


def register_modifier(name: str, modifier: Modifier | str) -> None:
    """Make ``+name:`` available in generator specs (a ``Modifier`` or a lazy ``"module:attr"`` path)."""
    _REGISTRY[name] = modifier


def available_modifiers() -> list[str]:
    return sorted(_REGISTRY)


def get_modifier(part: Part) -> Modifier:
    entry = _REGISTRY.get(part.name)
    if entry is None:
        raise SpecError(f"unknown modifier +{part.name}: (known: {', '.join('+' + n for n in available_modifiers())})")
    if isinstance(entry, str):
        module, _, attr = entry.partition(":")
        try:
            entry = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise SpecError(f"+{part.name}: cannot load its implementation {_REGISTRY[part.name]!r} ({exc})") from exc
        if isinstance(entry, type):
            entry = entry()
        _REGISTRY[part.name] = entry
    unknown = set(part.options) - set(entry.options)
    if unknown:
        raise SpecError(f"+{part.name}: unknown option(s) {', '.join(sorted(unknown))} "
                        f"(known: {', '.join(entry.options) or 'none'})")
    return entry


def _check_local_lora(part: Part) -> None:
    """A local LoRA folder must hold safetensors weights (``weight_name`` when given): caught before any loading."""
    folder = Path(part.target).expanduser()
    if not folder.is_dir():
        return
    name = part.options.get("weight_name")
    found = (folder / name).is_file() if name else any(folder.glob("*.safetensors"))
    if not found:
        raise SpecError(f"+lora:{part.target}: no {name or '*.safetensors'} weights in that folder")


class LoraModifier:
    """``+lora:PATH_OR_ID[@REV][?scale=S&weight_name=F]``: ``pipe.load_lora_weights`` and fuse at ``scale``."""

    options = ("scale", "weight_name", "adapter_name")

    def fingerprint(self, part: Part) -> str:
        _check_local_lora(part)
        fp, _ = target_fingerprint(part.target, part.revision)
        return combine("lora", fp, part.options.get("scale", "1.0"), part.options.get("weight_name", ""))

    def apply(self, generator: "PipelineGenerator", part: Part) -> None:
        pipe = generator.pipe
        if not hasattr(pipe, "load_lora_weights"):
            raise SpecError(f"+lora: {type(pipe).__name__} does not support LoRA weights (no load_lora_weights)")
        kwargs = {}
        if part.revision:
            kwargs["revision"] = part.revision
        if "weight_name" in part.options:
            kwargs["weight_name"] = part.options["weight_name"]
        name = part.options.get("adapter_name") or f"videobench_{len(generator.applied)}"
        pipe.load_lora_weights(part.target, adapter_name=name, **kwargs)
        if not any(name in names for names in pipe.get_list_adapters().values()):
            raise SpecError(f"+lora:{part.target}: no LoRA weights matched a module of {type(pipe).__name__}")
        try:
            scale = float(part.options.get("scale", "1.0"))
        except ValueError:
            raise SpecError(f"+lora: scale={part.options['scale']!r} is not a number") from None
        generator.lora_adapters[name] = scale
        pipe.set_adapters(list(generator.lora_adapters), list(generator.lora_adapters.values()))


register_modifier("lora", LoraModifier())
# Flow-NRG guided sampling (reward-guided denoising with a latent reward model), imported only when used.
register_modifier("nrg", "videobench.align.nrg_compare:NRGModifier")
