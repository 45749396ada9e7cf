"""``videobench.evaluate``: one call from a model (spec, object or scores file) and a benchmark to an Evaluation, with
the command's caching and options. Expected numbers are counted by hand from the fixtures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import videobench
from videobench.api import EvalConfig, EvalConfigError, Evaluation, run_evaluation, save_evaluations
from videobench.rewards.base import Sampling

# 4 pairs over videos v0..v5; labels: A, B, A, tie.
PAIRS = pd.DataFrame({
    "pair_id": ["p0", "p1", "p2", "p3"],
    "prompt": ["red", "red", "blue", "green"],
    "video_A": ["v0.mp4", "v2.mp4", "v4.mp4", "v1.mp4"],
    "video_B": ["v1.mp4", "v3.mp4", "v5.mp4", "v3.mp4"],
    "label_Overall": [1, -1, 1, 0],
})


class FileNumberReward:
    """Score = the number in the file name: B wins every pair (higher number), so of the three non-tie pairs only
    p1 (label B) is predicted right: accuracy without ties = 1/3."""

    needs_frames = False
    dimensions = ("Overall",)
    sampling = Sampling()
    name = "file-number"

    def __init__(self) -> None:
        self.scored: list[str] = []

    def fingerprint(self) -> str:
        return "file-number-v1"

    def score(self, clips, prompts):
        self.scored += [Path(c.path).name for c in clips]
        return {"Overall": np.array([float(Path(c.path).stem[1:]) for c in clips])}


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> Path:
    from videobench.video import write_video

    root = tmp_path_factory.mktemp("apibench")
    for i in range(6):
        write_video(root / f"v{i}.mp4", np.full((4, 16, 16, 3), 40 * i, dtype=np.uint8), fps=4)
    PAIRS.to_csv(root / "pairs.csv", index=False)
    return root / "pairs.csv"


def _scores_file(folder: Path) -> Path:
    # per video: v0 > v1 (A right), v2 < v3 (B right), v4 < v5 (A wrong); the tie pair p3 does not count
    path = folder / "mine.scores.csv"
    pd.DataFrame({"video": [f"v{i}.mp4" for i in range(6)], "Overall": [5.0, 1.0, 0.0, 2.0, 1.0, 3.0]}).to_csv(
        path, index=False)
    return path


def test_scores_file_spec_and_path_give_the_same_evaluation(bench, tmp_path):
    path = _scores_file(tmp_path)
    by_path = videobench.evaluate(path, bench, n_resamples=0)
    assert isinstance(by_path, Evaluation) and by_path.name == "mine"
    overall = by_path.result.dimensions["Overall"]
    assert overall.accuracy_without_ties.value == pytest.approx(2 / 3) and overall.n_ties == 1
    assert by_path.pairs["margin_Overall"].tolist() == [4.0, -2.0, -2.0, -1.0]
    assert len(by_path.videos) == 8  # one row per (video, prompt): v1 and v3 appear with two prompts
    assert by_path.result.model.spec == f"scores:{path}"  # absolute: reruns from any folder
    by_spec = videobench.evaluate(f"scores:{path}", str(bench), n_resamples=0)
    assert by_spec.result.dimensions == by_path.result.dimensions
    by_str = videobench.evaluate(str(path), bench, n_resamples=0)  # an existing file name is a scores file
    assert by_str.result.dimensions == by_path.result.dimensions


def test_reward_model_object_is_scored_once_then_cached(bench, tmp_path):
    model = FileNumberReward()
    first = videobench.evaluate(model, bench, cache_dir=tmp_path / "cache", n_resamples=0, batch_size=2)
    # one score per (video, prompt): v1 and v3 are in pairs of two prompts
    assert sorted(model.scored) == ["v0.mp4", "v1.mp4", "v1.mp4", "v2.mp4", "v3.mp4", "v3.mp4", "v4.mp4", "v5.mp4"]
    assert first.result.dimensions["Overall"].accuracy_without_ties.value == pytest.approx(1 / 3)
    assert first.result.model.spec == f"python-object:{__name__}.FileNumberReward"
    again = videobench.evaluate(model, bench, cache_dir=tmp_path / "cache", n_resamples=0, name="renamed")
    assert len(model.scored) == 8  # every score from the cache
    assert again.name == "renamed" and again.result.dimensions == first.result.dimensions
    uncached = videobench.evaluate(model, bench, use_cache=False, n_resamples=0)
    assert len(model.scored) == 16 and uncached.result.dimensions == first.result.dimensions


def test_spec_options_and_model_options_are_recorded(bench, tmp_path):
    ev = videobench.evaluate("random:4", bench, model_options={"dimensions": ("Overall",)}, n_resamples=0,
                             cache_dir=tmp_path / "cache")
    assert ev.result.model.spec == "random:4?dimensions=Overall"
    rerun = videobench.evaluate(ev.result.model.spec, bench, n_resamples=0, cache_dir=tmp_path / "cache")
    assert rerun.result.dimensions == ev.result.dimensions
    with pytest.raises(ValueError, match="option 'dimensions' is .* in the spec and .* as a keyword"):
        videobench.evaluate("random:4?dimensions=VQ", bench, model_options={"dimensions": ("Overall",)})


def test_several_models_config_yaml_and_save(bench, tmp_path):
    path = _scores_file(tmp_path)
    yaml_file = tmp_path / "eval.yaml"
    yaml_file.write_text(f"models: [{path}, 'random:2?dimensions=Overall']\nbench: {bench}\nrandom_baseline: true\n"
                         f"n_resamples: 50\ncache_dir: {tmp_path / 'cache'}\n")
    config = EvalConfig.from_yaml(yaml_file, seed=3)
    assert config.seed == 3 and config.n_resamples == 50
    runs = run_evaluation(config)
    assert [r.name for r in runs] == ["mine", "random", "random:2"]  # score files, the baseline, scored models
    assert runs[1].result.model.spec == "random:3"  # the baseline takes the run's seed
    written = save_evaluations(runs, tmp_path / "out")
    assert [p.name for p in written] == ["mine.json", "random.json", "random-2.json", "report.html"]
    saved = json.loads((tmp_path / "out" / "mine.json").read_text())
    assert saved["per_pair_file"] == "mine.pairs.parquet"
    assert saved["dimensions"]["Overall"]["accuracy_without_ties"]["value"] == pytest.approx(2 / 3)


def test_bad_settings_fail_with_their_names(bench, tmp_path):
    with pytest.raises(TypeError, match=r"unknown option\(s\) \['n_resample'\]; known: .*n_resamples"):
        videobench.evaluate("random:0", bench, n_resample=10)
    with pytest.raises(TypeError, match="takes one model"):
        videobench.evaluate(["random:0", "random:1"], bench)
    with pytest.raises(EvalConfigError, match="level must be in"):
        videobench.evaluate("random:0", bench, level=2.0)
    with pytest.raises(EvalConfigError, match="no benchmark"):
        videobench.evaluate("random:0")
    with pytest.raises(ValueError, match="unknown option 'sed'"):  # the spec fails before the benchmark loads
        videobench.evaluate("random?sed=1", "no/such-bench")
    bad = tmp_path / "bad.yaml"
    bad.write_text("models: [random]\nbench: x\nresamples: 3\n")
    with pytest.raises(EvalConfigError, match=r"bad.yaml: unknown setting\(s\) \['resamples'\]"):
        EvalConfig.from_yaml(bad)


def test_the_package_attribute_is_the_function_and_import_stays_cheap():
    code = ("import sys, videobench; import videobench.evaluation; from videobench.api import evaluate; "
            "print(videobench.evaluate is evaluate)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "True"
    cheap = "import sys, videobench; print('pandas' in sys.modules, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", cheap], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False False"
