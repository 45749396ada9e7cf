"""Run by ``accelerate launch`` in test_compare_distributed: one compare, each rank reports what it did (or the load
error it stopped with)."""

import json
import sys
from pathlib import Path

from compare_helpers import SharpnessReward

from videobench.compare import CompareConfig, GeneratorLoadError, run_compare
from videobench.scoring.distributed import current_process

a, b, root = sys.argv[1], sys.argv[2], Path(sys.argv[3])
try:
    out = run_compare(CompareConfig(generators={"a": a, "b": b}, prompts="vbench-946", num_prompts=3,
                                    rewards=[SharpnessReward()], output=root / "out", render_dir=root / "renders",
                                    cache_dir=root / "scores", n_resamples=50, report=False, device="cpu"))
except GeneratorLoadError as exc:
    (root / f"rank{current_process().rank}.json").write_text(json.dumps({"error": str(exc)}))
    sys.exit(3)
except Exception as exc:  # a render that fails on one rank: each rank says what it stopped with
    (root / f"rank{current_process().rank}.json").write_text(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
    sys.exit(4)
proc = current_process()
(root / f"rank{proc.rank}.json").write_text(json.dumps({
    "world_size": proc.world_size, "rendered_total": out.render_stats.rendered,
    "has_result": out.result is not None,
    "win_rate": None if out.result is None else out.result.win_rates[0].win_rate.value,
}))
