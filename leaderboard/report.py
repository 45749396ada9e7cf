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
from typing import Any

import pandas as pd

from videobench.leaderboard.tables import RANDOM_MODEL, _dim_order

#: Bars and heatmap rows show at most this many models per benchmark (the table shows all).
MAX_PLOTTED_MODELS = 40
MAX_HISTORY_SERIES = 12

_SORT_JS = """
document.querySelectorAll('table.vb-sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, col) {
    th.addEventListener('click', function () {
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var asc = th.getAttribute('data-order') !== 'asc';
      table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('data-order'); });
      th.setAttribute('data-order', asc ? 'asc' : 'desc');
      rows.sort(function (a, b) {
        var x = a.cells[col].getAttribute('data-v'), y = b.cells[col].getAttribute('data-v');
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : String(x).localeCompare(String(y));
        return asc ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
var figs = JSON.parse(document.getElementById('vb-figures').textContent);
Object.keys(figs).forEach(function (id) {
  Plotly.newPlot(id, figs[id].data, figs[id].layout, {displaylogo: false, responsive: true});
});
"""

_CSS = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}
table{border-collapse:collapse;font-size:13px;margin:.5rem 0 1.5rem}
th,td{border:1px solid #ddd;padding:3px 6px;text-align:right}
th{background:#f3f3f3;cursor:pointer;user-select:none}
th[data-order=asc]::after{content:" \\25B2"} th[data-order=desc]::after{content:" \\25BC"}
td.name{text-align:left;max-width:28rem;overflow-wrap:anywhere}
tr.random td{font-style:italic;color:#666}
.fig{width:100%;min-height:420px}
.note{color:#555;font-size:13px;max-width:60rem}
"""


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float):
        return f"{value * 100:.2f}" if -1.0 <= value <= 1.0 else f"{value:.3f}"
    return str(value)


def html_table(df: pd.DataFrame, columns: list[str], name_columns: tuple[str, ...] = ("model", "display_name")) -> str:
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    rows = []
    classes = [' class="name"' if c in name_columns else "" for c in columns]
    models = df["model"].tolist() if "model" in df.columns else [None] * len(df)
    for model, values in zip(models, df[columns].itertuples(index=False, name=None)):
        cells = []
        for cls, v in zip(classes, values):
            if v is pd.NA or (isinstance(v, float) and math.isnan(v)):
                v = None
            cells.append(f'<td{cls} data-v="{esc("" if v is None else v)}">{esc(_fmt(v))}</td>')
        row_class = ' class="random"' if model == RANDOM_MODEL else ""
        rows.append(f"<tr{row_class}>{''.join(cells)}</tr>")
    return f'<table class="vb-sortable"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _label(row: pd.Series) -> str:
    return esc(row["model"])


Figure = dict[str, Any]

#: Plain white look without plotly's template machinery (building go.Figure objects costs ~0.2 s each).
_LAYOUT: dict[str, Any] = {
    "plot_bgcolor": "white", "paper_bgcolor": "white", "font": {"family": "system-ui, sans-serif", "size": 12},
    "xaxis": {"showline": True, "linecolor": "#444", "automargin": True},
    "yaxis": {"showline": True, "linecolor": "#444", "gridcolor": "#eee", "automargin": True},
    "legend": {"orientation": "h", "y": -0.3},
}


def _num(v: Any) -> float | None:
    return None if v is None or pd.isna(v) else float(v)


def _layout(title: str, **extra: Any) -> dict[str, Any]:
    layout = json.loads(json.dumps(_LAYOUT))
    layout["title"] = {"text": title}
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(layout.get(key), dict):
            layout[key].update(value)
        else:
            layout[key] = value
    return layout


def bars_figure(board: pd.DataFrame, bench: str, history: pd.DataFrame) -> Figure:
    rows = board[board["benchmark"] == bench].head(MAX_PLOTTED_MODELS)
    hist = history[history["benchmark"] == bench]
    dims = sorted(hist["dimension"].unique(), key=_dim_order)
    dim = "Overall" if "Overall" in dims else dims[0]
    cur = hist[hist["dimension"] == dim].sort_values("timestamp").groupby("model").tail(1)
    data = []
    for metric, label in (("acc_wo_ties", "w/o ties"), ("acc_w_ties", "w/ ties")):
        ys, lo, hi = [], [], []
        cis = dict(zip(cur["model"], zip(cur[f"{metric}_lo"], cur[f"{metric}_hi"])))
        for model, value in zip(rows["model"], rows.get(f"{dim} {label}", pd.Series([None] * len(rows)))):
            v = _num(value)
            l_, h_ = (_num(x) for x in cis.get(model, (None, None)))
            ys.append(None if v is None else v * 100)
            ok = v is not None and l_ is not None and h_ is not None
            lo.append((v - l_) * 100 if ok else 0.0)
            hi.append((h_ - v) * 100 if ok else 0.0)
        data.append({"type": "bar", "name": f"{esc(dim)} accuracy {label}", "x": [esc(m) for m in rows["model"]],
                     "y": ys, "error_y": {"type": "data", "symmetric": False, "array": hi, "arrayminus": lo,
                                          "visible": True}})
    return {"data": data, "layout": _layout(f"{esc(bench)}: {esc(dim)} accuracy (%) with 95% CI", barmode="group",
                                            yaxis={"title": {"text": "accuracy (%)"}})}


def heatmap_figure(board: pd.DataFrame, bench: str) -> Figure:
    rows = board[board["benchmark"] == bench].head(MAX_PLOTTED_MODELS)
    cols = [c for c in rows.columns if c.endswith(" ties") and not c.startswith("avg") and rows[c].notna().any()]
    z = [[None if _num(v) is None else round(float(v) * 100, 2) for v in row] for row in rows[cols].itertuples(index=False)]
    data = [{"type": "heatmap", "z": z, "x": [esc(c) for c in cols], "y": [esc(m) for m in rows["model"]],
             "colorscale": "Viridis", "colorbar": {"title": {"text": "%"}}, "hoverongaps": False}]
    return {"data": data, "layout": _layout(f"{esc(bench)}: accuracy per dimension (%)",
                                            yaxis={"autorange": "reversed"}, height=max(360, 22 * len(rows) + 160))}


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
        data.append({"type": "scatter", "mode": "lines+markers", "name": esc(s), "x": list(range(1, len(rows) + 1)),
                     "y": [float(v) * 100 for v in rows["acc_w_ties"]], "text": text,
                     "hovertemplate": "%{text}<br>%{y:.2f}%<extra></extra>"})
    return {"data": data, "layout": _layout(f"{esc(bench)}: {esc(dim)} accuracy w/ ties across checkpoints",
                                            xaxis={"title": {"text": "checkpoint (submission order)"}},
                                            yaxis={"title": {"text": "accuracy (%)"}})}


def generator_figure(gen: pd.DataFrame, bench: str) -> Figure:
    rows = gen[gen["benchmark"] == bench]
    newest = rows.groupby("model")["timestamp"].transform("max")
    rows = rows[rows["timestamp"] == newest]
    data = []
    for dim in sorted(rows["dimension"].unique(), key=_dim_order):
        r = rows[rows["dimension"] == dim]
        strength = [_num(v) for v in r["strength"]]
        lo = [0.0 if s is None or _num(l) is None else s - float(l) for s, l in zip(strength, r["strength_lo"])]
        hi = [0.0 if s is None or _num(h) is None else float(h) - s for s, h in zip(strength, r["strength_hi"])]
        data.append({"type": "bar", "name": esc(dim), "x": [esc(f"{m}: {c}") for m, c in zip(r["model"], r["checkpoint"])],
                     "y": strength, "error_y": {"type": "data", "symmetric": False, "array": hi, "arrayminus": lo}})
    return {"data": data, "layout": _layout(f"{esc(bench)}: generator ranking", barmode="group",
                                            yaxis={"title": {"text": "Bradley-Terry strength (log-odds vs baseline)"}})}


def _json_for_script(obj: Any) -> str:
    text = json.dumps(obj, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _csp_hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode() + "'"


def render_report(board: pd.DataFrame, history: pd.DataFrame, generators: pd.DataFrame, *,
                  title: str = "videobench leaderboard", problems: list[tuple[str, str]] | None = None) -> tuple[str, dict[str, Any]]:
    """The report HTML and its figures (id -> plotly figure dict, for PNG export)."""
    from plotly.offline import get_plotlyjs

    sections: list[str] = []
    figures: dict[str, Any] = {}
    for i, bench in enumerate(sorted(board["benchmark"].unique()) if len(board) else []):
        rows = board[board["benchmark"] == bench]
        metric_cols = [c for c in rows.columns if c.endswith(" ties") or c == "avg"]
        cols = ["position", "model", "display_name"] + metric_cols + ["tier", "revision", "n_pairs", "timestamp"]
        rows = rows.assign(revision=rows["revision"].map(lambda r: r[:12] if isinstance(r, str) else r))
        method = rows["tier_method"].dropna().unique()
        tier_dim = rows["tier_dimension"].dropna().unique()
        note = (f"Accuracies in %. <b>tier</b>: 1 + number of models significantly better on "
                f"{esc(', '.join(map(str, tier_dim)))} accuracy w/ ties ({esc(', '.join(map(str, method)) or 'n/a')}); "
                "models with equal tiers cannot be told apart. The <i>random</i> row is the expected accuracy of a "
                "scorer that ignores the videos, with the best tie threshold.")
        sections.append(f"<h2>Reward models: {esc(bench)}</h2><p class='note'>{note}</p>"
                        + html_table(rows, [c for c in cols if c in rows.columns]))
        for kind, fig in (("bars", bars_figure(board, bench, history)), ("heatmap", heatmap_figure(board, bench)),
                          ("history", history_figure(history, bench))):
            if fig is not None:
                fid = f"fig-rm-{i}-{kind}"
                figures[fid] = fig
                sections.append(f'<div class="fig" id="{fid}"></div>')
    for i, bench in enumerate(sorted(generators["benchmark"].unique()) if len(generators) else []):
        rows = generators[generators["benchmark"] == bench].sort_values(["dimension", "rank"])
        cols = ["model", "checkpoint", "dimension", "rank", "strength", "strength_lo", "strength_hi", "win_rate",
                "win_rate_lo", "win_rate_hi", "baseline", "wins", "losses", "ties", "p_value", "timestamp"]
        sections.append(f"<h2>Generators: {esc(bench)}</h2><p class='note'>Win rates (%) against the baseline with "
                        "ties as half wins; Bradley-Terry strengths are log-odds with the baseline at 0.</p>"
                        + html_table(rows, cols, name_columns=("model", "checkpoint", "baseline")))
        fid = f"fig-gen-{i}"
        figures[fid] = generator_figure(generators, bench)
        sections.append(f'<div class="fig" id="{fid}"></div>')
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
    """PNG of each figure through kaleido (needs chromium); returns the files written."""
    from pathlib import Path

    import plotly.graph_objects as go

    import plotly.io as pio

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = [str(out / f"{fid}.png") for fid in figures]
    figs = [go.Figure(fig) for fig in figures.values()]
    if hasattr(pio, "write_images"):  # kaleido >= 1: one browser for all figures
        pio.write_images(figs, paths, width=1100, height=600)
    else:
        for fig, path in zip(figs, paths):
            fig.write_image(path, width=1100, height=600)
    return paths
