"""Run by test_resume.py in a subprocess: score slowly so that the test can SIGKILL it between batches.

argv: root cache_dir log_path items.json
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from fakes import CountingModel, HeaderOnlyIO  # noqa: E402

from videobench.scoring import score_items  # noqa: E402

root, cache, log, items_file = sys.argv[1:5]
items = [tuple(x) for x in json.loads(Path(items_file).read_text())]
model = CountingModel(delay_s=0.25, log_path=log)
score_items(items, [model], root=root, cache_dir=cache, batch_size=2, show_progress=False, video_io=HeaderOnlyIO())
print("finished", flush=True)
