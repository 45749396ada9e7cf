"""``videobench compare``: render checkpoints on a prompt suite and rank them with paired win rates."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from videobench.cli import app
from videobench.cli.common import UserError, check_output_dir, console, friendly_errors, parse_seeds

_SPEC_HELP = (
    "NAME=SPEC, repeatable. SPEC: wan:PATH_OR_ID, ltx:..., diffusers:... (any frame-producing pipeline; a Hub id "
    "may end in @REVISION) or videos:DIR (pre-rendered <prompt_id>__seed<seed>.mp4); add +lora:PATH_OR_ID (a glob such "
    "as RUN/checkpoints/checkpoint-* adds every checkpoint of a run, named NAME-checkpoint-N) "
    "(options ?scale=S) and sampling arguments as ?steps=4&guidance=5&height=480&width=832&num_frames=81&fps=16."
)


@app.command("compare")
def compare(
    generator: list[str] = typer.Option(..., "--generator", "-g", help=_SPEC_HELP),
    prompts: str = typer.Option(
        "videogen-eval-400", "--prompts", "-p",
        help="Prompt suite: vbench-946, videogen-eval-400, ta-hard-72 (shipped, MIT, from KwaiVGI/VideoAlign) or a "
             ".csv / .txt / .jsonl file.",
    ),
    reward: list[str] = typer.Option(..., "--reward", "-r", help="Reward model spec as for eval, "
                                     "PREFIX\\[:ARG]\\[@REV]\\[?key=value&...] (quote it); repeatable."),
    output: Path = typer.Option(Path("videobench-compare"), "--output", "-o",
                                help="Folder for compare.json, items.parquet/csv, per_prompt.csv and report.html."),
    baseline: Optional[str] = typer.Option(None, "--baseline", "-b", help="Generator name to compare against "
                                                                          "(default: the first --generator)."),
    seeds: str = typer.Option("0", "--seeds", help="Comma-separated seeds; every generator renders every prompt "
                                                  "with each of them."),
    num_prompts: Optional[int] = typer.Option(None, "--num-prompts", "-n", min=1,
                                              help="Use a deterministic subset of N prompts (nested: a smaller "
                                                   "subset is part of every larger one)."),
    prompt_column: str = typer.Option("prompt", "--prompt-column", help="Text column of CSV / JSONL prompt files "
                                                                        "(shipped suites also have prompt_shorter)."),
    weights: Optional[str] = typer.Option(None, "--weights", help="Overall weights on standardised scores, e.g. "
                                                                  "VQ=1,MQ=1,TA=1 (default: 1 for every dimension)."),
    render_dir: Optional[Path] = typer.Option(None, "--render-dir", help="Render store shared between runs (default "
                                                                         "$VIDEOBENCH_RENDERS or ~/.cache/videobench/renders)."),
    cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", help="Score cache (default: the scoring engine's)."),
    device: Optional[str] = typer.Option(None, "--device", help="Render device (default: this rank's GPU, else cpu)."),
    steps: Optional[int] = typer.Option(None, "--steps", min=1, help="Denoising steps for every generator."),
    guidance: Optional[float] = typer.Option(None, "--guidance", help="Guidance scale for every generator."),
    height: Optional[int] = typer.Option(None, "--height", min=1, help="Frame height for every generator."),
    width: Optional[int] = typer.Option(None, "--width", min=1, help="Frame width for every generator."),
    num_frames: Optional[int] = typer.Option(None, "--num-frames", min=1, help="Frames per video for every generator."),
    fps: Optional[float] = typer.Option(None, "--fps", help="Frame rate written into the mp4 files."),
    trust_remote_code: bool = typer.Option(False, "--trust-remote-code", help="Allow pipelines with custom code "
                                                                              "(runs code from the model repo)."),
    n_resamples: int = typer.Option(1000, "--n-resamples", min=1, help="Bootstrap resamples (over prompts)."),
    tie_tolerance: float = typer.Option(0.0, "--tie-tolerance", min=0.0, help="Score differences within this count "
                                                                              "as ties (half a win)."),
    bootstrap_seed: int = typer.Option(0, "--bootstrap-seed", help="Seed of the bootstrap."),
    batch_size: int = typer.Option(8, "--batch-size", min=1, help="Scoring batch size."),
    report: bool = typer.Option(True, "--report/--no-report", help="Write report.html."),
    report_prompts: int = typer.Option(8, "--report-prompts", min=0, help="Prompts in the report's video grid."),
    embed_videos: bool = typer.Option(False, "--embed-videos", help="Embed grid videos (each up to 2 MB) in the report "
                                                                    "instead of linking them."),
) -> None:
    """Rank generator checkpoints by paired win rates and a Bradley-Terry ranking.

    Renders every checkpoint on a prompt suite (same prompts, same seeds), scores the videos with reward models, and
    reports win rates against a baseline (ties = 1/2) with prompt-clustered CIs and sign tests."""
    with friendly_errors():
        from videobench.compare.analysis import parse_weights
        from videobench.compare.engine import CompareConfig, run_compare
        from videobench.compare.generators import GeneratorLoadError
        from videobench.compare.render import MissingVideosError
        from videobench.compare.spec import RenderSettings, SpecError, parse_named_spec
        from videobench.prompts import PromptError
        from videobench.rewards.registry import parse_reward_spec

        check_output_dir(output)
        if render_dir is not None:
            check_output_dir(render_dir, "--render-dir")
        if cache_dir is not None:
            check_output_dir(cache_dir, "--cache-dir")
        try:
            named: dict[str, str] = {}
            for text in generator:
                name, spec = parse_named_spec(text)
                if name in named:
                    raise UserError(f"generator name {name!r} is used twice")
                named[name] = spec
            # Checked (options, types) before anything renders; the canonical text is what the result records.
            rewards = [str(parse_reward_spec(text)) for text in reward]
            cfg = CompareConfig(
                generators=named, prompts=prompts, rewards=rewards, output=output, baseline=baseline,
                seeds=parse_seeds(seeds), num_prompts=num_prompts, prompt_column=prompt_column,
                weights=parse_weights(weights),
                settings=RenderSettings(steps=steps, guidance=guidance, height=height, width=width,
                                        num_frames=num_frames, fps=fps),
                render_dir=render_dir, cache_dir=cache_dir, device=device, trust_remote_code=trust_remote_code,
                n_resamples=n_resamples, tie_tolerance=tie_tolerance, bootstrap_seed=bootstrap_seed,
                batch_size=batch_size, report=report, report_prompts=report_prompts, embed_videos=embed_videos,
                show_progress=True, command=["videobench", *sys.argv[1:]],
            )
            outcome = run_compare(cfg)
        except (SpecError, PromptError, GeneratorLoadError, MissingVideosError, ValueError) as exc:
            raise UserError(str(exc)) from exc
        if outcome.result is not None:
            _print(outcome)


def _print(outcome) -> None:
    from rich.markup import escape
    from rich.table import Table

    result = outcome.result
    table = Table(title=f"Win rate vs {escape(result.baseline)} (ties = 1/2, 95% CI over prompts)")
    table.add_column("checkpoint")
    dims = list(dict.fromkeys(w.dimension for w in result.win_rates))
    for dim in dims:
        table.add_column(escape(dim), justify="right")
    for ckpt in dict.fromkeys(w.checkpoint for w in result.win_rates):
        cells = []
        for dim in dims:
            w = next(x for x in result.win_rates if x.checkpoint == ckpt and x.dimension == dim)
            e = w.win_rate
            cells.append("n/a" if e.value is None else
                         f"{e.value:.3f} ± {e.half_width:.3f}" + (" *" if (w.p_value or 1) < 0.05 else ""))
        table.add_row(escape(ckpt), *cells)
    console.print(table)
    overall = result.ranking.get("Overall") or next(iter(result.ranking.values()), [])
    rank = Table(title="Bradley-Terry ranking (Overall; log-odds, baseline = 0)")
    for col in ("rank", "checkpoint", "strength", "95% CI"):
        rank.add_column(col, justify="left" if col == "checkpoint" else "right")
    for e in overall:
        s = e.strength
        rank.add_row(str(e.rank), escape(e.checkpoint), f"{s.value:+.3f}", f"[{s.ci_low:+.3f}, {s.ci_high:+.3f}]")
    console.print(rank)
    stats = outcome.render_stats
    console.print(f"renders: {stats.rendered} new, {stats.reused} reused; * sign-test p < 0.05. "
                  f"Results in {escape(str(outcome.output))} (compare.json, items.parquet, report.html)",
                  highlight=False)
