"""Synthetic result files for the leaderboard tests (a module of its own: test modules import it by name)."""

from __future__ import annotations

import json

from videobench.leaderboard.build import result_files
from videobench.leaderboard.layout import result_path
from videobench.leaderboard.synthetic import eval_result
from videobench.results import result_to_dict


def result_bytes(model: str = "org/rm", bench: str = "videogen-rewardbench", **kw) -> bytes:
    return json.dumps(result_to_dict(eval_result(model, bench, **kw))).encode()


def add(model: str, stamp: str = "20260101T000000000000Z", bench: str = "videogen-rewardbench",
        model_name: str | None = None, **kw) -> dict:
    """Files of one synthetic result stored for ``model`` (``model_name``: the display name inside the result)."""
    return result_files(result_bytes(model_name or model, bench, **kw), result_path(bench, model, stamp))
