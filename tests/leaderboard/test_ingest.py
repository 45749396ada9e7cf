import json

import pytest
from leaderboard_helpers import add, result_bytes

from videobench.leaderboard.build import build, publish, result_files
from videobench.leaderboard.ingest import parse_result
from videobench.leaderboard.tables import RANDOM_MODEL
from videobench.results import MAX_RESULT_BYTES, ResultFormatError


def test_valid_result_parses():
    assert parse_result(result_bytes(), "r.json").model.name == "org/rm"


@pytest.mark.parametrize("data, match", [
    (b"{not json", "not valid JSON"),
    (b"\xff\xfe", "not valid JSON"),
    (b"[1, 2]", "must be a JSON object"),
    (b'{"schema_version": 99, "kind": "eval"}', "unsupported schema_version"),
    (b'{"schema_version": 1, "kind": "eval", "model": {}}', "malformed eval"),
    (b'{"schema_version": 1, "kind": "pickle"}', "unknown result kind"),
    (b'{"schema_version": NaN}', "not valid JSON"),
])
def test_malformed_results_are_refused_naming_the_file(data, match):
    with pytest.raises(ResultFormatError, match=match) as info:
        parse_result(data, "results/x/y.json")
    assert "results/x/y.json" in str(info.value)


def test_oversized_result_is_refused_before_parsing():
    with pytest.raises(ResultFormatError, match="over the"):
        parse_result(b" " * (MAX_RESULT_BYTES + 1), "big.json")


def _mutate(fn):
    obj = json.loads(result_bytes())
    fn(obj)
    return json.dumps(obj).encode()


@pytest.mark.parametrize("mutation, match", [
    (lambda o: o["model"].update(name="bad\x1b[31mname"), "control or format"),
    (lambda o: o["model"].update(name="x" * 300), "at most 200"),
    (lambda o: o["benchmark"].update(name="../../etc"), "benchmark name"),
    (lambda o: o["dimensions"]["VQ"]["accuracy_without_ties"].update(value=1.5), r"not a number in \[0, 1\]"),
    (lambda o: o["dimensions"].update({"<img src=x>": o["dimensions"]["VQ"]}), "dimension name"),
    (lambda o: o["dimensions"].update({"VQ accuracy": o["dimensions"]["VQ"]}), "dimension name"),
])
def test_hostile_fields_are_refused(mutation, match):
    with pytest.raises(ResultFormatError, match=match):
        parse_result(_mutate(mutation), "r.json")


def test_score_columns_named_after_their_reward_are_dimensions():
    # what `compare` calls a reward's own dimensions when it reports several, e.g. for generator requests
    for name in ("pixel:contrast.Overall", "VideoReward.VQ", "videoreward:org/rm@v1.TA"):
        data = _mutate(lambda o: o["dimensions"].update({name: o["dimensions"]["VQ"]}))
        assert name in parse_result(data, "r.json").dimensions


def test_markup_in_display_names_is_kept_as_text_and_escaped(local_store):
    data = result_bytes(model="<script>alert(1)</script>")
    files = result_files(data, "results/videogen-rewardbench/evil__x/20260101T000000000000Z.json")
    publish(local_store, files)
    html = (local_store.root / "report.html").read_text()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_sidecars_must_be_parquet_and_stay_beside_the_result():
    path = "results/videogen-rewardbench/org__rm/20260101T000000000000Z.json"
    with pytest.raises(ValueError, match="not a readable Parquet"):
        result_files(result_bytes(), path, {"pairs": b"PAR1 but not really"})
    evil = _mutate(lambda o: o.update(per_pair_file="../../../etc/passwd"))
    files = result_files(evil, path)
    assert json.loads(files[path])["per_pair_file"] is None


def test_bad_files_in_the_store_are_skipped_and_listed(local_store):
    files = add("org/good")
    files["results/videogen-rewardbench/org__bad/20260101T000000000000Z.json"] = b"{broken"
    local_store.ensure()
    local_store.update(lambda snap: files, "seed")
    built = build(local_store.snapshot())
    assert list(built.board["model"]) == ["org/good", RANDOM_MODEL]
    (path, message), = built.tables.problems
    assert "org__bad" in path and "not valid JSON" in message
    assert "Skipped files" in built.files["report.html"].decode()
