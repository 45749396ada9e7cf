"""`videobench submit` and `videobench leaderboard run-queue|build|publish`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer

from videobench.cli import app
from videobench.cli.common import (UserError, check_output_dir, console, err_console, friendly_errors, parse_sampling,
                                   parse_seeds)

leaderboard_app = typer.Typer(help="Run a leaderboard: the submission queue, tables, report and dataset card.",
                              no_args_is_help=True)
app.add_typer(leaderboard_app, name="leaderboard")

STORE_HELP = "Results store: a local folder or a Hub dataset repo id (org/name); default $VIDEOBENCH_STORE."
ENDPOINT_HELP = "Hub endpoint (default: HF_ENDPOINT or huggingface.co)."


def _store(store: Optional[str], endpoint: Optional[str], write: bool = False):
    """The store; with ``write``, a local one is checked for writability and free space first."""
    from videobench.leaderboard.store import LocalStore, open_store

    target = store or os.environ.get("VIDEOBENCH_STORE")
    if not target:
        raise UserError("no store given: pass --store DIR_OR_REPO or set VIDEOBENCH_STORE")
    opened = open_store(target, endpoint=endpoint)
    if write and isinstance(opened, LocalStore):
        check_output_dir(opened.root, "--store")
    return opened


def _errors():
    """friendly_errors plus the leaderboard's own refusals."""
    from contextlib import contextmanager

    from huggingface_hub.errors import HfHubHTTPError

    from videobench.leaderboard.errors import LeaderboardError

    @contextmanager
    def ctx():
        with friendly_errors():
            try:
                yield
            except LeaderboardError as exc:
                raise UserError(str(exc)) from exc
            except HfHubHTTPError as exc:  # auth, permissions, missing repos: say what the Hub said
                raise UserError(f"the Hub refused: {exc}") from exc
    return ctx()


@app.command("submit")
def submit_cmd(
    model: Optional[str] = typer.Option(None, "--model", help="Reward model spec with its options, e.g. "
                                         "'videoreward:org/model?template=vr.txt&fps=2' (quote it for the shell)."),
    generator: Optional[str] = typer.Option(None, "--generator", help="Generator spec, e.g. wan:org/base+lora:org/dpo; "
                                             "'wan:BASE+lora:RUN/checkpoints/checkpoint-*' files every checkpoint of "
                                             "a run (NAME-checkpoint-N, one quota unit), shown as its history."),
    revision: str = typer.Option("main", "--revision", help="Branch, tag or commit; resolved to a commit now."),
    bench: Optional[str] = typer.Option(None, "--bench", help="Benchmark for a reward model."),
    prompts: Optional[str] = typer.Option(None, "--prompts", help="Prompt suite for a generator."),
    store: Optional[str] = typer.Option(None, "--store", help=STORE_HELP),
    name: Optional[str] = typer.Option(None, "--name", help="Board id org/name (default: the last component's repo; "
                                        "for a run's checkpoints the run folder's name)."),
    submitter: Optional[str] = typer.Option(None, "--submitter", help="Who submits, for a local store (unchecked; "
                                             "default $USER). On a Hub store the submitter is the Hub user of your "
                                             "token (whoami); a different name is refused."),
    max_per_window: int = typer.Option(5, "--quota", help="Submissions per submitter per window."),
    window_days: float = typer.Option(7.0, "--quota-days", help="Quota window in days."),
    allow_remote_code: bool = typer.Option(False, "--allow-remote-code", help="Accept configs asking for remote code."),
    endpoint: Optional[str] = typer.Option(None, "--endpoint", help=ENDPOINT_HELP),
) -> None:
    """File a request (status PENDING) after checking the weights and configs; no compute is spent here."""
    from videobench.leaderboard.submissions import SubmissionPolicy, submit_requests

    with _errors():
        filed = submit_requests(_store(store, endpoint, write=True), model=model, generator=generator, bench=bench,
                                prompts=prompts, revision=revision, name=name, submitter=submitter, endpoint=endpoint,
                                policy=SubmissionPolicy(max_per_window, window_days, allow_remote_code))
        for req in filed:
            console.print(f"request [bold]{req.id}[/] PENDING: {req.model_id}@{req.revision[:12]} on {req.benchmark}",
                          highlight=False, markup=True)
            for note in req.checks:
                console.print(f"  checked: {note}", highlight=False, markup=False)


@leaderboard_app.command("run-queue")
def run_queue_cmd(
    store: Optional[str] = typer.Option(None, "--store", help=STORE_HELP),
    worker: Optional[str] = typer.Option(None, "--worker", help="Worker id; reuse it after a crash to resume."),
    max_requests: Optional[int] = typer.Option(None, "--max", help="Stop after this many requests."),
    lease_hours: float = typer.Option(6.0, "--lease-hours", help="After this long a RUNNING request may be taken over."),
    resume_stale: bool = typer.Option(False, "--resume-stale", help="Also take over RUNNING requests whose worker "
                                      "process is gone from this machine (killed), without waiting for the lease."),
    no_publish: bool = typer.Option(False, "--no-publish", help="Do not rebuild table/report with each result."),
    reward: list[str] = typer.Option(["videoreward:KwaiVGI/VideoReward"], "--reward",
                                     help="Board reward model(s) that score generator submissions."),
    baseline_generator: Optional[str] = typer.Option(None, "--baseline-generator",
                                                     help="Generator spec to compare against while the board has none."),
    render_dir: Optional[Path] = typer.Option(None, "--render-dir", help="Keep renders here between runs."),
    cache_dir: Optional[Path] = typer.Option(
        None, "--cache-dir",
        help="Score cache of the board's jobs, so a killed job resumes without rescoring (default: scores/ in this "
             "store's folder under $VIDEOBENCH_QUEUE_DIR, else ~/.cache/videobench/queue).",
    ),
    sampling: Optional[str] = typer.Option(None, "--sampling", help="The board's sampling for every generator it "
                                           "renders, e.g. steps=50&guidance=5&height=480&width=832&num_frames=81&fps=16 "
                                           "(default: each pipeline family's own)."),
    num_prompts: Optional[int] = typer.Option(None, "--num-prompts", min=1, help="Render only the first N prompts of "
                                              "the suite (default: all)."),
    seeds: str = typer.Option("0", "--seeds", help="Comma-separated seeds every generator renders each prompt with."),
    endpoint: Optional[str] = typer.Option(None, "--endpoint", help=ENDPOINT_HELP),
) -> None:
    """Evaluate PENDING requests one by one (claim, evaluate, publish results + status in one commit)."""
    from videobench.leaderboard import evaluators
    from videobench.leaderboard.queue import QueueSettings, default_work_root, default_worker_id, orphaned, run_queue

    with _errors():
        worker_id = worker or default_worker_id()
        target = _store(store, endpoint, write=True)
        check_output_dir(default_work_root(), "the queue's work folder ($VIDEOBENCH_QUEUE_DIR)")
        for folder, what in ((render_dir, "--render-dir"), (cache_dir, "--cache-dir")):
            if folder is not None:
                check_output_dir(folder, what)
        evaluator = evaluators.make_default_evaluator(target, tuple(reward), baseline_generator, render_dir, cache_dir,
                                                      settings=parse_sampling(sampling), num_prompts=num_prompts,
                                                      seeds=tuple(parse_seeds(seeds)))
        settings = QueueSettings(lease_seconds=lease_hours * 3600, publish_board=not no_publish,
                                 resume_stale=resume_stale)
        outcomes = run_queue(target, evaluator, worker_id, max_requests=max_requests, settings=settings)
        if not outcomes:
            console.print("no pending requests")
        for req, note in orphaned(target, settings):
            err_console.print(f"{req.id} is RUNNING: {note}", highlight=False, markup=False)
        for out in outcomes:
            line = f"{out.request_id}: {out.status}" + (f" ({out.reason})" if out.reason else "")
            console.print(line, highlight=False, markup=False)


@leaderboard_app.command("build")
def build_cmd(
    store: Optional[str] = typer.Option(None, "--store", help=STORE_HELP),
    out: Path = typer.Option(Path("leaderboard-build"), "--out", help="Folder for table, report and card."),
    png: bool = typer.Option(False, "--png", help="Also export each figure as PNG (needs kaleido and chromium)."),
    endpoint: Optional[str] = typer.Option(None, "--endpoint", help=ENDPOINT_HELP),
) -> None:
    """Rebuild table, report and dataset card from the store into --out (nothing is committed)."""
    from videobench.leaderboard.build import build
    from videobench.leaderboard.report import write_pngs

    with _errors():
        check_output_dir(out, "--out")
        snap = _store(store, endpoint).snapshot()
        if snap.revision is None and not snap.files:
            raise UserError(f"{snap.store.describe()} is empty or does not exist")
        built = build(snap)
        from videobench.atomic import write_bytes

        for rel, data in built.files.items():
            write_bytes(out / rel, data)  # whole files only, also when the build is killed midway
        for path, message in built.tables.problems:
            err_console.print(f"skipped {path}: {message}", highlight=False, markup=False)
        if png:
            write_pngs(built.figures, str(out / "figures"))
        console.print(f"wrote {len(built.files)} files to {out} ({built.tables.parsed} results parsed, "
                      f"{built.tables.reused} reused)", highlight=False, markup=False)


def _expand_suite_results(paths: list[Path], model_id: Optional[str]) -> list[tuple[Path, Optional[str]]]:
    """Each --result as given, except a suite.json, which stands for the per-benchmark results it lists; those are
    published under their file names (the models' names made file-safe: a spec such as random:0 is no board id)."""
    import json

    from videobench.suites import read_suite_result

    out: list[tuple[Path, Optional[str]]] = []
    for path in paths:
        try:
            kind = json.loads(path.read_bytes()).get("kind")
        except (OSError, ValueError, AttributeError):
            kind = None  # parse_result reports it with the file's name
        if kind != "suite":
            out.append((path, None))
            continue
        data, listed = read_suite_result(path)
        if model_id is not None and len(data.get("models") or []) > 1:
            raise UserError(f"{path}: --model-id names one model; this suite result holds {len(data['models'])} "
                            "(each is published under its own name)")
        out.extend((p, p.stem) for p in listed)
    return out


@leaderboard_app.command("publish")
def publish_cmd(
    store: Optional[str] = typer.Option(None, "--store", help=STORE_HELP),
    result: list[Path] = typer.Option([], "--result", help="Result JSON to add (per-item Parquet beside it is added "
                                      "too); a suite.json (videobench eval --suite) adds each per-benchmark result "
                                      "it lists."),
    model_id: Optional[str] = typer.Option(None, "--model-id", help="Board id org/name for --result (default: its model name)."),
    model_card: bool = typer.Option(False, "--model-card", help="Also merge the results into the model repo's card "
                                    "(model-index + .eval_results/, with the benchmark as the dataset); needs a Hub "
                                    "store and an org/name id, checked before anything is committed; only for repos "
                                    "you own."),
    endpoint: Optional[str] = typer.Option(None, "--endpoint", help=ENDPOINT_HELP),
) -> None:
    """Add results (optional) and commit the rebuilt table, report and card in one commit. A result the store already
    holds (same model folder, same content and per-item files) is not added again."""
    from videobench.leaderboard.build import publish
    from videobench.leaderboard.cards import check_model_card_update, update_model_card
    from videobench.leaderboard.hub_store import HubStore
    from videobench.leaderboard.ingest import parse_result
    from videobench.leaderboard.layout import result_path, timestamp
    from videobench.leaderboard.queue import stage_results
    from videobench.leaderboard.submissions import Component, Request
    from videobench.results import EvalResult

    with _errors():
        target = _store(store, endpoint, write=True)
        if model_card and not isinstance(target, HubStore):  # refused before anything is committed
            raise UserError("--model-card needs a Hub store (the card links to the results dataset)")
        extra: dict = {}
        added = []
        for path, suite_id in _expand_suite_results(result, model_id):
            res = parse_result(path.read_bytes(), source=str(path))
            mid = model_id or suite_id or (res.model.name if isinstance(res, EvalResult) else None)
            if mid is None:
                raise UserError(f"{path}: pass --model-id for a comparison result")
            bench = res.benchmark.name if isinstance(res, EvalResult) else str(res.prompts.get("suite") or "prompts")
            req = Request(id="manual", kind="reward_model", model="", model_id=mid, revision="", benchmark=bench,
                          components=[Component("", "")], submitter="", submitted_at="")
            result_path(bench, mid, timestamp())  # validates the names before anything is written
            if model_card:
                check_model_card_update(mid, res)
            extra.update(stage_results(req, [path]))
            added.append((mid, res))
        outcome = publish(target, extra, message="videobench: publish" + (f" {len(added)} result(s)" if added else ""))
        if outcome.committed:
            console.print(f"committed {len(outcome.changed)} file(s) as {outcome.revision}", highlight=False, markup=False)
            for p in outcome.changed:
                console.print(f"  {p}", highlight=False, markup=False)
        else:
            console.print("nothing changed", highlight=False, markup=False)
        if model_card:
            for mid, res in added:
                update_model_card(mid, res, target.repo_id)
                console.print(f"updated the model card of {mid}", highlight=False, markup=False)


@leaderboard_app.command("space")
def space_cmd(
    store: Optional[str] = typer.Option(None, "--store", help=STORE_HELP + " The Space reads this store."),
    out: Path = typer.Option(Path("leaderboard-space"), "--out", help="Folder for the Space: app.py, "
                             "requirements.txt and README.md (the Space metadata)."),
    title: str = typer.Option("videobench leaderboard", "--title", help="Title of the Space and its page."),
    requirement: Optional[str] = typer.Option(None, "--requirement", help="How the Space installs videobench "
                                              "(default: videobench==<this version>; e.g. a git URL)."),
    max_per_window: int = typer.Option(5, "--quota", help="Submissions per submitter per window, in the Space."),
    window_days: float = typer.Option(7.0, "--quota-days", help="Quota window in days."),
) -> None:
    """Write a Hugging Face Space (Gradio) that shows the store's tables and queue and files submissions through the
    checks of `videobench submit`. Nothing is uploaded: upload the folder as a Space (`hf upload --repo-type space
    ORG/NAME OUT`), or run it here with `python OUT/app.py`."""
    from videobench.leaderboard.space import write_space

    with _errors():
        target = store or os.environ.get("VIDEOBENCH_STORE")
        if not target:
            raise UserError("no store given: pass --store DIR_OR_REPO or set VIDEOBENCH_STORE")
        check_output_dir(out, "--out")
        for path in write_space(target, out, title=title, requirement=requirement, max_per_window=max_per_window,
                                window_days=window_days):
            console.print(f"wrote {path}", highlight=False, markup=False)
        console.print(f"run it here: python {out / 'app.py'}; publish it: hf upload --repo-type space ORG/NAME {out}",
                      highlight=False, markup=False)
