"""Who submits (defect 8): on a Hub store the Hub user of the token (whoami), a different typed name refused, quotas
per user; on a local store a typed, unchecked name. Through the real client against the test Hub server."""

from __future__ import annotations

import pytest
from leaderboard_helpers import reward_model_folder
from typer.testing import CliRunner

from videobench.cli import _register, app
from videobench.leaderboard.errors import SubmissionRefused
from videobench.leaderboard.submissions import SubmissionPolicy, read_requests, submit_request

_register()
runner = CliRunner()


def _hub_store(hub, tmp_path, token):
    from videobench.leaderboard.hub_store import HubStore

    return HubStore("board/results", endpoint=hub.url, token=token, cache_dir=tmp_path / "hf-cache", backoff=0.001)


def test_a_hub_store_files_under_the_token_user_with_a_quota_each(hub, tmp_path):
    hub.state.users.update({"tok-alice": "alice", "tok-bob": "bob"})
    alice, bob = _hub_store(hub, tmp_path, "tok-alice"), _hub_store(hub, tmp_path, "tok-bob")
    spec = f"videoreward:{reward_model_folder(tmp_path)}"
    one = SubmissionPolicy(max_per_window=1)
    req = submit_request(alice, model=spec, bench="videogen-rewardbench", name="org/a", policy=one)
    assert req.submitter == "alice"
    with pytest.raises(SubmissionRefused, match="submitter is the Hub user of your token \\('alice'\\)"):
        submit_request(alice, model=spec, bench="sanity", name="org/b", submitter="bob", policy=one)
    with pytest.raises(SubmissionRefused, match="quota: alice has 1"):  # naming herself changes nothing
        submit_request(alice, model=spec, bench="sanity", name="org/b", submitter="alice", policy=one)
    assert submit_request(bob, model=spec, bench="sanity", name="org/b", policy=one).submitter == "bob"
    with pytest.raises(SubmissionRefused, match="no token was found.*for a new local store write \\./"):
        submit_request(_hub_store(hub, tmp_path, False), model=spec, bench="sanity", name="org/c")
    with pytest.raises(SubmissionRefused, match="did not accept your token"):
        submit_request(_hub_store(hub, tmp_path, "tok-stolen"), model=spec, bench="sanity", name="org/c")
    stored, _ = read_requests(alice.snapshot())
    assert sorted((r.model_id, r.submitter) for r in stored) == [("org/a", "alice"), ("org/b", "bob")]


def test_the_cli_takes_the_hub_user_and_refuses_another_name(hub, tmp_path):
    hub.state.users["tok-alice"] = "alice"
    model = reward_model_folder(tmp_path)
    args = ["submit", "--model", f"videoreward:{model}", "--bench", "sanity", "--store", "board/results",
            "--endpoint", hub.url, "--name", "org/rm"]
    env = {"HF_TOKEN": "tok-alice", "COLUMNS": "200"}
    refused = runner.invoke(app, [*args, "--submitter", "mallory"], env=env)
    assert refused.exit_code == 2 and "'mallory'" in refused.output and "('alice')" in refused.output
    filed = runner.invoke(app, args, env=env)
    assert filed.exit_code == 0, filed.output
    (req,), _ = read_requests(_hub_store(hub, tmp_path, "tok-alice").snapshot())
    assert req.submitter == "alice"


def test_a_local_store_takes_a_typed_unchecked_name(local_store, tmp_path, monkeypatch):
    spec = f"videoreward:{reward_model_folder(tmp_path)}"
    assert submit_request(local_store, model=spec, bench="sanity", name="org/a", submitter="ann").submitter == "ann"
    monkeypatch.setenv("USER", "carol")
    assert submit_request(local_store, model=spec, bench="sanity", name="org/b").submitter == "carol"
    monkeypatch.delenv("USER")
    assert submit_request(local_store, model=spec, bench="sanity", name="org/c").submitter == "anonymous"
    with pytest.raises(SubmissionRefused, match="submitter 'a\\\\nb' is not allowed"):
        submit_request(local_store, model=spec, bench="sanity", name="org/d", submitter="a\nb")
