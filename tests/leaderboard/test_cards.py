"""Every card parses with huggingface_hub's DatasetCard, and its `configs` load a small sample with `datasets`."""

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from leaderboard_helpers import add

from videobench.leaderboard.build import publish
from videobench.leaderboard.submissions import submit
from videobench.leaderboard.tables import RANDOM_MODEL

CARDS = Path(__file__).resolve().parents[2] / "datasets_cards"


def _load(folder: Path, config: str | None = None):
    from datasets import load_dataset

    return load_dataset(str(folder), config, split=None, cache_dir=str(folder / ".hf-cache"))


@pytest.mark.parametrize("name", ["videogen-rewardbench", "genai-bench-video", "videobench-sanity", "videobench-leaderboard",
                                  "mjbench-video", "videophy2", "t2vqa-db"])
def test_card_parses(name):
    from huggingface_hub import DatasetCard

    card = DatasetCard.load(CARDS / name / "README.md")
    assert card.data.configs and card.data.license
    if name in ("videogen-rewardbench", "videobench-leaderboard"):
        assert "2501.13918" in card.text


def _sample(tmp_path, name, files):
    root = tmp_path / name
    root.mkdir()
    (root / "README.md").write_bytes((CARDS / name / "README.md").read_bytes())
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def test_videogen_rewardbench_card_loads_sample(tmp_path):
    csv = ("path_A,path_B,A_model,B_model,prompt,fps_A,num_frames_A,fps_B,num_frames_B,VQ,MQ,TA,Overall\n"
           "videos/a.mp4,videos/b.mp4,m1,m2,a cat,24,48,16,33,A,same,B,A\n"
           "videos/c.mp4,videos/d.mp4,m3,m1,a dog,8,40,24,120,same,B,A,same\n")
    ds = _load(_sample(tmp_path, "videogen-rewardbench", {"videogen-rewardbench.csv": csv.encode()}))
    assert ds["eval"].num_rows == 2 and set(ds["eval"]["MQ"]) == {"same", "B"}  # the upstream card names the split eval


def test_genai_bench_card_loads_sample(tmp_path):
    rows = [{"prompt": "p", "left_video": "v/1.mp4", "right_video": "v/2.mp4", "left_model": "a", "right_model": "b",
             "vote_type": v} for v in ("leftvote", "tievote", "bothbad_vote")]
    parquet = io.BytesIO()
    pd.DataFrame(rows).to_parquet(parquet, index=False)
    files = {"video_generation/test-00000-of-00001.parquet": parquet.getvalue(),
             "video_generation/test_v1-00000-of-00001.parquet": parquet.getvalue()}
    ds = _load(_sample(tmp_path, "genai-bench-video", files), "video_generation")  # the released layout
    assert ds["test_v1"]["vote_type"] == ["leftvote", "tievote", "bothbad_vote"] and ds["test"].num_rows == 3


def test_sanity_card_loads_sample(tmp_path):
    table = pd.DataFrame({"pair_id": ["p1"], "prompt": ["x"], "video_A": ["videos/a.mp4"], "video_B": ["videos/b.mp4"],
                          "label_VQ": pd.Series([1], dtype="int8"), "label_Overall": pd.Series([1], dtype="int8")})
    buf = io.BytesIO()
    table.to_parquet(buf)
    ds = _load(_sample(tmp_path, "videobench-sanity", {"data/test.parquet": buf.getvalue()}))
    assert ds["test"]["label_VQ"] == [1]


def test_results_store_card_loads_results_and_requests(local_store, tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    from safetensors.numpy import save
    import numpy as np

    (folder / "model.safetensors").write_bytes(save({"w": np.zeros(2, dtype=np.float32)}))
    (folder / "model_config.json").write_text(json.dumps({"model_config": {"model_name_or_path": str(folder)}}))
    submit(local_store, f"videoreward:{folder}", "videogen-rewardbench", model_id="org/a", submitter="ann")
    submit(local_store, f"videoreward:{folder}", "sanity", model_id="org/a", submitter="ann")
    publish(local_store, {**add("org/a"), **add("org/b", stamp="20260102T000000000000Z")})
    results = _load(local_store.root, "results")["train"]
    assert set(results["model"]) == {"org/a", "org/b"} and results.num_rows == 8
    requests = _load(local_store.root, "requests")["train"]
    assert requests.num_rows == 2 and set(requests["status"]) == {"PENDING"}
    board = _load(local_store.root, "leaderboard")["train"]
    assert RANDOM_MODEL in board["model"] and board["reference"] == [False, False, True]


def _requests(store, tmp_path):
    from safetensors.numpy import save
    import numpy as np

    folder = tmp_path / "m"
    folder.mkdir(exist_ok=True)
    (folder / "model.safetensors").write_bytes(save({"w": np.zeros(2, dtype=np.float32)}))
    (folder / "model_config.json").write_text(json.dumps({"model_config": {"model_name_or_path": str(folder)}}))
    submit(store, f"videoreward:{folder}", "videogen-rewardbench", model_id="org/a", submitter="ann")


def _generators():
    from videobench.leaderboard.build import result_files
    from videobench.leaderboard.layout import result_path
    from videobench.leaderboard.synthetic import compare_result
    from videobench.results import result_to_dict

    data = json.dumps(result_to_dict(compare_result(["base", "dpo"]))).encode()
    return result_files(data, result_path("videogen-eval", "org/wan-dpo", "20260101T000000000000Z"))


@pytest.mark.parametrize("with_rm,with_gen,with_requests", [
    (True, False, False), (False, True, False), (True, True, True), (False, False, True)])
def test_every_declared_config_loads(local_store, tmp_path, with_rm, with_gen, with_requests):
    """load_dataset on every config the card declares; a config is declared exactly when it has rows."""
    from huggingface_hub import DatasetCard

    if with_requests:
        _requests(local_store, tmp_path)
    publish(local_store, {**(add("org/a") if with_rm else {}), **(_generators() if with_gen else {})})
    card = DatasetCard.load(local_store.root / "README.md")
    declared = {c["config_name"] for c in card.data.configs}
    expected = ({"results", "leaderboard"} if with_rm else set()) | ({"generators"} if with_gen else set()) \
        | ({"requests"} if with_requests else set())
    assert declared == expected
    rows = {"results": 4, "leaderboard": 2, "generators": 8, "requests": 1}  # 4 dims; model + random; 2 ckpt x 4 dims
    for config in declared:
        assert _load(local_store.root, config)["train"].num_rows == rows[config], config


def test_an_emptied_table_is_deleted_not_left_empty(local_store):
    publish(local_store, _generators())
    assert (local_store.root / "table/generators.jsonl").stat().st_size > 0
    local_store.update(lambda snap: {p: None for p in snap.list("results")}, "remove the result")
    publish(local_store)
    assert not (local_store.root / "table/generators.jsonl").exists()


def test_results_card_tells_the_truth(local_store):
    import json as _json

    from videobench.leaderboard.build import result_files
    from videobench.leaderboard.layout import result_path
    from videobench.leaderboard.synthetic import eval_result
    from videobench.results import result_to_dict

    r = eval_result("org/noTA", skill=0.9)
    r.dimensions["TA"].available = False
    partial = result_files(_json.dumps(result_to_dict(r)).encode(),
                           result_path("videogen-rewardbench", "org/noTA", "20260101T000000000000Z"))
    publish(local_store, partial)
    text = (local_store.root / "README.md").read_text()
    assert "nan" not in text and "1 model (0 ranked, 1 with an n/a dimension listed apart)" in text
    assert "no model scores every dimension" in text and "0 submission requests on file" in text
    assert "n/a when the model does not score one of the dimensions" in text
    assert "means over the dimensions a model scores" not in text  # the old, false rule

    publish(local_store, {**add("org/a", skill=0.8, seed=1), **add("org/b", skill=0.6, seed=2)})
    board = pd.read_parquet(local_store.root / "table/reward_models.parquet").set_index("model")
    text = (local_store.root / "README.md").read_text()
    best = board.loc["org/a", "avg"] * 100
    assert f"3 models (2 ranked, 1 with an n/a dimension listed apart); best average: org/a ({best:.2f}%)" in text


def test_model_index_dataset_is_the_benchmark():
    from videobench.leaderboard.cards import benchmark_dataset_id, model_index_entry
    from videobench.leaderboard.synthetic import eval_result

    assert benchmark_dataset_id(eval_result("o/m")) == "KwaiVGI/VideoGen-RewardBench"
    hub = eval_result("o/m", benchmark="my-bench")
    hub.benchmark.source, hub.benchmark.revision = "org/my-bench@main", "c" * 40
    assert benchmark_dataset_id(hub) == "org/my-bench"
    local = eval_result("o/m", benchmark="my-bench")
    local.benchmark.source = "data/bench.csv"  # a relative path looks like org/name, but has no Hub revision
    assert benchmark_dataset_id(local) == "my-bench"
    entry = model_index_entry(hub, "board/results")
    assert entry["dataset"] == {"name": "my-bench", "type": "org/my-bench", "revision": "c" * 40}
    assert entry["source"]["url"].endswith("/datasets/board/results")
    # the Hub client's own reader of model-index takes the entry back, the benchmark as the dataset
    from huggingface_hub.repocard_data import model_index_to_eval_results

    name, parsed = model_index_to_eval_results([{"name": "m", "results": [entry]}])
    assert name == "m" and {(e.dataset_type, e.dataset_revision, e.metric_type) for e in parsed} == {
        ("org/my-bench", "c" * 40, "accuracy")}
    assert len(parsed) == len(entry["metrics"]) and all(e.source_url == entry["source"]["url"] for e in parsed)
