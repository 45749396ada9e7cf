import pytest

from videobench.leaderboard.errors import UnsafeNameError
from videobench.leaderboard.layout import (
    check_benchmark, git_blob_sha1, model_dir, model_id_from_dir, parse_result_path, request_path, result_path,
)

HOSTILE = [
    "<script>alert(1)</script>", "org/<b>x</b>", "../../etc/passwd", "org/../x", "..", ".hidden", "org/.git",
    "a/b/c", "org/na me", "org/x\x00y", "org/x\ny", "org__evil/x", "org/ab__cd", "org--x/y", "", "org/", "/abs",
    "org/" + "x" * 97, "org/é",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_model_names_are_refused(name):
    with pytest.raises(UnsafeNameError, match="not allowed|must be|empty"):
        model_dir(name)


@pytest.mark.parametrize("name", ["../x", "X", "a/b", "<s>", "a b", ""])
def test_hostile_benchmark_names_are_refused(name):
    with pytest.raises(UnsafeNameError):
        check_benchmark(name)


@pytest.mark.parametrize("rid", ["../x", "a/b", "..", ".x", "x\n"])
def test_request_ids_cannot_escape(rid):
    with pytest.raises(UnsafeNameError):
        request_path(rid)


def test_round_trip_of_model_folders():
    assert model_dir("KwaiVGI/VideoReward") == "KwaiVGI__VideoReward"
    assert model_id_from_dir("KwaiVGI__VideoReward") == "KwaiVGI/VideoReward"
    assert model_dir("mine") == "local__mine" and model_id_from_dir("local__mine") == "mine"
    path = result_path("videogen-rewardbench", "org/m-1.5", "20260101T000000000000Z")
    assert path == "results/videogen-rewardbench/org__m-1.5/20260101T000000000000Z.json"
    assert parse_result_path(path) == ("videogen-rewardbench", "org/m-1.5", "20260101T000000000000Z")
    assert parse_result_path("results/b/org__m/20260101T000000000000Z.pairs.parquet") is None
    with pytest.raises(UnsafeNameError):
        result_path("b", "org/m", "../../x")


def test_git_blob_sha1_matches_git():
    # `printf 'hello\n' | git hash-object --stdin`
    assert git_blob_sha1(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"
