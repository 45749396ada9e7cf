import threading

import pytest

from videobench.leaderboard.errors import StoreError
from videobench.leaderboard.store import LocalStore


def test_update_commits_only_changed_files(store):
    store.ensure()
    first = store.update(lambda snap: {"a.txt": b"1", "d/b.txt": b"2"}, "one")
    assert first.committed and first.changed == ["a.txt", "d/b.txt"]
    second = store.update(lambda snap: {"a.txt": b"1", "d/b.txt": b"3", "gone.txt": None}, "two")
    assert second.changed == ["d/b.txt"]
    noop = store.update(lambda snap: {"a.txt": b"1"}, "three")
    assert not noop.committed and noop.revision == second.revision
    snap = store.snapshot()
    assert snap.read("d/b.txt") == b"3" and snap.revision == second.revision
    store.update(lambda snap: {"a.txt": None}, "delete")
    assert not store.snapshot().exists("a.txt")


def test_conflict_rereads_and_merges_rival_commit(hub, hub_store):
    hub_store.ensure()
    hub_store.update(lambda snap: {"count.txt": b"0"}, "start")
    calls = []

    def rival(repo, branch):
        hub.state.apply(repo, branch, {"rival.txt": b"theirs"}, [], "rival", None)

    hub.state.before_commit = rival

    def plan(snap):
        calls.append(snap.revision)
        return {"mine.txt": str(sorted(p for p in snap.files if p.endswith(".txt"))).encode()}

    out = hub_store.update(plan, "mine")
    assert out.attempts == 2 and len(set(calls)) == 2
    files = hub.files("board/results")
    assert files["rival.txt"] == b"theirs"  # nothing the other publisher wrote is dropped
    assert b"rival.txt" in files["mine.txt"]  # and the plan saw it when it ran again
    assert [c.message for c in hub.commits("board/results")][:3] == ["mine", "rival", "start"]


def test_transient_errors_retry_with_backoff(hub, hub_store):
    hub_store.ensure()
    hub.state.fail("POST", r"/commit/", 503, times=2)
    hub.state.fail("GET", r"/revision/", 502, times=1)
    out = hub_store.update(lambda snap: {"x.txt": b"x"}, "flaky")
    assert out.committed and hub.files("board/results")["x.txt"] == b"x"


def test_non_transient_errors_surface(hub, hub_store):
    from huggingface_hub.errors import HfHubHTTPError

    hub_store.ensure()
    hub.state.fail("POST", r"/commit/", 403, times=1)
    with pytest.raises(HfHubHTTPError):
        hub_store.update(lambda snap: {"x.txt": b"x"}, "forbidden")


def test_tree_listing_follows_pagination(online, tmp_path):
    from hub_server import HubTestServer

    from videobench.leaderboard.hub_store import HubStore

    with HubTestServer(page_size=3) as small:
        store = HubStore("o/r", endpoint=small.url, token=False, cache_dir=tmp_path)
        store.update(lambda snap: {f"f/{i}.txt": b"%d" % i for i in range(10)}, "many")
        snap = store.snapshot()
        assert len([p for p in snap.files if p.startswith("f/")]) == 10


def test_concurrent_local_writers_never_lose_updates(tmp_path):
    root = tmp_path / "s"

    def writer(k):
        store = LocalStore(root)
        for i in range(5):
            store.update(lambda snap, i=i: {f"w{k}/{i}.txt": b"x"}, f"w{k}-{i}")

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(3)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(LocalStore(root).snapshot().files) == 15


def test_local_store_refuses_paths_outside(local_store):
    local_store.ensure()
    with pytest.raises(StoreError, match="leaves the store"):
        local_store.commit({"../escape.txt": b"x"}, "evil", parent=None)
    with pytest.raises(StoreError, match="leaves the store"):
        local_store.read_file(".videobench/HEAD", None)
