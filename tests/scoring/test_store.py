"""ScoreStore: keys, NaN round trip, and several processes writing one file at once."""

from __future__ import annotations

import math
import multiprocessing
import sqlite3
import threading

import pytest

from videobench.scoring.store import STORE_FILENAME, ScoreStore, default_cache_dir, prompt_hash


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


def _writer_holding_the_lock(path):
    """Another process's connection in a write transaction on a new (not yet WAL) cache file."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("CREATE TABLE other (x)")
    other.execute("BEGIN IMMEDIATE")
    return other


def test_opening_waits_for_another_writer_instead_of_failing(tmp_path):
    # SQLite refuses the switch to WAL at once ("database is locked", no busy handler) while another connection holds
    # a write lock: two ranks opening a fresh cache together crashed one of them (seen in a 2-process compare).
    other = _writer_holding_the_lock(tmp_path / STORE_FILENAME)
    release = threading.Timer(0.3, lambda: other.execute("COMMIT"))
    release.start()
    try:
        with ScoreStore(tmp_path, timeout_s=30) as store:
            assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            store.put_many("m", "s", [("v", "p", {"VQ": 1.5})])
            assert store.get_many("m", "s", [("v", "p")]) == {("v", "p"): {"VQ": 1.5}}
    finally:
        release.join()
        other.close()


def test_a_cache_locked_past_the_timeout_says_so(tmp_path):
    other = _writer_holding_the_lock(tmp_path / STORE_FILENAME)
    try:
        with pytest.raises(RuntimeError) as err:
            ScoreStore(tmp_path, timeout_s=0.2)
    finally:
        other.close()
    assert str(err.value) == (f"score store {tmp_path / STORE_FILENAME} stayed locked by another process for 0.2 s; "
                              "wait for it to finish or pass another cache dir")
