"""Generative judges (`judge:`): the answer grammar on scripted answers, tiny random Qwen2-VL / Qwen2.5-VL models
(loading, prompting, batching), the pairwise path of eval with both orders (verdicts, ties, unparseable answers,
position bias: expected values worked by hand), and the sanity benchmark end to end through `videobench eval`."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from clip_benches import pair_row, write_bench, write_clips
from typer.testing import CliRunner

import videobench
from videobench.cli import _register, app
from videobench.rewards.judge import JudgeError, VLMJudge
from videobench.rewards.judge_grammar import Grammar, GrammarError
from videobench.rewards.registry import RewardSpecError, load_reward_model

_register()
runner = CliRunner()
#: tiny frames (56x56, 4 frames) and short answers: a generate call takes milliseconds
SMALL = "min_pixels=3136&max_pixels=3136&num_frames=4&max_new_tokens=4"
NAN = math.nan


def _same(got, want):
    assert len(got) == len(want) and all((math.isnan(g) and math.isnan(w)) or g == w for g, w in zip(got, want)), got


# ------------------------------------------------------------------------------------------------ the grammar

SCORES = Grammar("scores", ("visual quality", "motion quality", "text alignment"))


@pytest.mark.parametrize("answer, want", [
    ("visual quality: 4\nmotion quality: 2\ntext alignment: 5", [4, 2, 5]),
    ("**Visual Quality**: 3.5/5\n- motion_quality = 1 (jerky)\nText alignment: 2 out of 5.", [3.5, 1, 2]),
    ("text alignment: 1\nvisual quality: 5 - sharp\nmotion quality: 3", [5, 3, 1]),  # order of lines is free
    ("visual quality: 4 or 5\nmotion quality: 3\nmotion quality: 4\ntext alignment: high", [NAN, NAN, NAN]),
    ("visual quality: 4\nvisual quality: 4\nthe motion quality: 2", [4, NAN, NAN]),  # repeated, same value: fine
    ("visual quality 4, motion quality 2", [NAN, NAN, NAN]),  # no separator: not the grammar
    ("", [NAN, NAN, NAN]),
])
def test_scores_grammar(answer, want):
    _same(SCORES.parse(answer), want)


PAIR = Grammar("pairwise", ("overall", "motion"))


@pytest.mark.parametrize("answer, want", [
    ("overall: A\nmotion: B", [1, -1]),
    ("Overall: Video B is better.\nmotion: tie", [-1, 0]),
    ("overall: 1\nmotion: second", [1, -1]),
    ("- **overall**: video 2 (smoother)\nmotion: same", [-1, 0]),
    ("overall: A or B\nmotion: Apple", [NAN, NAN]),
    ("overall: A\noverall: B\nmotion: b", [NAN, -1]),  # contradicting lines: no guess
    ("I prefer A.", [NAN, NAN]),
])
def test_pairwise_grammar(answer, want):
    _same(PAIR.parse(answer), want)


def test_a_users_pattern_replaces_the_line_rule():
    g = Grammar("scores", ("VQ", "TA"), pattern=r"\[\[{label}=(?P<value>\d+)\]\]")
    _same(g.parse("[[VQ=3]] and [[TA=5]]"), [3, 5])
    _same(g.parse("VQ: 3\nTA: 5"), [NAN, NAN])
    with pytest.raises(GrammarError, match="group named value"):
        Grammar("scores", ("VQ",), pattern=r"{label}: (\d)")
    with pytest.raises(GrammarError, match="not a regular expression"):
        Grammar("scores", ("VQ",), pattern=r"{label}: (?P<value>\d")


# ------------------------------------------------------------------------------------------------ tiny models


@pytest.fixture(scope="module")
def tiny_vlms(tmp_path_factory) -> dict[str, Path]:
    from videobench.testing.tiny_vlm import build_tiny_vlm

    root = tmp_path_factory.mktemp("vlm")
    return {arch: build_tiny_vlm(root / arch, arch) for arch in ("qwen2-vl", "qwen2.5-vl")}


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> Path:
    """Clips v0..v3 whose hidden quality order is v0 > v2 > v1 > v3, and four pairs (labels on every dimension)."""
    root = tmp_path_factory.mktemp("bench")
    write_clips(root, 4, 40, np.random.default_rng(5))
    rows = [pair_row(0, 1, "a cat", "A"), pair_row(2, 3, "a dog", "B"), pair_row(1, 2, "a cat", "B"),
            pair_row(3, 0, "a dog", "same")]
    return write_bench(root, rows)


@pytest.mark.parametrize("arch", ["qwen2-vl", "qwen2.5-vl"])
def test_loads_prompts_and_batches_both_classes(tiny_vlms, clips, arch):
    judge = load_reward_model(f"judge:{tiny_vlms[arch]}?{SMALL}&batch_size=2")
    assert type(judge.model).__name__ == {"qwen2-vl": "Qwen2VLForConditionalGeneration",
                                          "qwen2.5-vl": "Qwen2_5_VLForConditionalGeneration"}[arch]
    assert judge.dimensions == ("VQ", "MQ", "TA") and judge.sampling.num_frames == 4
    # prompting: one video segment per clip, the prompt inside the template, the answer lines the grammar reads
    text = judge.chat_text("a red car", [3, 5])
    assert text.count("<|video_pad|>") == 8 and text.count("<|vision_start|>") == 2
    assert '"a red car"' in text and "visual quality: <1-5>" in text and text.endswith("<|im_start|>assistant\n")
    with pytest.raises(JudgeError, match="special token"):
        judge.prompt_text("a <|video_pad|> trick")
    batch = judge.batch_inputs([[clips[0]], [clips[1]]], ["a", "a dog runs in the snow, slow motion"])
    mask = batch["attention_mask"]
    assert mask[0, 0] == 0 and mask[0, -1] == 1 and mask[1].all()  # left padding: answers start at one column
    assert ("second_per_grid_ts" in batch) is (arch == "qwen2.5-vl")
    # batching: three clips two at a time answer exactly as one at a time (greedy decoding, left padding)
    together = judge.generate([[c] for c in clips[:3]], ["a", "b", "c"])
    alone = [judge.generate([[c]], [p])[0] for c, p in zip(clips[:3], ["a", "b", "c"])]
    assert together == alone and all(isinstance(t, str) for t in together)


def _scripted_tokens(judge: VLMJudge, answers: list[str]):
    """Replace the model's generate: prompt ids + the tokens of the scripted answers (eos, then padding)."""
    tok = judge.tokenizer

    def generate(input_ids, **_):
        rows = [tok(a, add_special_tokens=False)["input_ids"] + [tok.eos_token_id] for a in answers[:len(input_ids)]]
        del answers[:len(input_ids)]
        width = max(map(len, rows))
        new = torch.tensor([r + [tok.pad_token_id] * (width - len(r)) for r in rows])
        return torch.cat([input_ids, new], dim=1)

    return generate


def test_scores_come_from_the_decoded_answer(tiny_vlms, clips, monkeypatch):
    judge = load_reward_model(f"judge:{tiny_vlms['qwen2.5-vl']}?{SMALL}&batch_size=2")
    answers = ["visual quality: 4\nmotion quality: 2\ntext alignment: 5", "visual quality: 1\nmotion quality: 3.5",
               "Text alignment: 3\nVisual quality: 2\nMotion quality: 2"]
    monkeypatch.setattr(judge.model, "generate", _scripted_tokens(judge, answers))
    out = judge.score(clips[:3], ["a", "b", "c"])
    _same(out["VQ"], [4, 1, 2])
    _same(out["MQ"], [2, 3.5, 2])
    _same(out["TA"], [5, NAN, 3])  # the second answer has no text alignment line
    assert judge.unparsed_examples == ["visual quality: 1\nmotion quality: 3.5"]


def test_a_users_template_and_pattern(tiny_vlms, clips, tmp_path, monkeypatch):
    (tmp_path / "mine.txt").write_text("Grade the clip for: {prompt}\nReply as [[quality=N]] [[match=N]].")
    judge = load_reward_model(f"judge:{tiny_vlms['qwen2-vl']}?{SMALL}&template={tmp_path / 'mine.txt'}"
                              "&dimensions=VQ,TA&labels=quality,match"
                              "&pattern=%5C%5B%5C%5B{label}%3D(?P<value>%5Cd)%5C%5D%5C%5D")
    assert "Grade the clip for: a fox\nReply as [[quality=N]]" in judge.chat_text("a fox", [1])
    monkeypatch.setattr(judge.model, "generate", _scripted_tokens(judge, ["[[match=2]] then [[quality=5]]",
                                                                          "quality: 5\nmatch: 2"]))
    out = judge.score(clips[:2], ["a", "b"])
    _same(out["VQ"], [5, NAN])  # the second answer follows the default grammar, not this judge's pattern
    _same(out["TA"], [2, NAN])


def test_spec_options_are_checked(tiny_vlms):
    with pytest.raises(JudgeError, match="apply to pairwise judges"):
        load_reward_model(f"judge:{tiny_vlms['qwen2-vl']}?swap=true")
    with pytest.raises(RewardSpecError, match="not one of scores, pairwise"):
        load_reward_model(f"judge:{tiny_vlms['qwen2-vl']}?mode=pair")
    judge = load_reward_model(f"judge:{tiny_vlms['qwen2-vl']}?mode=pairwise&{SMALL}")
    with pytest.raises(JudgeError, match="gives no per-video score"):
        judge.score([], [])


# --------------------------------------------------------------------------------- pairwise eval, scripted judges

QUALITY = {"v0.mp4": 3, "v2.mp4": 2, "v1.mp4": 1, "v3.mp4": 0}


def _scripted_judge(tiny_vlms, bench: Path, monkeypatch, rule, options: str = "") -> VLMJudge:
    """A real tiny judge whose answers are scripted from the names of the videos it is shown, first then second."""
    from videobench.video import content_hash

    names = {content_hash(p): p.name for p in bench.parent.glob("v*.mp4")}
    judge = load_reward_model(f"judge:{tiny_vlms['qwen2.5-vl']}?mode=pairwise&{SMALL}{options}")
    monkeypatch.setattr(judge, "generate", lambda videos, prompts: [
        rule(names[first.content_hash], names[second.content_hash]) for first, second in videos])
    return judge


def truthful(first: str, second: str) -> str:
    return f"overall: {'A' if QUALITY[first] > QUALITY[second] else 'B'}"


def _evaluate(judge, bench: Path, tmp_path: Path, **options):
    return videobench.evaluate(judge, str(bench), n_resamples=0, cache_dir=tmp_path / "cache", **options)


# Margins for A (worked by hand from QUALITY): p0 v0>v1 +1 (label A), p1 v2>v3 +1 (label B), p2 v1<v2 -1 (label B),
# p3 v3<v0 -1 (label tie). Without ties: p0 right, p1 wrong, p2 right -> 2/3. With ties: no predicted tie -> 2/4
# concordant; every pair a predicted tie -> 1/4 (p3) -> 0.5.
def test_a_truthful_judge_asked_both_ways(tiny_vlms, bench, tmp_path, monkeypatch):
    judge = _scripted_judge(tiny_vlms, bench, monkeypatch, truthful, "&swap=true")
    ev = _evaluate(judge, bench, tmp_path)
    overall = ev.result.dimensions["Overall"]
    assert overall.accuracy_without_ties.value == pytest.approx(2 / 3)
    assert overall.accuracy_with_ties.value == pytest.approx(0.5)
    assert [ev.result.dimensions[d].available for d in ("VQ", "MQ", "TA")] == [False] * 3  # no verdict asked
    assert ev.pairs["margin_Overall"].tolist() == [1, 1, -1, -1]
    assert ev.pairs["verdict_BA_Overall"].tolist() == [1, 1, -1, -1]  # asked B first, read back for A
    stats = ev.result.provenance["judge"]["answers"]["Overall"]
    assert stats["answers"] == 8 and stats["unparseable"] == 0
    # each pair once with the better video first and once second: no position bias, fully consistent
    assert stats["position"] == {"pairs_with_both_orders": 4, "consistency": 1.0, "first_shown_preferred": 0.5}
    # rerun: every answer comes from the score cache
    again = _evaluate(_scripted_judge(tiny_vlms, bench, monkeypatch, lambda a, b: "garbage", "&swap=true"), bench,
                      tmp_path)
    assert again.result.provenance["judge"]["asked"] == 0 and again.pairs["margin_Overall"].tolist() == [1, 1, -1, -1]


# Always "A" (the first shown): A-relative verdicts +1 (AB) and -1 (BA) average to 0 on every pair: every pair a
# predicted tie. Without ties a zero margin is wrong -> 0/3; with ties only p3 (a human tie) matches -> 1/4.
def test_a_judge_that_always_picks_the_first_video(tiny_vlms, bench, tmp_path, monkeypatch):
    judge = _scripted_judge(tiny_vlms, bench, monkeypatch, lambda a, b: "overall: A", "&swap=true")
    ev = _evaluate(judge, bench, tmp_path)
    overall = ev.result.dimensions["Overall"]
    assert ev.pairs["margin_Overall"].tolist() == [0, 0, 0, 0]
    assert overall.accuracy_without_ties.value == 0.0 and overall.accuracy_with_ties.value == pytest.approx(0.25)
    assert ev.result.provenance["judge"]["answers"]["Overall"]["position"] == {
        "pairs_with_both_orders": 4, "consistency": 0.0, "first_shown_preferred": 1.0}


# Answers about v3 never parse: p1 and p3 have no verdict. Excluded: p0 and p2 remain, both right -> 1.0, 2 pairs
# excluded. As ties: p1 and p3 get margin 0 -> without ties p0 right, p1 wrong, p2 right -> 2/3; with ties (ε = 0)
# p0, p2 concordant and p3 a matched tie -> 3/4.
@pytest.mark.parametrize("policy, without, with_ties, excluded", [("exclude", 1.0, 1.0, 2), ("tie", 2 / 3, 0.75, 0)])
def test_unparseable_answers_are_counted(tiny_vlms, bench, tmp_path, monkeypatch, policy, without, with_ties, excluded):
    def rule(first: str, second: str) -> str:
        return "overall: maybe" if "v3.mp4" in (first, second) else truthful(first, second)

    judge = _scripted_judge(tiny_vlms, bench, monkeypatch, rule, f"&swap=true&unparseable={policy}")
    ev = _evaluate(judge, bench, tmp_path)
    overall = ev.result.dimensions["Overall"]
    assert overall.accuracy_without_ties.value == pytest.approx(without)
    assert overall.accuracy_with_ties.value == pytest.approx(with_ties)
    assert overall.n_excluded == excluded
    stats = ev.result.provenance["judge"]["answers"]["Overall"]
    assert stats["unparseable"] == 4 and stats["answers"] == 8
    assert stats["counted_as"] == {"exclude": "excluded", "tie": "tie"}[policy]
    assert stats["position"]["pairs_with_both_orders"] == 2
    assert ev.result.provenance["judge"]["unparseable_examples"][0] == "overall: maybe"


@pytest.mark.parametrize("send", ["frames", "file"])
def test_a_served_pairwise_judge_evaluates_as_in_process(tiny_vlms, bench, tmp_path, monkeypatch, send):
    from reward_test_helpers import serving

    from videobench.video import content_hash

    names = {content_hash(p): p.name for p in bench.parent.glob("v*.mp4")}
    with serving(f"judge:{tiny_vlms['qwen2.5-vl']}?mode=pairwise&swap=true&{SMALL}") as server:
        monkeypatch.setattr(server.model, "generate", lambda videos, prompts: [
            truthful(names[a.content_hash], names[b.content_hash]) for a, b in videos])
        client = load_reward_model(f"{server.url}?send={send}")
        assert client.pairwise and client.swap and client.unparseable == "exclude"
        ev = _evaluate(client, bench, tmp_path)
    assert ev.pairs["margin_Overall"].tolist() == [1, 1, -1, -1]  # as the in-process judge above
    judge = ev.result.provenance["judge"]
    assert judge["mode"] == "pairwise" and judge["served_from"] == server.url and judge["orders"] == ["AB", "BA"]
    assert judge["answers"]["Overall"]["position"]["consistency"] == 1.0


def test_a_pairwise_judge_runs_as_a_job_array_and_merges_to_the_unsharded_result(tiny_vlms, bench, tmp_path,
                                                                                  monkeypatch):
    import pandas as pd

    from videobench.api import EvalConfig, EvalConfigError, run_evaluation, score_shard

    shown = []

    def rule(first: str, second: str) -> str:
        shown.append(f"{first}|{second}")
        return truthful(first, second)

    judge = _scripted_judge(tiny_vlms, bench, monkeypatch, rule, "&swap=true")
    shards = tmp_path / "shards"
    config = EvalConfig(models=[judge, "random:3"], bench=str(bench), n_resamples=0, num_shards=3,
                        shard_dir=str(shards), cache_dir=str(tmp_path / "cache"), show_progress=False)
    for index in range(3):
        score_shard(config.replace(shard_index=index))
    # 4 pairs x 2 orders = 8 questions, sorted and cut 3 + 3 + 2: each asked once, by one job
    questions = ["v0.mp4|v1.mp4", "v0.mp4|v3.mp4", "v1.mp4|v0.mp4", "v1.mp4|v2.mp4", "v2.mp4|v1.mp4",
                 "v2.mp4|v3.mp4", "v3.mp4|v0.mp4", "v3.mp4|v2.mp4"]
    assert shown == questions
    files = sorted(shards.glob("scores-*.parquet"))
    rows = [pd.read_parquet(f) for f in files]
    assert [sorted(set(r.loc[r["model"] == judge.name, "video"])) for r in rows] == [questions[:3], questions[3:6],
                                                                                     questions[6:]]

    merged = run_evaluation(config.replace(num_shards=1, shard_index=0, merge=str(shards)))
    ev = next(e for e in merged if e.result.model.name == judge.name)
    # as asked in one process (the truthful judge's test above, worked by hand)
    assert ev.pairs["margin_Overall"].tolist() == [1, 1, -1, -1]
    assert ev.pairs["verdict_BA_Overall"].tolist() == [1, 1, -1, -1]
    overall = ev.result.dimensions["Overall"]
    assert overall.accuracy_without_ties.value == pytest.approx(2 / 3)
    assert overall.accuracy_with_ties.value == pytest.approx(0.5)
    assert ev.result.provenance["judge"]["questions"] == 8 and ev.result.provenance["judge"]["merged_from"] == \
        str(shards)
    assert len(shown) == 8  # merging asks nothing

    # shards asked one order only cannot give a judge that asks both
    one_way = tmp_path / "one-way"
    for index in range(2):
        score_shard(config.replace(models=[_scripted_judge(tiny_vlms, bench, monkeypatch, truthful)], num_shards=2,
                                   shard_index=index, shard_dir=str(one_way)))
    with pytest.raises(EvalConfigError, match=r"no answer for pair \w+ shown BA \(v1\.mp4 first\).*same judge "
                                              r"options \(swap\)"):
        run_evaluation(config.replace(models=[judge], num_shards=1, shard_index=0, merge=str(one_way)))


def test_every_generated_answer_goes_to_the_answers_log(tiny_vlms, bench, tmp_path, monkeypatch):
    def rule(first: str, second: str) -> str:
        return "overall: maybe" if "v3.mp4" in (first, second) else truthful(first, second)

    log = tmp_path / "logs" / "answers.jsonl"
    judge = _scripted_judge(tiny_vlms, bench, monkeypatch, rule, f"&batch_size=3&answers_log={log}")
    assert judge.judge_provenance()["answers_log"] == str(log)
    _evaluate(judge, bench, tmp_path)
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    # one line per question (4 pairs, one order), as shown: the video names, the prompt, the raw answer, its reading
    got = {(Path(x["videos"][0]).name, Path(x["videos"][1]).name): x for x in lines}
    assert sorted(got) == [("v0.mp4", "v1.mp4"), ("v1.mp4", "v2.mp4"), ("v2.mp4", "v3.mp4"), ("v3.mp4", "v0.mp4")]
    assert got["v0.mp4", "v1.mp4"]["answer"] == "overall: A" and got["v0.mp4", "v1.mp4"]["parsed"] == {"Overall": 1.0}
    assert got["v1.mp4", "v2.mp4"]["parsed"] == {"Overall": -1.0} and got["v1.mp4", "v2.mp4"]["prompt"] == "a cat"
    assert got["v2.mp4", "v3.mp4"] | {"videos": None} == {
        "videos": None, "content_hashes": got["v2.mp4", "v3.mp4"]["content_hashes"], "prompt": "a dog",
        "answer": "overall: maybe", "parsed": {"Overall": None}}
    # a rerun takes every answer from the score cache: nothing is generated, nothing is logged twice
    _evaluate(_scripted_judge(tiny_vlms, bench, monkeypatch, rule, f"&answers_log={log}"), bench, tmp_path)
    assert len(log.read_text().splitlines()) == 4
    # a log that cannot be written stops the run with its name (before the answers are lost unseen)
    blocked = tmp_path / "file"
    blocked.write_text("")
    judge = _scripted_judge(tiny_vlms, bench, monkeypatch, rule, f"&answers_log={blocked / 'answers.jsonl'}")
    with pytest.raises(JudgeError, match=f"^answers_log={blocked / 'answers.jsonl'}: cannot append the answers"):
        videobench.evaluate(judge, str(bench), n_resamples=0, use_cache=False)


def test_one_order_reads_the_first_video_as_a(tiny_vlms, bench, tmp_path, monkeypatch):
    judge = _scripted_judge(tiny_vlms, bench, monkeypatch, truthful)
    ev = _evaluate(judge, bench, tmp_path)
    assert ev.pairs["margin_Overall"].tolist() == [1, 1, -1, -1]
    assert "verdict_BA_Overall" not in ev.pairs and "position" not in ev.result.provenance["judge"]["answers"]["Overall"]


# ------------------------------------------------------------------------------- acceptance: sanity, end to end


def test_tiny_qwen25vl_judge_scores_the_sanity_benchmark_through_eval(tiny_vlms, tmp_path):
    from videobench.sanity import load_sanity_benchmark

    ids = load_sanity_benchmark().pairs["pair_id"].astype(str).tolist()[::95]  # one pair of each kind of subset
    (tmp_path / "ids.txt").write_text("\n".join(ids))
    spec = f"judge:{tiny_vlms['qwen2.5-vl']}?{SMALL}&batch_size=4"
    res = runner.invoke(app, ["eval", "--bench", "sanity", "--subset", str(tmp_path / "ids.txt"), "--model", spec,
                              "--n-resamples", "0", "--no-report", "--cache-dir", str(tmp_path / "cache"),
                              "-o", str(tmp_path / "out")], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    result = json.loads(next((tmp_path / "out").glob("*.json")).read_text())
    judge = result["provenance"]["judge"]
    answers = judge["answers"]
    n_videos = len(set(load_sanity_benchmark().pairs.set_index("pair_id").loc[ids, ["video_A", "video_B"]]
                       .to_numpy().ravel()))
    assert set(answers) == {"VQ", "MQ", "TA"} and all(a["answers"] == n_videos for a in answers.values())
    # a random model mostly answers garbage: whatever did not parse is counted, shown, and its pairs excluded
    for dim, a in answers.items():
        assert 0 <= a["unparseable"] <= a["answers"] and a["counted_as"] == "excluded"
        assert result["dimensions"][dim]["n_excluded"] + result["dimensions"][dim]["n_pairs"] == len(ids)
    assert f"unparseable answers VQ {answers['VQ']['unparseable']}/{n_videos}" in " ".join(res.output.split())


def test_compare_and_align_refuse_a_pairwise_judge_before_any_work(tiny_vlms):
    from videobench.align.rewards import resolve_reward
    from videobench.compare.scoring import resolve_rewards
    from videobench.rewards.base import ModelOutputError

    spec = f"judge:{tiny_vlms['qwen2-vl']}?mode=pairwise&{SMALL}"
    with pytest.raises(ModelOutputError, match="no per-video score, which compare needs"):
        resolve_rewards([spec])
    with pytest.raises(ModelOutputError, match="which align needs"):
        resolve_reward(spec)
