"""The documentation runner itself: it finds every block with its marker, and a help-only check fails on exactly the
mistakes the issue found in the old README (a missing required option, an option that does not exist, an unquoted
'&' in a spec), while accepting commands that are right."""

from __future__ import annotations

from pathlib import Path

import pytest

from docs_blocks import MarkerError, parse_blocks, shell_lines
from docs_runner import check_command_line

PAGE = """# t

```bash
videobench eval
```

<!-- docs-test: help-only -->

```bash
videobench eval --bench x \\
    --scores y.csv   # a comment
# a comment line
```

1. a list item:

    <!-- docs-test: file run.yaml -->
    ```yaml
    a: 1
    ```

```text
output
```
"""


def test_blocks_markers_and_indented_fences() -> None:
    blocks = parse_blocks(Path("page.md"), PAGE)
    assert [(b.kind, b.mode, b.arg, b.line) for b in blocks] == [
        ("shell", "run", "", 3), ("shell", "help-only", "", 9), ("data", "file", "run.yaml", 18),
        ("data", "run", "", 22)]
    assert blocks[2].text == "a: 1\n"
    [(offset, line)] = shell_lines(blocks[1].text)
    assert offset == 0 and line.split() == "videobench eval --bench x --scores y.csv # a comment".split()


@pytest.mark.parametrize("text, message", [
    ("<!-- docs-test: helponly -->\n```bash\nx\n```\n", "unknown docs-test mode"),
    ("<!-- docs-test: skip -->\n```bash\nx\n```\n", "needs a reason"),
    ("<!-- docs-test: help-only -->\ntext\n```bash\nx\n```\n", "right before a code block"),
    ("<!-- docs-test: help-only -->\n", "no code block after it"),
])
def test_marker_mistakes_are_errors_not_silent_skips(text: str, message: str) -> None:
    with pytest.raises(MarkerError, match=message):
        parse_blocks(Path("page.md"), text)


@pytest.mark.parametrize("line", [
    "videobench eval --bench videogen-rewardbench --scores my_model.csv",
    "videobench compare --generator base=wan:/models/wan --generator 'nrg=wan:/m+nrg:rm?w=100&weights=VQ:0.5' "
    "--reward classical",
    "accelerate launch --num_processes 4 -m videobench eval --model videoreward:KwaiVGI/VideoReward",
    "videobench eval --bench b --model classical --num-shards 16 --shard-index $SLURM_ARRAY_TASK_ID --shard-dir s/",
    "make demo",
    "videobench align nrg --pipeline p --rm r -p 'a cat'",
])
def test_help_only_accepts_correct_commands(line: str) -> None:
    check_command_line(line)


@pytest.mark.parametrize("line, message", [
    # the old README's top table and examples, as they were written
    ("videobench compare --generator base=wan:PATH --generator dpo=wan:PATH+lora:DIR --prompts videogen-eval-400 "
     "--reward classical --no-such-option", "No such option"),
    ("videobench align nrg --config FILE.yaml", "No such option"),
    ("videobench compare --generator base=wan:/models/wan "
     "--generator nrg=wan:/models/wan+nrg:runs/latent-rm?w=100&weights=VQ:0.5,MQ:0.5 --reward classical",
     "unquoted '&'"),
    ("videobench align nrg --pipeline p -p 'a cat'", "Missing option"),
    ("videobench evaluate --bench x", "no command 'evaluate'"),
    ("videobench eval --model nosuchprefix:x", "nosuchprefix"),
    ("videobench compare --generator base=wann:/x --reward classical", "wann"),
    ("make nosuchtarget", "no make target"),
    ("nosuchprogram --flag", "not installed"),
])
def test_help_only_rejects_what_would_fail(line: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_command_line(line)


def _table_commands(page: Path) -> list[str]:
    import re

    rows = [line for line in page.read_text(encoding="utf-8").splitlines() if line.startswith("|")]
    return [span for row in rows for span in re.findall(r"`(videobench [^`]+)`", row)]


@pytest.mark.parametrize("page", ["README.md", "docs/index.md"])
def test_who_runs_what_table_commands_exist_with_their_options(page: str) -> None:
    """The table's commands hold placeholders (PATH, SPEC), so their specs are not parsed; the commands and every
    option they use must exist, and required options must be there."""
    import shlex

    from docs_runner import ROOT, check_videobench_args

    commands = _table_commands(ROOT / page)
    assert len(commands) >= 4
    for command in commands:
        check_videobench_args(shlex.split(command)[1:], specs=False)
