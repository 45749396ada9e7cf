"""Generators: diffusers text-to-video pipelines (``wan:``, ``ltx:``, ``diffusers:``) and pre-rendered folders
(``videos:``). ``build_generators`` parses, checks and fingerprints every spec without loading weights (a missing
folder, a folder holding another pipeline class, a LoRA folder without weights all fail there, before any compute);
``load_all`` loads (and applies modifiers to) generators and reports every failure in one ``GeneratorLoadError``.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from videobench.compare.fingerprint import FingerprintError, combine, path_fingerprint, target_fingerprint
from videobench.compare.modifiers import get_modifier
from videobench.compare.spec import GeneratorSpec, RenderSettings, SpecError, check_name, parse_generator_spec
from videobench.prompts import Prompt

#: Pipeline class per kind, and sampling defaults (those of the released models) for fields left unset.
PIPELINE_CLASSES = {"wan": "WanPipeline", "ltx": "LTXPipeline", "diffusers": "DiffusionPipeline"}
DEFAULT_SETTINGS = {
    "wan": RenderSettings(steps=50, guidance=5.0, height=480, width=832, num_frames=81, fps=16.0),
    "ltx": RenderSettings(steps=50, guidance=3.0, height=480, width=704, num_frames=161, fps=24.0),
    "diffusers": RenderSettings(fps=8.0),
    "videos": RenderSettings(),
}
VIDEO_EXTENSIONS = (".mp4", ".webm", ".mkv", ".mov")
_DTYPES = ("float32", "float16", "bfloat16")
_SOURCE_OPTIONS = {"wan": ("dtype", "variant"), "ltx": ("dtype", "variant"), "diffusers": ("dtype", "variant"),
                   "videos": ()}
_CALL_ARGS = {"steps": "num_inference_steps", "guidance": "guidance_scale", "height": "height", "width": "width",
              "num_frames": "num_frames", "negative_prompt": "negative_prompt"}


class GeneratorLoadError(RuntimeError):
    """One or more generators could not be prepared; the message lists every failing spec."""

    def __init__(self, failures: dict[str, str], note: str = "nothing was rendered", stats: Any = None) -> None:
        self.failures = failures
        self.stats = stats  # the RenderStats of the renders that went ahead, when raised after rendering
        lines = "\n".join(f"  - {name}: {msg}" for name, msg in failures.items())
        super().__init__(f"{len(failures)} generator(s) failed to load ({note}):\n{lines}")


@dataclass
class PipelineGenerator:
    """A diffusers pipeline plus modifiers; ``render(prompt, seed)`` gives uint8 frames (T, H, W, 3)."""

    name: str
    spec: GeneratorSpec
    settings: RenderSettings
    fingerprint: str
    commit: str | None = None
    trust_remote_code: bool = False
    device: str = "cpu"
    pipe: Any = None
    call_kwargs: dict[str, Any] = field(default_factory=dict)
    postprocess: list[Callable[[np.ndarray], np.ndarray]] = field(default_factory=list)
    lora_adapters: dict[str, float] = field(default_factory=dict)
    applied: list[str] = field(default_factory=list)
    needs_rendering = True

    @property
    def kind(self) -> str:
        return self.spec.kind

    def info(self) -> dict[str, Any]:
        return {**self.settings.as_dict(), "kind": self.kind, "commit": self.commit}

    def load(self) -> None:
        import diffusers
        import torch

        src = self.spec.source
        options = dict(src.options)
        kwargs: dict[str, Any] = {}
        dtype = options.pop("dtype", None)
        if dtype is not None:
            if dtype not in _DTYPES:
                raise SpecError(f"dtype={dtype!r}: use one of {', '.join(_DTYPES)}")
            kwargs["torch_dtype"] = getattr(torch, dtype)
        if "variant" in options:
            kwargs["variant"] = options.pop("variant")
        if src.revision:
            kwargs["revision"] = src.revision
        if self.trust_remote_code:
            kwargs["trust_remote_code"] = True
        local = Path(src.target).expanduser()
        cls = getattr(diffusers, PIPELINE_CLASSES[self.kind])
        quiet = diffusers.utils.logging.is_progress_bar_enabled()
        if quiet:  # no per-component loading bars between our own progress output
            diffusers.utils.logging.disable_progress_bar()
        try:
            pipe = cls.from_pretrained(str(local) if local.exists() else src.target, **kwargs)
        finally:
            if quiet:
                diffusers.utils.logging.enable_progress_bar()
        if hasattr(pipe, "set_progress_bar_config"):
            pipe.set_progress_bar_config(disable=True)
        self.pipe = pipe
        for part in self.spec.modifiers:
            get_modifier(part).apply(self, part)
            self.applied.append(part.name)
        self._check_call_arguments()

    def _check_call_arguments(self) -> None:
        params = inspect.signature(self.pipe.__call__).parameters
        missing = [arg for key, arg in _CALL_ARGS.items()
                   if getattr(self.settings, key) is not None and arg not in params]
        if "generator" not in params or "output_type" not in params:
            missing += [a for a in ("generator", "output_type") if a not in params]
        if missing:
            raise SpecError(f"{type(self.pipe).__name__} takes no {', '.join(missing)}: not a text-to-video pipeline "
                            "that videobench can drive")

    def to(self, device: str) -> None:
        if self.pipe is not None and device != self.device:
            self.pipe.to(device)
            self.device = device

    def render(self, prompt: str, seed: int) -> np.ndarray:
        import torch

        if self.pipe is None:
            raise RuntimeError(f"generator {self.name!r} is not loaded")
        kwargs = {arg: getattr(self.settings, key) for key, arg in _CALL_ARGS.items()
                  if getattr(self.settings, key) is not None}
        # A CPU generator makes the initial noise identical on every device.
        kwargs.update(self.call_kwargs)
        with torch.inference_mode():
            out = self.pipe(prompt=prompt, generator=torch.Generator("cpu").manual_seed(seed), output_type="np",
                            **kwargs)
        frames = getattr(out, "frames", None)
        if frames is None:
            raise RuntimeError(f"{type(self.pipe).__name__} returned no frames: not a video pipeline")
        video = frames[0]
        if isinstance(video, list):  # PIL images
            video = np.stack([np.asarray(im) for im in video])
        video = np.asarray(video)
        if video.dtype != np.uint8:
            video = (np.clip(video, 0.0, 1.0) * 255.0).round().astype(np.uint8)
        for fn in self.postprocess:
            video = fn(video)
        return video


def _check_model_index(folder: Path, kind: str) -> None:
    index = folder / "model_index.json"
    if not index.is_file():
        raise SpecError(f"{folder} has no model_index.json: not a diffusers pipeline folder")
    try:
        class_name = json.loads(index.read_text()).get("_class_name")
    except (ValueError, AttributeError):
        raise SpecError(f"{index} is not valid JSON") from None
    expected = PIPELINE_CLASSES[kind]
    if kind != "diffusers" and class_name != expected:
        raise SpecError(f"{folder} holds a {class_name}, not a {expected}; use 'diffusers:' for other pipelines")


@dataclass
class VideoFolderGenerator:
    """Pre-rendered videos (closed models): ``DIR/<prompt_id>__seed<seed>.mp4`` (or .webm / .mkv / .mov)."""

    name: str
    spec: GeneratorSpec
    settings: RenderSettings
    fingerprint: str
    commit: str | None = None
    needs_rendering = False

    @property
    def kind(self) -> str:
        return "videos"

    @property
    def folder(self) -> Path:
        return Path(self.spec.source.target).expanduser()

    def info(self) -> dict[str, Any]:
        return {"kind": "videos", "folder": str(self.folder)}

    def video_for(self, prompt: Prompt, seed: int) -> Path | None:
        for ext in VIDEO_EXTENSIONS:
            path = self.folder / f"{prompt.id}__seed{seed}{ext}"
            if path.is_file():
                return path
        return None


Generator = PipelineGenerator | VideoFolderGenerator


def build_generator(name: str, spec: str | GeneratorSpec, trust_remote_code: bool = False,
                    overrides: RenderSettings | None = None) -> Generator:
    """Parse and fingerprint one generator (no loading). ``overrides`` (e.g. from CLI options) win over the spec."""
    check_name(name)
    parsed = parse_generator_spec(spec) if isinstance(spec, str) else spec
    settings = DEFAULT_SETTINGS[parsed.kind].merged(parsed.settings)
    if overrides is not None:
        settings = settings.merged(overrides)
    src = parsed.source
    unknown = set(src.options) - set(_SOURCE_OPTIONS[parsed.kind])
    if unknown:
        raise SpecError(f"{parsed.kind}: unknown option(s) {', '.join(sorted(unknown))}")
    if parsed.kind == "videos":
        folder = Path(src.target).expanduser()
        if not folder.is_dir():
            raise SpecError(f"videos:{src.target}: no such folder")
        listing = sorted((p.name, p.stat().st_size) for p in folder.iterdir() if p.suffix.lower() in VIDEO_EXTENSIONS)
        return VideoFolderGenerator(name, parsed, settings, combine("videos", str(folder.resolve()), repr(listing)))
    local = Path(src.target).expanduser()
    if local.is_dir():
        _check_model_index(local, parsed.kind)
    fp, commit = target_fingerprint(src.target, src.revision)
    parts = [parsed.kind, fp, json.dumps(sorted(src.options.items()))]
    for part in parsed.modifiers:
        parts.append(f"{part.name}:{get_modifier(part).fingerprint(part)}")
    return PipelineGenerator(name, parsed, settings, combine(*parts), commit, trust_remote_code)


def build_generators(named_specs: dict[str, str], trust_remote_code: bool = False,
                     overrides: RenderSettings | None = None) -> dict[str, Generator]:
    """Every generator parsed and fingerprinted; all failures raised together."""
    out: dict[str, Generator] = {}
    failures: dict[str, str] = {}
    for name, spec in named_specs.items():
        try:
            out[name] = build_generator(name, spec, trust_remote_code, overrides)
        except (SpecError, FingerprintError, OSError) as exc:
            failures[f"{name}={spec}"] = str(exc)
    if failures:
        raise GeneratorLoadError(failures)
    return out


def load_failure(gen: PipelineGenerator) -> dict[str, str] | None:
    """Load ``gen`` (pipeline + modifiers); on failure leave it unloaded and return {spec: reason}."""
    try:
        gen.load()
    except Exception as exc:  # diffusers / hub / peft raise many kinds; all mean "this spec failed"
        gen.pipe = None
        return {f"{gen.name}={gen.spec.raw}": f"{type(exc).__name__}: {exc}".strip()}
    return None


def load_all(generators: list[PipelineGenerator]) -> None:
    """Load every generator (pipeline + modifiers); on any failure raise one error naming all failing specs."""
    failures: dict[str, str] = {}
    for gen in generators:
        failures.update(load_failure(gen) or {})
    if failures:
        raise GeneratorLoadError(failures)


def release(gen: PipelineGenerator) -> None:
    """Drop a loaded pipeline and return its memory (host and accelerator)."""
    import gc

    if gen.pipe is None:
        return
    gen.pipe = None
    gen.device = "cpu"
    gc.collect()
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()


__all__ = ["PipelineGenerator", "VideoFolderGenerator", "Generator", "GeneratorLoadError", "build_generator",
           "build_generators", "load_all", "load_failure", "release", "path_fingerprint", "DEFAULT_SETTINGS"]
