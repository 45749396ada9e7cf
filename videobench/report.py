"""Self-contained HTML reports of ``EvalResult`` files: bar charts with CI whiskers, one table, provenance.

The page opens offline: plotly's JavaScript is inlined once (first figure), later figures reuse it. Every string that
comes from a result (model and benchmark names, specs, commands) may be hostile, since results arrive as
submissions: each is passed through ``html.escape`` before it reaches the page or a figure (plotly renders trace
names as HTML-like text, so escaped names also display literally there).

The figure helpers (``grouped_bar_figure``, ``figure_html``, ``html_table``, ``page``) take plain data, so other
reports (the leaderboard) can reuse them.
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from videobench.atomic import write_text
from videobench.results import EvalResult

#: Metrics shown in the report, in order: (attribute of DimensionResult, title).
REPORT_METRICS: tuple[tuple[str, str], ...] = (
    ("accuracy_without_ties", "Accuracy without ties"),
    ("accuracy_with_ties", "Accuracy with ties (tie-calibrated, grouped)"),
    ("accuracy_with_ties_crossfit", "Accuracy with ties, threshold fitted out of fold (cross-fit)"),
    ("accuracy_with_ties_fixed", "Accuracy with ties at the fixed threshold (--tie-threshold)"),
)


#: Metrics computed only when asked for: shown only when some result has them.
OPTIONAL_METRICS = frozenset({"accuracy_with_ties_fixed"})


def _has_metric(results: Sequence[EvalResult], attr: str) -> bool:
    """Optional metrics (the fixed threshold) get a figure only when some result carries them."""
    return any(getattr(d, attr, None) is not None for r in results for d in r.dimensions.values())


def _fixed_threshold(dim: object) -> str:
    est, t = getattr(dim, "accuracy_with_ties_fixed", None), getattr(dim, "tie_threshold", None)
    if est is None or t is None:
        return "n/a"
    return f"{format_percent(est.value, est.ci_low, est.ci_high)} (t={t:g})"


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


@dataclass
class BarSeries:
    """One model's bars: a value (or None for n/a) and optional CI per category."""

    name: str
    values: list[float | None]
    low: list[float | None]
    high: list[float | None]


def grouped_bar_figure(categories: Sequence[str], series: Sequence[BarSeries], title: str, y_title: str = "accuracy (%)",
                       y_range: tuple[float, float] | None = (0.0, 100.0), scale: float = 100.0):
    """Bars per category, one colour per series side by side, asymmetric CI whiskers; n/a bars are left out and
    marked in the hover text. Values are multiplied by ``scale`` (rates in [0, 1] become %). Value labels sit inside
    the bars at their base, clear of the whiskers at the bar tops. All names are escaped here."""
    import plotly.graph_objects as go

    fig = go.Figure()
    cats = [esc(c) for c in categories]
    for s in series:
        ys = [None if v is None else v * scale for v in s.values]
        plus = [(h - v) * scale if (h is not None and v is not None) else 0.0 for v, h in zip(s.values, s.high)]
        minus = [(v - lo) * scale if (lo is not None and v is not None) else 0.0 for v, lo in zip(s.values, s.low)]
        text = ["n/a" if v is None else f"{v * scale:.1f}" for v in s.values]
        hover = ["n/a" if v is None else f"{v * scale:.2f}" + ("" if lo is None or h is None else
                 f" (95% CI {lo * scale:.2f}\u2013{h * scale:.2f})") for v, lo, h in zip(s.values, s.low, s.high)]
        has_ci = any(lo is not None and h is not None for lo, h in zip(s.low, s.high))
        fig.add_trace(go.Bar(
            name=esc(s.name), x=cats, y=ys, text=text, textposition="inside", insidetextanchor="start",
            textangle=0, customdata=hover,
            error_y=dict(type="data", symmetric=False, array=plus, arrayminus=minus, visible=has_ci, color="#222",
                         thickness=1.2, width=4),
            hovertemplate="%{x}: %{customdata}<extra>" + esc(s.name) + "</extra>",
        ))
    fig.update_layout(title=esc(title), barmode="group", yaxis_title=esc(y_title), legend_title="model",
                      template="plotly_white", height=440, margin=dict(t=90, b=40, l=60, r=20),
                      legend=dict(orientation="h", x=0, xanchor="left", y=1.0, yanchor="bottom"),
                      uniformtext=dict(minsize=9, mode="hide"))
    if y_range is not None:
        fig.update_yaxes(range=list(y_range), ticksuffix="%" if scale == 100.0 else "")
    return fig


def figure_html(fig, first: bool, div_id: str | None = None) -> str:
    """A figure as an HTML fragment; the first one of a page carries plotly.js inline (no network needed).

    Pass ``div_id`` for byte-identical pages from identical results (plotly picks a random id otherwise).
    """
    import plotly.io as pio

    return pio.to_html(fig, include_plotlyjs=True if first else False, full_html=False, div_id=div_id)


def html_table(header: Sequence[str], rows: Iterable[Sequence[object]], caption: str | None = None,
               css_class: str | None = None) -> str:
    """A plain HTML table; every cell is escaped."""
    parts = [f"<table class=\"{esc(css_class)}\">" if css_class else "<table>"]
    if caption:
        parts.append(f"<caption>{esc(caption)}</caption>")
    parts.append("<thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr></thead><tbody>")
    for row in rows:
        parts.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}th,td{border:1px solid #ccc;padding:.3rem .6rem;
text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}caption{text-align:left;
font-weight:600;margin-bottom:.3rem}code,pre{background:#f6f6f6;padding:.1rem .3rem}pre{padding:.6rem;overflow-x:auto}
.note{color:#555;font-size:.9rem}table.text td{text-align:left;word-break:break-all}
"""


def page(title: str, body_parts: Sequence[str]) -> str:
    """A complete HTML document; ``title`` is escaped, ``body_parts`` are trusted fragments built by these helpers."""
    return (
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{esc(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{esc(title)}</h1>" + "\n".join(body_parts) + "</body></html>"
    )


def format_estimate(value: float | None, low: float | None = None, high: float | None = None, digits: int = 3,
                    sep: str = " ± ") -> str:
    """``0.734 ± 0.021`` (half-width of the CI), ``0.734`` without CI, ``n/a`` without value."""
    if value is None:
        return "n/a"
    if low is None or high is None:
        return f"{value:.{digits}f}"
    return f"{value:.{digits}f}{sep}{(high - low) / 2:.{digits}f}"


def format_percent(value: float | None, low: float | None = None, high: float | None = None) -> str:
    """A rate in [0, 1] as ``73.45 ± 3.00`` (%, half-width of the CI), ``73.45`` without CI, ``n/a`` without value."""
    if value is None:
        return "n/a"
    return format_estimate(value * 100, None if low is None else low * 100, None if high is None else high * 100, digits=2)


def _series(results: Sequence[EvalResult], dims: Sequence[str], attr: str) -> list[BarSeries]:
    out = []
    for r in results:
        values, low, high = [], [], []
        for d in dims:
            dim = r.dimensions.get(d)
            est = getattr(dim, attr, None) if dim is not None and dim.available else None
            values.append(None if est is None else est.value)
            low.append(None if est is None else est.ci_low)
            high.append(None if est is None else est.ci_high)
        out.append(BarSeries(r.model.name, values, low, high))
    return out


def result_dimensions(results: Sequence[EvalResult]) -> list[str]:
    dims: list[str] = []
    for r in results:
        for d in r.benchmark.dimensions or list(r.dimensions):
            if d not in dims:
                dims.append(d)
    return dims


#: MOS metrics shown for a MOS benchmark's results, in order: (attribute of CorrelationResult, title).
MOS_REPORT_METRICS: tuple[tuple[str, str], ...] = (
    ("srcc", "SRCC (Spearman) with the MOS"),
    ("plcc", "PLCC (Pearson, after the 4-parameter logistic fit) with the MOS"),
    ("krcc", "KRCC (Kendall tau-b) with the MOS"),
)


def mos_series(results: Sequence[EvalResult], dims: Sequence[str], attr: str) -> list[BarSeries]:
    out = []
    for r in results:
        ests = [getattr(r.correlations[d], attr) if d in r.correlations and r.correlations[d].available else None
                for d in dims]
        out.append(BarSeries(r.model.name, [None if e is None else e.value for e in ests],
                             [None if e is None else e.ci_low for e in ests],
                             [None if e is None else e.ci_high for e in ests]))
    return out


def mos_table_rows(results: Sequence[EvalResult], dims: Sequence[str]) -> list[list[object]]:
    """One row per model: SRCC, PLCC, KRCC per dimension (value ± half-width of the CI)."""
    rows = []
    for r in results:
        row: list[object] = [r.model.name]
        for attr, _ in MOS_REPORT_METRICS:
            for d in dims:
                c = r.correlations.get(d)
                est = getattr(c, attr) if c is not None and c.available else None
                row.append("n/a" if est is None else format_estimate(est.value, est.ci_low, est.ci_high))
        rows.append(row)
    return rows


def _mos_report_html(results: Sequence[EvalResult], title: str | None) -> str:
    dims = result_dimensions(results)
    bench = results[0].benchmark
    parts = [
        f"<p class=\"note\">MOS benchmark <b>{esc(bench.name)}</b> ({esc(bench.n_videos)} rated videos, fingerprint "
        f"<code>{esc(bench.fingerprint)}</code>, source <code>{esc(bench.source)}</code>). Bars show the correlation of "
        "each model's per-video scores with the mean opinion scores; whiskers are prompt-clustered bootstrap 95% "
        "confidence intervals; n/a means the model does not score that dimension.</p>"
    ]
    for i, (attr, metric_title) in enumerate(MOS_REPORT_METRICS):
        fig = grouped_bar_figure(dims, mos_series(results, dims, attr), metric_title, y_title="correlation",
                                 y_range=(-1.0, 1.0), scale=1.0)
        parts.append(figure_html(fig, first=i == 0, div_id=f"videobench-figure-{i}"))
    header = ["model", *(f"{d} {attr.upper()}" for attr, _ in MOS_REPORT_METRICS for d in dims)]
    parts.append(html_table(header, mos_table_rows(results, dims),
                            caption="Correlation with the MOS (value ± half-width of the 95% CI)"))
    detail = [[r.model.name, d, c.n_videos, c.n_excluded,
               "did not converge" if c.logistic_params is None else ", ".join(f"{p:.4g}" for p in c.logistic_params)]
              for r in results for d, c in r.correlations.items()]
    parts.append(html_table(["model", "dimension", "videos", "excluded", "logistic fit b1..b4"], detail,
                            caption="Details per dimension"))
    prov_rows = [[r.model.name, r.model.spec, r.model.fingerprint, " ".join(map(str, r.provenance.get("command", []))),
                  r.provenance.get("git_commit") or "", r.provenance.get("created_at", "")] for r in results]
    parts.append(html_table(["model", "spec", "fingerprint", "command", "git commit", "created"], prov_rows,
                            caption="Provenance", css_class="text"))
    return page(title or f"videobench eval: {bench.name}", parts)


def eval_report_html(results: Sequence[EvalResult], title: str | None = None) -> str:
    if not results:
        raise ValueError("a report needs at least one result")
    if results[0].benchmark.kind == "mos":
        return _mos_report_html(results, title)
    dims = result_dimensions(results)
    bench = results[0].benchmark
    title = title or f"videobench eval: {bench.name}"
    parts = [
        f"<p class=\"note\">Benchmark <b>{esc(bench.name)}</b> ({esc(bench.n_pairs)} pairs, fingerprint "
        f"<code>{esc(bench.fingerprint)}</code>, source <code>{esc(bench.source)}</code>). Bars show accuracy against "
        "the benchmark's labels (from people, or by construction for built-in benchmarks such as sanity), in % as on "
        "the leaderboard; whiskers are prompt-clustered bootstrap 95% confidence intervals; n/a means the model does not "
        "score that dimension.</p>"
    ]
    shown = [m for m in REPORT_METRICS if m[0] not in OPTIONAL_METRICS or _has_metric(results, m[0])]
    for i, (attr, metric_title) in enumerate(shown):
        fig = grouped_bar_figure(dims, _series(results, dims, attr), metric_title)
        parts.append(figure_html(fig, first=i == 0, div_id=f"videobench-figure-{i}"))

    header = ["model", *(f"{d} w/o ties" for d in dims), *(f"{d} w/ ties" for d in dims),
              "avg w/o ties", "avg w/ ties", "avg overall"]
    rows = []
    for r in results:
        row: list[object] = [r.model.name]
        for attr in ("accuracy_without_ties", "accuracy_with_ties"):
            for d in dims:
                dim = r.dimensions.get(d)
                est = getattr(dim, attr) if dim is not None and dim.available else None
                row.append("n/a" if est is None else format_percent(est.value, est.ci_low, est.ci_high))
        for key in ("without_ties", "with_ties", "overall"):
            row.append(format_percent(r.averages.get(key)))
        rows.append(row)
    parts.append(html_table(header, rows, caption="Accuracy in % (value ± half-width of the 95% CI)"))

    detail_rows = []
    for r in results:
        for d in dims:
            dim = r.dimensions.get(d)
            if dim is None:
                continue
            ref = dim.accuracy_with_ties_reference
            detail_rows.append([
                r.model.name, d, dim.n_pairs, f"{dim.human_tie_rate:.3f}" if dim.human_tie_rate == dim.human_tie_rate else "n/a",
                "n/a" if not dim.available else "no ties" if dim.epsilon is None else f"{dim.epsilon:.4g}",
                "n/a" if ref is None else format_percent(ref.value),
                "n/a" if dim.accuracy_with_ties_crossfit is None else format_percent(dim.accuracy_with_ties_crossfit.value),
                _fixed_threshold(dim),
                dim.n_excluded,
            ])
    parts.append(html_table(
        ["model", "dimension", "pairs", "human tie rate", "ε* (grouped)", "w/ ties % (reference script)",
         "w/ ties % (cross-fit)", "w/ ties % (fixed threshold t)", "excluded"],
        detail_rows, caption="Details per dimension",
    ))
    prov_rows = [[r.model.name, r.model.spec, r.model.fingerprint, " ".join(map(str, r.provenance.get("command", []))),
                  r.provenance.get("git_commit") or "", r.provenance.get("created_at", "")] for r in results]
    parts.append(html_table(["model", "spec", "fingerprint", "command", "git commit", "created"], prov_rows,
                            caption="Provenance", css_class="text"))
    return page(title, parts)


def write_eval_report(results: Sequence[EvalResult], path: str | os.PathLike, title: str | None = None) -> Path:
    """Write the report atomically (a reader never sees half a page)."""
    return write_text(path, eval_report_html(results, title))
