"""One rule for every command: an OSError on a user path, a bad spec, bad options and bad data exit 2 with one line
naming the path or field; a traceback only for bugs, and then with a hint to report it. Output folders are checked
before any work starts (issue 14, item 4)."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from videobench.cli import _register, app
from videobench.cli.common import UserError, check_output_dir, friendly_errors

_register()
runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[2] / "videobench" / "resources" / "example"

#: Arguments that make each command write under OUT (a folder below a regular file, so no folder can be made there).
WRITES = {
    ("eval",): ["--bench", str(EXAMPLE / "example-bench.csv"), "--scores", str(EXAMPLE / "example-model.scores.csv"),
                "--output", "{out}"],
    ("compare",): ["--generator", "a=videos:{tmp}", "--generator", "b=videos:{tmp}", "--reward", "random",
                   "--output", "{out}"],
    ("align", "dpo"): ["--pipeline", "{tmp}/no-pipeline", "--output-dir", "{out}"],
    ("align", "rwr"): ["--pipeline", "{tmp}/no-pipeline", "--output-dir", "{out}"],
    ("align", "sft"): ["--pipeline", "{tmp}/no-pipeline", "--output-dir", "{out}"],
    ("align", "latent-rm"): ["--pipeline", "{tmp}/no-pipeline", "--output-dir", "{out}"],
    ("align", "grpo"): ["--pipeline", "{tmp}/no-pipeline", "--output-dir", "{out}"],
    ("align", "reward-model"): ["--base-model", "{tmp}/no-base", "--benchmark", "sanity", "--output-dir", "{out}"],
    ("align", "nrg"): ["--pipeline", "{tmp}/no-pipeline", "--rm", "{tmp}/no-rm", "--prompt", "a cat",
                       "--output-dir", "{out}"],
    ("bench", "build"): ["sanity", "--out", "{out}"],
    ("submit",): ["--model", "videoreward:{tmp}", "--bench", "sanity", "--store", "{out}"],
    ("leaderboard", "run-queue"): ["--store", "{out}", "--reward", "random"],
    ("leaderboard", "build"): ["--store", "{tmp}", "--out", "{out}"],
    ("leaderboard", "publish"): ["--store", "{out}"],
    ("leaderboard", "space"): ["--store", "{tmp}", "--out", "{out}"],
    ("testing", "make-tiny"): ["wan", "{out}"],
}
#: Commands that write nothing.
READ_ONLY = {("align", "settings"), ("serve-reward",)}


def _commands(command, prefix=()):
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*prefix, name))
    else:
        yield prefix


def test_every_command_is_covered():
    assert set(_commands(typer.main.get_command(app))) == set(WRITES) | READ_ONLY


def _assert_one_line_error(res, *needles: str) -> str:
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output and "internal error" not in res.output
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), res.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.mark.parametrize("command", sorted(WRITES), ids="-".join)
def test_an_output_that_cannot_be_created_is_one_line_exit_2(command, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    out = blocker / "out"
    args = [a.format(out=out, tmp=tmp_path) for a in WRITES[command]]
    res = runner.invoke(app, [*command, *args], env={"COLUMNS": "200"})
    _assert_one_line_error(res, str(blocker))


def test_a_full_disk_is_refused_before_any_work(tmp_path, monkeypatch):
    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda p: real(p)._replace(free=10 * 2**20))
    res = runner.invoke(app, ["eval", *WRITES[("eval",)][:-1], str(tmp_path / "out")])
    _assert_one_line_error(res, str(tmp_path / "out"), "10 MiB free")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("exc, needles", [
    (OSError(errno.EROFS, "Read-only file system", "/data/out/m.json"), ["/data/out/m.json", "Read-only", "writable"]),
    (OSError(errno.ENOSPC, "No space left on device"), ["No space left on device", "free some space"]),
    (PermissionError(errno.EACCES, "Permission denied", "/data/out"), ["/data/out", "Permission denied"]),
    (UserError("--seeds 'x': expected comma-separated integers"), ["--seeds"]),
])
def test_user_errors_raised_mid_run_are_one_line(exc, needles, capsys):
    with pytest.raises(typer.Exit) as info, friendly_errors():
        raise exc
    assert info.value.exit_code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and all(n in err for n in needles), err


def test_a_bug_keeps_its_traceback_and_says_to_report_it(capsys):
    with pytest.raises(KeyError), friendly_errors():
        raise KeyError("oops")
    assert "this is a bug in videobench" in capsys.readouterr().err


def test_check_output_dir_creates_nothing(tmp_path):
    assert check_output_dir(tmp_path / "a" / "b") == tmp_path / "a" / "b"
    assert list(tmp_path.iterdir()) == []
