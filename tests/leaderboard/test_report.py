"""The board's HTML tables: values in their own units, ranking rules visible, CIs in cells, CSV download."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import unquote

import pandas as pd
from leaderboard_helpers import add

from videobench.leaderboard.build import build, publish, result_files
from videobench.leaderboard.layout import result_path
from videobench.leaderboard.report import GEN_COLUMNS, html_table
from videobench.leaderboard.tables import csv_text
from videobench.leaderboard.synthetic import eval_result
from videobench.results import result_to_dict


def _cells(page: str, row_start: str) -> list[str]:
    """Text of the cells of the first row whose first cell starts with ``row_start``."""
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", page, flags=re.S):
        cells = [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        if cells and cells[0].startswith(row_start):
            return cells
    raise AssertionError(f"no row {row_start!r}")


def test_generator_table_formats_each_column_in_its_own_unit():
    gen = pd.DataFrame([{
        "model": "org/wan", "checkpoint": "dpo", "dimension": "VQ", "rank": 1, "strength": 0.328, "strength_lo": 0.2,
        "strength_hi": 0.45, "win_rate": 0.6, "win_rate_lo": 0.55, "win_rate_hi": 0.65, "baseline": "base",
        "wins": 60.0, "losses": 38.0, "ties": 2.0, "p_value": 0.01, "timestamp": "20260102T030405000000Z"}, {
        "model": "org/wan", "checkpoint": "rwr", "dimension": "VQ", "rank": 2, "strength": -0.1, "strength_lo": -0.2,
        "strength_hi": 0.0, "win_rate": None, "win_rate_lo": None, "win_rate_hi": None, "baseline": "base",
        "wins": None, "losses": None, "ties": None, "p_value": 0.0004, "timestamp": "20260102T030405000000Z"}])
    page = html_table("g", gen, GEN_COLUMNS)
    dpo = _cells(page, "org/wan")
    # strength: log-odds as is (not x100); win rate in %; counts as integers; p as a probability
    assert dpo[3:] == ["1", "+0.328 \u00b10.125", "60.00 \u00b15.00", "base", "60", "38", "2", "0.010",
                       "2026-01-02 03:04 UTC"]
    rwr = [c for c in re.findall(r"<tr[^>]*>(.*?)</tr>", page, re.S) if ">rwr<" in c][0]
    texts = [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", rwr, re.S)]
    assert texts[4] == "-0.100 \u00b10.100" and texts[5] == "n/a" and texts[7] == "n/a" and texts[10] == "<0.001"


def _partial(model, **kw):
    r = eval_result(model, **kw)
    r.dimensions["TA"].available = False
    return result_files(json.dumps(result_to_dict(r)).encode(),
                        result_path("videogen-rewardbench", model, "20260101T000000000000Z"))


def test_board_shows_the_ranking_rules(local_store):
    # two models with identical results share tier 1; `partial` has no average; random is a reference line
    publish(local_store, {**add("org/a", skill=0.8, seed=1), **add("org/twin", skill=0.8, seed=1),
                          **add("org/weak", skill=0.35, seed=2), **_partial("org/partial", skill=0.9, seed=3)})
    page = (local_store.root / "report.html").read_text()
    body = page[page.index('<table class="vb-table" id="rm-0">'):]
    body = body[: body.index("</table>")]
    ranked, apart = re.findall(r"<tbody>(.*?)</tbody>", body, re.S)
    rows = re.findall(r"<tr([^>]*)>(.*?)</tr>", ranked, re.S)
    firsts = [html.unescape(re.sub(r"<[^>]+>", "", re.findall(r"<td[^>]*>(.*?)</td>", r)[1])) for _, r in rows]
    assert firsts == ["org/a", "org/twin", "random (expected)", "org/weak"]
    assert 'class="ref"' in rows[2][0] and re.findall(r"<td[^>]*>(.*?)</td>", rows[2][1])[0] == "n/a"
    assert "org/partial" in apart and "Not ranked: n/a on a dimension" in apart and "org/partial" not in ranked
    assert f'href="https://huggingface.co/org/a/tree/{"0" * 40}"' in ranked  # the repo at the evaluated commit
    a = _cells(body, "1")
    assert "=1" in a  # the tie in tier is shown as a tie
    board = build(local_store.snapshot()).board.set_index("model")
    half = (board.loc["org/a", "VQ w/ ties hi"] - board.loc["org/a", "VQ w/ ties lo"]) / 2 * 100
    assert f"{board.loc['org/a', 'VQ w/ ties'] * 100:.2f} \u00b1{half:.2f}" in a


def test_csv_download_is_the_table_with_formulas_neutralised(local_store):
    publish(local_store, {**add("org/a", model_name="=HYPERLINK(\"http://x\")"), **add("org/b")})
    page = (local_store.root / "report.html").read_text()
    (href,) = re.findall(r'<a download="videogen-rewardbench-reward-models.csv" href="([^"]+)"', page)
    text = unquote(html.unescape(href).removeprefix("data:text/csv;charset=utf-8,"))
    table = pd.read_csv(__import__("io").StringIO(text))
    assert list(table["model"]) == ["org/a", "org/b", "random (expected)"]
    assert "'=HYPERLINK(\"http://x\")" in set(table["display_name"])
    stored = pd.read_csv(local_store.root / "table/reward_models.csv")  # the store's CSV table too
    assert "'=HYPERLINK(\"http://x\")" in set(stored["display_name"])
    assert "<" not in href and '"' not in html.unescape(href).split(",", 1)[1].replace('%22', '')
    assert csv_text(pd.DataFrame({"x": ["-1+2", "ok", "@cmd"], "n": [-1.5, 2.0, 3.0]})).splitlines() == [
        "x,n", "'-1+2,-1.5", "ok,2", "'@cmd,3"]


def test_queue_is_shown_with_status_reason_and_times(local_store):
    from test_queue import _file_requests, fake_evaluator

    from videobench.leaderboard.queue import run_queue

    _file_requests(local_store, 3)  # org/rm1's evaluation fails (simulated out of memory)
    run_queue(local_store, fake_evaluator, "w1", max_requests=2)
    page = (local_store.root / "report.html").read_text()
    section = page[page.index("<h2>Queue</h2>"):]
    table = section[: section.index("</table>")]
    assert "1 PENDING, 1 FAILED, 1 FINISHED" in html.unescape(section)
    failed = _cells(table, "FAILED")
    assert failed[1] == "org/rm1" and "CUDA out of memory (simulated)" in failed[-1] and failed[-3] == "1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", failed[6]) and failed[-2] == "w1"
    statuses = [c[0] for c in (_cells(table, s) for s in ("FAILED", "FINISHED", "PENDING"))]
    assert statuses == ["FAILED", "FINISHED", "PENDING"]
    assert table.index("PENDING") < table.index("FAILED") < table.index("FINISHED")  # open requests first
