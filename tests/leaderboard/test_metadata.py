"""Submission metadata (parameters, licence, base model, date) read from the checkpoint's files, never its weights,
and shown in the board."""

from __future__ import annotations

import json
import struct

from leaderboard_helpers import add, base_model_folder, model_config_json, model_folder, safetensors_bytes

from videobench.leaderboard.build import publish
from videobench.leaderboard.submissions import read_requests, submit


def header_only_safetensors(shapes: dict[str, list[int]]) -> bytes:
    """A safetensors file whose header declares F32 tensors of ``shapes`` but that holds none of their bytes: counting
    its parameters must read the header alone."""
    header, offset = {}, 0
    for name, shape in shapes.items():
        size = 4
        for dim in shape:
            size *= dim
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text


CARD = b"---\nlicense: apache-2.0\nbase_model: Qwen/Qwen2-VL-2B-Instruct\ntags: [video]\n---\n# my reward model\n"


def test_a_local_checkpoint_gives_its_parameters_licence_and_base(local_store, tmp_path):
    base = base_model_folder(tmp_path)
    weights = header_only_safetensors({"a": [1000, 1000], "b": [3, 4]})  # 1,000,012 parameters, no data
    folder = model_folder(tmp_path / "rm", {"model.safetensors": weights, "README.md": CARD,
                                            "model_config.json": model_config_json(base)})
    req = submit(local_store, f"videoreward:{folder}", "sanity", model_id="org/rm", submitter="ann")
    assert (req.parameters, req.license, req.base_model) == (1_000_012, "apache-2.0", "Qwen/Qwen2-VL-2B-Instruct")
    assert read_requests(local_store.snapshot())[0][0].parameters == 1_000_012

    other = b"---\nlicense: other\nlicense_name: my-licence-1.0\n---\n"
    folder = model_folder(tmp_path / "rm2", {"model.safetensors": safetensors_bytes(), "README.md": other,
                                             "model_config.json": model_config_json(base)})
    req = submit(local_store, f"videoreward:{folder}", "sanity", model_id="org/rm2", submitter="ann")
    # 2x2 float32 in safetensors_bytes(); no base_model in the card: the one model_config.json names
    assert (req.parameters, req.license, req.base_model) == (4, "my-licence-1.0", str(base))


def test_a_hub_checkpoint_is_read_through_the_hub_api(hub, hub_store):
    weights = {"model.safetensors": header_only_safetensors({"w": [7, 11]}), "config.json": b"{}"}
    hub.state.create("model", "org/base", {"model.safetensors": safetensors_bytes(), "config.json": b"{}"})
    hub.state.create("model", "org/rm", {**weights, "README.md": CARD, "model_config.json": model_config_json("org/base")})
    req = submit(hub_store, "videoreward:org/rm", "sanity", submitter="ann", endpoint=hub_store.api.endpoint)
    assert (req.parameters, req.license, req.base_model) == (77, "apache-2.0", "Qwen/Qwen2-VL-2B-Instruct")


def test_the_board_shows_the_metadata_of_the_finished_request(local_store, tmp_path):
    from videobench.leaderboard.report import fmt_value
    from videobench.leaderboard.space import load_board, rm_view

    folder = model_folder(tmp_path / "rm", {"model.safetensors": header_only_safetensors({"a": [1500, 1000]}),
                                            "README.md": CARD, "model_config.json": model_config_json(
                                                base_model_folder(tmp_path))})
    req = submit(local_store, f"videoreward:{folder}", "videogen-rewardbench", model_id="org/rm", submitter="ann")
    req.transition("FINISHED", "test", "")
    from videobench.leaderboard.layout import request_path

    publish(local_store, {**add("org/rm"), **add("org/manual"), request_path(req.id): req.to_bytes()})
    board = load_board(local_store).board.set_index("model")
    assert board.loc["org/rm", "parameters"] == 1_500_000 and board.loc["org/rm", "license"] == "apache-2.0"
    assert board.loc["org/rm", "submitted_at"] == req.submitted_at
    assert board[["parameters", "license", "base_model"]].loc["org/manual"].isna().all()  # published by hand
    page = rm_view(load_board(local_store), "videogen-rewardbench", "", ["w", "info"])
    assert ">1.5M<" in page and ">apache-2.0<" in page and ">Qwen/Qwen2-VL-2B-Instruct<" in page
    assert ">1.5M<" not in rm_view(load_board(local_store), "videogen-rewardbench")  # "model info" off at start
    assert [fmt_value("params", n) for n in (7_600_000_000, 220_000_000, 12_345, 999)] == ["7.6B", "220.0M", "12.3K", "999"]


def test_requests_written_before_the_new_fields_are_brought_to_one_schema(local_store, tmp_path):
    """`datasets` fails on a `requests` config whose files have different columns: a publish rewrites an older request
    file with the fields it lacks (their defaults), and `load_dataset` reads the config."""
    from datasets import load_dataset

    from videobench.leaderboard.layout import request_path

    old = submit(local_store, f"videoreward:{reward_model_folder_for(tmp_path, 'a')}", "sanity", model_id="org/a",
                 submitter="ann")
    submit(local_store, f"videoreward:{reward_model_folder_for(tmp_path, 'b')}", "sanity", model_id="org/b",
           submitter="ann")
    path = local_store.root / request_path(old.id)
    before = json.loads(path.read_text())
    for key in ("parameters", "license", "base_model"):  # as a request filed by an earlier videobench
        before.pop(key)
    path.write_text(json.dumps(before, sort_keys=True) + "\n")
    publish(local_store, add("org/a"))
    after = json.loads(path.read_text())
    assert after == {**before, "parameters": 0, "license": "", "base_model": ""}
    rows = load_dataset(str(local_store.root), "requests", split="train", cache_dir=str(tmp_path / "hf-cache"))
    assert sorted(rows["model_id"]) == ["org/a", "org/b"] and sorted(rows["parameters"]) == [0, 4]


def reward_model_folder_for(tmp_path, name):
    return model_folder(tmp_path / name, {"model.safetensors": safetensors_bytes(),
                                          "model_config.json": model_config_json(base_model_folder(tmp_path))})
