"""``videobench bench build sanity --out DIR``: write a built-in benchmark as a ``datasets``-loadable folder."""

from __future__ import annotations

from pathlib import Path

import typer

from videobench.cli import app
from videobench.cli.common import UserError, check_output_dir, console, friendly_errors

bench_app = typer.Typer(
    name="bench",
    help="Build the built-in benchmarks (offline, deterministic) as dataset folders.",
    no_args_is_help=True,
)
app.add_typer(bench_app, name="bench")

#: Built-in benchmarks that `bench build` knows; each builds from files already on the machine.
BUILDABLE = ("sanity",)


@bench_app.command("build")
def build(
    name: str = typer.Argument(..., help=f"Benchmark to build: {', '.join(BUILDABLE)}."),
    out: Path = typer.Option(..., "--out", "-o", help="New folder to write (Parquet + videos/ + README.md card)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the folder when it exists and is not empty."),
) -> None:
    """Build a benchmark into OUT: load it with `datasets.load_dataset(OUT)` or `videobench eval --bench OUT`."""
    with friendly_errors():
        if name not in BUILDABLE:
            raise UserError(f"unknown benchmark {name!r}; `bench build` knows: {', '.join(BUILDABLE)}")
        from videobench.sanity import build_sanity

        check_output_dir(out, "--out")

        try:
            report = build_sanity(out, overwrite=overwrite)
        except FileExistsError as exc:
            raise UserError(f"{exc} (--overwrite replaces it)") from None
        console.print(
            f"built {name}: {report.num_pairs} pairs, {report.num_videos} videos, "
            f"{report.total_bytes / 1e6:.1f} MB in {report.seconds:.1f} s -> {report.root}",
            highlight=False,
        )
