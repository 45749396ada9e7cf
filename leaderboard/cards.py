"""Dataset card of a results store, and opt-in model-card updates (``model-index`` + ``.eval_results``)."""

from __future__ import annotations

import html
from typing import Any

import pandas as pd
import yaml

from videobench.labels import DIMENSION_NAMES
from videobench.leaderboard.layout import GEN_TABLE, REQUESTS_DIR, RM_TABLE
from videobench.results import EvalResult

CITATION = """@article{liu2025improving,
  title   = {Improving Video Generation with Human Feedback},
  author  = {Liu, Jie and others},
  journal = {arXiv preprint arXiv:2501.13918},
  year    = {2025}
}"""

# `datasets` picks one builder for all configs of a repo (from the first config's files), and requests are JSON, so
# every config points at JSON Lines; the same tables are also published as Parquet and CSV for pandas users.
RESULTS_CONFIGS = [
    {"config_name": "results", "data_files": [{"split": "train", "path": f"{RM_TABLE}_history.jsonl"}]},
    {"config_name": "requests", "data_files": [{"split": "train", "path": f"{REQUESTS_DIR}/*.json"}]},
    {"config_name": "leaderboard", "data_files": [{"split": "train", "path": f"{RM_TABLE}.jsonl"}]},
    {"config_name": "generators", "data_files": [{"split": "train", "path": f"{GEN_TABLE}.jsonl"}]},
]


def _md(text: Any) -> str:
    """Markdown cell text: HTML-escaped, with the characters that break tables or links neutralised."""
    out = html.escape(str(text), quote=True)
    for ch in "|[]()`*_\\":
        out = out.replace(ch, "&#%d;" % ord(ch))
    return out


def results_card(board: pd.DataFrame, n_requests: int, title: str = "videobench leaderboard results") -> str:
    meta = {
        "license": "cc-by-4.0",
        "pretty_name": title,
        "tags": ["videobench", "leaderboard", "reward-model", "text-to-video", "human-preference"],
        "configs": RESULTS_CONFIGS,
    }
    lines = [
        "---", yaml.safe_dump(meta, sort_keys=False).strip(), "---", "", f"# {_md(title)}", "",
        "Results of text-to-video reward models and generators evaluated with "
        "[videobench](https://arxiv.org/abs/2501.13918) against human preferences. Open `report.html` for the "
        "sortable tables and plots (it works offline).", "",
        "## Load", "", "```python", "from datasets import load_dataset",
        'results = load_dataset(REPO, "results", split="train")        # one row per result and dimension',
        'requests = load_dataset(REPO, "requests", split="train")      # the submission queue',
        'board = load_dataset(REPO, "leaderboard", split="train")      # newest result per model, with tiers',
        "```", "",
        "## Layout", "",
        "- `results/<benchmark>/<org>__<model>/<timestamp>.json`: one result (videobench schema), per-item Parquet beside it",
        f"- `{REQUESTS_DIR}/<id>.json`: submissions with status PENDING / RUNNING / FINISHED / FAILED",
        f"- `{RM_TABLE}.parquet|csv|jsonl`: the leaderboard; `{RM_TABLE}_history.parquet|jsonl`: every result;"
        f" `{GEN_TABLE}.parquet|csv|jsonl`: generator rankings",
        "- `report.html`: the report", "",
        "## Metrics", "",
        "Accuracy without ties counts pairs whose human label is not a tie (a zero margin counts as wrong). Accuracy with "
        "ties uses tie calibration (a threshold on |margin| predicts ties, chosen to maximise accuracy). Averages are "
        "the means over the dimensions a model scores. Dimensions: "
        + "; ".join(f"{k}: {v}" for k, v in DIMENSION_NAMES.items()) + ". "
        "`tier` = 1 + the number of models significantly better (paired bootstrap over prompts when per-pair margins are "
        "stored, otherwise non-overlapping 95% CIs). The `random` row is a scorer that ignores the videos.", "",
    ]
    if len(board):
        lines += ["## Summary", ""]
        for bench, rows in board.groupby("benchmark"):
            real = rows[rows["model"] != "random"]
            top = real.iloc[0] if len(real) else None
            best = f"; best average: {_md(top['model'])} ({top['avg'] * 100:.2f})" if top is not None else ""
            lines.append(f"- {_md(bench)}: {len(real)} models{best}")
        lines.append("")
    lines += [f"{n_requests} submission request(s) on file.", "", "## Citation", "", "```bibtex", CITATION, "```", ""]
    return "\n".join(lines)


def model_index_entry(result: EvalResult, dataset_id: str) -> dict[str, Any]:
    metrics = []
    for dim, d in result.dimensions.items():
        if not d.available:
            continue
        for key, label in (("accuracy_without_ties", "w/o ties"), ("accuracy_with_ties", "w/ ties")):
            est = getattr(d, key)
            if est is not None and est.value is not None:
                metrics.append({"type": "accuracy", "name": f"{dim} accuracy {label}", "value": round(est.value * 100, 2)})
    return {
        "task": {"type": "text-to-video-reward-modeling", "name": "Video preference accuracy"},
        "dataset": {"type": dataset_id, "name": result.benchmark.name, **({"revision": result.benchmark.revision}
                                                                            if result.benchmark.revision else {})},
        "metrics": metrics,
        "source": {"name": "videobench", "url": "https://arxiv.org/abs/2501.13918"},
    }


def eval_results_yaml(result: EvalResult, dataset_id: str) -> str:
    from huggingface_hub import EvalResultEntry, eval_result_entries_to_yaml

    entries = []
    for dim, d in result.dimensions.items():
        for key, task in (("accuracy_without_ties", "wo_ties"), ("accuracy_with_ties", "w_ties")):
            est = getattr(d, key)
            if d.available and est is not None and est.value is not None:
                entries.append(EvalResultEntry(dataset_id=dataset_id, task_id=f"{dim.lower()}_accuracy_{task}",
                                               value=round(est.value * 100, 2),
                                               dataset_revision=result.benchmark.revision, notes="videobench"))
    return yaml.safe_dump(eval_result_entries_to_yaml(entries), sort_keys=False)


def update_model_card(repo_id: str, result: EvalResult, dataset_id: str, *, token: str | None = None,
                      revision: str | None = None) -> str:
    """Merge ``result`` into the model repo's ``model-index`` (``metadata_update``: the README body is kept) and write
    ``.eval_results/<benchmark>.yaml``. Only for repos the caller owns; the Hub endpoint comes from ``HF_ENDPOINT``."""
    from huggingface_hub import CommitOperationAdd, HfApi, metadata_update

    entry = model_index_entry(result, dataset_id)
    metadata_update(repo_id, {"model-index": [{"name": repo_id.split("/")[-1], "results": [entry]}]},
                    overwrite=True, token=token, revision=revision,
                    commit_message=f"videobench: {result.benchmark.name} results in model-index")
    api = HfApi(token=token)
    info = api.create_commit(
        repo_id, [CommitOperationAdd(f".eval_results/{result.benchmark.name}.yaml",
                                     eval_results_yaml(result, dataset_id).encode())],
        commit_message=f"videobench: .eval_results/{result.benchmark.name}.yaml", revision=revision)
    return info.oid
