"""Run (or check) the code blocks of a documentation page.

Shell lines that are a plain ``videobench ...`` command run in this process through typer's test runner (a new
interpreter per command would cost seconds of imports each); any other shell line runs through bash. ``help-only``
blocks are parsed, not run: see :func:`check_command_line` and :func:`check_python_imports`.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import traceback
from functools import lru_cache
from pathlib import Path
from typing import Any

try:  # typer >= 0.26 bundles its own click; the commands are built from that one
    import typer._click as click
except ImportError:  # pragma: no cover - older typer
    import click

from docs_blocks import Block, shell_lines

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
_ASSIGN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_SHELL_SYNTAX = set("|;&<>()`$*?{}")
_BUILTINS = {"cd", "export", ".", "source", "set", "unset", "echo", "test", "[", "for", "if", "while", "true"}
#: Options whose values are reward-model specs / generator specs, checked in help-only mode.
_REWARD_OPTS = {"--model", "-m", "--reward", "-r"}
_GENERATOR_OPTS = {"--generator", "-g", "--baseline-generator"}


class DocBlockError(AssertionError):
    """A block failed; the message names the page, line and command."""


@lru_cache(maxsize=1)
def videobench_app() -> Any:
    from videobench.cli import _register, app

    _register()
    return app


@lru_cache(maxsize=1)
def videobench_command() -> Any:
    import typer

    return typer.main.get_command(videobench_app())


def _is_group(cmd: Any) -> bool:
    return hasattr(cmd, "commands") and hasattr(cmd, "get_command")


# ----------------------------------------------------------------------------------------------------------------
# help-only checks
# ----------------------------------------------------------------------------------------------------------------
def check_videobench_args(args: list[str], specs: bool = True) -> None:
    """Resolve ``videobench ARGS`` to its command and parse the arguments without running it: the command and every
    option exist, values convert, required options are given, reward/generator specs parse. Raises ValueError."""
    cmd = videobench_command()
    path, rest = ["videobench"], list(args)
    while _is_group(cmd):
        if not rest:
            raise ValueError(f"`{' '.join(path)}` needs a sub-command ({', '.join(sorted(cmd.commands))})")
        if rest[0] in ("--help", "--version"):
            return
        name = rest.pop(0)
        sub = cmd.get_command(click.Context(cmd), name)
        if sub is None:
            raise ValueError(f"`{' '.join(path)}` has no command {name!r} (known: {', '.join(sorted(cmd.commands))})")
        path.append(name)
        cmd = sub
    if "--help" in rest:
        return
    try:
        ctx = cmd.make_context(" ".join(path), rest)
    except click.exceptions.BadParameter as exc:
        if "does not exist" in exc.format_message():  # a path the reader brings; the option itself exists
            return
        raise ValueError(f"`{' '.join(path)}`: {exc.format_message()}") from None
    except click.ClickException as exc:
        raise ValueError(f"`{' '.join(path)}`: {exc.format_message()}") from None
    named_generators = path[1] == "compare"
    for param in cmd.params if specs else ():
        values = ctx.params.get(param.name)
        if values is None or getattr(param, "param_type_name", "") != "option":
            continue
        values = values if isinstance(values, (list, tuple)) else [values]
        if set(param.opts) & _REWARD_OPTS:
            for spec in values:
                check_reward_spec(str(spec))
        elif set(param.opts) & _GENERATOR_OPTS:
            for spec in values:
                check_generator_spec(str(spec), named=named_generators and "--generator" in param.opts)


def check_reward_spec(spec: str) -> None:
    """The spec parses and its options fit the adapter; nothing is loaded."""
    from videobench.rewards.registry import parse_reward_spec

    parse_reward_spec(spec)


def check_generator_spec(spec: str, named: bool) -> None:
    from videobench.compare.spec import parse_generator_spec, parse_named_spec

    if named:
        _, spec = parse_named_spec(spec)
    parse_generator_spec(spec)


def _expand_for_check(line: str) -> str:
    """Stand-ins for shell variables in help-only lines: "$SLURM_ARRAY_TASK_ID" → 0."""
    return re.sub(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?", "0", line)


def _make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return {m.group(1) for m in re.finditer(r"^([A-Za-z0-9_.-]+)\s*:(?!=)", text, re.M)}


def _lex(line: str) -> list[str]:
    """Shell words and control operators (``&&``, ``|``, ``;``, ``&`` ...) of one line, quotes removed."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars="&|;<>()")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    return list(lexer)


def refuse_background_ampersand(line: str) -> None:
    """A lone ``&`` sends the command to the background and starts another: in documentation it is always an
    unquoted spec or query (``?w=100&weights=...``), which the shell splits. Raises ValueError."""
    if "&" in _lex(line):
        raise ValueError(f"`{line}`: an unquoted '&' (the shell runs the command in the background and splits the "
                         "argument there); quote the spec, e.g. 'wan:BASE+nrg:DIR?w=100&weights=VQ:1'")


def check_command_line(line: str) -> None:
    """Help-only check of one logical shell line (each command of a ``&&`` / ``|`` / ``;`` chain). Raises
    ValueError naming what is wrong."""
    refuse_background_ampersand(line)
    command: list[str] = []
    for token in [*_lex(_expand_for_check(line)), ";"]:
        if token in ("&&", "||", "|", ";"):
            _check_words(command)
            command = []
        else:
            command.append(token)


def _check_words(tokens: list[str]) -> None:
    line = " ".join(tokens)
    while tokens and _ASSIGN.match(tokens[0]):
        tokens.pop(0)
    if not tokens:
        return
    prog, args = tokens[0], tokens[1:]
    name = Path(prog).name
    if name == "videobench":
        check_videobench_args(args)
    elif "-m" in args and args[args.index("-m") + 1:args.index("-m") + 2] == ["videobench"]:
        _check_program(prog)  # accelerate launch ... -m videobench ..., torchrun ..., python -m videobench ...
        check_videobench_args(args[args.index("-m") + 2:])
    elif name == "make":
        missing = [t for t in args if not t.startswith("-") and "=" not in t and t not in _make_targets()]
        if missing:
            raise ValueError(f"`{line}`: no make target {missing} in the Makefile")
    else:
        _check_program(prog)


def _check_program(prog: str) -> None:
    name = Path(prog).name
    if prog in _BUILTINS or shutil.which(prog) or shutil.which(name, path=str(BIN)) or name.startswith("python"):
        return
    raise ValueError(f"program {prog!r} is not installed (not on PATH, not in {BIN})")


def check_python_imports(block: Block) -> None:
    """Help-only Python: the block compiles and every name it imports from videobench exists."""
    tree = ast.parse(block.text, filename=block.where)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "videobench":
            module = importlib.import_module(node.module)
            for alias in node.names:
                if not hasattr(module, alias.name):
                    try:
                        importlib.import_module(f"{node.module}.{alias.name}")
                    except ImportError:
                        raise DocBlockError(f"{block.where}: `from {node.module} import {alias.name}`: no such name")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "videobench":
                    importlib.import_module(alias.name)


# ----------------------------------------------------------------------------------------------------------------
# running
# ----------------------------------------------------------------------------------------------------------------
def in_process_args(line: str) -> tuple[dict[str, str], list[str]] | None:
    """``[VAR=value ...] videobench ARGS`` with no other shell syntax → (env, ARGS); anything else → None."""
    try:
        tokens = _lex(line)
    except ValueError:
        return None
    if any(t and set(t) <= _SHELL_SYNTAX for t in tokens) or "$" in line or "`" in line:
        return None
    env: dict[str, str] = {}
    while tokens and _ASSIGN.match(tokens[0]):
        key, _, value = tokens.pop(0).partition("=")
        env[key] = value
    if not tokens or tokens[0] != "videobench":
        return None
    return env, tokens[1:]


def run_videobench(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """Run ``videobench ARGS`` in this process, in ``cwd``; returns (exit code, output)."""
    from typer.testing import CliRunner

    runner = CliRunner()
    # Commands may set variables for their own children (e.g. VIDEOBENCH_COMMAND for provenance): none may leak
    # into the tests that run after this one in the same process.
    old_argv, old_cwd, old_env = sys.argv, os.getcwd(), dict(os.environ)
    sys.argv = ["videobench", *args]
    os.chdir(cwd)
    try:
        result = runner.invoke(videobench_app(), args, env={"COLUMNS": "160", **env}, catch_exceptions=True)
    finally:
        sys.argv = old_argv
        os.chdir(old_cwd)
        os.environ.clear()
        os.environ.update(old_env)
    output = result.output
    with contextlib.suppress(ValueError):
        output += result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        output += "".join(traceback.format_exception(result.exception))
    return result.exit_code, output


#: make-tiny results of this session, by the command without its output folder: pages that make the same tiny model
#: get a copy (a few seconds each on a busy machine). Not VideoReward: its config names its base by absolute path.
_TINY_MADE: dict[tuple[str, ...], Path] = {}


def _reuse_tiny(args: list[str], cwd: Path) -> bool:
    if args[:2] != ["testing", "make-tiny"] or len(args) < 4 or args[2] == "videoreward" or "--overwrite" in args:
        return False
    key = tuple(args[2:3] + args[4:])
    out = cwd / args[3]
    made = _TINY_MADE.get(key)
    if out.exists():
        return False  # let the command itself refuse or overwrite
    if made is None or not made.is_dir():
        _TINY_MADE[key] = out
        return False
    shutil.copytree(made, out, symlinks=True)
    return True


def run_shell_block(block: Block, cwd: Path) -> list[str]:
    """Run every command of the block; returns the outputs. Raises DocBlockError on the first failure."""
    lines = shell_lines(block.text)
    for offset, line in lines:
        try:
            refuse_background_ampersand(line)
        except ValueError as exc:
            raise DocBlockError(f"{block.path.name}:{block.line + 1 + offset}: {exc}") from None
    parsed = [in_process_args(line) for _, line in lines]
    outputs = []
    if all(p is not None for p in parsed):
        for (offset, line), (env, args) in zip(lines, parsed):
            if _reuse_tiny(args, cwd):
                continue
            code, out = run_videobench(args, env, cwd)
            if code != 0:
                raise DocBlockError(f"{block.path.name}:{block.line + 1 + offset}: `{line}` exited {code}:\n{out[-4000:]}")
            outputs.append(out)
        return outputs
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "COLUMNS": "160"}
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", block.text], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)
    if proc.returncode != 0:
        raise DocBlockError(f"{block.where}: bash block exited {proc.returncode}:\n{block.text}\n"
                            f"{(proc.stdout + proc.stderr)[-4000:]}")
    return [proc.stdout]


def run_python_block(block: Block, namespace: dict[str, Any], cwd: Path) -> None:
    code = compile(block.text, f"{block.path}:{block.line}", "exec")
    old_cwd = os.getcwd()
    os.chdir(cwd)
    try:
        exec(code, namespace)
    except Exception as exc:
        raise DocBlockError(f"{block.where}: python block failed:\n"
                            + "".join(traceback.format_exception(exc))[-4000:]) from exc
    finally:
        os.chdir(old_cwd)


def run_block(block: Block, cwd: Path, namespace: dict[str, Any]) -> None:
    """Do what the block's kind and marker say."""
    if block.mode == "skip":
        return
    if block.mode == "file":
        target = cwd / block.arg
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block.text, encoding="utf-8")
        return
    if block.kind == "shell":
        if block.mode == "help-only":
            for offset, line in shell_lines(block.text):
                try:
                    check_command_line(line)
                except ValueError as exc:
                    raise DocBlockError(f"{block.path.name}:{block.line + 1 + offset}: {exc}") from None
        else:
            run_shell_block(block, cwd)
    elif block.kind == "python":
        if block.mode == "help-only":
            try:
                check_python_imports(block)
            except SyntaxError as exc:
                raise DocBlockError(f"{block.where}: python block does not compile: {exc}") from None
        else:
            run_python_block(block, namespace, cwd)
