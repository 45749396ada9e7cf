"""Run by test_distributed.py under ``accelerate launch`` (2 processes): a pairwise judge asked about a benchmark's
pairs in both orders, twice (the second time from the shared store); each rank writes what it asked and got.

argv: root cache_dir out_dir pairs.json
"""

import json
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from fakes import CountingPairJudge  # noqa: E402

from videobench.data.benchmark import PairBenchmark  # noqa: E402
from videobench.scoring.distributed import current_process  # noqa: E402
from videobench.scoring.pairs import judge_benchmark_pairs  # noqa: E402

root, cache, out, pairs_file = sys.argv[1:5]
bench = PairBenchmark(name="tiny", pairs=pd.read_json(pairs_file), dimensions=("Overall",), root=root)
proc = current_process()
report = {"rank": proc.rank, "world_size": proc.world_size, "calls": [], "asked": []}
for attempt in range(2):
    judge = CountingPairJudge()
    got = judge_benchmark_pairs(bench, judge, orders=("AB", "BA"), cache_dir=cache, batch_size=4,
                                show_progress=False)
    report["calls"].append(len(judge.calls))
    report["asked"].append(got.n_asked)
report["verdicts"] = {order: got.verdicts[order]["Overall"].tolist() for order in got.orders}
Path(out, f"rank{proc.rank}.json").write_text(json.dumps(report))
