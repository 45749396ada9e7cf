import json
from pathlib import Path

import pytest

from videobench.prompts import ATTRIBUTION, PromptError, load_prompts

RES = Path(__file__).resolve().parents[2] / "videobench" / "resources" / "prompts"


@pytest.mark.parametrize("name, n", [("vbench-946", 946), ("videogen-eval-400", 400), ("ta-hard-72", 72)])
def test_shipped_suites(name, n):
    suite = load_prompts(name)
    assert len(suite) == n and len({p.id for p in suite.prompts}) == n
    assert suite.prompts[0].id == f"{name}-0000"
    assert "MIT" in suite.attribution and "Kuaishou" in suite.attribution


def test_attribution_ships_beside_the_csvs():
    text = (RES / "ATTRIBUTION.md").read_text()
    assert "KwaiVGI/VideoAlign" in text and "Kling Team, Kuaishou Technology" in text
    assert "Permission is hereby granted" in (RES / "LICENSE-VideoAlign").read_text()
    assert "Kuaishou" in ATTRIBUTION


def test_subset_is_deterministic_nested_and_ordered():
    small, big = load_prompts("vbench-946", 16), load_prompts("vbench-946", 32)
    assert [p.id for p in small.prompts] == [p.id for p in load_prompts("vbench", 16).prompts]
    assert {p.id for p in small.prompts} <= {p.id for p in big.prompts}
    ids = [p.id for p in big.prompts]
    assert ids == sorted(ids) and len(ids) == 32


def test_shorter_column():
    long, short = load_prompts("videogen-eval-400", 3), load_prompts("videogen-eval-400", 3, column="prompt_shorter")
    assert [p.id for p in long.prompts] == [p.id for p in short.prompts]
    assert all(len(s.text) < len(lg.text) for s, lg in zip(short.prompts, long.prompts))


def test_user_files(tmp_path):
    (tmp_path / "a.txt").write_text("# comment\na cat\n\na dog\n")
    assert [(p.id, p.text) for p in load_prompts(tmp_path / "a.txt").prompts] == [("a-0000", "a cat"), ("a-0001", "a dog")]
    (tmp_path / "b.csv").write_text("id,prompt\nx1,a cat\nx2,\"a dog, running\"\n")
    assert [(p.id, p.text) for p in load_prompts(tmp_path / "b.csv").prompts] == [("x1", "a cat"), ("x2", "a dog, running")]
    (tmp_path / "c.jsonl").write_text(json.dumps({"prompt": "a cat", "tag": 1}) + "\n" + json.dumps("a dog") + "\n")
    suite = load_prompts(tmp_path / "c.jsonl")
    assert [p.text for p in suite.prompts] == ["a cat", "a dog"] and suite.prompts[0].meta == {"tag": 1}


@pytest.mark.parametrize("name, content, match", [
    ("d.csv", "id,prompt\nx,a\nx,b\n", "twice"),
    ("e.csv", "id,prompt\n../x,a\n", "ids may use"),
    ("f.csv", "text\na\n", "no 'prompt' column"),
    ("g.jsonl", "{bad\n", "not JSON"),
    ("h.yaml", "a", "unsupported"),
    ("i.txt", "\n# only a comment\n", "no prompts"),
])
def test_bad_files(tmp_path, name, content, match):
    (tmp_path / name).write_text(content)
    with pytest.raises(PromptError, match=match):
        load_prompts(tmp_path / name)


def test_unknown_suite():
    with pytest.raises(PromptError, match="neither a shipped suite"):
        load_prompts("no-such-suite")
