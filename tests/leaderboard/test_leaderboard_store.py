import re
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


def test_parquet_and_binary_files_go_through_lfs(hub, hub_store):
    """The Hub's write path for tables and per-pair files: preupload says "lfs", the client uploads through the LFS
    batch API (PUT + verify), the commit names the object, the tree lists it with its `lfs` block, and reads follow the
    redirect to the object. Unchanged LFS files are recognised by sha256 (no commit, no upload)."""
    import hashlib
    import io

    import pandas as pd

    hub_store.ensure()
    buf = io.BytesIO()
    pd.DataFrame({"pair_id": ["p1", "p2"], "margin_VQ": [0.5, -1.0]}).to_parquet(buf)
    table, blob, text = buf.getvalue(), bytes(range(256)) * 4, b"plain text\n"
    files = {"results/b/org__m/1.pairs.parquet": table, "blobs/frame.dat": blob, "notes.txt": text}
    first = hub_store.update(lambda snap: files, "lfs")
    assert first.committed
    sha = {path: hashlib.sha256(data).hexdigest() for path, data in files.items()}
    # parquet by the .gitattributes rule, frame.dat by its NUL bytes; the text file stays a regular git file
    assert hub.lfs_files("board/results") == {p: sha[p] for p in ("results/b/org__m/1.pairs.parquet", "blobs/frame.dat")}
    puts = [p for m, p in hub.state.requests if m == "PUT"]
    assert sorted(puts) == sorted(f"/lfs-objects/{sha[p]}" for p in hub.lfs_files("board/results"))
    assert sum(p.endswith("/verify") for _, p in hub.state.requests) == 2
    assert any(p == "/datasets/board/results.git/info/lfs/objects/batch" for _, p in hub.state.requests)

    snap = hub_store.snapshot()
    info = snap.files["blobs/frame.dat"]
    assert (info.size, info.sha256) == (len(blob), sha["blobs/frame.dat"])
    pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha['blobs/frame.dat']}\nsize 1024\n".encode()
    assert info.oid == hashlib.sha1(b"blob %d\0" % len(pointer) + pointer).hexdigest()  # the pointer's blob id
    assert snap.files["notes.txt"].sha256 is None
    assert snap.read("blobs/frame.dat") == blob and snap.read("results/b/org__m/1.pairs.parquet") == table
    assert any(p.startswith("/lfs-objects/") for m, p in hub.state.requests if m == "GET")  # read through the redirect

    again = hub_store.update(lambda snap: dict(files), "unchanged")
    assert not again.committed  # sha256 of the LFS files matched
    n_puts = len([1 for m, _ in hub.state.requests if m == "PUT"])
    copy = hub_store.update(lambda snap: {"blobs/copy.dat": blob}, "same object, new path")
    assert copy.committed and hub.files("board/results")["blobs/copy.dat"] == blob
    assert len([1 for m, _ in hub.state.requests if m == "PUT"]) == n_puts  # the object was already stored


def test_validate_yaml_rejects_a_wrong_model_index(hub):
    # RepoCard, not ModelCard: ModelCard parses model-index on the client and would refuse before the server is asked.
    from huggingface_hub import RepoCard

    good = ("---\nmodel-index:\n- name: m\n  results:\n  - task: {type: video-classification}\n"
            "    dataset: {type: org/bench, name: bench}\n    metrics:\n    - {type: accuracy, value: 0.7}\n---\n# m\n")
    import huggingface_hub.constants as constants

    old = constants.ENDPOINT
    constants.ENDPOINT = hub.url  # RepoCard.validate posts to the configured endpoint
    try:
        RepoCard(good).validate(repo_type="model")
        for bad, reason in [
            (good.replace("  results:\n", "  result:\n"), "model-index[0].results\" is required"),
            (good.replace("    - {type: accuracy, value: 0.7}\n", "    - {type: accuracy}\n"), "metrics[0].value"),
            (good.replace("dataset: {type: org/bench, name: bench}", "dataset: bench"), "dataset\" must be an object"),
            ("---\nmodel-index: {name: m}\n---\n", "must be a non-empty array"),
        ]:
            with pytest.raises(ValueError, match=re.escape(reason)):
                RepoCard(bad).validate(repo_type="model")
    finally:
        constants.ENDPOINT = old
