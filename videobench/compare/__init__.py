"""Compare generator checkpoints: render prompt suites with the same seeds, score like ``eval``, and report paired
win rates against a baseline and a Bradley-Terry ranking (``videobench compare``; docs/compare.md).

    from videobench.compare import CompareConfig, run_compare
    out = run_compare(CompareConfig(generators={"base": "wan:/m/wan", "dpo": "wan:/m/wan+lora:/ckpt/dpo"},
                                    prompts="videogen-eval-400", rewards=["classical"], output="cmp"))
"""

from videobench.compare.engine import CompareConfig, CompareOutcome, run_compare
from videobench.compare.generators import (
    GeneratorLoadError,
    PipelineGenerator,
    VideoFolderGenerator,
    build_generator,
    build_generators,
    load_all,
)
from videobench.compare.modifiers import Modifier, available_modifiers, register_modifier
from videobench.compare.render import MissingVideosError, RenderItem, plan, render_missing, shard
from videobench.compare.spec import GeneratorSpec, Part, RenderSettings, SpecError, parse_generator_spec
from videobench.compare.store import RenderStore, default_render_dir

__all__ = [
    "CompareConfig", "CompareOutcome", "run_compare", "GeneratorLoadError", "PipelineGenerator",
    "VideoFolderGenerator", "build_generator", "build_generators", "load_all", "Modifier", "available_modifiers",
    "register_modifier", "MissingVideosError", "RenderItem", "plan", "render_missing", "shard", "GeneratorSpec",
    "Part", "RenderSettings", "SpecError", "parse_generator_spec", "RenderStore", "default_render_dir",
]
