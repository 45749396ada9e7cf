"""MOS benchmarks on the board: a table of their own per benchmark (SRCC / KRCC / PLCC per dimension with CIs, ranked
on the mean SRCC), escaped like the accuracy tables, with a CSV download, filters and loadable dataset configs. The
expected numbers are the ones put into the synthetic results (SRCC v, KRCC 0.8 v, PLCC 0.9 v, CI +/- 0.1)."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import unquote

import pandas as pd
import pytest

from videobench.leaderboard.build import publish, result_files
from videobench.leaderboard.layout import result_path
from videobench.leaderboard.store import LocalStore
from videobench.leaderboard.synthetic import mos_result
from videobench.results import result_to_dict

STAMP = "20260101T000000000000Z"


def _mos(model: str, bench: str, correlations: dict, name: str | None = None) -> dict:
    data = json.dumps(result_to_dict(mos_result(model, bench, correlations, name=name))).encode()
    return result_files(data, result_path(bench, model, STAMP))


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory):
    """One store for the module: a pairwise result and MOS results on two benchmarks, published once."""
    from leaderboard_helpers import add

    store = LocalStore(tmp_path_factory.mktemp("mos") / "store")
    publish(store, {
        **add("org/pairs"),  # a pairwise result beside: its table stays as it was
        **_mos("org/a", "t2vqa", {"Overall": 0.6}),
        **_mos("org/b", "t2vqa", {"Overall": 0.8}, name="<script>alert(1)</script>"),
        **_mos("org/c", "t2vqa", {"Overall": -0.2}),
        **_mos("org/a", "videophy2", {"SA": 0.2, "PC": 0.4}),
        **_mos("org/b", "videophy2", {"SA": None, "PC": 0.9}),  # n/a dimension: no mean, listed apart
        **_mos("org/d", "videophy2", {"SA": 0.1, "PC": 0.1}, name="=HYPERLINK(1)"),
    })
    return store.root


def test_mos_rows_numbers_and_ranking(root) -> None:
    board = pd.read_parquet(root / "table/reward_models_mos.parquet").set_index(["benchmark", "model"])
    assert sorted(board.index) == [("t2vqa", "org/a"), ("t2vqa", "org/b"), ("t2vqa", "org/c"),
                                   ("videophy2", "org/a"), ("videophy2", "org/b"), ("videophy2", "org/d")]
    a = board.loc[("videophy2", "org/a")]
    assert (a["PC SRCC"], a["PC KRCC"], a["PC PLCC"]) == (0.4, 0.8 * 0.4, 0.9 * 0.4)
    assert (a["PC SRCC lo"], a["PC SRCC hi"]) == (0.4 - 0.1, 0.4 + 0.1)
    assert abs(a["mean SRCC"] - 0.3) < 1e-12 and a["n_videos"] == 100
    assert pd.isna(board.loc[("videophy2", "org/b"), "mean SRCC"])
    assert pd.isna(board.loc[("videophy2", "org/b"), "position"])
    positions = {m: board.loc[("t2vqa", m), "position"] for m in ("org/a", "org/b", "org/c")}
    assert positions == {"org/b": 1, "org/a": 2, "org/c": 3}
    assert board.loc[("videophy2", "org/a"), "position"] == 1 and board.loc[("videophy2", "org/d"), "position"] == 2
    # tiers on the primary dimension's SRCC CIs: b [0.7, 0.9] is above c [-0.3, -0.1], not above a [0.5, 0.7]
    assert board.loc[("t2vqa", "org/c"), "tier"] == 3 and board.loc[("t2vqa", "org/b"), "tier"] == 1
    # the accuracy board is unchanged by MOS results: only the pairwise benchmark
    assert set(pd.read_parquet(root / "table/reward_models.parquet")["benchmark"]) == {"videogen-rewardbench"}


def test_mos_tables_in_the_report_are_escaped_with_csv_and_filters(root) -> None:
    page = (root / "report.html").read_text()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    section = page[page.index("Reward models: videophy2 (MOS)"):]
    section = section[: section.index("</table>")]
    header = re.findall(r"<th[^>]*>([^<]*)</th>", section)
    assert header[:9] == ["#", "model", "name", "PC SRCC", "SA SRCC", "PC KRCC", "SA KRCC", "PC PLCC", "SA PLCC"]
    assert "Overall SRCC" not in header  # t2vqa's dimension is not a column of videophy2's table
    assert 'class="vb-search" data-table="mos-1"' in section and 'value="krcc"' in section
    assert '0.400 <span class="ci">\u00b10.100</span>' in section
    assert "Not ranked: n/a on a dimension, so no mean SRCC (1)" in section
    href = re.search(r'download="videophy2-reward-models-mos.csv" href="([^"]+)"', section).group(1)
    csv = unquote(html.unescape(href).split(",", 1)[1])
    assert "Overall SRCC" not in csv.splitlines()[0] and "'=HYPERLINK(1)" in csv  # own columns; no formula cell


def test_mos_bars_show_each_correlation_with_its_ci_and_the_zero_line(root) -> None:
    page = (root / "report.html").read_text()
    figures = json.loads(re.search(r'<script type="application/json" id="vb-figures">(.*?)</script>', page,
                                   re.S).group(1))
    t2vqa = figures["fig-mos-0-bars"]  # benchmarks in name order: t2vqa, videophy2
    assert '<div class="fig" id="fig-mos-0-bars"></div>' in page and '<div class="fig" id="fig-mos-1-bars"></div>' in page
    srcc, krcc, plcc = t2vqa["data"]  # one dimension (Overall), three views
    assert srcc["y"] == ["org/b", "org/a", "org/c"]  # rank order: SRCC 0.8, 0.6, -0.2
    assert srcc["x"] == pytest.approx([0.8, 0.6, -0.2]) and srcc["visible"] and not krcc["visible"]
    assert krcc["x"] == pytest.approx([0.64, 0.48, -0.16]) and plcc["x"] == pytest.approx([0.72, 0.54, -0.18])
    assert srcc["error_x"]["array"] == pytest.approx([0.1] * 3) and srcc["error_x"]["arrayminus"] == pytest.approx([0.1] * 3)
    assert srcc["text"] == ["0.800", "0.600", "-0.200"]
    buttons = t2vqa["layout"]["updatemenus"][0]["buttons"]
    assert [b["label"] for b in buttons] == ["SRCC", "KRCC", "PLCC"]
    assert [b["args"][0]["visible"] for b in buttons] == [[True, False, False], [False, True, False], [False, False, True]]
    assert [(line["x0"], line["x1"]) for line in t2vqa["layout"]["shapes"]] == [(0.0, 0.0)]
    assert t2vqa["layout"]["xaxis"]["range"] == [-1.0, 1.0]
    phys = figures["fig-mos-1-bars"]
    by_dim = {trace["name"]: trace for trace in phys["data"] if trace["visible"]}
    assert sorted(by_dim) == ["PC", "SA"]
    assert by_dim["SA"]["y"] == ["org/a", "org/d", "org/b"] and by_dim["SA"]["text"] == ["0.200", "0.100", "n/a"]


def test_mos_configs_load_with_datasets(root) -> None:
    from datasets import load_dataset
    from huggingface_hub import DatasetCard

    card = DatasetCard.load(root / "README.md")
    declared = {c["config_name"] for c in card.data.configs}
    assert declared == {"results", "leaderboard", "mos", "mos_results"}
    assert "- t2vqa (MOS): 3 models; best mean SRCC: org/b (0.800)" in card.text
    cache = str(root.parent / "hf-cache")
    assert load_dataset(str(root), "mos", split="train", cache_dir=cache).num_rows == 6
    assert load_dataset(str(root), "mos_results", split="train", cache_dir=cache).num_rows == 3 + 2 * 3
