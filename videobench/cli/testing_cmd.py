"""``videobench testing make-tiny KIND DIR``: tiny random models, built offline, to try every command on a laptop.

The builders live in ``videobench.testing`` (the test suite uses the same ones); this command only saves them."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Optional

import typer

from videobench.cli import app
from videobench.atomic import clean_stale, temp_path
from videobench.cli.common import UserError, check_output_dir, console, friendly_errors

testing_app = typer.Typer(
    name="testing",
    help="Tiny random models built offline (no download), so compare / align / NRG / VideoReward run on a laptop.",
    no_args_is_help=True,
)
app.add_typer(testing_app, name="testing")

KINDS = {
    "wan": "a diffusers WanPipeline folder (28k-parameter transformer): use as wan:DIR or --pipeline DIR",
    "ltx": "a diffusers LTXPipeline folder (35k-parameter transformer): use as ltx:DIR or --pipeline DIR",
    "videoreward": "a VideoReward checkpoint in VideoAlign's layout (tiny Qwen2-VL, LoRA variant, its base model "
                   "in DIR/base): use as videoreward:DIR",
    "qwen2-vl": "an instruction VLM of transformers' Qwen2-VL class (random weights: its answers are garbage): use "
                "as judge:DIR",
    "qwen2.5-vl": "the same with the Qwen2.5-VL class: use as judge:DIR?mode=scores or judge:DIR?mode=pairwise",
    "latent-rm": "an untrained latent reward model for Flow-NRG (1 block of a tiny Wan, or of --pipeline): use as "
                 "--rm DIR or +nrg:DIR",
}
_KIND_HELP = "What to make: " + "; ".join(f"{k}: {v}" for k, v in KINDS.items()) + "."


@testing_app.command("make-tiny")
def make_tiny(
    kind: str = typer.Argument(..., help=_KIND_HELP),
    out: Path = typer.Argument(..., help="Folder to write (new, or empty unless --overwrite)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the random weights (another seed, another model)."),
    pipeline: Optional[Path] = typer.Option(None, "--pipeline", help="latent-rm only: copy the block from this "
                                            "Wan/LTX pipeline folder (default: a tiny Wan of --seed)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace OUT when it exists and is not empty."),
) -> None:
    """Write a tiny random model of KIND into OUT. Random weights: outputs show the machinery works, nothing more."""
    with friendly_errors():
        if kind not in KINDS:
            raise UserError(f"unknown kind {kind!r}; make-tiny knows: {', '.join(KINDS)}")
        if pipeline is not None and kind != "latent-rm":
            raise UserError("--pipeline applies to latent-rm only")
        check_output_dir(out, "OUT")
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            if not overwrite:
                raise UserError(f"{out} exists and is not empty (--overwrite replaces it)")
            shutil.rmtree(out) if out.is_dir() else out.unlink()
        _quiet_progress_bars()  # a tiny model saves in a blink; transformers' and diffusers' bars are only noise here
        # Build next to OUT and rename into place, so an interrupted run never leaves a half-written model.
        # The staging folder is named like every videobench temp file, so the next run removes one a kill left.
        out.parent.mkdir(parents=True, exist_ok=True)
        clean_stale(out.parent, out.name)
        staging = temp_path(out)
        staging.mkdir()
        try:
            _BUILDERS[kind](staging, out.resolve(), seed, pipeline)
            staging.rename(out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        console.print(f"made a tiny {kind} in {out}", highlight=False)


def _quiet_progress_bars() -> None:
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    diffusers_logging.disable_progress_bar()
    transformers_logging.disable_progress_bar()


def _wan(staging: Path, final: Path, seed: int, pipeline: Optional[Path]) -> None:
    from videobench.testing.tiny_pipelines import build_tiny_wan_pipeline

    build_tiny_wan_pipeline(staging, seed=seed)


def _ltx(staging: Path, final: Path, seed: int, pipeline: Optional[Path]) -> None:
    from videobench.testing.tiny_pipelines import build_tiny_ltx_pipeline

    build_tiny_ltx_pipeline(staging, seed=seed)


def _videoreward(staging: Path, final: Path, seed: int, pipeline: Optional[Path]) -> None:
    from videobench.testing.tiny_qwen2vl import build_tiny_videoreward_checkpoint

    # The builder writes <dir>/base and <dir>/videoreward; the checkpoint folder becomes OUT itself, with the base
    # model inside it at OUT/base (its config names the base by the absolute path it will have).
    # Built inside the staging folder, so a kill leaves nothing beside OUT that the next run would not remove.
    parts = staging / ".parts"
    parts.mkdir()
    root = build_tiny_videoreward_checkpoint(parts, seed=seed, base_model_name=str(final / "base"))
    for item in root.iterdir():
        shutil.move(str(item), staging / item.name)
    shutil.move(str(parts / "base"), staging / "base")
    shutil.rmtree(parts)


def _latent_rm(staging: Path, final: Path, seed: int, pipeline: Optional[Path]) -> None:
    from videobench.align.latent_rm import LatentRewardModel
    from videobench.testing.tiny_pipelines import build_tiny_wan_pipeline

    if pipeline is None:
        pipe = build_tiny_wan_pipeline(seed=seed)
    else:
        from videobench.align.trainer import load_pipeline

        if not pipeline.is_dir():
            raise UserError(f"--pipeline {pipeline}: not a folder")
        pipe = load_pipeline(str(pipeline))
    LatentRewardModel.from_pipeline(pipe, num_blocks=1, seed=seed).save_pretrained(str(staging))


def _vlm(arch: str) -> Any:
    def build(staging: Path, final: Path, seed: int, pipeline: Optional[Path]) -> None:
        from videobench.testing.tiny_vlm import build_tiny_vlm

        build_tiny_vlm(staging, arch, seed=seed)

    return build


_BUILDERS = {"wan": _wan, "ltx": _ltx, "videoreward": _videoreward, "latent-rm": _latent_rm,
             "qwen2-vl": _vlm("qwen2-vl"), "qwen2.5-vl": _vlm("qwen2.5-vl")}
