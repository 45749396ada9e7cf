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


def test_compare_records_the_canonical_reward_spec(tmp_path, monkeypatch):
    """`compare --reward 'SPEC?options'` on two pre-rendered folders: the options reach the model and compare.json
    records the canonical spec."""
    import json

    import numpy as np
    import pandas as pd

    from videobench.video import write_video

    pd.DataFrame({"id": ["a", "b", "c"], "prompt": ["a red ball", "a blue cube", "a green cone"]}).to_csv(
        tmp_path / "prompts.csv", index=False)
    for folder, level in (("x", 60), ("y", 180)):
        (tmp_path / folder).mkdir()
        for pid in "abc":
            write_video(tmp_path / folder / f"{pid}__seed0.mp4", np.full((4, 16, 16, 3), level, np.uint8), fps=4)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VIDEOBENCH_DECODER", "pyav")  # torchcodec's import alone costs seconds
    res = runner.invoke(app, ["compare", "-g", "x=videos:x", "-g", "y=videos:y", "--prompts", "prompts.csv",
                              "--reward", "pixel:brightness?name=bright&dimensions=Overall", "-o", "out",
                              "--no-report", "--n-resamples", "10"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    data = json.loads((tmp_path / "out" / "compare.json").read_text())
    (reward,) = data["rewards"]
    assert (reward["name"], reward["spec"]) == ("bright", "pixel:brightness?name=bright&dimensions=Overall")
    assert "Win rate vs x" in res.output
