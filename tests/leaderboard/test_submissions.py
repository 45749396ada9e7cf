import json
import pickle

import pytest
from leaderboard_helpers import base_model_folder as _base
from leaderboard_helpers import model_config_json as _model_config
from leaderboard_helpers import model_folder as _model_dir
from leaderboard_helpers import reward_model_folder as _good
from leaderboard_helpers import safetensors_bytes as _safetensors_bytes

from videobench.leaderboard.errors import SubmissionRefused
from videobench.leaderboard.submissions import Request, SubmissionPolicy, read_requests, submit


def test_local_submission_writes_a_pending_request(local_store, tmp_path):
    req = submit(local_store, f"videoreward:{_good(tmp_path)}", "videogen-rewardbench", model_id="org/rm", submitter="ann")
    (stored,), problems = read_requests(local_store.snapshot())
    assert not problems and stored == req and stored.status == "PENDING"
    assert stored.revision.startswith("local-") and stored.history[0]["status"] == "PENDING"
    line = (local_store.root / f"requests/{req.id}.json").read_bytes()
    assert line.count(b"\n") == 1 and Request.from_bytes(line, f"requests/{req.id}.json") == req


def test_duplicates_and_quota_are_refused(local_store, tmp_path):
    from videobench.data.registry import register_benchmark

    register_benchmark("quota-bench", lambda revision, **o: None, overwrite=True)  # a third board benchmark
    spec = f"videoreward:{_good(tmp_path)}"
    submit(local_store, spec, "videogen-rewardbench", model_id="org/rm", submitter="ann")
    with pytest.raises(SubmissionRefused, match="duplicate"):
        submit(local_store, spec, "videogen-rewardbench", model_id="org/rm", submitter="bob")
    policy = SubmissionPolicy(max_per_window=2)
    submit(local_store, spec, "sanity", model_id="org/rm", submitter="ann", policy=policy)
    with pytest.raises(SubmissionRefused, match="quota: ann has 2"):
        submit(local_store, spec, "quota-bench", model_id="org/rm", submitter="ann", policy=policy)


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_pickle_weights_are_refused(local_store, tmp_path):
    folder = _model_dir(tmp_path / "p", {"pytorch_model.bin": pickle.dumps(_Evil()), "config.json": b"{}"})
    with pytest.raises(SubmissionRefused, match="no weights found"):
        submit(local_store, f"videoreward:{folder}", "videogen-rewardbench", model_id="org/p")
    folder = _good(tmp_path, "q", {"sub/extra.bin": b"x"})
    with pytest.raises(SubmissionRefused, match="pickle weights"):
        submit(local_store, f"videoreward:{folder}", "videogen-rewardbench", model_id="org/q")
    folder = _good(tmp_path, "r", {"pytorch_model.bin": b"x"})  # beside safetensors: never loaded, allowed
    req = submit(local_store, f"videoreward:{folder}", "videogen-rewardbench", model_id="org/r")
    assert any("ignored pickle" in c for c in req.checks)


def test_pth_must_load_with_weights_only(local_store, tmp_path):
    import torch

    good = _model_dir(tmp_path / "vr", {"config.json": b"{}", "model_config.json": _model_config(_base(tmp_path))})
    torch.save({"rm_head.weight": torch.zeros(3, 4)}, good / "model.pth")
    req = submit(local_store, f"videoreward:{good}", "videogen-rewardbench", model_id="org/vr")
    assert any("weights_only" in c for c in req.checks)
    bad = _model_dir(tmp_path / "evil", {"config.json": b"{}"})
    torch.save({"x": _Evil()}, bad / "model.pth")
    with pytest.raises(SubmissionRefused, match=r"weights_only=True"):
        submit(local_store, f"videoreward:{bad}", "videogen-rewardbench", model_id="org/evil")


@pytest.mark.parametrize("config, name", [
    ({"auto_map": {"AutoModel": "modeling_x.Model"}}, "config.json"),
    ({"text_config": {"trust_remote_code": True}}, "config.json"),
    ({"_class_name": "X", "transformer": ["my_module", "MyTransformer"]}, "model_index.json"),
])
def test_remote_code_is_refused_unless_allowed(local_store, tmp_path, config, name):
    folder = _good(tmp_path, extra={name: json.dumps(config).encode()})
    with pytest.raises(SubmissionRefused, match="remote code"):
        submit(local_store, f"videoreward:{folder}", "videogen-rewardbench", model_id="org/rc")
    req = submit(local_store, f"videoreward:{folder}", "videogen-rewardbench", model_id="org/rc",
                 policy=SubmissionPolicy(allow_remote_code=True))
    assert any("allowed by the board" in c for c in req.checks)


def test_corrupt_safetensors_header_is_refused(local_store, tmp_path):
    folder = _model_dir(tmp_path / "c", {"model.safetensors": (10**12).to_bytes(8, "little") + b"{}"})
    with pytest.raises(SubmissionRefused, match="implausible"):
        submit(local_store, f"videoreward:{folder}", "videogen-rewardbench", model_id="org/c")


def test_hub_submission_resolves_revision_to_commit(hub, hub_store):
    hub.state.create("model", "org/base", {"model.safetensors": _safetensors_bytes(), "config.json": b"{}"})
    repo = hub.state.create("model", "org/rm", {"model.safetensors": _safetensors_bytes(), "config.json": b"{}",
                                                "model_config.json": _model_config("org/base")})
    sha = repo.branches["main"]
    req = submit(hub_store, "videoreward:org/rm", "videogen-rewardbench", revision="main", endpoint=hub.url)
    assert req.revision == sha and req.model_id == "org/rm" and req.components[0].revision == sha
    assert f"requests/{req.id}.json" in hub.files("board/results")
    hub.state.create("model", "org/code", {"model.safetensors": _safetensors_bytes(), "model_config.json":
                                           _model_config("org/base"),
                                           "config.json": b'{"auto_map": {"AutoModel": "x.Y"}}'})
    with pytest.raises(SubmissionRefused, match="remote code"):
        submit(hub_store, "videoreward:org/code", "videogen-rewardbench", endpoint=hub.url)
    with pytest.raises(SubmissionRefused, match="not found"):
        submit(hub_store, "videoreward:org/missing", "videogen-rewardbench", endpoint=hub.url)
    with pytest.raises(SubmissionRefused, match="neither a local folder nor a Hub repo"):
        submit(hub_store, "videoreward:org/<script>", "videogen-rewardbench", endpoint=hub.url)


@pytest.mark.parametrize("spec, match", [
    ("bogus:{dir}", "unknown reward model 'bogus'"),
    ("classical:{dir}", "reward model 'classical' is not one the board loads"),
    ("python:os:system", "never imports submitted code"),
])
def test_adapters_the_board_cannot_load_are_refused(local_store, tmp_path, spec, match):
    with pytest.raises(SubmissionRefused, match=match):
        submit(local_store, spec.format(dir=_good(tmp_path)), "videogen-rewardbench", model_id="org/x")
    with pytest.raises(SubmissionRefused, match="generator kind 'bogus'"):
        submit(local_store, f"bogus:{_good(tmp_path, 'g')}", "vbench-946", kind="generator", model_id="org/g")
    assert not local_store.snapshot().files  # nothing filed, no quota used


def test_base_model_with_pickle_only_weights_is_refused(local_store, tmp_path):
    base = _base(tmp_path, {"pytorch_model.bin": pickle.dumps(_Evil()), "config.json": b"{}"})
    folder = _model_dir(tmp_path / "vr", {"model.safetensors": _safetensors_bytes(), "config.json": b"{}",
                                          "model_config.json": _model_config(base)})
    with pytest.raises(SubmissionRefused, match=r"base model .*base.* is refused: .*no weights found"):
        submit(local_store, f"videoreward:{folder}", "videogen-rewardbench", model_id="org/vr")
    (folder / "model_config.json").unlink()
    with pytest.raises(SubmissionRefused, match="no model_config.json"):
        submit(local_store, f"videoreward:{folder}", "videogen-rewardbench", model_id="org/vr")
    assert not local_store.snapshot().files


def test_unknown_benchmark_or_prompt_suite_is_refused_before_the_quota(local_store, tmp_path):
    policy = SubmissionPolicy(max_per_window=1)
    with pytest.raises(SubmissionRefused, match="unknown benchmark 'no-such-bench'"):
        submit(local_store, f"videoreward:{_good(tmp_path)}", "no-such-bench", model_id="org/rm", submitter="ann",
               policy=policy)
    with pytest.raises(SubmissionRefused, match="prompt suite 'no-such-suite'"):
        submit(local_store, f"wan:{_good(tmp_path, 'g')}", "no-such-suite", kind="generator", model_id="org/g",
               submitter="ann", policy=policy)
    # the refusals charged nothing: the one submission the quota allows still goes through
    submit(local_store, f"videoreward:{_good(tmp_path, 'ok')}", "sanity", model_id="org/rm", submitter="ann",
           policy=policy)


def test_reward_spec_options_are_checked_and_recorded(local_store, tmp_path, monkeypatch):
    from videobench.leaderboard.evaluators import component_spec

    folder = _good(tmp_path)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "vr.txt").write_text("{prompt} <|VQ_reward|> <|MQ_reward|> <|TA_reward|>")
    req = submit(local_store, "videoreward:rm?template=vr.txt&fps=2", "videogen-rewardbench", model_id="org/rm")
    template = tmp_path / "vr.txt"
    assert req.model == f"videoreward:{folder}?template={template}&fps=2.0"
    (comp,) = req.components
    assert (comp.target, comp.options) == (str(folder), f"template={template}&fps=2.0")
    (stored,), _ = read_requests(local_store.snapshot())
    assert component_spec(stored) == f"videoreward:{folder}?template={template}&fps=2.0"  # what the queue loads
    with pytest.raises(SubmissionRefused, match="unknown option 'fsp'; valid options: .*template"):
        submit(local_store, "videoreward:rm?fsp=2", "sanity", model_id="org/rm2")
    with pytest.raises(SubmissionRefused, match="unknown reward model 'bogus'"):
        submit(local_store, "bogus:rm", "sanity", model_id="org/rm3")
    with pytest.raises(SubmissionRefused, match="trust_remote_code=true, and this board runs no remote code"):
        submit(local_store, "videoreward:rm?trust_remote_code=true", "sanity", model_id="org/rm4")
