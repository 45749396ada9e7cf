"""Every command that takes a reward spec reads options the same way and refuses a bad one with one line, exit 2,
before any work starts."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from videobench.cli import _register, app

_register()
runner = CliRunner()

BAD = "random:1?sed=2"
LINE = "random: unknown option 'sed'; valid options: dimensions, name, seed"


@pytest.mark.parametrize("args", [
    ["eval", "--bench", "sanity", "--model", BAD],
    ["compare", "--generator", "a=videos:x", "--generator", "b=videos:y", "--reward", BAD, "-o", "{tmp}/out"],
    ["leaderboard", "run-queue", "--store", "{tmp}/board", "--reward", BAD],
    ["submit", "--store", "{tmp}/board", "--model", BAD, "--bench", "sanity"],
], ids=["eval", "compare", "run-queue", "submit"])
def test_bad_reward_option_is_one_line_and_exit_2(args, tmp_path):
    res = runner.invoke(app, [a.replace("{tmp}", str(tmp_path)) for a in args], env={"COLUMNS": "300"})
    assert res.exit_code == 2, res.output
    assert LINE in res.output and "Traceback" not in res.output
    assert not (tmp_path / "out").exists()
