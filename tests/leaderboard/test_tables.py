import io

import numpy as np
import pandas as pd
import pytest
from leaderboard_helpers import add

from videobench.leaderboard.build import HISTORY, build, publish, result_files
from videobench.leaderboard.layout import result_path
from videobench.leaderboard.significance import PairedCorrectness, ci_overlap_ranks, paired_bootstrap_ranks
from videobench.leaderboard.synthetic import eval_result
from videobench.leaderboard.tables import RANDOM_MODEL, series_of
from videobench.results import result_to_dict


def test_random_row_is_always_present_with_expected_accuracy(local_store):
    publish(local_store, {**add("org/a", skill=0.8, seed=1), **add("org/b", skill=0.6, seed=2)})
    board = pd.read_parquet(local_store.root / "table/reward_models.parquet")
    rnd = board[board["model"] == RANDOM_MODEL].iloc[0]
    assert rnd["VQ w/o ties"] == 0.5
    assert rnd["MQ w/ ties"] == pytest.approx(0.5)        # h = 0.5 -> max(0.5, 0.25)
    assert rnd["VQ w/ ties"] == pytest.approx(0.375)      # h = 0.25 -> max(0.25, 0.375)
    assert list(board["model"])[:2] == ["org/a", "org/b"]
    assert rnd["avg"] == pytest.approx((0.5 + np.mean([0.375, 0.5, 0.35, 0.425])) / 2)


def test_average_is_missing_when_a_dimension_is_not_available(local_store):
    r = eval_result("org/partial", seed=3)
    r.dimensions["TA"].available = False
    files = result_files(__import__("json").dumps(result_to_dict(r)).encode(),
                         result_path("videogen-rewardbench", "org/partial", "20260101T000000000000Z"))
    publish(local_store, {**files, **add("org/full")})
    board = pd.read_parquet(local_store.root / "table/reward_models.parquet").set_index("model")
    assert np.isnan(board.loc["org/partial", "avg"]) and not np.isnan(board.loc["org/full", "avg"])
    assert list(board.index)[-1] == "org/partial"  # no average sorts last


def _partial(model: str, **kw) -> dict:
    r = eval_result(model, **kw)
    r.dimensions["TA"].available = False
    return result_files(__import__("json").dumps(result_to_dict(r)).encode(),
                        result_path("videogen-rewardbench", model, "20260101T000000000000Z"))


def test_a_model_named_random_is_kept_apart_from_the_baseline(local_store):
    # `videobench eval --model random` names its result "random"; published under the bare name (org `local`).
    publish(local_store, {**add("random", skill=0.8, seed=4), **add("org/b", skill=0.6)})
    board = pd.read_parquet(local_store.root / "table/reward_models.parquet").set_index("model")
    assert {"random", RANDOM_MODEL, "org/b"} == set(board.index)
    real, ref = board.loc["random"], board.loc[RANDOM_MODEL]
    assert real["VQ w/o ties"] != 0.5 and not real["reference"] and real["position"] == 1
    assert ref["VQ w/o ties"] == 0.5 and ref["MQ w/ ties"] == pytest.approx(0.5)  # expected values, h = 0.5
    assert ref["reference"] and pd.isna(ref["position"]) and not ref["ranked"]
    assert pd.isna(ref["timestamp"]) and pd.isna(ref["revision"])  # computed, not copied from a real result


def test_ranking_rules(local_store):
    # strong > random baseline > weak; `partial` has no average (TA n/a): listed apart, after everything ranked.
    publish(local_store, {**add("org/strong", skill=0.8, seed=1), **add("org/weak", skill=0.35, seed=2),
                          **_partial("org/partial", skill=0.9, seed=3)})
    board = pd.read_parquet(local_store.root / "table/reward_models.parquet")
    assert list(board["model"]) == ["org/strong", RANDOM_MODEL, "org/weak", "org/partial"]
    assert board["position"].tolist()[:1] + board["position"].tolist()[2:3] == [1, 2]
    assert pd.isna(board["position"].iloc[1]) and pd.isna(board["position"].iloc[3])
    assert board["ranked"].tolist() == [True, False, True, False]
    assert board["reference"].tolist() == [False, True, False, False]
    # the cells carry the CIs of the results (synthetic half-width 1.96 * 0.5 / sqrt(1000))
    row = board.iloc[0]
    assert row["Overall w/ ties hi"] - row["Overall w/ ties lo"] == pytest.approx(2 * 1.96 * 0.5 / np.sqrt(1000))


def test_ci_overlap_ranks():
    ranks = ci_overlap_ranks([0.80, 0.79, 0.60, 0.5], [0.75, 0.74, 0.55, None], [0.85, 0.84, 0.65, None])
    assert ranks == [1, 1, 3, 1]


def test_paired_bootstrap_separates_what_ci_overlap_cannot():
    rng = np.random.default_rng(0)
    n = 400
    base = (rng.random(n) < 0.7).astype(float)
    better = base.copy()
    flip = np.flatnonzero(base == 0)[:20]  # b is right on 20 more pairs and never worse: a real, paired gain
    better[flip] = 1
    data = PairedCorrectness(np.vstack([better, base]), np.arange(n) // 2)
    assert paired_bootstrap_ranks(data) == [1, 2]
    acc = better.mean(), base.mean()
    half = 1.96 * np.sqrt(0.21 / n)
    assert ci_overlap_ranks(list(acc), [a - half for a in acc], [a + half for a in acc]) == [1, 1]


def test_paired_bootstrap_used_with_per_pair_files(local_store):
    rng = np.random.default_rng(1)
    n = 300
    labels = rng.choice([-1, 1], size=n)
    files = {}
    for i, (model, acc) in enumerate((("org/strong", 0.9), ("org/weak", 0.6))):
        right = rng.random(n) < acc
        margin = np.where(right, labels, -labels) * rng.uniform(0.5, 1, n)
        pairs = pd.DataFrame({"pair_id": [f"p{j}" for j in range(n)], "prompt": [f"q{j // 3}" for j in range(n)],
                              "label_Overall": labels, "margin_Overall": margin})
        buf = io.BytesIO()
        pairs.to_parquet(buf)
        r = eval_result(model, dimensions=("Overall",), seed=i)
        path = result_path("videogen-rewardbench", model, "20260101T000000000000Z")
        files.update(result_files(__import__("json").dumps(result_to_dict(r)).encode(), path, {"pairs": buf.getvalue()}))
    publish(local_store, files)
    hist = build(local_store.snapshot()).board.set_index("model")
    assert set(hist["tier_method"].dropna()) == {"paired-bootstrap"}
    assert hist.loc["org/weak", "tier"] == 2


def test_history_cache_reuses_unchanged_rows(local_store):
    publish(local_store, {**add("org/a"), **add("org/b")})
    publish(local_store, add("org/c"))
    snap = local_store.snapshot()
    built = build(snap)
    assert (built.tables.parsed, built.tables.reused) == (0, 3)
    assert built.files[HISTORY] == snap.read(HISTORY)  # rebuilding changes nothing


def test_series_groups_checkpoints():
    assert series_of("org/rm-step1000") == series_of("org/rm-step2000") == "org/rm"
    assert series_of("org/rm_checkpoint-12") == "org/rm"
    assert series_of("org/rm-v2") == "org/rm-v2"


def test_random_row_uses_the_newest_known_tie_rate(local_store):
    r = eval_result("org/new", seed=5)
    r.dimensions["TA"].available = False
    r.dimensions["TA"].human_tie_rate = None  # a result that does not score TA may not know its tie rate
    newer = result_files(__import__("json").dumps(result_to_dict(r)).encode(),
                         result_path("videogen-rewardbench", "org/new", "20260105T000000000000Z"))
    publish(local_store, {**add("org/old", stamp="20260101T000000000000Z"), **newer})
    board = pd.read_parquet(local_store.root / "table/reward_models.parquet").set_index("model")
    assert board.loc[RANDOM_MODEL, "TA w/ ties"] == pytest.approx(0.35)  # h = 0.3 -> max(0.3, 0.35)
