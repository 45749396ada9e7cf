"""``videobench.evaluation``: metrics wiring, n/a dimensions, derived Overall, exclusions, order invariance, files."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import json
import warnings

from videobench import metrics
from videobench.data.benchmark import PairBenchmark
from videobench.evaluation import (
    derive_overall,
    evaluate_margins,
    evaluate_pair_scores,
    evaluate_video_scores,
    random_video_scores,
    save_evaluation,
)
from videobench.results import ModelInfo, load_result, result_to_dict
from videobench.scores_file import ScoresFileError

DIMS = ("VQ", "MQ", "TA", "Overall")
FAST = {"n_resamples": 60, "seed": 3}


def make_bench(n: int = 80, seed: int = 0) -> tuple[PairBenchmark, pd.DataFrame]:
    """A benchmark over 40 videos and 16 prompts, plus per-video scores that agree with the labels fairly often."""
    rng = np.random.default_rng(seed)
    videos = [f"v/{i:02d}.mp4" for i in range(40)]
    quality = {v: rng.normal(size=3) for v in videos}
    rows = []
    for i in range(n):
        a, b = rng.choice(len(videos), size=2, replace=False)
        va, vb = videos[a], videos[b]
        diff = quality[va] - quality[vb] + rng.normal(0, 0.7, size=3)
        labels = [0 if abs(d) < 0.4 else int(np.sign(d)) for d in diff]
        overall = diff.sum()
        rows.append({"pair_id": f"pair-{i:03d}", "prompt": f"prompt {i % 16}", "video_A": va, "video_B": vb,
                     "label_VQ": labels[0], "label_MQ": labels[1], "label_TA": labels[2],
                     "label_Overall": 0 if abs(overall) < 0.6 else int(np.sign(overall))})
    pairs = pd.DataFrame(rows)
    for d in DIMS:
        pairs[f"label_{d}"] = pairs[f"label_{d}"].astype(np.int8)
    bench = PairBenchmark("synthetic", pairs, DIMS, root=None, source="memory")
    # Scores rounded to one decimal: many repeated |margins|, the case where input order could matter.
    scores = pd.DataFrame({"video": videos, **{d: [round(float(quality[v][j] + rng.normal(0, 0.5)), 1) for v in videos]
                                               for j, d in enumerate(("VQ", "MQ", "TA"))}})
    return bench, scores


def info(dims=("VQ", "MQ", "TA"), name: str = "m") -> ModelInfo:
    return ModelInfo(name=name, spec=f"test:{name}", fingerprint="sha256:test", dimensions=list(dims))


def test_metrics_match_the_library_and_overall_is_derived() -> None:
    bench, scores = make_bench()
    result, per_pair, per_video = evaluate_video_scores(bench, scores, info(), **FAST)
    assert result.provenance["overall_rule"]["derived_from"] == ["VQ", "MQ", "TA"]
    # Independent oracle for the paper's rule: scipy's population z-score per dimension, summed.
    z = sum(stats.zscore(per_video[d].to_numpy(dtype=float), ddof=0) for d in ("VQ", "MQ", "TA"))
    expected = {row.video: row.VQ for row in per_video.itertuples()}
    margin_vq = np.array([expected[a] - expected[b] for a, b in zip(bench.pairs.video_A, bench.pairs.video_B)])
    np.testing.assert_allclose(per_pair["margin_VQ"], margin_vq)
    overall_of = dict(zip(per_video.video, z))
    np.testing.assert_allclose(per_pair["margin_Overall"],
                               [overall_of[a] - overall_of[b] for a, b in zip(bench.pairs.video_A, bench.pairs.video_B)])
    for d in DIMS:
        labels, margins = bench.labels(d), per_pair[f"margin_{d}"].to_numpy()
        res = result.dimensions[d]
        assert res.available and res.n_pairs == len(bench) and res.n_excluded == 0
        assert res.accuracy_without_ties.value == pytest.approx(metrics.accuracy_without_ties(labels, margins))
        grouped = metrics.accuracy_with_ties(labels, margins, mode="grouped")
        assert res.accuracy_with_ties.value == pytest.approx(grouped.value)
        assert res.accuracy_with_ties_reference.value == pytest.approx(
            metrics.accuracy_with_ties(labels, margins, mode="reference").value)
        assert res.accuracy_with_ties_crossfit.value is not None
        assert res.accuracy_without_ties.ci_low <= res.accuracy_without_ties.value <= res.accuracy_without_ties.ci_high
        assert res.human_tie_rate == pytest.approx(np.mean(labels == 0))
    wo = [result.dimensions[d].accuracy_without_ties.value for d in DIMS]
    wt = [result.dimensions[d].accuracy_with_ties.value for d in DIMS]
    assert result.averages["without_ties"] == pytest.approx(np.mean(wo))
    assert result.averages["with_ties"] == pytest.approx(np.mean(wt))
    assert result.averages["overall"] == pytest.approx((np.mean(wo) + np.mean(wt)) / 2)
    # The synthetic model is informative: clearly better than a coin on every dimension.
    assert min(wo) > 0.6


def test_derived_overall_by_hand() -> None:
    # VQ 1,2,3: mean 2, population std sqrt(2/3) -> z = -sqrt(1.5), 0, +sqrt(1.5).
    # MQ constant: adds nothing (no division by zero).
    # TA 0,0,6: mean 2, population std sqrt(8) -> z = -1/sqrt(2), -1/sqrt(2), +sqrt(2).
    scores = pd.DataFrame({"VQ": [1.0, 2.0, 3.0], "MQ": [4.0, 4.0, 4.0], "TA": [0.0, 0.0, 6.0]})
    r15, r2 = np.sqrt(1.5), np.sqrt(2.0)
    np.testing.assert_allclose(derive_overall(scores, ["VQ", "MQ", "TA"]), [-r15 - 1 / r2, -1 / r2, r15 + r2])
    # Scale matters only through z: VQ x 100 gives the same Overall.
    np.testing.assert_allclose(derive_overall(scores.assign(VQ=scores.VQ * 100), ["VQ", "MQ", "TA"]),
                               [-r15 - 1 / r2, -1 / r2, r15 + r2])
    # A NaN score is left out of the mean and std of its dimension and makes only its own row NaN:
    # VQ 1,NaN,3 -> mean 2, std 1 -> z = -1, NaN, +1.
    with_nan = derive_overall(scores.assign(VQ=[1.0, np.nan, 3.0]), ["VQ", "TA"])
    assert np.isnan(with_nan[1])
    np.testing.assert_allclose(with_nan[[0, 2]], [-1 - 1 / r2, 1 + r2])


def test_missing_dimension_is_not_available_never_fifty_percent() -> None:
    bench, scores = make_bench()
    result, per_pair, _ = evaluate_video_scores(bench, scores[["video", "VQ"]], info(("VQ",)), **FAST)
    assert result.dimensions["VQ"].available
    for d in ("MQ", "TA", "Overall"):  # one dimension: no derived Overall
        res = result.dimensions[d]
        assert not res.available
        assert res.accuracy_without_ties.value is None and res.accuracy_with_ties.value is None
        assert res.accuracy_with_ties_crossfit is None and res.epsilon is None
        assert f"margin_{d}" not in per_pair.columns
    assert result.averages["without_ties"] is None and result.averages["overall"] is None
    own_overall = scores.assign(Overall=scores["VQ"])
    result, _, _ = evaluate_video_scores(bench, own_overall, info(("VQ", "MQ", "TA", "Overall")), **FAST)
    assert "overall_rule" not in result.provenance  # the model's own Overall is used as given


def test_nan_margins_exclude_pairs_and_are_counted() -> None:
    bench, _ = make_bench()
    rng = np.random.default_rng(1)
    margins = {d: rng.normal(size=len(bench)) for d in ("VQ", "MQ")}
    margins["VQ"][[3, 10]] = np.nan
    result, per_pair = evaluate_margins(bench, margins, info(("VQ", "MQ")), **FAST)
    vq = result.dimensions["VQ"]
    assert vq.n_pairs == len(bench) - 2 and vq.n_excluded == 2
    assert vq.excluded_pair_ids == ["pair-003", "pair-010"]
    keep = np.isfinite(margins["VQ"])
    assert vq.accuracy_without_ties.value == pytest.approx(
        metrics.accuracy_without_ties(bench.labels("VQ")[keep], margins["VQ"][keep]))
    assert per_pair["prediction_VQ"].isna().sum() == 2 and result.dimensions["MQ"].n_excluded == 0
    with pytest.raises(ValueError, match="shape"):
        evaluate_margins(bench, {"VQ": np.zeros(3)}, info(("VQ",)))
    with pytest.raises(ValueError, match="lacks"):
        evaluate_margins(bench, {"XX": np.zeros(len(bench))}, info(("XX",)))


def test_result_does_not_depend_on_pair_order() -> None:
    bench, scores = make_bench()
    result, per_pair, _ = evaluate_video_scores(bench, scores, info(), **FAST)
    perm = np.random.default_rng(7).permutation(len(bench))
    shuffled = PairBenchmark("synthetic", bench.pairs.iloc[perm].reset_index(drop=True), DIMS, None, "memory")
    result2, per_pair2, _ = evaluate_video_scores(shuffled, scores.sample(frac=1, random_state=2), info(), **FAST)
    assert asdict(result)["dimensions"] == asdict(result2)["dimensions"]
    assert result.averages == result2.averages
    pd.testing.assert_frame_equal(per_pair.set_index("pair_id").sort_index(),
                                  per_pair2.set_index("pair_id").sort_index())


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    bench, scores = make_bench()
    result, per_pair, per_video = evaluate_video_scores(bench, scores, info(), **FAST)
    path = save_evaluation(result, per_pair, tmp_path / "out", "m", per_video=per_video)
    loaded = load_result(path)
    assert result_to_dict(loaded) == result_to_dict(result)
    # Not only a round trip: the file itself carries the numbers, checked against plain-Python counts.
    raw = json.loads(path.read_text())
    labels, margins = bench.labels("VQ"), per_pair["margin_VQ"].to_numpy()
    vq = raw["dimensions"]["VQ"]
    decided = labels != 0  # human ties left out; a zero margin counts as wrong
    assert vq["accuracy_without_ties"]["value"] == pytest.approx(np.mean(labels[decided] * margins[decided] > 0))
    assert vq["n_pairs"] == 80 and vq["n_ties"] == int(np.sum(labels == 0))
    assert raw["model"]["dimensions"] == ["VQ", "MQ", "TA"] and raw["benchmark"]["n_pairs"] == 80
    assert loaded.per_pair_file == "m.pairs.parquet" and loaded.per_video_file == "m.videos.parquet"
    pairs = pd.read_parquet(path.parent / loaded.per_pair_file)
    assert {"pair_id", "prompt", "margin_VQ", "label_VQ", "prediction_VQ", "prediction_ties_VQ"} <= set(pairs.columns)
    videos = pd.read_parquet(path.parent / loaded.per_video_file)
    assert list(videos.columns) == ["video", "prompt", "VQ", "MQ", "TA", "Overall"]
    prov = loaded.provenance
    assert prov["seeds"] == {"bootstrap": 3, "crossfit": 3} and "versions" in prov and prov["n_resamples"] == 60
    assert loaded.benchmark.fingerprint == bench.fingerprint() and loaded.benchmark.n_pairs == len(bench)
    assert not list((tmp_path / "out").glob(".*"))  # no temp files left behind


def test_pair_scores_match_video_scores() -> None:
    bench, scores = make_bench()
    by_video = scores.set_index("video")
    pair_scores = {d: (by_video.loc[bench.pairs.video_A, d].to_numpy(), by_video.loc[bench.pairs.video_B, d].to_numpy())
                   for d in ("VQ", "MQ", "TA")}
    r_pairs, per_pair = evaluate_pair_scores(bench, pair_scores, info(), **FAST)
    r_videos, _, _ = evaluate_video_scores(bench, scores, info(), **FAST)
    for d in ("VQ", "MQ", "TA"):
        assert asdict(r_pairs.dimensions[d]) == asdict(r_videos.dimensions[d])
    assert r_pairs.dimensions["Overall"].available and "score_A_Overall" in per_pair.columns


def test_random_baseline_is_seeded_per_video() -> None:
    bench, _ = make_bench()
    full = random_video_scores(bench, seed=5).drop(columns="prompt")
    assert (full.groupby("video").nunique() == 1).all().all()  # one score per video, whatever the prompt
    full = full.groupby("video").first()
    part = PairBenchmark("part", bench.pairs.iloc[:5].reset_index(drop=True), DIMS, None, "memory")
    sub = random_video_scores(part, seed=5).drop(columns="prompt").groupby("video").first()
    pd.testing.assert_frame_equal(sub, full.loc[sub.index])
    other = random_video_scores(bench, seed=6).drop(columns="prompt").groupby("video").first()
    assert not np.allclose(other["VQ"], full["VQ"])
    result, _, _ = evaluate_video_scores(bench, random_video_scores(bench, 0), info(DIMS, "random"), **FAST)
    assert all(0.25 < result.dimensions[d].accuracy_without_ties.value < 0.75 for d in DIMS)


def test_pair_scores_overall_provenance_and_unavailable_dimensions_by_hand() -> None:
    # 4 pairs, labels worked out below; the model scores VQ and MQ per pair, not TA.
    pairs = pd.DataFrame({"pair_id": [f"p{i}" for i in range(4)], "prompt": ["a", "a", "b", "b"],
                          "video_A": ["a0", "a1", "a2", "a3"], "video_B": ["b0", "b1", "b2", "b3"],
                          "label_VQ": [1, -1, 1, 0], "label_MQ": [1, 1, -1, 1], "label_TA": [0, 0, 0, -1],
                          "label_Overall": [1, -1, 0, 1]})
    for d in ("VQ", "MQ", "TA", "Overall"):
        pairs[f"label_{d}"] = pairs[f"label_{d}"].astype(np.int8)
    bench = PairBenchmark("hand", pairs, ("VQ", "MQ", "TA", "Overall"), root=None, source="memory")
    vq = (np.array([3.0, 1.0, 2.0, 2.0]), np.array([1.0, 3.0, 2.0, 2.0]))
    mq = (np.array([0.0, 0.0, 0.0, 0.0]), np.array([0.0, 0.0, 0.0, 8.0]))
    result, per_pair = evaluate_pair_scores(bench, {"VQ": vq, "MQ": mq}, info(("VQ", "MQ"), "pairs"),
                                            extra_provenance={"note": "by hand"}, **FAST)
    # Overall standardises each dimension over all 8 scores. VQ 3,1,2,2,1,3,2,2: mean 2, population std 1/sqrt(2)
    # -> z = +-sqrt(2) or 0. MQ seven 0s and one 8: mean 1, std sqrt(7) -> z = -1/sqrt(7), and 7/sqrt(7) for the 8.
    r2, r7 = np.sqrt(2.0), np.sqrt(7.0)
    overall_a = np.array([r2, -r2, 0.0, 0.0]) - 1 / r7
    overall_b = np.array([-r2, r2, 0.0, 0.0]) + np.array([-1, -1, -1, 7]) / r7
    np.testing.assert_allclose(per_pair["score_A_Overall"], overall_a)
    np.testing.assert_allclose(per_pair["margin_Overall"], overall_a - overall_b)  # 2r2, -2r2, 0, -8/r7
    np.testing.assert_allclose(per_pair["score_B_MQ"], [0, 0, 0, 8])
    prov = result.provenance
    assert prov["overall_rule"] == {
        "derived_from": ["VQ", "MQ"],
        "rule": "sum of the model's per-dimension scores, each standardised (z-score) over the evaluated pair scores"}
    assert prov["note"] == "by hand"
    # Overall labels 1, -1, 0, 1 against margins +, -, 0, -: pairs 0 and 1 right, pair 3 wrong -> 2/3 without ties.
    assert result.dimensions["Overall"].accuracy_without_ties.value == pytest.approx(2 / 3)
    # TA was not scored: unavailable, with the benchmark's own counts (3 ties of 4 pairs), never a made-up number.
    ta = result.dimensions["TA"]
    assert (ta.available, ta.n_pairs, ta.n_ties, ta.human_tie_rate) == (False, 4, 3, 0.75)
    assert (ta.accuracy_without_ties.value, ta.accuracy_with_ties.value, ta.epsilon) == (None, None, None)
    assert ta.accuracy_with_ties_reference is None and ta.epsilon_reference is None
    assert ta.accuracy_with_ties_crossfit is None
    own, _ = evaluate_pair_scores(bench, {"VQ": vq, "MQ": mq}, info(("VQ", "MQ"), "pairs"),
                                  derive_overall_score=False, **FAST)
    assert "overall_rule" not in own.provenance and not own.dimensions["Overall"].available
    with pytest.raises(ValueError, match="^test:pairs: none of its dimensions"):
        evaluate_pair_scores(bench, {"vision": vq}, info(("vision",), "pairs"))


def test_random_baseline_on_an_empty_benchmark_has_the_columns_and_no_rows() -> None:
    empty = PairBenchmark("empty", make_bench()[0].pairs.iloc[:0], DIMS, root=None, source="memory")
    out = random_video_scores(empty, seed=1, dimensions=["VQ", "MQ"])
    assert len(out) == 0 and {"video", "VQ", "MQ"} <= set(out.columns)


def test_video_score_inputs_and_missing_videos_by_hand() -> None:
    # 2 pairs over videos a, b, c; scores given as {dim: {video: score}} (the mapping form).
    pairs = pd.DataFrame({"pair_id": ["p0", "p1"], "prompt": ["x", "y"], "video_A": ["a", "b"], "video_B": ["b", "c"],
                          "label_VQ": np.array([1, -1], dtype=np.int8)})
    bench = PairBenchmark("tiny", pairs, ("VQ",), root=None, source="memory")
    result, per_pair, per_video = evaluate_video_scores(bench, {"VQ": {"a": 3, "b": 2, "c": 5}}, info(("VQ",)), **FAST)
    np.testing.assert_allclose(per_pair["margin_VQ"], [1.0, -3.0])  # 3-2 and 2-5: both right
    assert result.dimensions["VQ"].accuracy_without_ties.value == 1.0
    assert per_video["VQ"].dtype == float
    # The same as a table with a prompt column: looked up by (video, prompt); a frame index is never a key.
    table = pd.DataFrame({"video": ["a", "b", "b", "c"], "prompt": ["x", "x", "y", "y"], "VQ": [3.0, 2.0, 9.0, 5.0]},
                         index=[7, 8, 9, 10])
    _, per_pair2, _ = evaluate_video_scores(bench, table, info(("VQ",)), **FAST)
    np.testing.assert_allclose(per_pair2["margin_VQ"], [1.0, 4.0])  # b scores 9 for prompt y
    # Missing videos: every one named once, with the count, in one error; allow_missing turns them into exclusions.
    with pytest.raises(ValueError) as err:
        evaluate_video_scores(bench, {"VQ": {"a": 1.0}}, info(("VQ",)), **FAST)
    # 4 items: (video, prompt) = a/x, b/x, b/y, c/y; b is named once
    assert str(err.value) == "no scores for 2 of 4 benchmark videos for model 'm': 'b', 'c'"
    with pytest.raises(ValueError, match=r"no scores for 1 of 4 benchmark videos for model 'm': 'c / y'$"):
        evaluate_video_scores(bench, table.iloc[:3], info(("VQ",)), **FAST)
    partial, _, _ = evaluate_video_scores(bench, {"VQ": {"a": 3.0, "b": 2.0}}, info(("VQ",)), allow_missing=True,
                                          **FAST)
    assert partial.dimensions["VQ"].n_excluded == 1 and partial.dimensions["VQ"].excluded_pair_ids == ["p1"]
    with pytest.raises(ValueError, match=r"^video scores need a 'video' column; got \['clip', 'VQ'\]$"):
        evaluate_video_scores(bench, pd.DataFrame({"clip": ["a"], "VQ": [1.0]}), info(("VQ",)))
    with pytest.raises(ValueError, match=r"^video scores lack the column\(s\) \['MQ'\] that model 'm' declares$"):
        evaluate_video_scores(bench, {"VQ": {"a": 1.0}}, info(("VQ", "MQ")))


def test_random_baseline_value_is_pinned_by_an_independent_computation() -> None:
    # The documented seeding: N(0, 1) from numpy's default_rng, seeded by the first 8 bytes (little-endian) of
    # sha256("<seed>\x1f<video>"). Written out here with hashlib and numpy, not with our helpers.
    import hashlib

    pairs = pd.DataFrame({"pair_id": ["p"], "prompt": ["x"], "video_A": ["v/a.mp4"], "video_B": ["v/b.mp4"],
                          "label_VQ": np.array([1], dtype=np.int8)})
    bench = PairBenchmark("one", pairs, ("VQ",), root=None, source="memory")
    out = random_video_scores(bench, seed=7, dimensions=["VQ", "MQ"]).set_index("video")
    for video in ("v/a.mp4", "v/b.mp4"):
        seed = int.from_bytes(hashlib.sha256(f"7\x1f{video}".encode()).digest()[:8], "little")
        np.testing.assert_array_equal(out.loc[video, ["VQ", "MQ"]].to_numpy(float),
                                      np.random.default_rng(seed).standard_normal(2))


def test_margins_wiring_cis_predictions_averages_and_provenance() -> None:
    # The CIs must be the prompt-clustered bootstrap with the caller's level, seed and resamples (bootstrap_ci has
    # its own loop oracle in tests/metrics); predictions and averages are checked by hand.
    bench, _ = make_bench()
    rng = np.random.default_rng(2)
    margins = {d: np.round(rng.normal(size=len(bench)), 1) for d in ("VQ", "MQ", "TA", "Overall")}
    result, per_pair = evaluate_margins(bench, margins, info(DIMS), n_resamples=80, level=0.9, seed=11, folds=4)
    # pairs in pair_id order and prompts coded in sorted order: the result does not depend on the file's row order
    order = np.argsort(bench.pairs["pair_id"].to_numpy(), kind="stable")
    codes = np.unique(bench.pairs["prompt"].to_numpy()[order], return_inverse=True)[1]
    for d in DIMS:
        labels, m, res = bench.labels(d), margins[d], result.dimensions[d]
        ci = metrics.bootstrap_ci("accuracy_without_ties", labels[order], m[order], clusters=codes, n_resamples=80,
                                  level=0.9, seed=11)
        est = res.accuracy_without_ties
        assert (est.ci_low, est.ci_high, est.level) == pytest.approx((ci.low, ci.high, 0.9))
        grouped = metrics.accuracy_with_ties(labels, m)
        reference_eps = metrics.accuracy_with_ties(labels, m, mode="reference").epsilon

        def finite_or_none(x):  # -inf (never predict a tie) is stored as None
            return float(x) if np.isfinite(x) else None

        assert res.epsilon == pytest.approx(finite_or_none(grouped.epsilon))
        assert res.epsilon_reference == pytest.approx(finite_or_none(reference_eps))
        # predictions by hand: the sign of the margin; with ties, |margin| <= epsilon (inclusive) predicts a tie
        np.testing.assert_array_equal(per_pair[f"prediction_{d}"].to_numpy(float), np.sign(m))
        expected_ties = np.where(np.abs(m) <= grouped.epsilon, 0, np.sign(m))
        np.testing.assert_array_equal(per_pair[f"prediction_ties_{d}"].to_numpy(float), expected_ties)
        assert str(per_pair[f"prediction_ties_{d}"].dtype) == "Int8"  # nullable: an excluded pair has none
    wo = [result.dimensions[d].accuracy_without_ties.value for d in DIMS]
    ref = [result.dimensions[d].accuracy_with_ties_reference.value for d in DIMS]
    assert result.averages["with_ties_reference"] == pytest.approx(sum(ref) / 4)
    assert result.averages["overall_reference"] == pytest.approx((sum(wo) / 4 + sum(ref) / 4) / 2)
    prov = result.provenance
    assert (prov["n_resamples"], prov["level"], prov["folds"], prov["seeds"]) == (80, 0.9, 4,
                                                                                  {"bootstrap": 11, "crossfit": 11})
    assert prov["benchmark_excluded"] == {}
    defaults, _ = evaluate_margins(bench, margins, info(DIMS))
    assert (defaults.provenance["n_resamples"], defaults.provenance["level"], defaults.provenance["folds"],
            defaults.provenance["seeds"]) == (1000, 0.95, 5, {"bootstrap": 0, "crossfit": 0})


def test_crossfit_wiring_and_a_dimension_with_every_pair_excluded() -> None:
    bench, _ = make_bench()
    rng = np.random.default_rng(1)
    margins = {d: np.round(0.4 * bench.labels(d) + rng.normal(size=len(bench)), 1) for d in ("VQ", "TA")}
    margins["MQ"] = np.full(len(bench), np.nan)  # a model that could score none of the videos for MQ
    result, _ = evaluate_margins(bench, margins, info(("VQ", "MQ", "TA")), n_resamples=20, level=0.8, seed=7, folds=3)
    order = np.argsort(bench.pairs["pair_id"].to_numpy(), kind="stable")
    codes = np.unique(bench.pairs["prompt"].to_numpy()[order], return_inverse=True)[1]
    for d in ("VQ", "TA"):
        h, m = bench.labels(d)[order], margins[d][order]
        expected = metrics.accuracy_with_ties_crossfit(h, m, codes, folds=3, seed=7)
        if d == "TA":  # here the caller's folds and seed matter (so dropping either would show)
            assert expected not in (metrics.accuracy_with_ties_crossfit(h, m, codes, folds=5, seed=7),
                                    metrics.accuracy_with_ties_crossfit(h, m, codes, folds=3, seed=0))
        crossfit = result.dimensions[d].accuracy_with_ties_crossfit
        assert (crossfit.value, crossfit.level) == (pytest.approx(expected), 0.8)
    mq = result.dimensions["MQ"]  # available (the model has MQ) but nothing to measure
    assert (mq.available, mq.n_pairs, mq.n_ties, mq.n_excluded) == (True, 0, 0, len(bench))
    assert mq.excluded_pair_ids == sorted(bench.pairs["pair_id"]) and np.isnan(mq.human_tie_rate)
    assert mq.accuracy_without_ties.value is None and mq.accuracy_with_ties.value is None and mq.epsilon is None
    assert mq.accuracy_with_ties_reference is None and mq.accuracy_with_ties_crossfit is None
    assert all(v is None for v in result.averages.values())  # one dimension without a value: no averages
    # one pair left: measured (hand-worked: label and margin of that pair agree in sign)
    one = np.full(len(bench), np.nan)
    k = int(np.flatnonzero(bench.labels("VQ") != 0)[0])
    one[k] = float(bench.labels("VQ")[k])
    single = evaluate_margins(bench, {"VQ": one}, info(("VQ",)), n_resamples=5)[0].dimensions["VQ"]
    assert (single.n_pairs, single.n_excluded, single.human_tie_rate) == (1, len(bench) - 1, 0.0)
    assert single.accuracy_without_ties.value == 1.0


def test_averages_na_rule_and_benchmark_block_by_hand() -> None:
    # TA: every pair a human tie, so accuracy without ties has no pair to count (n/a) while accuracy with ties has
    # a value: the averages that use without-ties are None, the others are means.
    pairs = pd.DataFrame({"pair_id": ["p1", "p2", "p3", "p4"], "prompt": ["a", "b", "c", "d"],
                          "video_A": ["1", "2", "3", "4"], "video_B": ["5", "6", "7", "8"],
                          "label_VQ": np.array([1, -1, 1, 0], np.int8), "label_TA": np.zeros(4, np.int8)})
    bench = PairBenchmark("tiny", pairs, ("VQ", "TA"), None, source="hand", revision="rev-1")
    margins = {"VQ": np.array([0.5, -0.2, -0.1, 0.05]), "TA": np.array([0.3, -0.1, 0.2, 0.4])}
    result, _ = evaluate_margins(bench, margins, info(("VQ", "TA")), n_resamples=10)
    # VQ: without ties 2 of 3 right; with ties, eps = 0.05 makes p4 a correct tie: 3 of 4 (grouped and file walk)
    # TA: eps = 0.4 predicts every pair a tie: 4 of 4
    assert result.dimensions["VQ"].accuracy_without_ties.value == pytest.approx(2 / 3)
    assert result.dimensions["TA"].accuracy_without_ties.value is None
    assert result.averages == pytest.approx({"without_ties": None, "with_ties": 0.875, "overall": None,
                                             "with_ties_reference": 0.875, "overall_reference": None})
    assert result.dimensions["VQ"].accuracy_with_ties_crossfit.value is None  # 4 prompts, 5 folds: no honest split
    # VQ without margins: unavailable, its human tie rate still counted (1 tie in 4 pairs)
    vq = evaluate_margins(bench, {"TA": margins["TA"]}, info(("TA",)), n_resamples=5)[0].dimensions["VQ"]
    assert (vq.available, vq.n_pairs, vq.n_ties, vq.human_tie_rate) == (False, 4, 1, 0.25)
    assert asdict(result.benchmark) == {"name": "tiny", "fingerprint": bench.fingerprint(), "n_pairs": 4,
                                        "dimensions": ["VQ", "TA"], "source": "hand", "revision": "rev-1",
                                        "kind": "pairs", "n_videos": None}


def test_video_scores_may_repeat_a_key_only_with_the_same_scores() -> None:
    bench, scores = make_bench()
    first, _, first_videos = evaluate_video_scores(bench, scores, info(), **FAST)
    # e.g. two overlapping shards, each row saying which shard it came from
    repeated = pd.concat([scores.assign(shard=0), scores.head(3).assign(shard=1)], ignore_index=True)
    again, _, again_videos = evaluate_video_scores(bench, repeated, info(), **FAST)
    pd.testing.assert_frame_equal(again_videos, first_videos)
    assert asdict(again)["dimensions"] == asdict(first)["dimensions"]
    clashing = pd.concat([scores, scores.head(2).assign(VQ=99.0)], ignore_index=True)
    keys = [" / ".join(map(str, k)) if isinstance(k, tuple) else str(k) for k in
            scores.head(2)[[c for c in ("video", "prompt") if c in scores.columns]].itertuples(index=False, name=None)]
    with pytest.raises(ScoresFileError) as err:
        evaluate_video_scores(bench, clashing, info(), **FAST)
    assert str(err.value) == ("video scores give 2 key(s) different scores more than once: "
                              + ", ".join(repr(k) for k in keys))

# --- hand-worked tests written against the surviving mutants of the 4 Dec run (docs/contributing.md) ---

def tiny_bench() -> PairBenchmark:
    """5 pairs, 5 prompts, dimensions VQ, MQ, TA (labels chosen by hand below)."""
    pairs = pd.DataFrame({"pair_id": [f"p{i}" for i in range(1, 6)], "prompt": list("abcde"),
                          "video_A": [f"a{i}.mp4" for i in range(1, 6)], "video_B": [f"b{i}.mp4" for i in range(1, 6)],
                          "label_VQ": np.array([1, -1, 0, 1, 0], np.int8),
                          "label_MQ": np.array([1, -1, 1, -1, 1], np.int8),
                          "label_TA": np.array([0, 0, 1, 0, -1], np.int8)})
    return PairBenchmark("tiny5", pairs, ("VQ", "MQ", "TA"), None, source="hand")


def test_fixed_tie_threshold_per_pair_table_and_provenance_by_hand() -> None:
    bench = tiny_bench()
    vq = np.array([0.5, -0.05, 0.1, 0.1, np.nan])  # p5 unscored: excluded
    mq = [2, -1, 3, 1, 1]  # integers: margins are stored as floats
    result, per_pair = evaluate_margins(bench, {"VQ": vq, "MQ": mq}, info(("VQ", "MQ")), n_resamples=0, level=0.8,
                                        tie_threshold=0.1, command=["videobench", "evaluate", "x"])
    # |margin| <= 0.1 is a predicted tie: p1 +1 (right), p2 0 (wrong, human -1), p3 0 (right tie), p4 0 (wrong)
    res = result.dimensions["VQ"]
    assert (res.accuracy_with_ties_fixed.value, res.tie_threshold) == (0.5, 0.1)
    assert (res.accuracy_with_ties_fixed.ci_low, res.accuracy_with_ties_fixed.level) == (None, 0.8)
    # n_resamples=0: point values only, with the caller's level
    assert res.accuracy_without_ties == type(res.accuracy_without_ties)(1.0, None, None, 0.8)  # p1, p2 right
    # MQ: every margin agrees except p4 (1 vs human -1), none within 0.1
    assert result.dimensions["MQ"].accuracy_with_ties_fixed.value == pytest.approx(4 / 5)
    eps = metrics.accuracy_with_ties(bench.labels("VQ")[:4], vq[:4]).epsilon
    vq_ties = [0 if abs(x) <= eps else int(np.sign(x)) for x in vq[:4]] + [pd.NA]
    mq_eps = metrics.accuracy_with_ties(bench.labels("MQ"), np.asarray(mq, float)).epsilon
    mq_ties = [0 if abs(x) <= mq_eps else int(np.sign(x)) for x in mq]
    expected = pd.DataFrame({
        "pair_id": ["p1", "p2", "p3", "p4", "p5"], "prompt": list("abcde"),
        "video_A": [f"a{i}.mp4" for i in range(1, 6)], "video_B": [f"b{i}.mp4" for i in range(1, 6)],
        "label_VQ": np.array([1, -1, 0, 1, 0], np.int8), "margin_VQ": vq,
        "prediction_VQ": pd.array([1, -1, 1, 1, pd.NA], dtype="Int8"),
        "prediction_ties_VQ": pd.array(vq_ties, dtype="Int8"),
        "prediction_fixed_VQ": pd.array([1, 0, 0, 0, pd.NA], dtype="Int8"),
        "label_MQ": np.array([1, -1, 1, -1, 1], np.int8), "margin_MQ": [2.0, -1.0, 3.0, 1.0, 1.0],
        "prediction_MQ": pd.array([1, -1, 1, 1, 1], dtype="Int8"),
        "prediction_ties_MQ": pd.array(mq_ties, dtype="Int8"),
        "prediction_fixed_MQ": pd.array([1, -1, 1, 1, 1], dtype="Int8"),
        "label_TA": np.array([0, 0, 1, 0, -1], np.int8)})  # TA not scored: its labels only
    pd.testing.assert_frame_equal(per_pair, expected)
    prov = result.provenance
    assert (prov["tie_threshold"], prov["command"]) == (0.1, ["videobench", "evaluate", "x"])
    # TA n/a: no average is comparable
    assert result.averages["with_ties_fixed"] is None and result.averages["overall_fixed"] is None
    plain, _ = evaluate_margins(bench, {"VQ": vq}, info(("VQ",)), n_resamples=0)
    assert "tie_threshold" not in plain.provenance and plain.dimensions["VQ"].accuracy_with_ties_fixed is None
    assert "with_ties_fixed" not in plain.averages
    with pytest.raises(ValueError, match=r"^tie threshold must be a finite number >= 0, got -0.5$"):
        evaluate_margins(bench, {"VQ": vq}, info(("VQ",)), tie_threshold=-0.5)


def test_fixed_threshold_cis_are_the_clustered_bootstrap_of_each_statistic() -> None:
    bench, _ = make_bench()
    rng = np.random.default_rng(5)
    m = np.round(0.5 * bench.labels("VQ") + rng.normal(size=len(bench)), 1)
    result, _ = evaluate_margins(bench, {"VQ": m}, info(("VQ",)), n_resamples=40, level=0.9, seed=4, tie_threshold=0.3)
    order = np.argsort(bench.pairs["pair_id"].to_numpy(), kind="stable")
    codes = np.unique(bench.pairs["prompt"].to_numpy()[order], return_inverse=True)[1]
    h, mo = bench.labels("VQ")[order], m[order]
    res = result.dimensions["VQ"]
    fixed_value = float(np.mean(np.where(np.abs(mo) <= 0.3, h == 0, h * mo > 0)))  # by hand
    for name, est, kw in (("accuracy_with_ties_fixed", res.accuracy_with_ties_fixed, {"threshold": 0.3}),
                          ("accuracy_with_ties", res.accuracy_with_ties, {}),
                          ("accuracy_with_ties_reference", res.accuracy_with_ties_reference, {})):
        ci = metrics.bootstrap_ci(name, h, mo, clusters=codes, n_resamples=40, level=0.9, seed=4, **kw)
        assert (est.ci_low, est.ci_high, est.level) == pytest.approx((ci.low, ci.high, 0.9)), name
    assert res.accuracy_with_ties_fixed.value == pytest.approx(fixed_value)
    # cross-fitting folds deal whole prompts, not single pairs (here the two splits give different numbers)
    m1 = np.round(0.5 * bench.labels("VQ") + np.random.default_rng(1).normal(size=len(bench)), 1)
    by_prompt = metrics.accuracy_with_ties_crossfit(h, m1[order], codes, folds=3, seed=7)
    assert by_prompt != metrics.accuracy_with_ties_crossfit(h, m1[order], None, folds=3, seed=7)
    crossfit = evaluate_margins(bench, {"VQ": m1}, info(("VQ",)), n_resamples=0, folds=3, seed=7)[0]
    assert crossfit.dimensions["VQ"].accuracy_with_ties_crossfit.value == pytest.approx(by_prompt)
    # a single resample still gives an interval (only n_resamples <= 0 skips it)
    one = evaluate_margins(bench, {"VQ": m}, info(("VQ",)), n_resamples=1)[0].dimensions["VQ"]
    assert one.accuracy_without_ties.ci_low is not None


def test_fixed_averages_by_hand() -> None:
    from videobench.evaluation import leaderboard_averages
    from videobench.results import DimensionResult, Estimate

    def dim(without, fixed):
        return DimensionResult(n_pairs=4, n_ties=1, human_tie_rate=0.25, accuracy_without_ties=Estimate(without),
                               accuracy_with_ties=Estimate(0.5), accuracy_with_ties_reference=Estimate(0.5),
                               accuracy_with_ties_fixed=Estimate(fixed), tie_threshold=0.1)

    averages = leaderboard_averages({"VQ": dim(0.6, 0.5), "MQ": dim(0.8, 0.7)})
    assert (averages["with_ties_fixed"], averages["overall_fixed"]) == pytest.approx((0.6, 0.65))
    # without-ties n/a on one dimension (all human ties) while the fixed accuracy has a value
    averages = leaderboard_averages({"VQ": dim(None, 0.5), "MQ": dim(0.8, 0.7)})
    assert averages["with_ties_fixed"] == pytest.approx(0.6) and averages["overall_fixed"] is None
    assert leaderboard_averages({}) == {"without_ties": None, "with_ties": None, "overall": None,
                                        "with_ties_reference": None, "overall_reference": None}


def test_dimension_name_errors_name_the_model_spec() -> None:
    bench = tiny_bench()
    scores = {"vq": {"a1.mp4": 1.0}}
    with pytest.raises(ScoresFileError) as err:
        evaluate_video_scores(bench, scores, info(("vq", "Extra")))
    assert str(err.value) == ("test:m: column(s) ['vq'] differ from the benchmark's dimension(s) ['VQ'] only in case; "
                              "dimension names are case-sensitive: rename them")
    with pytest.raises(ScoresFileError) as err:
        evaluate_video_scores(bench, scores, info(("Extra",)))
    assert str(err.value) == ("test:m: none of its dimensions ['Extra'] is a dimension of benchmark 'tiny5' "
                              "['VQ', 'MQ', 'TA']: rename the score columns to the benchmark's names")


def test_long_missing_and_clash_lists_are_cut_at_twenty() -> None:
    n = 21
    pairs = pd.DataFrame({"pair_id": [f"p{i:02d}" for i in range(n)], "prompt": ["x"] * n,
                          "video_A": [f"a{i:02d}" for i in range(n)], "video_B": [f"b{i:02d}" for i in range(n)],
                          "label_VQ": np.ones(n, np.int8)})
    bench = PairBenchmark("long", pairs, ("VQ",), None, source="hand")
    only_b = {"VQ": {f"b{i:02d}": 0.0 for i in range(n)}}
    with pytest.raises(ScoresFileError) as err:
        evaluate_video_scores(bench, only_b, info(("VQ",)))
    names = ", ".join(repr(f"a{i:02d}") for i in range(20))
    assert str(err.value) == f"no scores for 21 of 42 benchmark videos for model 'm': {names} ..."
    only_b["VQ"]["a20"] = 0.0  # exactly 20 missing: all named, no "..."
    with pytest.raises(ScoresFileError) as err:
        evaluate_video_scores(bench, only_b, info(("VQ",)))
    assert str(err.value) == f"no scores for 20 of 42 benchmark videos for model 'm': {names}"
    # clashing repeats, listed in table order (not sorted), keys with a prompt as "video / prompt"
    videos = [f"a{i:02d}" for i in range(n)][::-1] + [f"b{i:02d}" for i in range(n)]
    table = pd.DataFrame({"video": videos, "prompt": "x", "VQ": 1.0})
    clash = pd.concat([table, table.head(n).assign(VQ=2.0)], ignore_index=True)
    with pytest.raises(ScoresFileError) as err:
        evaluate_video_scores(bench, clash, info(("VQ",)))
    listed = ", ".join(repr(f"a{i:02d} / x") for i in range(20, 0, -1))
    assert str(err.value) == f"video scores give 21 key(s) different scores more than once: {listed} ..."
    clash = pd.concat([table, table.head(20).assign(VQ=2.0)], ignore_index=True)
    with pytest.raises(ScoresFileError) as err:
        evaluate_video_scores(bench, clash, info(("VQ",)))
    assert str(err.value) == f"video scores give 20 key(s) different scores more than once: {listed}"


def test_video_scores_options_overall_rule_and_input_forms() -> None:
    from videobench.evaluation import OVERALL_RULE

    bench, scores = make_bench()
    # integer scores and a frame indexed by its own video column: looked up as floats, the index ignored
    ints = scores.assign(VQ=(scores["VQ"] * 10).astype(int), Extra=1.0).set_index("video", drop=False)
    result, _, per_video = evaluate_video_scores(bench, ints, info(("VQ", "MQ", "TA", "Extra")),
                                                 extra_provenance={"run": 7}, **FAST)
    assert per_video["VQ"].dtype == np.float64
    assert result.provenance["run"] == 7
    only_ints = pd.DataFrame({"video": scores["video"], "VQ": np.arange(len(scores))})
    assert evaluate_video_scores(bench, only_ints, info(("VQ",)), **FAST)[2]["VQ"].dtype == np.float64
    # Overall from the benchmark's dimensions only (never from Extra, which the benchmark lacks)
    assert result.provenance["overall_rule"] == {"derived_from": ["VQ", "MQ", "TA"], "rule": OVERALL_RULE}
    kept, _, _ = evaluate_video_scores(bench, scores, info(), derive_overall_score=False, **FAST)
    assert kept.dimensions["Overall"].available is False and "overall_rule" not in kept.provenance


def test_pair_scores_columns_are_floats_and_model_is_recorded() -> None:
    bench = tiny_bench()
    model = info(("VQ",))
    result, per_pair = evaluate_pair_scores(bench, {"VQ": ([3, 1, 2, 5, 0], [1, 2, 2, 4, 1])}, model, n_resamples=0)
    assert result.model == model
    assert per_pair["score_A_VQ"].dtype == np.float64 and per_pair["score_B_VQ"].dtype == np.float64
    np.testing.assert_array_equal(per_pair["margin_VQ"], [2.0, -1.0, 0.0, 1.0, -1.0])


def test_derive_overall_of_a_never_scored_dimension_is_all_nan() -> None:
    frame = pd.DataFrame({"VQ": [1.0, 2.0, 3.0], "MQ": [np.nan, np.nan, np.nan]})
    out = derive_overall(frame, ["VQ", "MQ"])
    assert out.dtype == np.float64 and out.shape == (3,) and np.isnan(out).all()


def test_parquet_tables_carry_no_index() -> None:
    import pyarrow.parquet as pq
    import io as _io

    from videobench.evaluation import parquet_bytes

    frame = pd.DataFrame({"pair_id": ["p", "q"], "x": [1.0, 2.0]}, index=[5, 9])
    assert pq.read_table(_io.BytesIO(parquet_bytes(frame))).column_names == ["pair_id", "x"]


def test_random_baseline_default_seed_is_zero() -> None:
    bench = tiny_bench()
    pd.testing.assert_frame_equal(random_video_scores(bench), random_video_scores(bench, seed=0))
    assert not random_video_scores(bench).equals(random_video_scores(bench, seed=1))


def judge_bench() -> PairBenchmark:
    pairs = pd.DataFrame({"pair_id": [f"p{i}" for i in range(1, 7)], "prompt": list("abcdef"),
                          "video_A": [f"a{i}" for i in range(1, 7)], "video_B": [f"b{i}" for i in range(1, 7)],
                          "label_VQ": np.array([1, -1, 0, 1, -1, 1], np.int8)})
    return PairBenchmark("judge6", pairs, ("VQ",), None, source="hand")


def test_evaluate_verdicts_by_hand() -> None:
    from videobench.evaluation import evaluate_verdicts

    bench = judge_bench()
    nan = np.nan
    # verdicts relative to the video shown first; in BA the benchmark's B is shown first
    ab = np.array([1, -1, 0, nan, 1, 1])
    ba = np.array([-1, nan, 0, nan, -1, 1])
    # for A: AB as is, BA negated -> [1, nan, 0, nan, 1, -1]; margin = mean of the parsed ones
    # p1 1, p2 -1, p3 0, p4 none left (excluded), p5 1, p6 (1 - 1) / 2 = 0
    model = info(("VQ",))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a pair with no parsed verdict is NaN without a 0/0 warning
        result, per_pair = evaluate_verdicts(bench, {"AB": {"VQ": ab}, "BA": {"VQ": ba}}, model, judge={"model": "j"},
                                             n_resamples=0, extra_provenance={"run": 3})
    assert result.model == model and result.provenance["run"] == 3
    np.testing.assert_array_equal(per_pair["margin_VQ"], [1, -1, 0, nan, 1, 0])
    np.testing.assert_array_equal(per_pair["verdict_AB_VQ"], ab)
    np.testing.assert_array_equal(per_pair["verdict_BA_VQ"], -ba)
    res = result.dimensions["VQ"]
    # non-tie humans among p1 p2 p3 p5 p6: p1 right, p2 right, p5 wrong (human -1), p6 margin 0 counts wrong
    assert (res.n_pairs, res.n_excluded, res.excluded_pair_ids) == (5, 1, ["p4"])
    assert res.accuracy_without_ties.value == pytest.approx(2 / 4) and res.accuracy_without_ties.ci_low is None
    judge = result.provenance["judge"]
    assert judge["model"] == "j" and judge["unparseable"] == "exclude" and judge["orders"] == ["AB", "BA"]
    # firsts: AB parsed [1, -1, 0, 1, 1] and BA parsed [-1, 0, -1, 1]; decided 7, first shown chosen 4
    assert judge["answers"] == {"VQ": {
        "answers": 12, "unparseable": 3, "unparseable_by_order": {"AB": 1, "BA": 2}, "counted_as": "excluded",
        "position": {"pairs_with_both_orders": 4, "consistency": pytest.approx(3 / 4),
                     "first_shown_preferred": pytest.approx(4 / 7)}}}
    # unparseable as ties: p2 (-1 + 0) / 2, p4 0; p3's video unreadable: excluded and not an unparseable answer
    unreadable = [0, 0, 1, 0, 0, 0]  # a 0/1 list is a mask, not pair indices
    tie, tie_pairs = evaluate_verdicts(bench, {"AB": {"VQ": ab}, "BA": {"VQ": ba}}, info(("VQ",)),
                                       unparseable="tie", unreadable=unreadable, n_resamples=0)
    np.testing.assert_array_equal(tie_pairs["margin_VQ"], [1, -0.5, nan, 0, 1, 0])
    stat = tie.provenance["judge"]["answers"]["VQ"]
    assert (stat["answers"], stat["unparseable"], stat["counted_as"]) == (10, 3, "tie")
    assert tie.dimensions["VQ"].excluded_pair_ids == ["p3"]
    # one order, verdicts as a list of ints: no position statistics, verdict columns of floats
    single, single_pairs = evaluate_verdicts(bench, {"AB": {"VQ": [1, -1, 0, 1, 1, 1]}}, info(("VQ",)), n_resamples=0)
    assert single_pairs["verdict_AB_VQ"].dtype == np.float64
    assert single.provenance["judge"]["answers"]["VQ"]["unparseable_by_order"] == {"AB": 0}
    single, _ = evaluate_verdicts(bench, {"AB": {"VQ": ab}}, info(("VQ",)), n_resamples=0)
    assert "position" not in single.provenance["judge"]["answers"]["VQ"]
    assert single.provenance["judge"]["answers"]["VQ"]["unparseable_by_order"] == {"AB": 1}
    # nothing parsed in either order: no position shares to report
    none = np.full(6, np.nan)
    empty, _ = evaluate_verdicts(bench, {"AB": {"VQ": none}, "BA": {"VQ": none}}, info(("VQ",)), n_resamples=0)
    assert empty.provenance["judge"]["answers"]["VQ"]["position"] == {
        "pairs_with_both_orders": 0, "consistency": None, "first_shown_preferred": None}
    with pytest.raises(ScoresFileError, match=r"^test:m: column\(s\) \['vq'\] differ"):
        evaluate_verdicts(bench, {"AB": {"vq": ab}}, info(("VQ",)))
    with pytest.raises(ValueError, match=r"^unparseable='drop': choose exclude or tie$"):
        evaluate_verdicts(bench, {"AB": {"VQ": ab}}, info(("VQ",)), unparseable="drop")
    with pytest.raises(ValueError, match=r"^verdicts are keyed by order AB / BA, got \['CA'\]$"):
        evaluate_verdicts(bench, {"CA": {"VQ": ab}}, info(("VQ",)))
    with pytest.raises(ValueError, match=r"^verdicts\['AB'\]\['VQ'\] has shape \(2,\); the benchmark has 6 pairs$"):
        evaluate_verdicts(bench, {"AB": {"VQ": ab[:2]}}, info(("VQ",)))


def test_benchmark_dimensions_named_video_or_prompt_are_not_read_from_the_key_columns() -> None:
    # the per-video table's key columns are never taken for scores of a dimension with the same name
    pairs = pd.DataFrame({"pair_id": ["p0", "p1"], "prompt": ["x", "y"], "video_A": ["a", "b"], "video_B": ["b", "c"],
                          "label_VQ": np.array([1, -1], np.int8), "label_video": np.array([1, 1], np.int8),
                          "label_prompt": np.array([1, 1], np.int8)})
    bench = PairBenchmark("keys", pairs, ("VQ", "video", "prompt"), None, source="hand")
    result, _, _ = evaluate_video_scores(bench, {"VQ": {"a": 3.0, "b": 2.0, "c": 5.0}}, info(("VQ",)), **FAST)
    assert result.dimensions["VQ"].accuracy_without_ties.value == 1.0
    assert not result.dimensions["video"].available and not result.dimensions["prompt"].available
