"""Benchmark suites: several benchmarks, one protocol, one joint table (``videobench eval --suite NAME``).

A suite is a YAML file::

    name: mini
    description: what it measures
    protocol:                 # every EvalConfig metric setting, and the models' frame sampling
      tie_threshold: 0.25     # fixed-threshold accuracy with ties, beside the calibrated and cross-fitted ones
      n_resamples: 1000
      level: 0.95
      folds: 5
      seed: 0
      sampling: {fps: 2}      # options given to every reward spec that takes them (fps, num_frames, max_pixels)
    benchmarks:
      - name: mjbench-video   # the folder and table label of this benchmark (unique in the suite)
        bench: mjbench-video  # a registered name, a file or folder (relative to the YAML), or a Hub id
        dimensions: {Fineness: VQ, Coherence: MQ, Overall: [VQ, MQ, TA]}   # videobench.dimension_map
        # also: format, split, columns, subset (a pair-id list, relative to the YAML)

Built-in suites live in ``videobench/resources/suites/<name>.yaml``; ``--suite`` takes their name or a YAML path.

``run_suite`` evaluates every model on every benchmark through ``videobench.api.run_evaluation`` (the code behind
``videobench eval``) and writes, into the output folder, ``<benchmark>/<model>.json`` (plus per-pair / per-video
Parquet and a ``report.html`` per benchmark) and the joint table ``suite.json``, ``suite.md`` and ``suite.html``.
A (model, benchmark) whose result is already there, from the same suite and protocol, is not evaluated again; the
score cache makes re-scoring cheap when a kill came mid-benchmark.

A (model, benchmark) that fails (a pairwise judge on a MOS benchmark, a model that raises on one benchmark's videos,
a benchmark file that does not load) does not stop the suite: its cell is n/a with the reason in the joint table
(``SuiteRun.failed``, ``suite.json``'s ``failed``), every other cell is computed, and the next run tries it again.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from videobench.api import EvalConfig, EvalConfigError, Evaluation, run_evaluation, slug, unique_names

SUITE_SCHEMA_VERSION = 1
#: Keys of ``protocol`` besides ``sampling``: the metric settings of ``EvalConfig``.
PROTOCOL_KEYS = ("n_resamples", "level", "folds", "seed", "tie_threshold")
SAMPLING_KEYS = ("fps", "num_frames", "max_pixels")
BENCH_KEYS = ("name", "bench", "dimensions", "format", "split", "columns", "subset")


class SuiteError(EvalConfigError):
    """A suite file or suite run that cannot be used; the message names the file and entry."""


@dataclass(frozen=True)
class SuiteBenchmark:
    name: str
    bench: str
    dimensions: dict[str, list[str]] = field(default_factory=dict)
    format: str = "auto"
    split: str | None = None
    columns: str | None = None
    subset: str | None = None


@dataclass(frozen=True)
class Suite:
    name: str
    benchmarks: tuple[SuiteBenchmark, ...]
    protocol: dict[str, Any]
    description: str = ""
    source: str = ""

    def fingerprint(self) -> str:
        """Hash of what the suite asks for (benchmarks, maps, protocol), not of where its file lies."""
        body = {"benchmarks": [asdict(b) for b in self.benchmarks], "protocol": self.protocol}
        return "sha256:" + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32]


def builtin_suites_dir() -> Path:
    from importlib.resources import files

    return Path(str(files("videobench").joinpath("resources", "suites")))


def builtin_suites() -> list[str]:
    return sorted(p.stem for p in builtin_suites_dir().glob("*.yaml"))


def load_suite(spec: str | os.PathLike) -> Suite:
    """A suite by built-in name or YAML path; raises ``SuiteError`` naming the file and the entry at fault."""
    text = os.fspath(spec)
    path = Path(text).expanduser()
    if not path.is_file():
        if text in builtin_suites():
            path = builtin_suites_dir() / f"{text}.yaml"
        else:
            raise SuiteError(f"suite {text!r}: not a built-in suite ({', '.join(builtin_suites()) or 'none'}) and "
                             "not a YAML file")
    return parse_suite(_read_yaml(path), path)


def _read_yaml(path: Path) -> dict[str, Any]:
    from videobench.settings import read_settings_yaml

    return read_settings_yaml(path, SuiteError)


def parse_suite(data: Mapping[str, Any], path: Path) -> Suite:
    from videobench.dimension_map import DimensionMapError, parse_dimension_map

    where = str(path)
    unknown = sorted(set(data) - {"name", "description", "protocol", "benchmarks"})
    if unknown:
        raise SuiteError(f"{where}: unknown key(s) {unknown}; a suite has name, description, protocol, benchmarks")
    name = data.get("name") or path.stem
    if not isinstance(name, str):
        raise SuiteError(f"{where}: name must be text")
    protocol = dict(data.get("protocol") or {})
    bad = sorted(set(protocol) - {*PROTOCOL_KEYS, "sampling"})
    if bad:
        raise SuiteError(f"{where}: protocol: unknown key(s) {bad}; known: {', '.join((*PROTOCOL_KEYS, 'sampling'))}")
    sampling = protocol.get("sampling") or {}
    if not isinstance(sampling, dict) or set(sampling) - set(SAMPLING_KEYS):
        raise SuiteError(f"{where}: protocol.sampling must map {', '.join(SAMPLING_KEYS)} to numbers, got {sampling!r}")
    try:
        EvalConfig(**{k: v for k, v in protocol.items() if k in PROTOCOL_KEYS})
    except (EvalConfigError, TypeError) as exc:
        raise SuiteError(f"{where}: protocol: {exc}") from None
    entries = data.get("benchmarks")
    if not isinstance(entries, list) or not entries:
        raise SuiteError(f"{where}: benchmarks must be a non-empty list")
    benchmarks = []
    for i, entry in enumerate(entries, start=1):
        at = f"{where}: benchmarks[{i}]"
        if isinstance(entry, str):
            entry = {"bench": entry}
        if not isinstance(entry, dict) or not isinstance(entry.get("bench"), str):
            raise SuiteError(f"{at}: expected a mapping with bench: NAME|PATH|HUB_ID")
        extra = sorted(set(entry) - set(BENCH_KEYS))
        if extra:
            raise SuiteError(f"{at}: unknown key(s) {extra}; known: {', '.join(BENCH_KEYS)}")
        try:
            dims = parse_dimension_map(entry.get("dimensions"), f"{at}.dimensions")
        except DimensionMapError as exc:
            raise SuiteError(str(exc)) from None
        bench = _relative_to(path, entry["bench"])
        subset = _relative_to(path, entry["subset"]) if entry.get("subset") else None
        label = str(entry.get("name") or Path(entry["bench"]).stem)
        if slug(label) != label:
            raise SuiteError(f"{at}: name {label!r} must be a plain folder name (letters, digits, . _ -)")
        benchmarks.append(SuiteBenchmark(label, bench, dims, str(entry.get("format") or "auto"), entry.get("split"),
                                         entry.get("columns"), subset))
    names = [b.name for b in benchmarks]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise SuiteError(f"{where}: benchmark name(s) {repeated} repeat; give each entry its own name")
    return Suite(name, tuple(benchmarks), protocol, str(data.get("description") or ""), where)


def _relative_to(suite_file: Path, value: str) -> str:
    """A path written in a suite is relative to the suite's folder (when such a file or folder exists there)."""
    candidate = suite_file.parent / value
    return str(candidate.resolve()) if candidate.exists() else value


# ------------------------------------------------------------------------------------------------------ running


@dataclass
class SuiteRun:
    """What ``run_suite`` wrote: the joint table (``table``: one row per model, benchmark, dimension and metric, and
    one row with an ``error`` per failed cell), the per-benchmark results, ``results[benchmark][model]``, and the
    cells that failed, ``failed[(model, benchmark)]`` = the reason (one line)."""

    suite: Suite
    output: Path
    table: list[dict[str, Any]]
    results: dict[str, dict[str, Any]]
    reused: list[tuple[str, str]]
    failed: dict[tuple[str, str], str] = field(default_factory=dict)
    #: the models' display names, in the order given
    models: list[str] = field(default_factory=list)


def _sampled_specs(models: Sequence[Any], sampling: Mapping[str, Any]) -> list[Any]:
    """Each reward spec with the suite's sampling options that its factory takes (others are left as given)."""
    from videobench.rewards.registry import RewardSpec, _resolve_factory, option_parameters, parse_reward_spec

    if not sampling:
        return list(models)
    out = []
    for model in models:
        if not isinstance(model, (str, RewardSpec)) or Path(str(model)).is_file():
            out.append(model)
            continue
        spec = parse_reward_spec(model)
        params = option_parameters(_resolve_factory(spec.prefix), spec.argument)
        take = {k: v for k, v in sampling.items() if params is None or k in params}
        out.append(parse_reward_spec(spec, **take) if take else spec)
    return out


def _stamp(suite: Suite, bench: SuiteBenchmark, given: str) -> dict[str, Any]:
    return {"name": suite.name, "fingerprint": suite.fingerprint(), "benchmark": bench.name, "model": given}


def _existing(path: Path, stamp: Mapping[str, Any]) -> Any:
    """The result at ``path`` when it is whole and was written by this suite entry for this model, else None."""
    from videobench.results import ResultFormatError, load_result

    if not path.is_file():
        return None
    try:
        result = load_result(path)
    except (ResultFormatError, OSError, ValueError):
        return None
    return result if result.provenance.get("suite") == dict(stamp) else None


def run_suite(models: Sequence[Any], suite: str | os.PathLike | Suite, output: str | os.PathLike, *,
              names: Sequence[str | None] | None = None, report: bool = True, **options: Any) -> SuiteRun:
    """Evaluate every model on every benchmark of ``suite`` and write the joint table into ``output``.

    ``models``: reward specs or ``RewardModel`` objects (as for ``videobench.evaluate``). ``options``: ``EvalConfig``
    fields; those of the protocol (n_resamples, level, folds, seed, tie_threshold) override the suite's when given.
    """
    from videobench.evaluation import save_evaluation

    suite = suite if isinstance(suite, Suite) else load_suite(suite)
    if not models:
        raise SuiteError("a suite run needs at least one model")
    bad = sorted(set(options) & {"bench", "models", "dimension_map", "subset", "format", "split", "columns"})
    if bad:
        raise SuiteError(f"{suite.source}: {bad} are set per benchmark by the suite, not for the whole run")
    defaults = {"random_baseline": False, "num_shards": 1, "shard_index": 0, "shard_dir": None, "merge": None}
    bad = sorted(k for k, default in defaults.items() if options.get(k, default) not in (None, default))
    if bad:
        raise SuiteError(f"a suite run takes models only ({bad} do not apply; add random:0 as a model for the "
                         "chance baseline)")
    protocol = {k: v for k, v in suite.protocol.items() if k in PROTOCOL_KEYS}
    protocol.update({k: v for k, v in options.items() if k in PROTOCOL_KEYS and v is not None})
    rest = {k: v for k, v in options.items() if k not in PROTOCOL_KEYS}
    specs = _sampled_specs(models, suite.protocol.get("sampling") or {})
    display = unique_names([n or _model_name(m) for n, m in zip(names or [None] * len(specs), specs)])
    given = [str(m) if not hasattr(m, "fingerprint") else f"python-object:{m.name}" for m in specs]
    out = Path(output)
    results: dict[str, dict[str, Any]] = {}
    reused: list[tuple[str, str]] = []
    failed: dict[tuple[str, str], str] = {}
    stamped = {**protocol, "sampling": suite.protocol.get("sampling") or {}}
    run_suite_obj = Suite(suite.name, suite.benchmarks, stamped, suite.description, suite.source)
    for bench in suite.benchmarks:
        folder = out / bench.name
        results[bench.name] = {}
        todo = []
        for i, name in enumerate(display):
            stamp = _stamp(run_suite_obj, bench, given[i])
            found = _existing(folder / f"{slug(name)}.json", stamp)
            if found is not None:
                results[bench.name][name] = found
                reused.append((name, bench.name))
            else:
                todo.append(i)
        if todo:
            def evaluate(idx: list[int], bench: SuiteBenchmark = bench) -> list[Any]:
                config = EvalConfig(
                    models=[specs[i] for i in idx], bench=bench.bench, format=bench.format, split=bench.split,
                    columns=bench.columns, subset=bench.subset, dimension_map=bench.dimensions or None,
                    **protocol, **rest)
                return run_evaluation(config, names=[display[i] for i in idx])

            done, errors = evaluate_cells(todo, evaluate)
            for i, reason in errors.items():
                failed[(display[i], bench.name)] = reason
            for i in todo:
                if i not in done:
                    continue
                ev = done[i]
                # the suite's name for the benchmark: tables and leaderboards group by it (source and fingerprint
                # still say which file was read)
                ev.result.benchmark.name = bench.name
                ev.result.provenance["suite"] = _stamp(run_suite_obj, bench, given[i])
                save_evaluation(ev.result, ev.pairs, folder, slug(display[i]), per_video=ev.videos)
                results[bench.name][display[i]] = ev.result
        if report and results[bench.name]:
            from videobench.report import write_eval_report

            write_eval_report([results[bench.name][n] for n in display if n in results[bench.name]],
                              folder / "report.html", title=f"{suite.name} / {bench.name}")
    table = joint_table(results, display, failed)
    write_suite_files(run_suite_obj, out, table, results, display, failed)
    return SuiteRun(run_suite_obj, out, table, results, reused, failed, display)


def evaluate_cells(todo: Sequence[int], evaluate: Any) -> tuple[dict[int, Any], dict[int, str]]:
    """``evaluate(indices)`` -> one evaluation per index, for all of ``todo`` in one pass (one scoring pass, each
    video decoded once); when that raises, each model again on its own (its scores are cached), so one failing model
    costs only its own cells. Returns (index -> evaluation, index -> reason of the failure)."""
    try:
        return dict(zip(todo, evaluate(list(todo)))), {}
    except Exception as exc:  # noqa: BLE001 - any failure of a cell is reported in its cell, never fatal
        if len(todo) == 1:
            return {}, {todo[0]: failure_reason(exc)}
    done: dict[int, Any] = {}
    errors: dict[int, str] = {}
    for i in todo:
        try:
            done[i] = evaluate([i])[0]
        except Exception as exc:  # noqa: BLE001
            errors[i] = failure_reason(exc)
    return done, errors


def failure_reason(exc: BaseException) -> str:
    """One line: the message of an input error as ``videobench`` prints it; other errors with their type."""
    from videobench.cli.common import is_user_error, user_message

    text = user_message(exc)
    text = text if is_user_error(exc) else f"{type(exc).__name__}: {text}"
    return text if len(text) <= 300 else text[:297] + "..."


def _model_name(model: Any) -> str:
    from videobench.rewards.registry import RewardSpec

    if isinstance(model, RewardSpec):
        return str(model).split("?")[0]
    return getattr(model, "name", None) or str(model).split("?")[0]


# ------------------------------------------------------------------------------------------------ the joint table

#: (attribute of DimensionResult, metric name in the joint table) for pairwise benchmarks.
PAIR_METRICS = (("accuracy_without_ties", "accuracy_without_ties"), ("accuracy_with_ties", "accuracy_with_ties"),
                ("accuracy_with_ties_crossfit", "accuracy_with_ties_crossfit"),
                ("accuracy_with_ties_fixed", "accuracy_with_ties_fixed"))
MOS_METRICS = ("srcc", "plcc", "krcc")


def joint_table(results: Mapping[str, Mapping[str, Any]], models: Sequence[str],
                failed: Mapping[tuple[str, str], str] | None = None) -> list[dict[str, Any]]:
    """One row per (model, benchmark, dimension, metric): value, CI, and what it was computed on; a failed
    (model, benchmark) is one row with no dimension, metric or value and its reason in ``error``."""
    rows = []
    failed = failed or {}
    for bench, by_model in results.items():
        for model in models:
            if model not in by_model:
                kind = next((r.benchmark.kind for r in by_model.values()), None)
                rows.append({**_row(model, bench, kind, None, None, None, n=None, extra={}),
                             "error": failed.get((model, bench), "not evaluated")})
                continue
            r = by_model[model]
            kind = r.benchmark.kind
            if kind == "mos":
                for dim, c in r.correlations.items():
                    for metric in MOS_METRICS:
                        est = getattr(c, metric)
                        rows.append(_row(model, bench, kind, dim, metric, est if c.available else None,
                                         n=c.n_videos, extra={}))
                continue
            for dim, d in r.dimensions.items():
                for attr, metric in PAIR_METRICS:
                    est = getattr(d, attr) if d.available else None
                    if attr == "accuracy_with_ties_fixed" and d.tie_threshold is None:
                        continue
                    extra = {"epsilon": d.epsilon} if metric == "accuracy_with_ties" else \
                        {"threshold": d.tie_threshold} if metric == "accuracy_with_ties_fixed" else {}
                    rows.append(_row(model, bench, kind, dim, metric, est, n=d.n_pairs, extra=extra))
    return rows


def _row(model: str, bench: str, kind: str | None, dim: str | None, metric: str | None, est: Any, n: int | None,
         extra: Mapping[str, Any]) -> dict[str, Any]:
    return {"model": model, "benchmark": bench, "kind": kind, "dimension": dim, "metric": metric,
            "value": None if est is None else est.value, "ci_low": None if est is None else est.ci_low,
            "ci_high": None if est is None else est.ci_high, "n": n, **extra}


_LABELS = {"accuracy_without_ties": "acc w/o ties", "accuracy_with_ties": "acc w/ ties (calibrated)",
           "accuracy_with_ties_crossfit": "acc w/ ties (cross-fit)", "accuracy_with_ties_fixed": "acc w/ ties (t={t})",
           "srcc": "SRCC", "plcc": "PLCC", "krcc": "KRCC"}


def _cell(row: Mapping[str, Any] | None) -> str:
    from videobench.report import format_estimate

    if row is None:
        return ""
    return format_estimate(row["value"], row["ci_low"], row["ci_high"])


def _tables(table: Sequence[Mapping[str, Any]], models: Sequence[str]) -> list[tuple[str, list[str], list[list[str]]]]:
    """Per benchmark: (title, header, rows), rows = (model, metric), columns = dimensions."""
    out = []
    for bench in dict.fromkeys(r["benchmark"] for r in table):
        rows_b = [r for r in table if r["benchmark"] == bench and not r.get("error")]
        errors = {r["model"]: r["error"] for r in table if r["benchmark"] == bench and r.get("error")}
        dims = list(dict.fromkeys(r["dimension"] for r in rows_b))
        metrics = list(dict.fromkeys(r["metric"] for r in rows_b))
        index = {(r["model"], r["metric"], r["dimension"]): r for r in rows_b}
        body = []
        for model in models:
            if model in errors:  # a failed cell: n/a, and why
                body.append([model, f"n/a: {errors[model]}", *("n/a" for _ in dims)])
                continue
            for metric in metrics:
                t = next((r.get("threshold") for r in rows_b if r["metric"] == metric and r.get("threshold") is not None),
                         None)
                label = _LABELS[metric].format(t=f"{t:g}" if t is not None else "?")
                body.append([model, label, *(_cell(index.get((model, metric, d))) or "n/a" for d in dims)])
        kind = rows_b[0]["kind"] if rows_b else None
        what = {"pairs": "pairwise accuracy", "mos": "correlation with the MOS"}.get(kind or "", "not evaluated")
        out.append((f"{bench} ({what})", ["model", "metric", *dims], body))
    return out


def markdown(suite: Suite, table: Sequence[Mapping[str, Any]], models: Sequence[str]) -> str:
    def esc(text: str) -> str:
        return str(text).replace("|", "\\|").replace("\n", " ")

    parts = [f"# Suite {esc(suite.name)}", "", esc(suite.description) if suite.description else "",
             f"Protocol: `{json.dumps(suite.protocol, sort_keys=True)}`. Values ± half-width of the "
             f"{suite.protocol.get('level', 0.95):.0%} prompt-clustered bootstrap CI; n/a: not scored (or, with a "
             "reason, failed: the model could not be evaluated on that benchmark).", ""]
    for title, header, rows in _tables(table, models):
        parts += [f"## {esc(title)}", "", "| " + " | ".join(esc(h) for h in header) + " |",
                  "|" + "---|" * len(header)]
        parts += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
        parts.append("")
    return "\n".join(parts)


def html(suite: Suite, table: Sequence[Mapping[str, Any]], models: Sequence[str]) -> str:
    from videobench.report import esc, html_table, page

    parts = [f"<p class=\"note\">{esc(suite.description)} Protocol: <code>{esc(json.dumps(suite.protocol, sort_keys=True))}"
             "</code>. Values ± half-width of the prompt-clustered bootstrap CI; per-benchmark reports are in each "
             "benchmark's folder.</p>"]
    for title, header, rows in _tables(table, models):
        parts.append(html_table(header, rows, caption=title))
    return page(f"videobench suite: {suite.name}", parts)


def write_suite_files(suite: Suite, out: Path, table: list[dict[str, Any]], results: Mapping[str, Mapping[str, Any]],
                      models: Sequence[str], failed: Mapping[tuple[str, str], str] | None = None) -> Path:
    """``suite.json`` (joint table, suite, protocol, where each per-benchmark result lies, and the failed cells with
    their reasons), ``suite.md`` and ``suite.html``, each written atomically; the JSON last."""
    from videobench.atomic import write_text
    from videobench.results import write_json_atomic

    files = {bench: {m: f"{bench}/{slug(m)}.json" for m in models if m in by} for bench, by in results.items()}
    benchmarks = {}
    for bench, by in results.items():
        first = next(iter(by.values()), None)
        benchmarks[bench] = {"kind": first.benchmark.kind if first else None,
                             "fingerprint": first.benchmark.fingerprint if first else None,
                             "source": first.benchmark.source if first else None}
    write_text(out / "suite.md", markdown(suite, table, models))
    write_text(out / "suite.html", html(suite, table, models))
    data = {"kind": "suite", "schema_version": SUITE_SCHEMA_VERSION, "suite": suite.name,
            "fingerprint": suite.fingerprint(), "description": suite.description, "source": suite.source,
            "protocol": suite.protocol, "models": list(models), "benchmarks": benchmarks, "results": files,
            "failed": [{"model": m, "benchmark": b, "reason": r} for (m, b), r in (failed or {}).items()],
            "table": table}
    return write_json_atomic(out / "suite.json", data)


def read_suite_result(path: str | os.PathLike) -> tuple[dict[str, Any], list[Path]]:
    """A ``suite.json`` and the per-benchmark result files it lists (paths inside its folder only)."""
    from videobench.results import ResultFormatError

    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultFormatError(f"{p}: not a readable suite result ({exc})") from None
    if not isinstance(data, dict) or data.get("kind") != "suite" or not isinstance(data.get("results"), dict):
        raise ResultFormatError(f"{p}: not a suite result (kind 'suite' with 'results')")
    root = p.parent.resolve()
    paths = []
    for bench, by_model in data["results"].items():
        if not isinstance(by_model, dict):
            raise ResultFormatError(f"{p}: results[{bench!r}] must map models to result files")
        for rel in by_model.values():
            target = (root / str(rel)).resolve()
            if root not in target.parents:
                raise ResultFormatError(f"{p}: result path {rel!r} leaves the suite's folder")
            paths.append(target)
    return data, paths
