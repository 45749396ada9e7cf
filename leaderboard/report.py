"""The self-contained HTML report: sortable tables and plotly figures, opening offline.

Security: every string that came from a result or a submission is HTML-escaped, both in the tables and in figure
labels (plotly.js renders a subset of HTML tags in labels, so names are escaped before they reach it; plotly then
shows the entities as the literal characters). Figure data travels as JSON in a non-executed
``<script type="application/json">`` with ``<``, ``>`` and ``&`` written as ``\\u`` escapes, and a Content-Security-
Policy allows only the report's own two scripts (by hash), no network fetches at all.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import re
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

import pandas as pd

from videobench.leaderboard.tables import (
    MOS_LABELS, MOS_METRICS, MOS_RANKING_COLUMN, RANDOM_DISPLAY_NAME, _dim_order, csv_text, generator_history,
)

#: Bars and heatmap rows show at most this many models per benchmark (the table shows all).
MAX_PLOTTED_MODELS = 40
MAX_HISTORY_SERIES = 12

#: Sorting a table by a clicked header: every tbody on its own (ranked rows and rows listed apart stay apart), n/a
#: always last, a second click reverses. The report and the Space (``space.py``, on its own tables) both run it.
SORT_FUNCTION_JS = """
function vbSortBy(th) {
  var table = th.closest('table'), ths = table.tHead.rows[0].cells, col = th.cellIndex;
  function value(row) { var c = row.cells[col]; return c ? c.getAttribute('data-v') : ''; }
  var asc = th.getAttribute('data-order') !== 'asc';
  Array.prototype.forEach.call(ths, function (h) { h.removeAttribute('data-order'); });
  th.setAttribute('data-order', asc ? 'asc' : 'desc');
  Array.prototype.forEach.call(table.tBodies, function (body) {
    var rows = Array.prototype.filter.call(body.rows, function (r) { return !r.classList.contains('sep'); });
    rows.sort(function (a, b) {
      var x = value(a), y = value(b);
      if (x === '' || y === '') { return (x === '') - (y === ''); }
      var nx = parseFloat(x), ny = parseFloat(y);
      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : String(x).localeCompare(String(y));
      return asc ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
}
"""

_SORT_JS = """
(function () {
  function each(list, fn) { Array.prototype.forEach.call(list, fn); }
""" + SORT_FUNCTION_JS + """
  each(document.querySelectorAll('table.vb-table thead th'), function (th) {
    th.addEventListener('click', function () { vbSortBy(th); });
  });
  // Filter by name: the reference row and separators always stay.
  each(document.querySelectorAll('input.vb-search'), function (input) {
    var table = document.getElementById(input.getAttribute('data-table'));
    input.addEventListener('input', function () {
      var q = input.value.toLowerCase();
      each(table.tBodies, function (body) {
        each(body.rows, function (r) {
          var name = r.getAttribute('data-name');
          if (name !== null) { r.hidden = q !== '' && name.indexOf(q) < 0; }
        });
      });
    });
  });
  // Column groups: a column is shown when none of its groups is switched off; 'ci' switches the +/- parts.
  each(document.querySelectorAll('.vb-toggles'), function (box) {
    var table = document.getElementById(box.getAttribute('data-table'));
    function apply() {
      var off = {};
      each(box.querySelectorAll('input[type=checkbox]'), function (cb) { if (!cb.checked) { off[cb.value] = true; } });
      table.classList.toggle('noci', !!off.ci);
      var hide = [];
      each(table.tHead.rows[0].cells, function (th, i) {
        hide[i] = (th.getAttribute('data-g') || '').split(' ').some(function (g) { return g !== '' && off[g]; });
      });
      each(table.rows, function (r) {
        if (r.classList.contains('sep')) { return; }
        each(r.cells, function (c, i) { c.hidden = !!hide[i]; });
      });
    }
    box.addEventListener('change', apply);
    apply();
  });
  var figs = JSON.parse(document.getElementById('vb-figures').textContent);
  Object.keys(figs).forEach(function (id) {
    Plotly.newPlot(id, figs[id].data, figs[id].layout, {displaylogo: false, responsive: true});
  });
})();
"""

#: The tables' look: the report and the Space (`space.py`) both use it.
TABLE_CSS = """
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:13px;margin:.5rem 0 1.5rem}
th,td{border:1px solid #ddd;padding:3px 6px;text-align:right;white-space:nowrap}
th{background:#f3f3f3;cursor:pointer;user-select:none} th.l{text-align:left}
th[data-order=asc]::after{content:" \\25B2"} th[data-order=desc]::after{content:" \\25BC"}
td.name{text-align:left} td.text{text-align:left;white-space:normal;min-width:10rem;max-width:24rem}
td .ci{color:#777;font-size:11px} table.noci .ci{display:none}
tr.ref td{font-style:italic;color:#555;background:#fafafa;border-top:2px dashed #c33;border-bottom:2px dashed #c33}
tr.sep td{background:#fff;color:#555;text-align:left;font-weight:600;border-left:0;border-right:0;padding-top:10px}
tr.apart td{color:#666}
.tools{display:flex;flex-wrap:wrap;gap:.4rem 1.2rem;align-items:center;font-size:13px;margin:.3rem 0}
.tools label{white-space:nowrap} .tools fieldset{border:1px solid #ddd;padding:2px 8px;margin:0}
.fig{width:100%;min-height:360px}
.st{font-style:normal;font-weight:600;padding:0 4px;border-radius:3px}
.st-pending{background:#eef} .st-running{background:#ffd} .st-finished{background:#dfd} .st-failed{background:#fdd}
.note{color:#555;font-size:13px;max-width:70rem}
"""
_CSS = "body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}" + TABLE_CSS


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


@dataclass(frozen=True)
class Col:
    """A table column: where its value is, what it means (``kind`` decides the format), its CI columns, and the
    groups the reader can switch it off with."""

    key: str
    label: str
    kind: str  # pct (a rate in [0, 1], shown in %), corr (a correlation), logodds, p, int, params, tier, name, text, rev, stamp, status, plain
    ci: tuple[str, str] | None = None
    groups: tuple[str, ...] = ()


def fmt_value(kind: str, value: Any) -> str:
    """A value as the column's unit: rates in %, log-odds signed, p-values as p, counts as integers."""
    if _missing(value):
        return "n/a"
    if kind == "pct":
        return f"{float(value) * 100:.2f}"
    if kind == "logodds":
        return f"{float(value):+.3f}"
    if kind == "corr":
        return f"{float(value):.3f}"
    if kind == "p":
        return "<0.001" if float(value) < 0.001 else f"{float(value):.3f}"
    if kind == "params":  # a parameter count: 1.5B, 220.0M, 12.3K
        n = float(value)
        return next((f"{n / size:.1f}{unit}" for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)) if n >= size),
                    str(int(n)))
    if kind in ("int", "tier"):
        return str(int(value))
    if kind == "rev":
        return str(value)[:12]
    if kind == "stamp" and _STAMP.fullmatch(str(value)):
        v = str(value)
        return f"{v[:4]}-{v[4:6]}-{v[6:8]} {v[9:11]}:{v[11:13]} UTC"
    if kind == "stamp" and _ISO.fullmatch(str(value)):
        return f"{str(value)[:16].replace('T', ' ')} UTC"
    return str(value)


_STAMP = re.compile(r"\d{8}T\d{12}Z")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z")


def _ci_text(kind: str, value: Any, lo: Any, hi: Any) -> tuple[str, str]:
    """(the +/- part shown after the value, the exact interval for the tooltip)."""
    if _missing(value) or _missing(lo) or _missing(hi):
        return "", ""
    scale = 100.0 if kind == "pct" else 1.0
    half = (float(hi) - float(lo)) / 2 * scale
    digits = 2 if kind == "pct" else 3
    return (f"\u00b1{half:.{digits}f}", f"95% CI [{float(lo) * scale:.{digits}f}, {float(hi) * scale:.{digits}f}]")


_SHA = re.compile(r"[0-9a-f]{40}")
HUB_URL = "https://huggingface.co"


def _hub_link(model: Any, revision: Any) -> str | None:
    """The model repo at the evaluated commit, for Hub models (an ``org/name`` id whose revision is a commit)."""
    if isinstance(model, str) and "/" in model and isinstance(revision, str) and _SHA.fullmatch(revision):
        return f"{HUB_URL}/{model}/tree/{revision}"
    return None


_TEXT_KINDS = ("name", "plain", "status", "rev", "text")
_LEFT = ' class="l"'


def _cell(col: Col, row: dict[str, Any], tied: dict[Any, int]) -> str:
    value = row.get(col.key)
    textual = col.kind in _TEXT_KINDS or col.kind == "stamp"
    sort = "" if _missing(value) else value
    text = "" if textual and _missing(value) else esc(fmt_value(col.kind, value))
    title = ""
    if col.ci is not None:
        ci, title = _ci_text(col.kind, value, row.get(col.ci[0]), row.get(col.ci[1]))
        if ci:
            text += f' <span class="ci">{esc(ci)}</span>'
    if col.kind == "tier" and not _missing(value) and tied.get(int(value), 0) > 1:
        n = tied[int(value)]
        text = f"={text}"
        title = f"tied: {n} models share tier {int(value)} and cannot be told apart"
    href = _hub_link(value, row.get("revision")) if col.key == "model" else None
    if href:
        text = f'<a href="{esc(href)}" rel="noopener noreferrer">{text}</a>'
    if col.kind == "status" and not _missing(value):
        text = f'<span class="st st-{esc(str(value).lower())}">{text}</span>'
    cls = ' class="text"' if col.kind == "text" else ' class="name"' if col.kind in _TEXT_KINDS else ""
    attr = f' title="{esc(title)}"' if title else ""
    return f'<td{cls}{attr} data-v="{esc(sort)}">{text}</td>'


def html_table(table_id: str, df: pd.DataFrame, cols: list[Col], *, apart: pd.Series | None = None,
               apart_label: str = "", reference: pd.Series | None = None, names: tuple[str, ...] = ("model",)) -> str:
    """A sortable table. Rows where ``apart`` is true go to a second body under ``apart_label``; rows where
    ``reference`` is true are styled as a reference line and never filtered out."""
    head = "".join(f'<th{_LEFT if c.kind in _TEXT_KINDS else ""} data-g="{esc(" ".join(c.groups))}">{esc(c.label)}</th>'
                   for c in cols)
    tiers = [c.key for c in cols if c.kind == "tier"]
    records = df.to_dict("records")
    apart_flags = [False] * len(records) if apart is None else [bool(x) for x in apart]
    ref_flags = [False] * len(records) if reference is None else [bool(x) for x in reference]
    tied: dict[Any, int] = {}
    if tiers:
        counts = pd.Series([r[tiers[0]] for r, ref in zip(records, ref_flags) if not ref]).dropna().astype(int)
        tied = counts.value_counts().to_dict()
    bodies: tuple[list[str], list[str]] = ([], [])
    for rec, is_apart, is_ref in zip(records, apart_flags, ref_flags):
        cells = "".join(_cell(c, rec, tied) for c in cols)
        if is_ref:
            bodies[0].append(f'<tr class="ref">{cells}</tr>')
            continue
        name = " ".join(str(rec.get(n) or "") for n in names).lower()
        cls = ' class="apart"' if is_apart else ""
        bodies[is_apart].append(f'<tr{cls} data-name="{esc(name)}">{cells}</tr>')
    out = [f'<div class="scroll"><table class="vb-table" id="{esc(table_id)}"><thead><tr>{head}</tr></thead>',
           f"<tbody>{''.join(bodies[0])}</tbody>"]
    if bodies[1]:
        out.append(f'<tbody><tr class="sep"><td colspan="{len(cols)}">{esc(apart_label)}</td></tr>{"".join(bodies[1])}</tbody>')
    out.append("</table></div>")
    return "".join(out)


def csv_link(df: pd.DataFrame, filename: str, label: str = "download CSV") -> str:
    """A link that saves ``df`` as CSV: the file is inside the page as a data: URL, so it works offline."""
    href = "data:text/csv;charset=utf-8," + quote(csv_text(df), safe="")
    return f'<a download="{esc(filename)}" href="{esc(href)}">{esc(label)}</a>'


#: Column groups switched off when the page opens (the table fits a screen; one click shows them).
OFF_AT_START = ("info", "details")


def visible_columns(cols: list[Col], off: set[str] | frozenset[str]) -> list[Col]:
    """The columns a reader sees with the groups ``off`` switched off: the page's script applies the same rule (a
    column is hidden when any of its groups is off; ``ci`` drops the +/- parts). The Space filters with this."""
    return [replace(c, ci=None) if "ci" in off else c for c in cols if not set(c.groups) & set(off)]


def name_matches(df: pd.DataFrame, query: str, names: tuple[str, ...]) -> pd.Series:
    """Rows whose name columns contain ``query`` (case-insensitive), as the page's filter box decides."""
    q = (query or "").strip().lower()
    if not q:
        return pd.Series(True, index=df.index)
    text = df[list(names)].fillna("").astype(str).agg(" ".join, axis=1).str.lower()
    return text.str.contains(q, regex=False)


def _toggles(table_id: str, groups: list[tuple[str, str]]) -> str:
    boxes = "".join(f'<label><input type="checkbox" value="{esc(g)}"{"" if g in OFF_AT_START else " checked"}> '
                    f"{esc(label)}</label>" for g, label in groups)
    return f'<fieldset class="vb-toggles" data-table="{esc(table_id)}"><legend>columns</legend>{boxes}</fieldset>'


def _search(table_id: str) -> str:
    return (f'<label>filter <input type="search" class="vb-search" data-table="{esc(table_id)}" '
            'placeholder="model name"></label>')


def _group_key(dim: str) -> str:
    return "d-" + "".join(ch if ch.isalnum() else "_" for ch in dim)


def board_columns(rows: pd.DataFrame) -> tuple[list[Col], list[tuple[str, str]]]:
    """The reward-model table's columns and the column groups a reader can toggle."""
    dims = [c[: -len(" w/o ties")] for c in rows.columns if c.endswith(" w/o ties") and not c.startswith("avg")]
    dims = sorted(dims, key=_dim_order)
    own = _own_dimensions(rows)
    dims = [d for d in dims if d in own] if own else dims  # not the columns of another benchmark's dimensions
    cols = [Col("position", "#", "int"), Col("model", "model", "name"), Col("display_name", "name", "text", groups=("details",))]
    for label, group in (("w/o ties", "wo"), ("w/ ties", "w")):
        for dim in dims:
            key = f"{dim} {label}"
            cols.append(Col(key, key, "pct", (f"{key} lo", f"{key} hi"), (group, _group_key(dim))))
    cols += [Col("avg w/o ties", "avg w/o ties", "pct", groups=("wo", "avg")),
             Col("avg w/ ties", "avg w/ ties", "pct", groups=("w", "avg")), Col("avg", "avg", "pct", groups=("avg",)),
             Col("tier", "tier", "tier"),
             Col("parameters", "params", "params", groups=("info",)), Col("license", "licence", "plain", groups=("info",)),
             Col("base_model", "base model", "name", groups=("info",)),
             Col("submitted_at", "submitted", "stamp", groups=("info",)),
             Col("revision", "revision", "rev", groups=("details",)),
             Col("n_pairs", "pairs", "int", groups=("details",)), Col("timestamp", "evaluated", "stamp", groups=("details",))]
    groups = [("wo", "w/o ties"), ("w", "w/ ties"), *((_group_key(d), d) for d in dims), ("avg", "averages"),
              ("ci", "\u00b1 CI"), ("info", "model info"), ("details", "details")]
    return [c for c in cols if c.key in rows.columns], groups


GEN_COLUMNS = [
    Col("model", "model", "name"), Col("checkpoint", "checkpoint", "name"), Col("dimension", "dimension", "plain"),
    Col("rank", "rank", "int"), Col("strength", "strength (log-odds)", "logodds", ("strength_lo", "strength_hi")),
    Col("win_rate", "win rate %", "pct", ("win_rate_lo", "win_rate_hi")), Col("baseline", "baseline", "name"),
    Col("wins", "wins", "int"), Col("losses", "losses", "int"), Col("ties", "ties", "int"),
    Col("p_value", "p", "p"), Col("timestamp", "evaluated", "stamp"),
]


Figure = dict[str, Any]

#: Plain white look without plotly's template machinery (building go.Figure objects costs ~0.2 s each).
_LAYOUT: dict[str, Any] = {
    "plot_bgcolor": "white", "paper_bgcolor": "white", "font": {"family": "system-ui, sans-serif", "size": 12},
    "xaxis": {"showline": True, "linecolor": "#444", "automargin": True},
    "yaxis": {"showline": True, "linecolor": "#444", "gridcolor": "#eee", "automargin": True},
    # the legend sits right under the title, next to what it explains
    "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.0, "yanchor": "bottom"},
    "margin": {"t": 90, "b": 50},
}
_COLOURS = ["#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756", "#72b7b2", "#eeca3b", "#9d755d"]
_REFERENCE_LINE = {"color": "#c33", "width": 2, "dash": "dash"}


def _num(v: Any) -> float | None:
    return None if v is None or pd.isna(v) else float(v)


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    layout = json.loads(json.dumps(_LAYOUT))
    layout["title"] = {"text": title, "x": 0, "xanchor": "left"}
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(layout.get(key), dict):
            layout[key].update(value)
        else:
            layout[key] = value
    return layout


def _board_dims(rows: pd.DataFrame) -> list[str]:
    dims = [c[: -len(" w/ ties")] for c in rows.columns
            if c.endswith(" w/ ties") and not c.startswith("avg") and rows[c].notna().any()]
    return sorted(dims, key=_dim_order)


@dataclass(frozen=True)
class _Scale:
    """How a panel shows its values: multiplied by ``factor`` on an axis over ``range`` with ``suffix`` ticks."""

    factor: float
    range: tuple[float, float]
    ticks: tuple[float, ...]
    suffix: str
    text: str  # format of the value printed in its bar
    hover: str  # plotly's d3 format of the value on hover


_PERCENT = _Scale(100.0, (0.0, 100.0), (0.0, 25.0, 50.0, 75.0, 100.0), "%", "{:.1f}", ".2f")
_CORRELATION = _Scale(1.0, (-1.0, 1.0), (-1.0, -0.5, 0.0, 0.5, 1.0), "", "{:.3f}", ".3f")


def _panel_bars(models: pd.DataFrame, dims: list[str], views: list[str], scale: _Scale,
                reference: dict[str, dict[str, float]], title: str) -> Figure:
    """One panel per dimension, models as horizontal bars (names read in full) with CI whiskers from the
    ``<column> lo`` / ``<column> hi`` columns; buttons switch between ``views`` (column ``f"{dim} {view}"``);
    ``reference[view][dim]``: a dashed line (the expected value of a scorer that ignores the videos)."""
    gap = 0.06
    width = (1 - gap * (len(dims) - 1)) / len(dims)
    names = [esc(m) for m in models["model"]]
    data: list[dict[str, Any]] = []
    shapes: dict[str, list[dict[str, Any]]] = {}
    layout_axes: dict[str, Any] = {}
    annotations = []
    f = scale.factor
    for m, label in enumerate(views):
        shapes[label] = []
        for k, dim in enumerate(dims):
            col = f"{dim} {label}"
            axis = "x" if k == 0 else f"x{k + 1}"
            vals = [_num(v) for v in models[col]]
            lo = [_num(v) for v in models[f"{col} lo"]]
            hi = [_num(v) for v in models[f"{col} hi"]]
            xs = [None if v is None else v * f for v in vals]
            plus = [(h - v) * f if v is not None and h is not None else 0.0 for v, h in zip(vals, hi)]
            minus = [(v - l_) * f if v is not None and l_ is not None else 0.0 for v, l_ in zip(vals, lo)]
            text = ["n/a" if v is None else scale.text.format(v * f) for v in vals]
            data.append({"type": "bar", "orientation": "h", "x": xs, "y": names, "xaxis": axis, "yaxis": "y",
                         "name": esc(dim), "showlegend": False, "visible": m == 0, "text": text,
                         "textposition": "inside", "insidetextanchor": "start", "textfont": {"color": "white"},
                         "marker": {"color": _COLOURS[k % len(_COLOURS)]},
                         "error_x": {"type": "data", "symmetric": False, "array": plus, "arrayminus": minus,
                                     "visible": True, "color": "#222", "thickness": 1.2, "width": 3},
                         "hovertemplate": f"%{{y}}<br>{esc(col)}: %{{x:{scale.hover}}}{scale.suffix}"
                                          "<extra></extra>"})
            r = reference.get(label, {}).get(dim)
            if r is not None:
                shapes[label].append({"type": "line", "xref": axis, "yref": "paper", "x0": r * f, "x1": r * f,
                                      "y0": 0, "y1": 1, "line": _REFERENCE_LINE})
            if m == 0:
                start = k * (width + gap)
                layout_axes["xaxis" if k == 0 else f"xaxis{k + 1}"] = {
                    "domain": [start, start + width], "range": list(scale.range), "anchor": "y", "showline": True,
                    "linecolor": "#444", "gridcolor": "#eee", "ticksuffix": scale.suffix, "tickvals": list(scale.ticks)}
                annotations.append({"text": f"<b>{esc(dim)}</b>", "xref": "paper", "yref": "paper",
                                    "x": start + width / 2, "y": 1.0, "yanchor": "bottom", "showarrow": False})
    n = len(dims)
    first = views[0]
    buttons = [{"label": label, "method": "update",
                "args": [{"visible": [i // n == m for i in range(len(data))]}, {"shapes": shapes[label]}]}
               for m, label in enumerate(views)]
    layout = _layout(title, yaxis={"autorange": "reversed", "automargin": True, "showline": True, "gridcolor": "#fff"},
                     shapes=shapes[first], annotations=annotations, bargap=0.25,
                     height=max(300, 26 * len(models) + 170),
                     updatemenus=[{"type": "buttons", "direction": "right", "showactive": True, "x": 1, "xanchor": "right",
                                   "y": 1.12, "yanchor": "bottom", "buttons": buttons}], **layout_axes)
    return {"data": data, "layout": layout}


def bars_figure(board: pd.DataFrame, bench: str) -> Figure | None:
    """Accuracy per dimension with 95% CIs, the random baseline dashed; buttons: w/ ties, w/o ties."""
    rows = board[board["benchmark"] == bench]
    ref = rows[rows["reference"].astype(bool)]
    models = rows[~rows["reference"].astype(bool)].head(MAX_PLOTTED_MODELS)
    dims = _board_dims(rows)
    if models.empty or not dims:
        return None
    views = ["w/ ties", "w/o ties"]
    reference: dict[str, dict[str, float]] = {view: {} for view in views}
    for view in views:
        for d in dims:
            col = f"{d} {view}"
            value = _num(ref[col].iloc[0]) if len(ref) and col in ref else None
            if value is not None:
                reference[view][d] = value
    return _panel_bars(models, dims, views, _PERCENT, reference,
                       f"{esc(bench)}: accuracy (%) per dimension, 95% CI; dashed: random (expected)")


def mos_bars_figure(board: pd.DataFrame, bench: str) -> Figure | None:
    """A MOS benchmark's correlations per dimension with their CIs; buttons: SRCC, KRCC, PLCC; dashed: 0, the
    expected correlation of a scorer that ignores the videos."""
    rows = board[board["benchmark"] == bench]
    dims = [d for d in _own_dimensions(rows) if f"{d} SRCC" in rows]
    models = rows.head(MAX_PLOTTED_MODELS)
    if models.empty or not dims:
        return None
    views = [MOS_LABELS[m] for m in MOS_METRICS]
    return _panel_bars(models, dims, views, _CORRELATION, {view: dict.fromkeys(dims, 0.0) for view in views},
                       f"{esc(bench)}: correlation with the mean opinion scores per dimension, 95% CI")


def radar_figure(board: pd.DataFrame, bench: str, top: int = 8) -> Figure | None:
    """Accuracy w/ ties per dimension of the top ranked models (VBench-style radar), the random baseline dashed."""
    rows = board[board["benchmark"] == bench]
    dims = _board_dims(rows)
    if len(dims) < 3:
        return None
    ranked = rows[rows["ranked"].astype(bool)].head(top)
    ref = rows[rows["reference"].astype(bool)]
    data = []
    theta = [esc(d) for d in dims] + [esc(dims[0])]
    for k, (_, row) in enumerate(ranked.iterrows()):
        r = [None if _num(row[f"{d} w/ ties"]) is None else row[f"{d} w/ ties"] * 100 for d in dims]
        data.append({"type": "scatterpolar", "r": r + r[:1], "theta": theta, "name": esc(row["model"]), "mode": "lines+markers",
                     "line": {"color": _COLOURS[k % len(_COLOURS)]}})
    if len(ref):
        r = [None if _num(ref[f"{d} w/ ties"].iloc[0]) is None else ref[f"{d} w/ ties"].iloc[0] * 100 for d in dims]
        data.append({"type": "scatterpolar", "r": r + r[:1], "theta": theta, "name": esc(RANDOM_DISPLAY_NAME),
                     "mode": "lines", "line": _REFERENCE_LINE})
    if not data:
        return None
    return {"data": data, "layout": _layout(f"{esc(bench)}: accuracy w/ ties (%) per dimension, top {len(ranked)}",
                                            polar={"radialaxis": {"range": [0, 100], "ticksuffix": "%"}},
                                            legend={"x": 1.02, "y": 1, "yanchor": "top", "orientation": "v"},
                                            height=480)}


def heatmap_figure(board: pd.DataFrame, bench: str) -> Figure:
    rows = board[board["benchmark"] == bench].head(MAX_PLOTTED_MODELS + 1)
    cols = [c for c in rows.columns if c.endswith(" ties") and not c.startswith("avg") and rows[c].notna().any()]
    z = [[None if _num(v) is None else round(float(v) * 100, 2) for v in row] for row in rows[cols].itertuples(index=False)]
    labels = [esc(RANDOM_DISPLAY_NAME if ref else m) for m, ref in zip(rows["model"], rows["reference"].astype(bool))]
    data = [{"type": "heatmap", "z": z, "x": [esc(c) for c in cols], "y": labels, "colorscale": "Viridis",
             "colorbar": {"title": {"text": "%"}}, "hoverongaps": False, "texttemplate": "%{z:.1f}"}]
    return {"data": data, "layout": _layout(f"{esc(bench)}: accuracy per dimension (%)",
                                            yaxis={"autorange": "reversed"}, height=max(360, 24 * len(rows) + 170))}


def history_figure(history: pd.DataFrame, bench: str) -> Figure | None:
    hist = history[(history["benchmark"] == bench) & history["acc_w_ties"].notna()]
    if hist.empty:
        return None
    dims = sorted(hist["dimension"].unique(), key=_dim_order)
    dim = "Overall" if "Overall" in dims else dims[0]
    hist = hist[hist["dimension"] == dim]
    points = hist.groupby("series").size()
    series = points[points > 1].sort_values(ascending=False).index[:MAX_HISTORY_SERIES]
    if len(series) == 0:
        return None
    data = []
    for s in series:
        rows = hist[hist["series"] == s].sort_values(["timestamp", "model"])
        text = [esc(f"{m} @ {r or 'n/a'}") for m, r in zip(rows["model"], rows["revision"])]
        ys = [float(v) * 100 for v in rows["acc_w_ties"]]
        lo = [y - float(v) * 100 if _num(v) is not None else 0.0 for y, v in zip(ys, rows["acc_w_ties_lo"])]
        hi = [float(v) * 100 - y if _num(v) is not None else 0.0 for y, v in zip(ys, rows["acc_w_ties_hi"])]
        data.append({"type": "scatter", "mode": "lines+markers", "name": esc(s), "x": list(range(1, len(rows) + 1)),
                     "y": ys, "text": text, "hovertemplate": "%{text}<br>%{y:.2f}%<extra></extra>",
                     "error_y": {"type": "data", "symmetric": False, "array": hi, "arrayminus": lo, "visible": True}})
    return {"data": data, "layout": _layout(f"{esc(bench)}: {esc(dim)} accuracy w/ ties across checkpoints, 95% CI",
                                            xaxis={"title": {"text": "checkpoint (submission order)"}, "dtick": 1},
                                            yaxis={"title": {"text": "accuracy (%)"}, "ticksuffix": "%"})}


def generator_history_figure(gen: pd.DataFrame, bench: str) -> Figure | None:
    """A run's checkpoints over training (``tables.generator_history``): one line per series and dimension of the
    win rate against the baseline, x = training step, with 95% CIs; None without a series of two or more steps."""
    hist = generator_history(gen)
    hist = hist[(hist["benchmark"] == bench) & hist["win_rate"].notna()]
    points = hist.groupby("series")["step"].nunique()
    series = points[points > 1].index[:MAX_HISTORY_SERIES]
    data = []
    for s in series:
        for dim in sorted(hist.loc[hist["series"] == s, "dimension"].unique(), key=_dim_order):
            rows = hist[(hist["series"] == s) & (hist["dimension"] == dim)]
            ys = [float(v) * 100 for v in rows["win_rate"]]
            lo = [y - float(v) * 100 if _num(v) is not None else 0.0 for y, v in zip(ys, rows["win_rate_lo"])]
            hi = [float(v) * 100 - y if _num(v) is not None else 0.0 for y, v in zip(ys, rows["win_rate_hi"])]
            data.append({"type": "scatter", "mode": "lines+markers", "name": esc(f"{s}: {dim}"),
                         "x": [int(v) for v in rows["step"]], "y": ys, "text": [esc(m) for m in rows["model"]],
                         "hovertemplate": "%{text}<br>step %{x}: %{y:.1f}%<extra></extra>",
                         "error_y": {"type": "data", "symmetric": False, "array": hi, "arrayminus": lo,
                                     "visible": True}})
    if not data:
        return None
    return {"data": data, "layout": _layout(f"{esc(bench)}: checkpoints of a training run, win rate vs the baseline, "
                                            "95% CI", xaxis={"title": {"text": "training step"}},
                                            yaxis={"title": {"text": "win rate (%)"}, "ticksuffix": "%"})}


def generator_figure(gen: pd.DataFrame, bench: str) -> Figure:
    rows = gen[gen["benchmark"] == bench]
    newest = rows.groupby("model")["timestamp"].transform("max")
    rows = rows[rows["timestamp"] == newest]
    data = []
    for k, dim in enumerate(sorted(rows["dimension"].unique(), key=_dim_order)):
        r = rows[rows["dimension"] == dim]
        strength = [_num(v) for v in r["strength"]]
        lo = [0.0 if s is None or _num(l) is None else s - float(l) for s, l in zip(strength, r["strength_lo"])]
        hi = [0.0 if s is None or _num(h) is None else float(h) - s for s, h in zip(strength, r["strength_hi"])]
        data.append({"type": "bar", "name": esc(dim), "x": [esc(f"{m}: {c}") for m, c in zip(r["model"], r["checkpoint"])],
                     "y": strength, "marker": {"color": _COLOURS[k % len(_COLOURS)]},
                     "error_y": {"type": "data", "symmetric": False, "array": hi, "arrayminus": lo, "visible": True}})
    return {"data": data, "layout": _layout(f"{esc(bench)}: generator ranking, 95% CI", barmode="group",
                                            yaxis={"title": {"text": "strength (log-odds vs baseline)"},
                                                   "zeroline": True, "zerolinecolor": "#888"})}


def _json_for_script(obj: Any) -> str:
    text = json.dumps(obj, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _csp_hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode() + "'"


RM_NAMES = ("model", "display_name")


def rm_table(table_id: str, rows: pd.DataFrame, cols: list[Col]) -> str:
    """One benchmark's reward-model table: ranked rows with the reference line among them, then the rows listed
    apart (no average) under their own label."""
    apart = ~rows["ranked"].astype(bool) & ~rows["reference"].astype(bool)
    return html_table(table_id, rows, cols, apart=apart,
                      apart_label=f"Not ranked: n/a on a dimension, so no average ({int(apart.sum())})",
                      reference=rows["reference"].astype(bool), names=RM_NAMES)


def rm_section_note(rows: pd.DataFrame) -> str:
    """How to read one benchmark's table (HTML)."""
    method = ", ".join(map(str, rows["tier_method"].dropna().unique())) or "n/a"
    tier_dim = ", ".join(map(str, rows["tier_dimension"].dropna().unique()))
    return (f"Accuracies in %, each \u00b1 half the width of its 95% CI (hover a cell for the interval). "
            "Ranked by <b>avg</b>, the mean of the averages w/o ties and w/ ties over every dimension; a model with an "
            "n/a dimension has no average and is listed apart, without a position. "
            f"<b>tier</b>: 1 + the number of models significantly better on {esc(tier_dim)} accuracy w/ ties "
            f"({esc(method)}); <b>=n</b> marks a tier several models share (they cannot be told apart). The dashed "
            "<i>random</i> row is a reference line, not a competitor: the expected accuracy of a scorer that ignores "
            "the videos, with the best tie threshold.")


def _rm_section(i: int, bench: str, board: pd.DataFrame, history: pd.DataFrame, figures: dict[str, Any]) -> str:
    rows = board[board["benchmark"] == bench]
    cols, groups = board_columns(rows)
    note = rm_section_note(rows) + " Click a header to sort."
    table_id = f"rm-{i}"
    csv_cols = [c for c in rows.columns if c not in ("result_path",)]
    tools = (f'<div class="tools">{_search(table_id)}{_toggles(table_id, groups)}'
             f'{csv_link(rows[csv_cols], f"{bench}-reward-models.csv")}</div>')
    parts = [f"<h2>Reward models: {esc(bench)}</h2><p class='note'>{note}</p>", tools, rm_table(table_id, rows, cols)]
    for kind, fig in (("bars", bars_figure(board, bench)), ("radar", radar_figure(board, bench)),
                      ("heatmap", heatmap_figure(board, bench)), ("history", history_figure(history, bench))):
        if fig is not None:
            fid = f"fig-rm-{i}-{kind}"
            figures[fid] = fig
            parts.append(f'<div class="fig" id="{fid}"></div>')
    return "".join(parts)


def _own_dimensions(rows: pd.DataFrame) -> list[str]:
    """One benchmark's dimensions, from the board's ``dimensions`` column (empty for a board without it)."""
    own = next((str(d) for d in rows["dimensions"] if isinstance(d, str) and d), "") if "dimensions" in rows else ""
    return [d for d in own.split(",") if d]


def mos_columns(rows: pd.DataFrame) -> tuple[list[Col], list[tuple[str, str]]]:
    """A MOS benchmark's table columns (its own dimensions only) and the column groups a reader can toggle."""
    dims = _own_dimensions(rows)
    cols = [Col("position", "#", "int"), Col("model", "model", "name"),
            Col("display_name", "name", "text", groups=("details",))]
    for metric in MOS_METRICS:
        label = MOS_LABELS[metric]
        for dim in dims:
            key = f"{dim} {label}"
            cols.append(Col(key, key, "corr", (f"{key} lo", f"{key} hi"), (metric, _group_key(dim))))
    cols += [Col(MOS_RANKING_COLUMN, MOS_RANKING_COLUMN, "corr", groups=("srcc",)), Col("tier", "tier", "tier"),
             Col("parameters", "params", "params", groups=("info",)), Col("license", "licence", "plain", groups=("info",)),
             Col("base_model", "base model", "name", groups=("info",)),
             Col("submitted_at", "submitted", "stamp", groups=("info",)),
             Col("revision", "revision", "rev", groups=("details",)),
             Col("n_videos", "videos", "int", groups=("details",)), Col("timestamp", "evaluated", "stamp", groups=("details",))]
    groups = [*((m, MOS_LABELS[m]) for m in MOS_METRICS), *((_group_key(d), d) for d in dims), ("ci", "\u00b1 CI"),
              ("info", "model info"), ("details", "details")]
    return [c for c in cols if c.key in rows.columns], groups


MOS_NOTE = ("Correlations of each model's per-video scores with the mean opinion scores, per dimension: SRCC "
            "(Spearman), KRCC (Kendall) and PLCC (Pearson after the 4-parameter logistic fit), each \u00b1 half the "
            "width of its prompt-clustered bootstrap CI (hover a cell for the interval). Ranked by <b>mean SRCC</b>, "
            "the mean SRCC over every dimension of the benchmark; a model with an n/a dimension has no mean and is "
            "listed apart, without a position. <b>tier</b>: 1 + the number of models whose SRCC CI on {dim} lies "
            "wholly above the model's own ({method}); <b>=n</b> marks a shared tier. A scorer that ignores the videos "
            "has an expected correlation of 0.")


def mos_table(table_id: str, rows: pd.DataFrame, cols: list[Col]) -> str:
    apart = ~rows["ranked"].astype(bool)
    return html_table(table_id, rows, cols, apart=apart,
                      apart_label=f"Not ranked: n/a on a dimension, so no mean SRCC ({int(apart.sum())})", names=RM_NAMES)


def mos_section_note(rows: pd.DataFrame) -> str:
    """How to read one MOS benchmark's table (HTML)."""
    return MOS_NOTE.format(dim=esc(", ".join(map(str, rows["tier_dimension"].dropna().unique())) or "n/a"),
                           method=esc(", ".join(map(str, rows["tier_method"].dropna().unique())) or "n/a"))


def _mos_section(i: int, bench: str, board: pd.DataFrame, figures: dict[str, Any]) -> str:
    rows = board[board["benchmark"] == bench]
    cols, groups = mos_columns(rows)
    note = mos_section_note(rows)
    table_id = f"mos-{i}"
    own = {key for c in cols for key in (c.key, *(c.ci or ()))}
    csv_cols = [c for c in rows.columns if c not in ("result_path",) and (not _is_metric_column(c) or c in own)]
    tools = (f'<div class="tools">{_search(table_id)}{_toggles(table_id, groups)}'
             f'{csv_link(rows[csv_cols], f"{bench}-reward-models-mos.csv")}</div>')
    page = (f"<h2>Reward models: {esc(bench)} (MOS)</h2><p class='note'>{note} Click a header to sort.</p>"
            + tools + mos_table(table_id, rows, cols))
    fig = mos_bars_figure(board, bench)
    if fig is not None:
        fid = f"fig-mos-{i}-bars"
        figures[fid] = fig
        page += f'<div class="fig" id="{fid}"></div>'
    return page


def _is_metric_column(col: str) -> bool:
    """``<dim> SRCC`` and its CI ends (and KRCC, PLCC): these belong to one benchmark's dimensions each."""
    parts = col.rsplit(" ", 2)
    return any(label in parts[1:] for label in MOS_LABELS.values()) and col != MOS_RANKING_COLUMN


GEN_NAMES = ("model", "checkpoint", "dimension")
GEN_NOTE = ("Win rate in % against the baseline, ties counted as half wins; strength: Bradley-Terry log-odds with the "
            "baseline at 0; p: two-sided exact sign test of wins against losses (ties left out); wins, losses and ties "
            "are counts of paired comparisons. Values \u00b1 half the width of their 95% CI.")


def gen_rows(generators: pd.DataFrame, bench: str) -> pd.DataFrame:
    """One prompt suite's generator rows in table order (dimension, then rank)."""
    rows = generators[generators["benchmark"] == bench]
    return rows.assign(_d=rows["dimension"].map(_dim_order)).sort_values(["_d", "rank"], kind="stable").drop(columns="_d")


def _gen_section(i: int, bench: str, generators: pd.DataFrame, figures: dict[str, Any]) -> str:
    rows = gen_rows(generators, bench)
    table_id = f"gen-{i}"
    tools = (f'<div class="tools">{_search(table_id)}'
             f'<fieldset class="vb-toggles" data-table="{table_id}"><legend>columns</legend>'
             '<label><input type="checkbox" value="ci" checked> \u00b1 CI</label></fieldset>'
             f'{csv_link(rows, f"{bench}-generators.csv")}</div>')
    fid = f"fig-gen-{i}"
    figures[fid] = generator_figure(generators, bench)
    history = generator_history_figure(generators, bench)
    if history is not None:
        figures[f"{fid}-history"] = history
    return (f"<h2>Generators: {esc(bench)}</h2><p class='note'>{esc(GEN_NOTE)}</p>"
            + tools + html_table(table_id, rows, GEN_COLUMNS, names=GEN_NAMES)
            + f'<div class="fig" id="{fid}"></div>'
            + (f'<div class="fig" id="{fid}-history"></div>' if history is not None else ""))


QUEUE_COLUMNS = [
    Col("status", "status", "status"), Col("model_id", "model", "name"), Col("kind", "kind", "plain"),
    Col("benchmark", "benchmark / suite", "plain"), Col("revision", "revision", "rev"),
    Col("submitter", "submitter", "plain"), Col("submitted_at", "submitted", "stamp"),
    Col("updated_at", "last change", "stamp"), Col("attempts", "attempts", "int"), Col("claimed_by", "worker", "plain"),
    Col("reason", "reason", "text"),
]
_STATUS_ORDER = {"RUNNING": 0, "PENDING": 1, "FAILED": 2, "FINISHED": 3}


QUEUE_NAMES = ("model_id", "status", "benchmark", "submitter")


def queue_rows(queue: pd.DataFrame) -> pd.DataFrame:
    """Requests in table order: RUNNING, PENDING, FAILED, FINISHED; newest first within each."""
    rows = queue.assign(_o=queue["status"].map(_STATUS_ORDER))
    return rows.sort_values(["_o", "submitted_at"], ascending=[True, False], kind="stable").drop(columns="_o")


def queue_counts(rows: pd.DataFrame) -> str:
    return ", ".join(f"{n} {s}" for s, n in rows["status"].value_counts().reindex(list(_STATUS_ORDER)).dropna()
                     .astype(int).items())


def _queue_section(queue: pd.DataFrame) -> str:
    rows = queue_rows(queue)
    counts = queue_counts(rows)
    tools = f'<div class="tools">{_search("queue")}{csv_link(rows, "queue.csv")}</div>'
    return (f"<h2>Queue</h2><p class='note'>{esc(counts)}. Requests are evaluated oldest first; a FAILED request "
            "gives its reason and can be submitted again; times in UTC.</p>"
            + tools + html_table("queue", rows, QUEUE_COLUMNS, names=QUEUE_NAMES))


def render_report(board: pd.DataFrame, history: pd.DataFrame, generators: pd.DataFrame, *,
                  title: str = "videobench leaderboard", problems: list[tuple[str, str]] | None = None,
                  queue: pd.DataFrame | None = None, mos: pd.DataFrame | None = None) -> tuple[str, dict[str, Any]]:
    """The report HTML and its figures (id -> plotly figure dict, for PNG export). ``mos``: the MOS board
    (``tables.mos_board``), one section per MOS benchmark after the accuracy ones."""
    from plotly.offline import get_plotlyjs

    sections: list[str] = []
    figures: dict[str, Any] = {}
    for i, bench in enumerate(sorted(board["benchmark"].unique()) if len(board) else []):
        sections.append(_rm_section(i, bench, board, history, figures))
    for i, bench in enumerate(sorted(mos["benchmark"].unique()) if mos is not None and len(mos) else []):
        sections.append(_mos_section(i, bench, mos, figures))
    for i, bench in enumerate(sorted(generators["benchmark"].unique()) if len(generators) else []):
        sections.append(_gen_section(i, bench, generators, figures))
    if queue is not None and len(queue):
        sections.append(_queue_section(queue))
    if problems:
        items = "".join(f"<li><code>{esc(p)}</code>: {esc(m)}</li>" for p, m in problems)
        sections.append(f"<h2>Skipped files</h2><ul class='note'>{items}</ul>")
    if not sections:
        sections.append("<p>No results yet.</p>")

    plotly_js = get_plotlyjs()
    csp = (f"default-src 'none'; script-src {_csp_hash(plotly_js)} {_csp_hash(_SORT_JS)}; "
           "style-src 'unsafe-inline'; img-src data: blob:; font-src data:; connect-src 'none'")
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        f"<title>{esc(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{esc(title)}</h1>{''.join(sections)}"
        f'<script type="application/json" id="vb-figures">{_json_for_script(figures)}</script>'
        f"<script>{plotly_js}</script><script>{_SORT_JS}</script></body></html>"
    )
    return page, figures


def write_pngs(figures: dict[str, Any], folder: str) -> list[str]:
    """PNG of each figure through kaleido (needs chromium); returns the files written.

    The PNGs are rendered into a staging folder and moved into place, so a killed export leaves no torn file.
    plotly's batch export returns kaleido's render errors (a browser timeout under load) without raising, so a figure
    whose file did not appear is rendered again alone, which raises what went wrong.
    """
    import os
    import tempfile
    from pathlib import Path

    import plotly.graph_objects as go
    import plotly.io as pio

    from videobench.leaderboard.errors import LeaderboardError

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    size = {"width": 1100, "height": 600}
    figs = {fid: go.Figure(fig) for fid, fig in figures.items()}
    with tempfile.TemporaryDirectory(dir=out, prefix=".png-export-") as tmp:
        staged = {fid: Path(tmp) / f"{fid}.png" for fid in figs}
        if hasattr(pio, "write_images"):  # kaleido >= 1: one browser for all figures
            pio.write_images(list(figs.values()), [str(p) for p in staged.values()], **size)
        for fid, path in staged.items():
            if path.is_file() and path.stat().st_size > 0:
                continue
            try:
                path.write_bytes(pio.to_image(figs[fid], format="png", **size))
            except Exception as exc:  # kaleido/chromium failures come as several exception types
                raise LeaderboardError(f"could not export figure {fid} as PNG: {exc}") from exc
        paths = []
        for fid, path in staged.items():
            paths.append(str(out / f"{fid}.png"))
            os.replace(path, paths[-1])
    return paths
