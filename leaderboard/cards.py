"""Dataset card of a results store, and opt-in model-card updates (``model-index`` + ``.eval_results``)."""

from __future__ import annotations

import html
import re
from typing import Any

import pandas as pd
import yaml

from videobench.labels import DIMENSION_NAMES
from videobench.data.registry import VIDEOGEN_REWARDBENCH_REPO
from videobench.leaderboard.errors import LeaderboardError
from videobench.leaderboard.layout import GEN_TABLE, MOS_TABLE, REQUESTS_DIR, RM_TABLE
from videobench.leaderboard.tables import MOS_RANKING_COLUMN, RANDOM_MODEL
from videobench.results import EvalResult

CITATION = """@article{liu2025improving,
  title   = {Improving Video Generation with Human Feedback},
  author  = {Liu, Jie and others},
  journal = {arXiv preprint arXiv:2501.13918},
  year    = {2025}
}"""

# `datasets` picks one builder for all configs of a repo (from the first config's files), and requests are JSON, so
# every config points at JSON Lines; the same tables are also published as Parquet and CSV for pandas users.
#: config name -> (files, what a row is). A config is declared only when its files exist with rows in them: `datasets`
#: fails on a declared config without files, and on an empty JSON Lines file.
CONFIG_FILES: dict[str, tuple[str, str]] = {
    "results": (f"{RM_TABLE}_history.jsonl", "one row per result and dimension"),
    "requests": (f"{REQUESTS_DIR}/*.json", "the submission queue"),
    "leaderboard": (f"{RM_TABLE}.jsonl", "newest result per model, with tiers and CIs"),
    "generators": (f"{GEN_TABLE}.jsonl", "generator rankings, one row per checkpoint and dimension"),
    "mos_results": (f"{MOS_TABLE}_history.jsonl", "MOS benchmarks: one row per result and dimension"),
    "mos": (f"{MOS_TABLE}.jsonl", "MOS benchmarks: newest result per model, SRCC/KRCC/PLCC"),
}


def results_configs(present: "set[str] | None" = None) -> list[dict[str, Any]]:
    """The card's ``configs`` for the configs in ``present`` (all when None), in a fixed order."""
    return [{"config_name": name, "data_files": [{"split": "train", "path": path}]}
            for name, (path, _) in CONFIG_FILES.items() if present is None or name in present]


def _md(text: Any) -> str:
    """Markdown cell text: HTML-escaped, with the characters that break tables or links neutralised."""
    out = html.escape(str(text), quote=True)
    for ch in "|[]()`*_\\":
        out = out.replace(ch, "&#%d;" % ord(ch))
    return out


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary_lines(board: pd.DataFrame, mos: bool = False) -> list[str]:
    """One line per benchmark: how many models, how many ranked, and the best value of the ranking column (as the
    board ranks: ``avg`` in %, or for the MOS board (``mos``) ``mean SRCC``)."""
    column, best, fmt = (MOS_RANKING_COLUMN, "best mean SRCC", "{:.3f}") if mos else ("avg", "best average", "{:.2%}")
    lines = []
    for bench, rows in board.groupby("benchmark"):
        real = rows[~rows["reference"].astype(bool)] if "reference" in rows else rows
        ranked = real[real["ranked"].astype(bool)].sort_values(column, ascending=False, kind="stable")
        text = f"- {_md(bench)}{' (MOS)' if mos else ''}: {_plural(len(real), 'model')}"
        if len(ranked) < len(real):
            text += f" ({len(ranked)} ranked, {len(real) - len(ranked)} with an n/a dimension listed apart)"
        if len(ranked):
            top = ranked.iloc[0]
            text += f"; {best}: {_md(top['model'])} ({fmt.format(top[column])})"
        elif len(real):
            text += "; no model scores every dimension, so none has " + ("a mean" if mos else "an average")
        lines.append(text)
    return lines


def results_card(board: pd.DataFrame, n_requests: int, title: str = "videobench leaderboard results",
                 configs: "set[str] | None" = None, mos: pd.DataFrame | None = None) -> str:
    """The results dataset's README. ``configs``: the configs whose files exist with rows (all when None);
    ``mos``: the MOS benchmarks' board."""
    declared = results_configs(configs)
    meta = {
        "license": "cc-by-4.0",
        "pretty_name": title,
        "tags": ["videobench", "leaderboard", "reward-model", "text-to-video", "human-preference"],
        "configs": declared,
    }
    load = [f'{c["config_name"]} = load_dataset(REPO, "{c["config_name"]}", split="train")'.ljust(62)
            + f"# {CONFIG_FILES[c['config_name']][1]}" for c in declared]
    lines = [
        "---", yaml.safe_dump(meta, sort_keys=False).strip(), "---", "", f"# {_md(title)}", "",
        "Results of text-to-video reward models and generators evaluated with "
        "[videobench](https://arxiv.org/abs/2501.13918) against human preferences. Open `report.html` for the "
        "sortable tables and plots (it works offline).", "",
        "## Load", "",
    ]
    if load:
        lines += ["```python", "from datasets import load_dataset", *load, "```", ""]
    else:
        lines += ["Nothing to load yet: no results and no requests.", ""]
    lines += [
        "## Layout", "",
        "- `results/<benchmark>/<org>__<model>/<timestamp>.json`: one result (videobench schema), per-item Parquet beside it",
        f"- `{REQUESTS_DIR}/<id>.json`: submissions with status PENDING / RUNNING / FINISHED / FAILED",
        f"- `{RM_TABLE}.parquet|csv|jsonl`: the leaderboard; `{RM_TABLE}_history.parquet|jsonl`: every result;"
        f" `{GEN_TABLE}.parquet|csv|jsonl`: generator rankings; `{MOS_TABLE}.parquet|csv|jsonl`: MOS benchmarks"
        f" (`{MOS_TABLE}_history.parquet|jsonl`: every MOS result)"
        " (JSON Lines files are written only when they have rows)",
        "- `report.html`: the report", "",
        "## Metrics", "",
        "Accuracy without ties counts pairs whose human label is not a tie (a zero margin counts as wrong). Accuracy with "
        "ties uses tie calibration (a threshold on |margin| predicts ties, chosen to maximise accuracy). "
        "`avg w/o ties` and `avg w/ ties` are the means over all of the benchmark's dimensions, and `avg` is their "
        "mean; each is n/a when the model does not score one of the dimensions (an average over fewer dimensions "
        "would not be comparable). The board ranks on `avg`: `position` is set only for models that have it; models "
        "with n/a are listed after the ranked ones, without a position. Dimensions: "
        + "; ".join(f"{k}: {v}" for k, v in DIMENSION_NAMES.items()) + ". "
        "`tier` = 1 + the number of models significantly better (paired bootstrap over prompts when per-pair margins are "
        "stored, otherwise non-overlapping 95% CIs); models with the same tier cannot be told apart. The row with "
        f"`reference` true (model `{RANDOM_MODEL}`) is the expected accuracy of a scorer that ignores the videos: a "
        "reference line with no position, never a competitor.", "",
        "MOS benchmarks (single videos rated with mean opinion scores) have a table of their own: per dimension SRCC, "
        "KRCC and PLCC (Pearson after the 4-parameter logistic fit) of the model's scores with the MOS, with "
        "prompt-clustered bootstrap CIs (`<dim> SRCC lo` / `hi`). They rank on `mean SRCC`, the mean SRCC over "
        "every dimension of the benchmark (n/a, and no position, when one is n/a); `tier` compares the SRCC CIs of "
        "the primary dimension (Overall, else the first).", "",
    ]
    summary = (summary_lines(board) if len(board) else []) + \
        (summary_lines(mos, mos=True) if mos is not None and len(mos) else [])
    if summary:
        lines += ["## Summary", "", *summary, ""]
    lines += [f"{_plural(n_requests, 'submission request')} on file.", "", "## Citation", "", "```bibtex", CITATION,
              "```", ""]
    return "\n".join(lines)


#: Registered benchmark names whose data is a Hub dataset under another id.
BENCHMARK_DATASETS = {"videogen-rewardbench": VIDEOGEN_REWARDBENCH_REPO}
_HUB_DATASET = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def benchmark_dataset_id(result: EvalResult) -> str:
    """The Hub dataset a result was measured on: a registered benchmark's repo; for a benchmark loaded from the Hub
    (its source is ``repo[@rev]`` and its revision a resolved commit; local files have none) that repo; else its
    name (a local or built-in benchmark has no Hub id)."""
    name = result.benchmark.name
    if name in BENCHMARK_DATASETS:
        return BENCHMARK_DATASETS[name]
    source = result.benchmark.source.partition("@")[0]
    if result.benchmark.revision and _HUB_DATASET.fullmatch(source):
        return source
    return name


def _metrics(result: EvalResult):
    """(dimension, metric key, label, value in %) for every available accuracy of ``result``."""
    for dim, d in result.dimensions.items():
        if not d.available:
            continue
        for key, label, task in (("accuracy_without_ties", "w/o ties", "wo_ties"), ("accuracy_with_ties", "w/ ties", "w_ties")):
            est = getattr(d, key)
            if est is not None and est.value is not None:
                yield dim, f"{dim.lower()}_accuracy_{task}", f"{dim} accuracy {label}", round(est.value * 100, 2)


def _results_url(results_repo: str) -> str:
    from huggingface_hub import constants

    return f"{constants.ENDPOINT.rstrip('/')}/datasets/{results_repo}"


def model_index_entry(result: EvalResult, results_repo: str) -> dict[str, Any]:
    """One ``model-index`` result (huggingface_hub's ``EvalResult`` layout): the dataset is the benchmark, the source
    is the results dataset that holds the full result."""
    from huggingface_hub.repocard_data import EvalResult as HubEvalResult, eval_results_to_model_index

    hub = [HubEvalResult(task_type="text-to-video-reward-modeling", task_name="Video preference accuracy",
                         dataset_type=benchmark_dataset_id(result), dataset_name=result.benchmark.name,
                         dataset_revision=result.benchmark.revision, metric_type="accuracy", metric_name=label,
                         metric_value=value, source_name="videobench leaderboard", source_url=_results_url(results_repo))
           for _, _, label, value in _metrics(result)]
    (entry,) = eval_results_to_model_index("model", hub)[0]["results"]
    return entry


def eval_results_yaml(result: EvalResult, results_repo: str) -> str:
    """``.eval_results/<benchmark>.yaml`` in the Hub's eval-results format (``EvalResultEntry``)."""
    from huggingface_hub import EvalResultEntry, eval_result_entries_to_yaml

    created = result.provenance.get("created_at") or None
    entries = [EvalResultEntry(dataset_id=benchmark_dataset_id(result), task_id=task, value=value,
                               dataset_revision=result.benchmark.revision, date=created,
                               source_url=_results_url(results_repo), source_name="videobench leaderboard",
                               notes=f"{label}, %")
               for _, task, label, value in _metrics(result)]
    return yaml.safe_dump(eval_result_entries_to_yaml(entries), sort_keys=False)


def check_model_card_update(repo_id: str, result: object) -> EvalResult:
    """What ``update_model_card`` needs, checked before anything is committed anywhere."""
    from videobench.leaderboard.layout import split_model_id

    if not isinstance(result, EvalResult):
        raise LeaderboardError(f"{repo_id}: only reward-model results (videobench eval) go into a model card")
    split_model_id(repo_id)
    if "/" not in repo_id:
        raise LeaderboardError(f"{repo_id!r} is not a Hub model repo id (org/name): pass --model-id ORG/NAME")
    if next(iter(_metrics(result)), None) is None:
        raise LeaderboardError(f"{repo_id}: the result has no available accuracy to put in a model card")
    return result


def update_model_card(repo_id: str, result: EvalResult, dataset_id: str, *, token: str | None = None,
                      revision: str | None = None) -> str:
    """Merge ``result`` into the model repo's ``model-index`` (``metadata_update``: the README body is kept) and write
    ``.eval_results/<benchmark>.yaml``. Only for repos the caller owns; the Hub endpoint comes from ``HF_ENDPOINT``."""
    from huggingface_hub import CommitOperationAdd, HfApi, metadata_update

    check_model_card_update(repo_id, result)
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
