"""Tables built from the results in a store (pandas).

- ``history`` (long form): one row per stored result and dimension (reward models) or per checkpoint and dimension
  (generators). It remembers each row's source file and blob id, so a rebuild only parses files that are new or changed.
- ``board`` (wide form, reward models): per benchmark, the latest result of every model, one row per model with
  accuracy w/o ties and w/ ties per dimension (with their 95% CIs), their averages, and a significance tier; plus the
  random baseline as a reference row under the reserved key ``RANDOM_MODEL``.
- ``mos_history`` / ``mos_board``: the same for MOS benchmarks (rated single videos, ``benchmark.kind == "mos"``):
  SRCC, KRCC and PLCC per dimension with their CIs, ranked on ``mean SRCC`` (the mean over every dimension; n/a when
  one is n/a). A MOS benchmark has its own columns, so it is a table of its own, never mixed with accuracies.

Ranking rules: a row gets a ``position`` only when it is a real model with a value in the ranking column (``avg``,
which exists only when every dimension does). Models with n/a there are kept, after the ranked ones, with no position
(``ranked`` False); the random baseline never gets a position (``reference`` True) and sits among the ranked rows
where its average falls, as a reference line.
"""

from __future__ import annotations

import io
import json
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from videobench.leaderboard.errors import StoreError
from videobench.leaderboard.ingest import parse_result
from videobench.leaderboard.layout import RESULTS_DIR, parse_result_path
from videobench.leaderboard.significance import PairedCorrectness, significance_ranks
from videobench.leaderboard.store import Snapshot
from videobench.results import CompareResult, EvalResult, Result, ResultFormatError

#: The random baseline's key in the board. Spaces and parentheses are outside the model-id alphabet (``layout``), so no
#: submitted or published model (not even one named ``random``, the default name of ``videobench eval --model random``)
#: can take it; and it does not start like a spreadsheet formula (as '@' or '=' would) in the CSV table.
RANDOM_MODEL = "random (expected)"
RANDOM_DISPLAY_NAME = "Random (expected)"
#: Column the board ranks on.
RANKING_COLUMN = "avg"
#: Dimension whose accuracy w/ ties decides the significance tier in the board (the first dimension when absent).
PRIMARY_DIMENSION = "Overall"

RM_HISTORY_COLUMNS = [
    "benchmark", "model", "display_name", "spec", "revision", "fingerprint", "timestamp", "series", "result_path",
    "result_oid", "per_pair_path", "dimension", "available", "n_pairs", "n_ties", "human_tie_rate",
    "acc_wo_ties", "acc_wo_ties_lo", "acc_wo_ties_hi", "acc_w_ties", "acc_w_ties_lo", "acc_w_ties_hi", "epsilon",
    "acc_w_ties_crossfit", "benchmark_fingerprint", "sampling",
]
#: MOS benchmarks: the correlations of a result's ``correlations`` (videobench.results.CorrelationResult).
MOS_METRICS = ("srcc", "krcc", "plcc")
MOS_LABELS = {"srcc": "SRCC", "krcc": "KRCC", "plcc": "PLCC"}
#: Column the MOS board ranks on: SRCC is the metric MOS benchmarks (T2VQA-DB, VideoPhy-2) rank on, and it needs no
#: fitted mapping, unlike PLCC.
MOS_RANKING_COLUMN = "mean SRCC"
MOS_HISTORY_COLUMNS = [
    "benchmark", "model", "display_name", "spec", "revision", "fingerprint", "timestamp", "series", "result_path",
    "result_oid", "per_video_path", "dimension", "available", "n_videos",
    *(f"{m}{end}" for m in MOS_METRICS for end in ("", "_lo", "_hi")), "benchmark_fingerprint", "sampling",
]
GEN_COLUMNS = [
    "benchmark", "model", "timestamp", "result_path", "result_oid", "checkpoint", "spec", "baseline", "dimension",
    "rank", "strength", "strength_lo", "strength_hi", "win_rate", "win_rate_lo", "win_rate_hi", "wins", "losses",
    "ties", "p_value",
]

_SERIES_SUFFIX = re.compile(r"[-_.](?:step|checkpoint|ckpt|iter|epoch|ep|s)[-_]?\d+$", re.IGNORECASE)


def series_of(model_id: str) -> str:
    """Models named like ``org/rm-step1000``, ``org/rm-step2000`` form the series ``org/rm``."""
    return _SERIES_SUFFIX.sub("", model_id)


def step_of(model_id: str) -> int | None:
    """The training step a series member's name ends with (``org/run-checkpoint-40`` -> 40); None outside a series."""
    m = _SERIES_SUFFIX.search(model_id)
    return int(re.search(r"\d+$", m.group()).group()) if m else None


GEN_HISTORY_COLUMNS = [
    "benchmark", "series", "step", "model", "timestamp", "result_path", "dimension", "win_rate", "win_rate_lo",
    "win_rate_hi", "strength", "strength_lo", "strength_hi", "rank",
]


def generator_history(generators: pd.DataFrame) -> pd.DataFrame:
    """A run's checkpoints over training: per prompt suite, each board entry whose id ends with a step
    (``NAME-checkpoint-N``, as ``submit`` files a run's checkpoints), from its own newest result (the entry named after
    the board id; the queue adds ``@REV`` when that name is taken), in step order."""
    if generators.empty:
        return pd.DataFrame(columns=GEN_HISTORY_COLUMNS)
    names = zip(generators["checkpoint"].astype(str), generators["model"].astype(str))
    own = generators[[c == m or c.startswith(m + "@") for c, m in names]]
    own = own[own["timestamp"] == own.groupby(["benchmark", "model"])["timestamp"].transform("max")]
    steps = own["model"].map(step_of)
    out = own.assign(series=own["model"].map(series_of), step=steps)[steps.notna()]
    out = out.astype({"step": int})[GEN_HISTORY_COLUMNS]
    return out.sort_values(["benchmark", "series", "dimension", "step"], kind="stable", ignore_index=True)


@dataclass
class Tables:
    rm_history: pd.DataFrame
    generators: pd.DataFrame
    #: (path, message) of files in the store that were skipped
    problems: list[tuple[str, str]] = field(default_factory=list)
    parsed: int = 0
    reused: int = 0
    #: MOS benchmarks' results, one row per result and dimension
    mos_history: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=MOS_HISTORY_COLUMNS))


def _est(e: Any) -> tuple[Any, Any, Any]:
    return (None, None, None) if e is None else (e.value, e.ci_low, e.ci_high)


def per_pair_location(result_path: str, per_pair_file: str | None) -> str | None:
    """The sidecar's store path; only files in the result's own folder are followed."""
    if not per_pair_file or "/" in per_pair_file or "\\" in per_pair_file or per_pair_file.startswith("."):
        return None
    return posixpath.join(posixpath.dirname(result_path), per_pair_file)


def eval_rows(result: EvalResult, path: str, oid: str, benchmark: str, model: str, stamp: str) -> list[dict[str, Any]]:
    rows = []
    for dim, d in result.dimensions.items():
        wo, w = _est(d.accuracy_without_ties), _est(d.accuracy_with_ties)
        rows.append({
            "benchmark": benchmark, "model": model, "display_name": result.model.name, "spec": result.model.spec,
            "revision": result.model.revision, "fingerprint": result.model.fingerprint, "timestamp": stamp,
            "series": series_of(model), "result_path": path, "result_oid": oid,
            "per_pair_path": per_pair_location(path, result.per_pair_file), "dimension": dim,
            "available": bool(d.available), "n_pairs": d.n_pairs, "n_ties": d.n_ties,
            "human_tie_rate": d.human_tie_rate, "acc_wo_ties": wo[0], "acc_wo_ties_lo": wo[1], "acc_wo_ties_hi": wo[2],
            "acc_w_ties": w[0], "acc_w_ties_lo": w[1], "acc_w_ties_hi": w[2], "epsilon": d.epsilon,
            "acc_w_ties_crossfit": d.accuracy_with_ties_crossfit.value if d.accuracy_with_ties_crossfit else None,
            "benchmark_fingerprint": result.benchmark.fingerprint,
            "sampling": json.dumps(result.model.sampling, sort_keys=True),
        })
    return rows


def mos_rows(result: EvalResult, path: str, oid: str, benchmark: str, model: str, stamp: str) -> list[dict[str, Any]]:
    rows = []
    for dim, c in result.correlations.items():
        row = {
            "benchmark": benchmark, "model": model, "display_name": result.model.name, "spec": result.model.spec,
            "revision": result.model.revision, "fingerprint": result.model.fingerprint, "timestamp": stamp,
            "series": series_of(model), "result_path": path, "result_oid": oid,
            "per_video_path": per_pair_location(path, result.per_video_file), "dimension": dim,
            "available": bool(c.available), "n_videos": c.n_videos,
            "benchmark_fingerprint": result.benchmark.fingerprint,
            "sampling": json.dumps(result.model.sampling, sort_keys=True),
        }
        for metric in MOS_METRICS:
            est = getattr(c, metric) if c.available else None
            row[metric], row[f"{metric}_lo"], row[f"{metric}_hi"] = _est(est)
        rows.append(row)
    return rows


def compare_rows(result: CompareResult, path: str, oid: str, benchmark: str, model: str, stamp: str) -> list[dict[str, Any]]:
    specs = {c.name: c.spec for c in result.checkpoints}
    wins = {(w.checkpoint, w.dimension): w for w in result.win_rates}
    rows = []
    for dim, entries in result.ranking.items():
        for e in entries:
            w = wins.get((e.checkpoint, dim))
            s = _est(e.strength)
            wr = _est(w.win_rate) if w else (None, None, None)
            rows.append({
                "benchmark": benchmark, "model": model, "timestamp": stamp, "result_path": path, "result_oid": oid,
                "checkpoint": e.checkpoint, "spec": specs.get(e.checkpoint, ""), "baseline": result.baseline,
                "dimension": dim, "rank": e.rank, "strength": s[0], "strength_lo": s[1], "strength_hi": s[2],
                "win_rate": wr[0], "win_rate_lo": wr[1], "win_rate_hi": wr[2],
                "wins": w.wins if w else None, "losses": w.losses if w else None, "ties": w.ties if w else None,
                "p_value": w.p_value if w else None,
            })
    return rows


def rows_for(result: Result, path: str, oid: str) -> tuple[list[dict], list[dict], list[dict]]:
    """(reward-model rows, generator rows, MOS rows) of one stored result."""
    where = parse_result_path(path)
    if where is None:
        raise ResultFormatError(f"{path}: not a result path of the store layout")
    benchmark, model, stamp = where
    if isinstance(result, EvalResult):
        if result.benchmark.name != benchmark:
            raise ResultFormatError(f"{path}: result is for benchmark {result.benchmark.name!r}, stored under {benchmark!r}")
        if result.benchmark.kind == "mos":
            return [], [], mos_rows(result, path, oid, benchmark, model, stamp)
        return eval_rows(result, path, oid, benchmark, model, stamp), [], []
    return [], compare_rows(result, path, oid, benchmark, model, stamp), []


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns) if rows else pd.DataFrame(columns=columns)


def _reusable(prev: pd.DataFrame | None, current: dict[str, str], columns: list[str]) -> pd.DataFrame | None:
    """Rows of ``prev`` whose (result_path, result_oid) is still in the store unchanged."""
    if prev is None or not {"result_path", "result_oid"} <= set(prev.columns) or not set(columns) <= set(prev.columns):
        return None
    keep = prev["result_oid"].astype(str).to_numpy() == prev["result_path"].map(current).astype(str).to_numpy()
    return prev.loc[keep, columns]


def collect(snap: Snapshot, previous: pd.DataFrame | None = None, previous_gen: pd.DataFrame | None = None,
            previous_mos: pd.DataFrame | None = None) -> Tables:
    """Rows for every result file in ``snap``; rows of ``previous`` tables are reused for files whose blob is unchanged."""
    current = {p: snap.files[p].oid for p in snap.list(RESULTS_DIR) if p.endswith(".json")}
    old_rm = _reusable(previous, current, RM_HISTORY_COLUMNS)
    old_gen = _reusable(previous_gen, current, GEN_COLUMNS)
    old_mos = _reusable(previous_mos, current, MOS_HISTORY_COLUMNS)
    done: set[str] = set()
    for old in (old_rm, old_gen, old_mos):
        done |= set(old["result_path"]) if old is not None else set()
    rm_rows: list[dict] = []
    gen_rows: list[dict] = []
    mos_rows_: list[dict] = []
    problems: list[tuple[str, str]] = []
    todo = [p for p in current if p not in done]
    snap.prefetch(todo)
    for path in todo:
        try:
            result = parse_result(snap.read(path), source=path)
            rm, gen, mos = rows_for(result, path, current[path])
        except (ResultFormatError, StoreError) as exc:
            problems.append((path, str(exc)))
            continue
        rm_rows += rm
        gen_rows += gen
        mos_rows_ += mos
    rm = _joined(old_rm, rm_rows, RM_HISTORY_COLUMNS, ["benchmark", "model", "timestamp", "dimension"])
    gen = _joined(old_gen, gen_rows, GEN_COLUMNS, ["benchmark", "model", "timestamp", "dimension", "rank"])
    mos = _joined(old_mos, mos_rows_, MOS_HISTORY_COLUMNS, ["benchmark", "model", "timestamp", "dimension"])
    return Tables(rm, gen, problems, parsed=len(todo) - len(problems), reused=len(current) - len(todo),
                  mos_history=mos)


def _joined(old: pd.DataFrame | None, new: list[dict], columns: list[str], order: list[str]) -> pd.DataFrame:
    parts = [df for df in (old, _frame(new, columns)) if df is not None and len(df)]
    out = pd.concat(parts, ignore_index=True) if parts else _frame([], columns)
    return out.sort_values(order, kind="stable", ignore_index=True)


def latest(history: pd.DataFrame) -> pd.DataFrame:
    """Rows of each (benchmark, model)'s most recent result."""
    if history.empty:
        return history
    newest = history.groupby(["benchmark", "model"])["timestamp"].transform("max")
    return history[history["timestamp"] == newest]


def random_rows(history: pd.DataFrame) -> pd.DataFrame:
    """The ``random`` baseline per benchmark and dimension, from the human tie rate h of the newest result.

    A scorer independent of the videos is right on half of the non-tied pairs (w/o ties: 0.5). With tie calibration it
    can predict ties on a share t of pairs, scoring t*h + (1-t)*(1-h)/2 in expectation, which is linear in t, so the
    best threshold gives max(h, (1-h)/2).
    """
    if history.empty:
        return history.iloc[0:0]
    # the newest result that knows the tie rate (a model that does not score a dimension may leave it out)
    known = history.assign(_h=history["human_tie_rate"].notna())
    newest = known.sort_values(["_h", "timestamp"]).groupby(["benchmark", "dimension"]).tail(1).drop(columns="_h")
    out = newest.copy()
    h = out["human_tie_rate"].astype(float)
    out["model"] = RANDOM_MODEL
    out["display_name"] = RANDOM_DISPLAY_NAME
    out["spec"] = "random"
    out["series"] = RANDOM_MODEL
    # No timestamp, revision or source file: the row is computed, not a result anyone ran.
    for col in ("timestamp", "revision", "fingerprint", "result_path", "result_oid", "per_pair_path", "epsilon", "sampling",
                "acc_wo_ties_lo", "acc_wo_ties_hi", "acc_w_ties_lo", "acc_w_ties_hi", "acc_w_ties_crossfit"):
        out[col] = None
    out["available"] = True
    out["acc_wo_ties"] = 0.5
    out["acc_w_ties"] = np.maximum(h, (1 - h) / 2)
    return out


PerPairLoader = Callable[[str], "pd.DataFrame | None"]


def _paired(rows: pd.DataFrame, dim: str, metric: str, loader: PerPairLoader | None) -> PairedCorrectness | None:
    if loader is None or rows["per_pair_path"].isna().any():
        return None
    frames = []
    for _, row in rows.iterrows():
        df = loader(row["per_pair_path"])
        needed = {"pair_id", f"label_{dim}", f"margin_{dim}"}
        if df is None or not needed <= set(df.columns):
            return None
        margin = df[f"margin_{dim}"].to_numpy(dtype=float)
        label = df[f"label_{dim}"].to_numpy(dtype=float)
        if metric == "acc_wo_ties":
            correct = np.where(label == 0, np.nan, (np.sign(margin) == label).astype(float))
        else:
            eps = row["epsilon"] if row["epsilon"] is not None and not pd.isna(row["epsilon"]) else 0.0
            pred = np.where(np.abs(margin) <= eps, 0.0, np.sign(margin))
            correct = (pred == label).astype(float)
        prompts = df["prompt"] if "prompt" in df.columns else df["pair_id"]
        frames.append(pd.DataFrame({"pair_id": df["pair_id"].astype(str), "c": correct, "prompt": prompts.astype(str)}))
    ids = frames[0]["pair_id"]
    if any(len(f) != len(ids) or not f["pair_id"].equals(ids) for f in frames):
        return None  # different pair sets cannot be paired
    return PairedCorrectness(np.vstack([f["c"].to_numpy() for f in frames]), frames[0]["prompt"].to_numpy())


def add_significance(current: pd.DataFrame, loader: PerPairLoader | None = None) -> pd.DataFrame:
    """Columns ``sig_rank_<metric>`` and ``sig_method_<metric>`` per (benchmark, dimension); random rows excluded."""
    out = current.reset_index(drop=True)
    real = (out["model"] != RANDOM_MODEL).to_numpy() & out["available"].astype(bool).to_numpy()
    for metric in ("acc_wo_ties", "acc_w_ties"):
        ranks = np.full(len(out), -1, dtype=np.int64)
        methods = np.full(len(out), None, dtype=object)
        values = pd.to_numeric(out[metric], errors="coerce").to_numpy(dtype=float)
        lows = pd.to_numeric(out[f"{metric}_lo"], errors="coerce").to_numpy(dtype=float)
        highs = pd.to_numeric(out[f"{metric}_hi"], errors="coerce").to_numpy(dtype=float)
        usable = real & ~np.isnan(values)
        for _, idx in out[usable].groupby(["benchmark", "dimension"]).indices.items():
            pos = np.flatnonzero(usable)[idx]
            dim = out["dimension"].iat[pos[0]]
            paired = _paired(out.iloc[pos], dim, metric, loader)
            r, method = significance_ranks(values[pos].tolist(), lows[pos].tolist(), highs[pos].tolist(), paired)
            ranks[pos] = r
            methods[pos] = method
        out[f"sig_rank_{metric}"] = pd.array(np.where(ranks < 0, None, ranks), dtype="Int64")
        out[f"sig_method_{metric}"] = methods
    return out


def board(history: pd.DataFrame, loader: PerPairLoader | None = None) -> pd.DataFrame:
    """Wide leaderboard: one row per (benchmark, model), newest result, plus the random reference row; ranked rows
    first by average (see the module docstring for the rules)."""
    if history.empty:
        return pd.DataFrame(columns=["benchmark", "model", "position", "display_name", "reference", "ranked"])
    current = pd.concat([latest(history), random_rows(history)], ignore_index=True)
    current = add_significance(current, loader)
    available = current[current["available"].astype(bool)]
    meta = current.groupby(["benchmark", "model"]).agg(
        display_name=("display_name", "first"), revision=("revision", "first"), timestamp=("timestamp", "first"),
        n_pairs=("n_pairs", "max"), result_path=("result_path", "first"))
    # Every model keeps its row, even when it scores none of the benchmark's dimensions (all n/a).
    wide = pd.DataFrame(index=meta.index)
    cis: dict[str, pd.Series] = {}
    for dim in sorted(current["dimension"].unique(), key=_dim_order):
        rows = available[available["dimension"] == dim].drop_duplicates(["benchmark", "model"]).set_index(["benchmark", "model"])
        for metric, label in (("acc_wo_ties", "w/o ties"), ("acc_w_ties", "w/ ties")):
            col = f"{dim} {label}"
            wide[col] = pd.to_numeric(rows[metric], errors="coerce").reindex(meta.index).astype(float)
            for end in ("lo", "hi"):
                cis[f"{col} {end}"] = pd.to_numeric(rows[f"{metric}_{end}"], errors="coerce").reindex(meta.index).astype(float)
    # As the VideoGen-RewardBench board (and videobench.evaluation.leaderboard_averages): no average when a dimension
    # is n/a, since an average over fewer dimensions is not comparable. Each benchmark averages over its own
    # dimensions only (the columns of another benchmark's dimensions are empty on its rows by design).
    for col in ("avg w/o ties", "avg w/ ties"):
        wide[col] = np.nan
    wide["dimensions"] = ""
    for bench, idx in wide.groupby(level="benchmark").groups.items():
        own = sorted(current.loc[current["benchmark"] == bench, "dimension"].unique(), key=_dim_order)
        wide.loc[idx, "dimensions"] = ",".join(own)  # the benchmark's own dimensions, for its table's columns
        wide.loc[idx, "avg w/o ties"] = wide.loc[idx, [f"{d} w/o ties" for d in own]].mean(axis=1, skipna=False)
        wide.loc[idx, "avg w/ ties"] = wide.loc[idx, [f"{d} w/ ties" for d in own]].mean(axis=1, skipna=False)
    wide["avg"] = wide[["avg w/o ties", "avg w/ ties"]].mean(axis=1, skipna=False)
    wide = wide.join(pd.DataFrame(cis, index=meta.index)).join(meta).join(_tiers(current)).reset_index()
    wide["reference"] = wide["model"] == RANDOM_MODEL
    wide["ranked"] = ~wide["reference"] & wide[RANKING_COLUMN].notna()
    # Rows with a value in the ranking column (the reference included, as a line) first, by value; the rest after.
    wide["_apart"] = wide[RANKING_COLUMN].isna()
    wide = wide.sort_values(["benchmark", "_apart", RANKING_COLUMN, "reference", "model"],
                            ascending=[True, True, False, True, True], na_position="last").drop(columns="_apart")
    position = wide[wide["ranked"]].groupby("benchmark").cumcount() + 1
    wide.insert(2, "position", position.reindex(wide.index).astype("Int64"))
    return wide.reset_index(drop=True)


def mos_board(history: pd.DataFrame) -> pd.DataFrame:
    """Wide MOS leaderboard: one row per (benchmark, model), newest result, with ``<dim> SRCC|KRCC|PLCC`` (and their
    ``lo`` / ``hi`` CI ends) per dimension, ``mean SRCC`` (the ranking column: mean over every dimension, n/a when one
    is n/a) and a significance ``tier`` on the primary dimension's SRCC (non-overlapping CIs). Rows without a mean are
    kept after the ranked ones, without a position, as on the accuracy board."""
    if history.empty:
        return pd.DataFrame(columns=["benchmark", "model", "position", "display_name", "ranked", MOS_RANKING_COLUMN])
    current = latest(history)
    meta = current.groupby(["benchmark", "model"]).agg(
        display_name=("display_name", "first"), revision=("revision", "first"), timestamp=("timestamp", "first"),
        n_videos=("n_videos", "max"), result_path=("result_path", "first"))
    wide = pd.DataFrame(index=meta.index)
    cis: dict[str, pd.Series] = {}
    available = current[current["available"].astype(bool)]
    dims = sorted(current["dimension"].unique(), key=_dim_order)
    for dim in dims:
        rows = available[available["dimension"] == dim].drop_duplicates(["benchmark", "model"]).set_index(["benchmark", "model"])
        for metric in MOS_METRICS:
            col = f"{dim} {MOS_LABELS[metric]}"
            wide[col] = pd.to_numeric(rows[metric], errors="coerce").reindex(meta.index).astype(float)
            for end in ("lo", "hi"):
                cis[f"{col} {end}"] = pd.to_numeric(rows[f"{metric}_{end}"], errors="coerce").reindex(meta.index).astype(float)
    # per benchmark, the mean over that benchmark's own dimensions (other benchmarks' columns are NaN by design)
    means = pd.Series(np.nan, index=meta.index)
    own_dims = pd.Series("", index=meta.index, dtype=object)
    for bench, idx in wide.groupby(level="benchmark").groups.items():
        own = sorted(current.loc[current["benchmark"] == bench, "dimension"].unique(), key=_dim_order)
        means.loc[idx] = wide.loc[idx, [f"{d} SRCC" for d in own]].mean(axis=1, skipna=False)
        own_dims.loc[idx] = ",".join(own)
    wide[MOS_RANKING_COLUMN] = means
    wide["dimensions"] = own_dims  # the benchmark's own dimensions (the other columns belong to other benchmarks)
    wide = wide.join(pd.DataFrame(cis, index=meta.index))
    wide = wide.join(meta).join(_mos_tiers(wide)).reset_index()
    wide["ranked"] = wide[MOS_RANKING_COLUMN].notna()
    wide["_apart"] = ~wide["ranked"]
    wide = wide.sort_values(["benchmark", "_apart", MOS_RANKING_COLUMN, "model"], ascending=[True, True, False, True],
                            na_position="last").drop(columns="_apart")
    position = wide[wide["ranked"]].groupby("benchmark").cumcount() + 1
    wide.insert(2, "position", position.reindex(wide.index).astype("Int64"))
    return wide.reset_index(drop=True)


def _mos_tiers(wide: pd.DataFrame) -> pd.DataFrame:
    """``tier`` per row: 1 + the number of models whose SRCC CI on the primary dimension lies wholly above its own."""
    parts = []
    for bench, rows in wide.groupby(level="benchmark"):
        dims = sorted({c[: -len(" SRCC")] for c in rows.columns if c.endswith(" SRCC") and rows[c].notna().any()},
                      key=_dim_order)
        if not dims:
            continue
        dim = PRIMARY_DIMENSION if PRIMARY_DIMENSION in dims else dims[0]
        col = f"{dim} SRCC"
        known = rows[rows[col].notna()]
        ranks, method = significance_ranks(known[col].tolist(), known[f"{col} lo"].tolist(),
                                           known[f"{col} hi"].tolist(), None)
        parts.append(pd.DataFrame({"tier": pd.array(ranks, dtype="Int64"), "tier_method": method,
                                   "tier_dimension": dim}, index=known.index))
    if not parts:
        return pd.DataFrame(columns=["tier", "tier_method", "tier_dimension"])
    return pd.concat(parts)


def _tiers(current: pd.DataFrame) -> pd.DataFrame:
    parts = []
    for bench, rows in current.groupby("benchmark"):
        dims = sorted(rows["dimension"].unique(), key=_dim_order)
        dim = PRIMARY_DIMENSION if PRIMARY_DIMENSION in dims else dims[0]
        sel = rows[rows["dimension"] == dim].set_index(["benchmark", "model"])
        parts.append(pd.DataFrame({"tier": sel["sig_rank_acc_w_ties"], "tier_method": sel["sig_method_acc_w_ties"],
                                   "tier_dimension": dim}))
    return pd.concat(parts) if parts else pd.DataFrame(columns=["tier", "tier_method", "tier_dimension"])


def _dim_order(dim: str) -> tuple[int, str]:
    order = {"VQ": 0, "MQ": 1, "TA": 2, "Overall": 3}
    return (order.get(dim, 4), dim)


def parquet_bytes(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(df: pd.DataFrame) -> str:
    """CSV of ``df`` for spreadsheets: text cells that a spreadsheet would run as a formula (display names are free
    text) get a leading quote. Parquet and JSON Lines keep the values as they are."""
    safe = df.copy()
    for col in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[col]) and not pd.api.types.is_bool_dtype(safe[col]):
            safe[col] = safe[col].map(lambda v: "'" + v if isinstance(v, str) and v.startswith(_FORMULA_START) else v)
    return safe.to_csv(index=False, float_format="%.6g")


def csv_bytes(df: pd.DataFrame) -> bytes:
    return csv_text(df).encode("utf-8")


def jsonl_bytes(df: pd.DataFrame) -> bytes:
    if df.empty:
        return b""
    return df.to_json(orient="records", lines=True, double_precision=10).encode("utf-8")


def read_parquet_bytes(data: bytes) -> pd.DataFrame | None:
    try:
        return pd.read_parquet(io.BytesIO(data))
    except Exception:  # a damaged cache is rebuilt from the results, never trusted
        return None
