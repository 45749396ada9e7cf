"""The board as a Hugging Face Space: ``videobench leaderboard space`` writes a Space folder (``app.py``,
``requirements.txt``, ``README.md`` with the Space metadata) whose Gradio app reads the results store.

The app holds no table code of its own: the tables are the report's (``report.rm_table``, ``board_columns``,
``GEN_COLUMNS``, ``QUEUE_COLUMNS``; filtered with the same rules as the report's filter box and column toggles), read
from the store's published ``table/*.parquet`` (built with ``build.build`` when a store has none yet), and the
submission tab files through ``submissions.submit_request``, the function ``videobench submit`` runs.

Identity (``identity.py``): on a Hub store the submitter is the Hub user the Space's OAuth login verified (the
"Sign in with Hugging Face" button; ``hf_oauth: true`` in the metadata), never the Space's own token, and a
submission without a login is refused; the Space also refuses local paths there (a public form must not read the
Space machine's folders). A local store (a board run on one machine) takes a typed, unchecked name.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from videobench.leaderboard.errors import LeaderboardError
from videobench.leaderboard.layout import GEN_TABLE, MOS_TABLE, REQUESTS_DIR, RM_TABLE
from videobench.leaderboard.report import (
    GEN_COLUMNS, GEN_NAMES, GEN_NOTE, OFF_AT_START, QUEUE_COLUMNS, QUEUE_NAMES, RM_NAMES, SORT_FUNCTION_JS, TABLE_CSS,
    board_columns,
    bars_figure, gen_rows, html_table, mos_columns, mos_section_note, mos_table, name_matches, queue_counts, queue_rows,
    rm_section_note, rm_table, visible_columns,
)
from videobench.leaderboard.store import MAX_READ_BYTES, Snapshot, Store
from videobench.leaderboard.tables import read_parquet_bytes

#: The Gradio release the Space runs (``sdk_version``); the dev extra pins the same one, and a test checks they agree.
GRADIO_VERSION = "6.31.0"
REWARD_MODEL = "reward model"
GENERATOR = "generator"
#: The report's header-click sorting, on whichever table the component shows now (the HTML is replaced on every
#: filter change, so the listener sits on the component and finds the header clicked).
SORT_ON_LOAD_JS = SORT_FUNCTION_JS + """
element.addEventListener('click', function (event) {
  var th = event.target.closest ? event.target.closest('table.vb-table thead th') : null;
  if (th) { vbSortBy(th); }
});
"""
SPACE_CSS = TABLE_CSS + ".vb-html{overflow-x:auto} .vb-html td.name,.vb-html td.text,.vb-html th.l{text-align:left !important}"


# ---------------------------------------------------------------------------------------------------------------------
# Data: what the app shows, read from the store.

@dataclass
class BoardData:
    board: pd.DataFrame
    generators: pd.DataFrame
    queue: pd.DataFrame
    revision: str | None
    #: the MOS benchmarks' board (correlations with mean opinion scores; empty on a board without any)
    mos: pd.DataFrame = field(default_factory=pd.DataFrame)
    loaded_at: float = field(default_factory=time.monotonic)

    @property
    def accuracy_benchmarks(self) -> list[str]:
        return sorted(self.board["benchmark"].unique()) if len(self.board) else []

    @property
    def mos_benchmarks(self) -> list[str]:
        return sorted(self.mos["benchmark"].unique()) if len(self.mos) else []

    @property
    def benchmarks(self) -> list[str]:
        """Every reward-model benchmark: the pairwise-accuracy ones, then the MOS ones."""
        return self.accuracy_benchmarks + [b for b in self.mos_benchmarks if b not in self.accuracy_benchmarks]

    @property
    def suites(self) -> list[str]:
        return sorted(self.generators["benchmark"].unique()) if len(self.generators) else []


def _table(snap: Snapshot, path: str) -> pd.DataFrame | None:
    if not snap.exists(path) or snap.files[path].size > MAX_READ_BYTES:
        return None
    return read_parquet_bytes(snap.read(path))


def load_board(store: Store) -> BoardData:
    """The store's published tables and its queue; a store whose tables are missing (never published) is built in
    memory, the way ``leaderboard build`` does."""
    from videobench.leaderboard.build import build, queue_table
    from videobench.leaderboard.submissions import read_requests

    snap = store.snapshot()
    board, generators = _table(snap, f"{RM_TABLE}.parquet"), _table(snap, f"{GEN_TABLE}.parquet")
    mos = _table(snap, f"{MOS_TABLE}.parquet")
    if board is None or generators is None:
        built = build(snap)
        board, generators, mos = built.board, built.tables.generators, built.mos_board
    snap.prefetch([p for p in snap.list(REQUESTS_DIR) if p.endswith(".json")])
    requests, _ = read_requests(snap)
    # a board published before MOS tables existed has none: no MOS benchmarks
    return BoardData(board, generators, queue_table(requests), snap.revision, mos if mos is not None else pd.DataFrame())


# ---------------------------------------------------------------------------------------------------------------------
# Views: pure functions from the data and the reader's choices to HTML (the report's tables, filtered).

def rm_groups(data: BoardData) -> list[tuple[str, str]]:
    """(label, key) of every column group of the reward-model tables, for the checkbox group."""
    seen: dict[str, str] = {}
    for bench in data.benchmarks:
        for key, label in _columns(data, bench)[2]:
            seen.setdefault(key, label)
    return [(label, key) for key, label in seen.items()]


def _columns(data: BoardData, bench: str) -> tuple[pd.DataFrame, list[Any], list[tuple[str, str]]]:
    """A benchmark's rows with the report's columns and groups for its kind (pairwise accuracy, or MOS)."""
    if bench in data.accuracy_benchmarks:
        rows = data.board[data.board["benchmark"] == bench]
        return (rows, *board_columns(rows))
    rows = data.mos[data.mos["benchmark"] == bench]
    return (rows, *mos_columns(rows))


def rm_view(data: BoardData, bench: str | None, query: str = "", shown: list[str] | None = None) -> str:
    """One benchmark's reward-model table with the rows matching ``query`` (the reference line always stays) and the
    column groups in ``shown`` (None: the report's defaults)."""
    if bench not in data.benchmarks:
        return "<p>No reward-model results yet.</p>"
    rows, cols, groups = _columns(data, bench)
    off = set(OFF_AT_START) if shown is None else {key for key, _ in groups} - set(shown)
    keep = name_matches(rows, query, RM_NAMES)
    if bench in data.accuracy_benchmarks:
        keep |= rows["reference"].astype(bool)
        return f"<p class='note'>{rm_section_note(rows)}</p>" + rm_table("rm", rows[keep], visible_columns(cols, off))
    return f"<p class='note'>{mos_section_note(rows)}</p>" + mos_table("rm", rows[keep], visible_columns(cols, off))


def rm_figure(data: BoardData, bench: str | None) -> Any:
    import plotly.graph_objects as go

    if bench not in data.accuracy_benchmarks:
        return None  # the accuracy panels; a MOS benchmark has its table only
    return go.Figure(bars_figure(data.board, bench))


def gen_view(data: BoardData, suite: str | None, query: str = "", ci: bool = True) -> str:
    if suite not in data.suites:
        return "<p>No generator results yet.</p>"
    rows = gen_rows(data.generators, suite)
    cols = visible_columns(GEN_COLUMNS, set() if ci else {"ci"})
    return f"<p class='note'>{GEN_NOTE}</p>" + html_table("gen", rows[name_matches(rows, query, GEN_NAMES)], cols,
                                                         names=GEN_NAMES)


def queue_view(data: BoardData, query: str = "") -> str:
    if not len(data.queue):
        return "<p>No requests yet.</p>"
    rows = queue_rows(data.queue)
    from videobench.leaderboard.report import esc

    return (f"<p class='note'>{esc(queue_counts(rows))}. Requests are evaluated oldest first; a FAILED request gives "
            "its reason and can be submitted again; times in UTC.</p>"
            + html_table("queue", rows[name_matches(rows, query, QUEUE_NAMES)], QUEUE_COLUMNS, names=QUEUE_NAMES))


# ---------------------------------------------------------------------------------------------------------------------
# Submissions: the form's fields go through exactly what `videobench submit` runs.

def file_from_form(store: Store, kind: str, spec: str, target: str, revision: str = "main", name: str = "", *,
                   submitter: str | None = None, verified_user: str | None = None, policy: Any = None,
                   endpoint: str | None = None) -> str:
    """File a request from the form (``submissions.submit_request``); the outcome as plain text: the request, or
    ``Refused:`` and the check's message."""
    from huggingface_hub.errors import HfHubHTTPError

    from videobench.leaderboard.submissions import submit_request

    is_rm = kind != GENERATOR
    try:
        req = submit_request(store, model=spec if is_rm else None, generator=None if is_rm else spec,
                             bench=target if is_rm else None, prompts=None if is_rm else target, revision=revision,
                             name=name, submitter=submitter, verified_user=verified_user, policy=policy,
                             endpoint=endpoint)
    except LeaderboardError as exc:
        return f"Refused: {exc}"
    except HfHubHTTPError as exc:
        return f"Refused: the Hub refused: {exc}"
    checks = "\n".join(f"  checked: {note}" for note in req.checks)
    return (f"Filed request {req.id} (PENDING) for {req.submitter}: {req.model_id}@{req.revision[:12]} on "
            f"{req.benchmark}\n{checks}")


def space_policy(store: Store, max_per_window: int = 5, window_days: float = 7.0) -> Any:
    """The Space's submission policy: no remote code ever; on a Hub store (a public form) Hub repos only."""
    from videobench.leaderboard.hub_store import HubStore
    from videobench.leaderboard.submissions import SubmissionPolicy

    return SubmissionPolicy(max_per_window, window_days, allow_remote_code=False,
                            allow_local_paths=not isinstance(store, HubStore))


# ---------------------------------------------------------------------------------------------------------------------
# The Gradio app.

def make_app(store: Store | str, *, title: str = "videobench leaderboard", endpoint: str | None = None,
             max_per_window: int = 5, window_days: float = 7.0, refresh_seconds: float = 300.0) -> Any:
    """The Space's ``gr.Blocks``: reward-model, generator and queue tabs (filterable), and a submission tab."""
    try:
        import gradio as gr
    except ImportError as exc:  # a Space installs it from sdk_version; here it is an extra
        raise LeaderboardError("the Space app needs Gradio: pip install 'videobench[space]'") from exc

    from videobench.leaderboard.hub_store import HubStore
    from videobench.leaderboard.store import open_store

    target = open_store(store, endpoint=endpoint) if isinstance(store, str) else store
    on_hub = isinstance(target, HubStore)
    policy = space_policy(target, max_per_window, window_days)
    state = {"data": load_board(target)}

    def data(force: bool = False) -> BoardData:
        if force or time.monotonic() - state["data"].loaded_at > refresh_seconds:
            state["data"] = load_board(target)
        return state["data"]

    first = state["data"]
    groups = rm_groups(first)
    shown0 = [key for _, key in groups if key not in OFF_AT_START]
    with gr.Blocks(title=title) as demo:
        gr.Markdown(f"# {_md_text(title)}\nResults from {_md_text(target.describe())}. Each cell: value "
                    "\u00b1 half its 95% CI.")
        reload_button = gr.Button("Reload from the store", size="sm")
        with gr.Tab("Reward models"):
            with gr.Row():
                bench = gr.Dropdown(first.benchmarks, value=(first.benchmarks or [None])[0], label="benchmark")
                rm_query = gr.Textbox(label="filter", placeholder="model name")
            rm_shown = gr.CheckboxGroup(groups, value=shown0, label="columns")
            rm_html = gr.HTML(rm_view(first, bench.value, "", shown0), elem_classes="vb-html",
                              js_on_load=SORT_ON_LOAD_JS)
            rm_plot = gr.Plot(rm_figure(first, bench.value))
        with gr.Tab("Generators"):
            with gr.Row():
                suite = gr.Dropdown(first.suites, value=(first.suites or [None])[0], label="prompt suite")
                gen_query = gr.Textbox(label="filter", placeholder="model, checkpoint or dimension")
                gen_ci = gr.Checkbox(True, label="\u00b1 CI")
            gen_html = gr.HTML(gen_view(first, suite.value), elem_classes="vb-html", js_on_load=SORT_ON_LOAD_JS)
        with gr.Tab("Queue"):
            queue_query = gr.Textbox(label="filter", placeholder="model, status, benchmark or submitter")
            queue_html = gr.HTML(queue_view(first), elem_classes="vb-html", js_on_load=SORT_ON_LOAD_JS)
        with gr.Tab("Submit"):
            gr.Markdown(_SUBMIT_HELP_HUB if on_hub else _SUBMIT_HELP_LOCAL)
            kind = gr.Radio([REWARD_MODEL, GENERATOR], value=REWARD_MODEL, label="kind")
            spec = gr.Textbox(label="model spec", placeholder="videoreward:org/my-rm  or  wan:org/base+lora:org/dpo")
            bench_or_suite = gr.Textbox(label="benchmark (reward model) or prompt suite (generator)",
                                        placeholder="videogen-rewardbench")
            with gr.Row():
                revision = gr.Textbox("main", label="revision (branch, tag or commit)")
                name = gr.Textbox(label="board id org/name (optional)")
            if on_hub:
                gr.LoginButton()
            else:
                who = gr.Textbox(label="submitter (unchecked on a local store)", placeholder="your name")
            submit_button = gr.Button("Submit", variant="primary")
            outcome = gr.Textbox(label="outcome", interactive=False, lines=4)

        rm_inputs = [bench, rm_query, rm_shown]
        for trigger in (bench.change, rm_query.change, rm_shown.change):
            trigger(lambda b, q, s: rm_view(data(), b, q, s), rm_inputs, rm_html, api_name=False)
        bench.change(lambda b: rm_figure(data(), b), bench, rm_plot, api_name=False)
        for trigger in (suite.change, gen_query.change, gen_ci.change):
            trigger(lambda s, q, c: gen_view(data(), s, q, c), [suite, gen_query, gen_ci], gen_html, api_name=False)
        queue_query.change(lambda q: queue_view(data(), q), queue_query, queue_html, api_name=False)

        def refreshed(b, rq, rs, s, gq, gc, qq, force=True):
            d = data(force)
            return (rm_view(d, b, rq, rs), rm_figure(d, b), gen_view(d, s, gq, gc), queue_view(d, qq))

        views_in = [bench, rm_query, rm_shown, suite, gen_query, gen_ci, queue_query]
        views_out = [rm_html, rm_plot, gen_html, queue_html]
        reload_button.click(refreshed, views_in, views_out, api_name="reload")

        form = [kind, spec, bench_or_suite, revision, name]
        if on_hub:
            def submit_hub(k: str, sp: str, t: str, rev: str, nm: str, profile: gr.OAuthProfile | None) -> str:
                if profile is None:
                    return ("Refused: sign in with Hugging Face (the button above) to submit; requests are filed "
                            "under your Hub user, and the quota counts per user")
                return file_from_form(target, k, sp, t, rev, nm, verified_user=profile.username, policy=policy,
                                      endpoint=endpoint)
            # Gradio injects the signed-in user into a parameter *typed* gr.OAuthProfile; this module's annotations
            # are strings (PEP 563) that it cannot resolve for a local import, so the type is given as an object.
            submit_hub.__annotations__["profile"] = gr.OAuthProfile | None
            handler: Callable[..., str] = submit_hub
        else:
            def submit_local(k: str, sp: str, t: str, rev: str, nm: str, person: str) -> str:
                return file_from_form(target, k, sp, t, rev, nm, submitter=person, policy=policy, endpoint=endpoint)
            handler = submit_local
            form.append(who)
        submit_button.click(handler, form, outcome, api_name="submit").then(
            lambda q: queue_view(data(True), q), queue_query, queue_html, api_name=False)
    return demo


_SUBMIT_HELP_HUB = ("Sign in with Hugging Face, then name a model. Every check of `videobench submit` runs before "
                    "anything is filed (safe weights, no remote code, the revision resolved to a commit, the benchmark "
                    "exists, duplicates, your quota); the request is filed under your Hub user. Hub repos only.")
_SUBMIT_HELP_LOCAL = ("Name a model (a Hub repo or a folder on this machine). Every check of `videobench submit` runs "
                      "before anything is filed. This board is a local folder: the submitter name is not checked.")


def _md_text(text: str) -> str:
    """Plain text for a Markdown line: HTML escaped, Markdown punctuation backslashed."""
    import html
    import re

    return re.sub(r"([\\`*_{}\[\]()#+\-.!|])", r"\\\1", html.escape(text, quote=False))


def launch(demo: Any, **kwargs: Any) -> Any:
    """``demo.launch`` with the tables' stylesheet (Gradio 6 takes CSS at launch)."""
    return demo.launch(css=SPACE_CSS, **kwargs)


# ---------------------------------------------------------------------------------------------------------------------
# The Space folder.

_APP = '''"""The videobench leaderboard Space, written by `videobench leaderboard space` (regenerate it rather than edit).

The store below is read unless the VIDEOBENCH_STORE variable names another. On a Hub store the Space's HF_TOKEN
secret must be able to write to it: requests are committed with it, filed under the user who signed in.
"""

import os

from videobench.leaderboard.space import launch, make_app

demo = make_app(os.environ.get("VIDEOBENCH_STORE") or {store!r}, title={title!r},
                max_per_window={quota!r}, window_days={quota_days!r})

if __name__ == "__main__":
    launch(demo)
'''

_README_BODY = """
# {title}

A leaderboard of text-to-video reward models and generators, run with videobench. The results live in
{where}; this app shows its tables (filter by name, switch column groups) and its queue, and files submissions
through the same checks as `videobench submit`.

Written by `videobench leaderboard space`; `python app.py` runs it locally.
"""


def space_files(store: str, *, title: str = "videobench leaderboard", requirement: str | None = None,
                max_per_window: int = 5, window_days: float = 7.0) -> dict[str, bytes]:
    """The Space folder's files (name -> content). ``store``: a Hub dataset repo id (``org/name`` or
    ``hf://datasets/org/name``) or a local folder (then the Space only runs on this machine)."""
    from huggingface_hub import SpaceCardData

    import videobench
    from videobench.leaderboard.hub_store import HubStore
    from videobench.leaderboard.store import LocalStore, open_store

    opened = open_store(store)
    on_hub = isinstance(opened, HubStore)
    where = store if on_hub else str(Path(store).expanduser().resolve())
    if not isinstance(opened, (HubStore, LocalStore)) or not where:
        raise LeaderboardError(f"--store {store!r}: not a Hub dataset repo id or a folder")
    meta = SpaceCardData(
        title=title[:60], sdk="gradio", sdk_version=GRADIO_VERSION, python_version="3.11", app_file="app.py",
        license="apache-2.0", datasets=[opened.repo_id] if on_hub else None, tags=["leaderboard", "videobench"],
        emoji="\U0001F3C6", colorFrom="blue", colorTo="indigo", pinned=False, hf_oauth=on_hub or None,
        short_description="Text-to-video reward models and generators, ranked",
    )
    body = _README_BODY.format(
        title=_md_text(title),
        where=f"the dataset [{opened.repo_id}](https://huggingface.co/datasets/{opened.repo_id})" if on_hub
        else f"the folder `{where.replace('`', '')}`")
    requirements = [
        "# videobench: the tables and the submission checks; gradio is the sdk_version of README.md, with the",
        "# [oauth] extra for the sign-in button of a Hub store.",
        requirement or f"videobench=={videobench.__version__}",
        *([f"gradio[oauth]=={GRADIO_VERSION}"] if on_hub else []),
    ]
    return {
        "README.md": f"---\n{meta.to_yaml()}\n---\n{body}".encode(),
        "app.py": _APP.format(store=where, title=title, quota=max_per_window, quota_days=window_days).encode(),
        "requirements.txt": ("\n".join(requirements) + "\n").encode(),
    }


def write_space(store: str, out: Path, **kwargs: Any) -> list[Path]:
    """Write the Space folder (atomically, file by file); returns the paths written."""
    from videobench.atomic import write_bytes

    written = []
    for name, data in space_files(store, **kwargs).items():
        write_bytes(out / name, data)
        written.append(out / name)
    return written
