"""ScoreStore: keys, NaN round trip, and several processes writing one file at once."""

from __future__ import annotations

import math
import multiprocessing
import sqlite3

import pytest

from videobench.scoring.store import ScoreStore, default_cache_dir, prompt_hash


def test_keys_and_values_round_trip(tmp_path):
    with ScoreStore(tmp_path) as store:
        assert store.path == tmp_path / "scores.sqlite"
        store.put_many("m1", "fps=2", [("h1", prompt_hash("a"), {"VQ": 1.5, "TA": math.nan})])
        store.put_many("m1", "fps=1", [("h1", prompt_hash("a"), {"VQ": -2.0})])
        keys = [("h1", prompt_hash("a")), ("h1", prompt_hash("b")), ("h2", prompt_hash("a"))]
        got = store.get_many("m1", "fps=2", keys)
        assert list(got) == [("h1", prompt_hash("a"))]
        assert got[("h1", prompt_hash("a"))]["VQ"] == 1.5 and math.isnan(got[("h1", prompt_hash("a"))]["TA"])
        assert store.get_many("m1", "fps=1", [("h1", prompt_hash("a"))])[("h1", prompt_hash("a"))] == {"VQ": -2.0}
        assert store.get_many("m2", "fps=2", [("h1", prompt_hash("a"))]) == {}
        many = [(f"h{i}", prompt_hash("p"), {"VQ": float(i)}) for i in range(1000)]  # more than one lookup chunk
        store.put_many("m1", "fps=2", many)
        assert len(store.get_many("m1", "fps=2", [(h, p) for h, p, _ in many])) == 1000
        assert store.count("m1") == 1002
    mode = sqlite3.connect(tmp_path / "scores.sqlite").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_default_cache_dir_honours_env(monkeypatch, tmp_path):
    monkeypatch.setenv("VIDEOBENCH_CACHE", str(tmp_path / "x"))
    assert default_cache_dir() == tmp_path / "x"
    monkeypatch.delenv("VIDEOBENCH_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "videobench" / "scores"


def test_a_file_that_is_not_sqlite_is_named(tmp_path):
    (tmp_path / "scores.sqlite").write_bytes(b"not a database" * 100)
    with pytest.raises(RuntimeError, match="scores.sqlite"):
        ScoreStore(tmp_path)


def _writer(path: str, worker: int) -> None:
    with ScoreStore(path) as store:
        for i in range(60):  # one transaction each: maximal lock contention
            store.put_many("m", "s", [(f"w{worker}-{i}", "p", {"VQ": float(i)})])


def test_processes_write_concurrently(tmp_path):
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), w)) for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    with ScoreStore(tmp_path) as store:
        assert store.count() == 180
