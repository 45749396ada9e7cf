"""Run by test_distributed.py under ``accelerate launch`` (2 processes): a reward model, then a pairwise judge, that
fail on rank 1 only; each rank writes the exception it ended with.

argv: root out_dir items.json pairs.json
"""

import json
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from fakes import CountingModel, CountingPairJudge  # noqa: E402

from videobench.data.benchmark import PairBenchmark  # noqa: E402
from videobench.scoring import score_items  # noqa: E402
from videobench.scoring.distributed import current_process  # noqa: E402
from videobench.scoring.pairs import judge_benchmark_pairs  # noqa: E402

root, out, items_file, pairs_file = sys.argv[1:5]
proc = current_process()


class FailingModel(CountingModel):
    def score(self, clips, prompts):
        if proc.rank == 1:
            raise ValueError("the model broke on rank 1")
        return super().score(clips, prompts)


class FailingJudge(CountingPairJudge):
    def judge_pairs(self, first, second, prompts):
        if proc.rank == 1:
            raise ValueError("the judge broke on rank 1")
        return super().judge_pairs(first, second, prompts)


def outcome(work) -> str:
    try:
        work()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return "no error"


items = [tuple(x) for x in json.loads(Path(items_file).read_text())]
bench = PairBenchmark(name="tiny", pairs=pd.read_json(pairs_file), dimensions=("Overall",), root=root)
report = {
    "scores": outcome(lambda: score_items(items, [FailingModel()], root=root, use_cache=False, show_progress=False)),
    "judge": outcome(lambda: judge_benchmark_pairs(bench, FailingJudge(), use_cache=False, show_progress=False)),
}
Path(out, f"rank{proc.rank}.json").write_text(json.dumps(report))
