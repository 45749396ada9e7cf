"""The benchmark file's row order is recorded by every loader (``row``) and is the order in which ``reference``-mode
tie calibration walks the pairs, as VideoAlign's published evaluation walks its CSV; everything else (grouped mode,
bootstrap CIs, cross-fitting) stays independent of the order."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from data_helpers import VGRB_HEADER, write_csv

from videobench.data import PairBenchmark, load_benchmark, load_genai_bench, load_table_benchmark, load_videoalign

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "metrics"))
from metrics_reference import reference_python  # noqa: E402

DIMS = ("VQ", "MQ", "TA", "Overall")
N_PAIRS = 24


def _write_bench(folder: Path, permutation: np.ndarray) -> tuple[Path, Path]:
    """A VideoGen-RewardBench-format CSV (rows in ``permutation`` order) and a per-video scores file whose scores
    sit on a 0.5 grid, so |margin| values repeat and the reference walk depends on the row order (seed 7 makes it
    do so in every dimension)."""
    rng = np.random.default_rng(7)
    labels = rng.choice(["A", "B", "same"], size=(N_PAIRS, 4))
    score_a, score_b = rng.integers(0, 4, (N_PAIRS, 4)) / 2, rng.integers(0, 4, (N_PAIRS, 4)) / 2
    folder.mkdir(parents=True, exist_ok=True)
    rows = [[f"videos/{i}_a.mp4", f"videos/{i}_b.mp4", "gen-1", "gen-2", f"prompt {i}", 8, 16, 8, 16, *labels[i]]
            for i in permutation]
    bench = write_csv(folder / "bench.csv", VGRB_HEADER, rows)
    videos = [[f"videos/{i}_{side}.mp4", *scores[i]] for i in range(N_PAIRS)
              for side, scores in (("a", score_a), ("b", score_b))]
    scores = write_csv(folder / "scores.csv", ["video", *DIMS], videos)
    return bench, scores


def _published_walk(bench: Path, scores: Path) -> dict[str, float]:
    """The published algorithm on the file as given: labels and margins read here with the csv module, in file
    order, then the pure-Python transcription of VideoAlign's walk."""
    with scores.open() as f:
        by_video = {r["video"]: r for r in csv.DictReader(f)}
    with bench.open() as f:
        rows = list(csv.DictReader(f))
    out = {}
    for dim in DIMS:
        h = [{"A": 1, "B": -1, "same": 0}[r[dim]] for r in rows]
        m = [float(by_video[r["path_A"]][dim]) - float(by_video[r["path_B"]][dim]) for r in rows]
        out[dim] = reference_python(h, m)[0]
    return out


def _cli_eval(bench: Path, scores: Path, out: Path) -> dict:
    cmd = [sys.executable, "-m", "videobench", "eval", "--bench", str(bench), "--scores", str(scores), "-o", str(out),
           "--n-resamples", "200", "--no-report", "--quiet"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads((out / "scores.json").read_text())["dimensions"]


def test_reference_mode_walks_the_file_order_through_the_cli(tmp_path: Path) -> None:
    given = np.arange(N_PAIRS)
    shuffled = given[::-1]  # reversed
    bench, scores = _write_bench(tmp_path / "given", given)
    bench_s, scores_s = _write_bench(tmp_path / "shuffled", shuffled)
    expected, expected_s = _published_walk(bench, scores), _published_walk(bench_s, scores_s)
    assert all(expected[d] != expected_s[d] for d in DIMS)  # the file is order sensitive in every dimension

    res, res_s = _cli_eval(bench, scores, tmp_path / "out"), _cli_eval(bench_s, scores_s, tmp_path / "out_s")
    for dim in DIMS:
        assert res[dim]["accuracy_with_ties_reference"]["value"] == expected[dim]  # bit for bit
        assert res_s[dim]["accuracy_with_ties_reference"]["value"] == expected_s[dim]
        # grouped mode, the seeded CIs (reference mode's included) and cross-fitting do not see the order
        for key in ("accuracy_without_ties", "accuracy_with_ties", "epsilon", "accuracy_with_ties_crossfit"):
            assert res[dim][key] == res_s[dim][key], (dim, key)
        ref, ref_s = res[dim]["accuracy_with_ties_reference"], res_s[dim]["accuracy_with_ties_reference"]
        assert (ref["ci_low"], ref["ci_high"]) == (ref_s["ci_low"], ref_s["ci_high"])


def test_every_loader_records_the_file_row_order(tmp_path: Path) -> None:
    import datasets

    order = np.random.default_rng(1).permutation(N_PAIRS)
    bench_csv, _ = _write_bench(tmp_path / "vgrb", order)
    expected_ids = load_benchmark(bench_csv).pairs["pair_id"].tolist()  # in file order

    def in_row_order(b: PairBenchmark) -> list[str]:
        return b.pairs.iloc[b.file_order()]["pair_id"].tolist()

    frame = pd.read_csv(bench_csv)
    # the same rows as JSONL and Parquet (generic contract names via a mapping would work alike)
    frame.to_json(tmp_path / "b.jsonl", orient="records", lines=True)
    frame.to_parquet(tmp_path / "b.parquet")
    saved = tmp_path / "saved"
    datasets.DatasetDict({"test": datasets.Dataset.from_pandas(frame)}).save_to_disk(str(saved))
    data_folder = tmp_path / "datafolder"
    data_folder.mkdir()
    shutil.copy(bench_csv, data_folder / "videogen-rewardbench.csv")
    for spec in (bench_csv, tmp_path / "b.jsonl", tmp_path / "b.parquet", saved, data_folder):
        bench = load_benchmark(spec)
        assert in_row_order(bench) == expected_ids, spec
        # the frame is shuffled: the recorded order survives
        shuffled = PairBenchmark(bench.name, bench.pairs.sample(frac=1.0, random_state=0), bench.dimensions)
        assert in_row_order(shuffled) == expected_ids, spec
    # a table built by hand without ``row`` takes its own row order
    plain = PairBenchmark("x", frame.rename(columns={"path_A": "video_A", "path_B": "video_B"})
                          .assign(pair_id=[f"id{i}" for i in range(N_PAIRS)]), ("VQ",))
    assert plain.pairs["row"].tolist() == list(range(N_PAIRS))


def test_row_order_through_dedupe_and_other_formats(tmp_path: Path) -> None:
    header = ["path_A", "path_B", "prompt", "VQ"]
    rows = [["v/3.mp4", "v/4.mp4", "b", "A"], ["v/1.mp4", "v/2.mp4", "a", "B"], ["v/3.mp4", "./v/4.mp4", "b", "A"],
            ["v/5.mp4", "v/6.mp4", "c", "same"]]
    bench = load_videoalign(write_csv(tmp_path / "train.csv", header, rows), dedupe=True)
    assert bench.excluded == {"duplicate_rows": 1}
    # the repeat (third data row) is gone; the kept rows keep their places in the file
    assert bench.pairs["row"].tolist() == [0, 1, 3]
    assert bench.pairs["prompt"].tolist() == ["b", "a", "c"]

    votes = [["a pig", "v/7.mp4", "v/8.mp4", "tievote"], ["a cat", "v/1.mp4", "v/2.mp4", "leftvote"]]
    genai = load_genai_bench(write_csv(tmp_path / "votes.csv", ["prompt", "left_video", "right_video", "vote_type"],
                                       votes))
    assert genai.pairs.iloc[genai.file_order()]["prompt"].tolist() == ["a pig", "a cat"]
    generic = tmp_path / "g.jsonl"
    generic.write_text("\n".join(json.dumps({"id": i, "prompt": p, "video_A": f"x/{i}a", "video_B": f"x/{i}b",
                                             "label_VQ": 1}) for i, p in ((9, "z"), (2, "y"), (5, "x"))) + "\n")
    loaded = load_table_benchmark(generic, columns="pair_id=id")
    assert loaded.pairs.iloc[loaded.file_order()]["pair_id"].tolist() == ["9", "2", "5"]


def test_hub_dataset_keeps_the_published_row_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import datasets

    order = np.random.default_rng(2).permutation(N_PAIRS)
    bench_csv, _ = _write_bench(tmp_path, order)
    monkeypatch.setattr(datasets, "load_dataset",
                        lambda repo_id, config=None, revision=None, split=None:
                        datasets.Dataset.from_pandas(pd.read_csv(bench_csv)))
    hub = load_benchmark("someone/bench@v1")
    assert hub.pairs.iloc[hub.file_order()]["prompt"].tolist() == [f"prompt {i}" for i in order]
