"""Every command's --help shows every option's help text whole (rich would eat a "[...]" it takes for markup)."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from videobench.cli import _register, app


def _leaf_commands(group, path: tuple[str, ...] = ()):
    if hasattr(group, "commands"):  # a group (typer may bring its own click, so no isinstance)
        for name, command in group.commands.items():
            yield from _leaf_commands(command, (*path, name))
    else:
        yield path, group


def test_every_option_help_survives_rendering():
    _register()
    root = typer.main.get_command(app)
    runner = CliRunner()
    checked = 0
    for path, command in _leaf_commands(root):
        res = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
        assert res.exit_code == 0, (path, res.output)
        shown = " ".join(res.output.replace("│", " ").split())
        for param in command.params:
            text = " ".join((getattr(param, "help", None) or "").replace("\\[", "[").split())
            if text:
                assert text in shown, (path, param.name, text)
                checked += 1
    assert checked > 50
