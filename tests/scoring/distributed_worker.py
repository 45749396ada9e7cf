"""Run by test_distributed.py under ``accelerate launch --cpu --num_processes 2``; each rank writes what it saw.

argv: root cache_dir out_dir items.json
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from fakes import CountingModel, PixelModel  # noqa: E402

from videobench.scoring import score_items  # noqa: E402
from videobench.scoring.distributed import current_process  # noqa: E402

root, cache, out, items_file = sys.argv[1:5]
items = [tuple(x) for x in json.loads(Path(items_file).read_text())]
proc = current_process()
report = {"rank": proc.rank, "world_size": proc.world_size, "calls": []}
for attempt in range(2):  # the second pass must find everything in the store that both ranks share
    models = [CountingModel(), PixelModel()]
    tables = score_items(items, models, root=root, cache_dir=cache, batch_size=3, show_progress=False)
    report["calls"].append({m.name: len(m.calls) for m in models})
for name, table in tables.items():
    table.to_parquet(Path(out) / f"rank{proc.rank}-{name}.parquet")
Path(out, f"rank{proc.rank}.json").write_text(json.dumps(report))
