"""The ``videobench`` command line (typer). Each command lives in its own module and registers itself here."""

from __future__ import annotations

import typer

from videobench import __version__

app = typer.Typer(
    name="videobench",
    help="Evaluate text-to-video reward models and generators against human preferences; align generators.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"videobench {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """videobench: reward-model accuracy, generator comparison, alignment and leaderboards for text-to-video."""


def _register() -> None:
    # Every `*_cmd` module in this package adds its commands to `app` when imported; those imports stay light
    # (heavy libraries load inside the commands), so `videobench --help` is fast.
    import importlib
    import pkgutil

    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.endswith("_cmd"):
            importlib.import_module(f"{__name__}.{info.name}")


def main() -> None:
    _register()
    app()
