"""Self-contained HTML report of a comparison: ranking, win-rate bars with CIs, a side-by-side video grid.

plotly.js is inlined once, so the file opens offline. Videos are linked by a path relative to the report (or embedded
as data URIs with ``embed_videos`` when small). Every string from users (names, prompts, paths) is HTML-escaped.
"""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path

import pandas as pd

from videobench.atomic import write_text
from videobench.compare.analysis import OVERALL
from videobench.results import CompareResult

MAX_EMBED_BYTES = 2 * 1024 * 1024
_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:right;vertical-align:top}th{background:#f3f3f3}
td.l,th.l{text-align:left}.grid video{width:100%;max-width:320px}.prompt{max-width:360px;text-align:left;font-size:90%}
.small{color:#666;font-size:85%}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _fmt(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


def _figures(result: CompareResult) -> str:
    import plotly.graph_objects as go

    parts = []
    entries = result.ranking.get(OVERALL) or next(iter(result.ranking.values()), [])
    if entries:
        fig = go.Figure(go.Bar(
            x=[_e(e.checkpoint) for e in entries], y=[e.strength.value for e in entries],
            error_y=dict(type="data", symmetric=False,
                         array=[(e.strength.ci_high or 0) - (e.strength.value or 0) for e in entries],
                         arrayminus=[(e.strength.value or 0) - (e.strength.ci_low or 0) for e in entries]),
        ))
        fig.update_layout(title=f"Bradley-Terry strength ({OVERALL}; baseline {_e(result.baseline)} = 0)",
                          yaxis_title="log-odds", height=380)
        parts.append(fig)
    dims = list(dict.fromkeys(w.dimension for w in result.win_rates))
    fig = go.Figure()
    for ckpt in dict.fromkeys(w.checkpoint for w in result.win_rates):
        rows = [w for w in result.win_rates if w.checkpoint == ckpt]
        fig.add_trace(go.Bar(
            name=_e(ckpt), x=[_e(w.dimension) for w in rows], y=[w.win_rate.value for w in rows],
            error_y=dict(type="data", symmetric=False,
                         array=[(w.win_rate.ci_high or 0) - (w.win_rate.value or 0) for w in rows],
                         arrayminus=[(w.win_rate.value or 0) - (w.win_rate.ci_low or 0) for w in rows]),
        ))
    fig.add_hline(y=0.5, line_dash="dot")
    fig.update_layout(title=f"Win rate vs {_e(result.baseline)} (ties = 1/2, 95% CI)", barmode="group",
                      yaxis=dict(range=[0, 1]), height=400, xaxis=dict(categoryorder="array", categoryarray=dims))
    parts.append(fig)
    out = []
    for k, fig in enumerate(parts):
        out.append(fig.to_html(full_html=False, include_plotlyjs=(k == 0), config={"displaylogo": False}))
    return "\n".join(out)


def _tables(result: CompareResult) -> tuple[str, str]:
    rows = "".join(
        f"<tr><td class=l>{_e(w.checkpoint)}</td><td class=l>{_e(w.dimension)}</td>"
        f"<td>{_fmt(w.win_rate.value)}</td><td>[{_fmt(w.win_rate.ci_low)}, {_fmt(w.win_rate.ci_high)}]</td>"
        f"<td>{w.wins}/{w.ties}/{w.losses}</td><td>{_fmt(w.p_value, 4)}</td></tr>"
        for w in result.win_rates
    )
    wins = ("<table><tr><th class=l>checkpoint</th><th class=l>dimension</th><th>win rate</th><th>95% CI</th>"
            f"<th>W/T/L</th><th>sign-test p</th></tr>{rows}</table>")
    rank_rows = ""
    for dim, entries in result.ranking.items():
        for e in entries:
            s = e.strength
            rank_rows += (f"<tr><td class=l>{_e(dim)}</td><td>{e.rank}</td><td class=l>{_e(e.checkpoint)}</td>"
                          f"<td>{_fmt(s.value)}</td><td>[{_fmt(s.ci_low)}, {_fmt(s.ci_high)}]</td></tr>")
    ranks = ("<table><tr><th class=l>dimension</th><th>rank</th><th class=l>checkpoint</th><th>BT strength</th>"
             f"<th>95% CI</th></tr>{rank_rows}</table>")
    return wins, ranks


def _video_src(path: str, report_dir: Path, embed: bool) -> str:
    p = Path(path)
    if embed and p.is_file() and p.stat().st_size <= MAX_EMBED_BYTES:
        return "data:video/mp4;base64," + base64.b64encode(p.read_bytes()).decode("ascii")
    return Path(os.path.relpath(p, report_dir)).as_posix()


def _grid(result: CompareResult, table: pd.DataFrame, report_dir: Path, n_prompts: int, embed: bool) -> str:
    names = [c.name for c in result.checkpoints]
    seed = result.seeds[0]
    sub = table[table["seed"] == seed]
    prompt_ids = list(dict.fromkeys(sub["prompt_id"]))[:n_prompts]
    head = "".join(f"<th>{_e(n)}</th>" for n in names)
    body = ""
    for pid in prompt_ids:
        rows = sub[sub["prompt_id"] == pid].set_index("generator")
        prompt = rows["prompt"].iloc[0]
        cells = ""
        for name in names:
            if name not in rows.index:
                cells += "<td>n/a</td>"
                continue
            row = rows.loc[name]
            src = _video_src(str(row["video"]), report_dir, embed)
            score = row.get(OVERALL)
            cells += (f'<td><video src="{_e(src)}" controls muted loop preload="metadata"></video>'
                      f"<div class=small>{OVERALL} {_fmt(None if pd.isna(score) else float(score), 2)}</div></td>")
        body += f"<tr><td class=prompt><b>{_e(pid)}</b><br>{_e(prompt)}</td>{cells}</tr>"
    return f"<table class=grid><tr><th class=l>prompt (seed {seed})</th>{head}</tr>{body}</table>"


def write_report(result: CompareResult, table: pd.DataFrame, path: str | os.PathLike, n_prompts: int = 8,
                 embed_videos: bool = False) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wins, ranks = _tables(result)
    ckpts = "".join(f"<tr><td class=l>{_e(c.name)}</td><td class=l>{_e(c.spec)}</td><td class=l>{_e(c.fingerprint)}"
                    f"</td></tr>" for c in result.checkpoints)
    rewards = ", ".join(_e(f"{m.name} ({m.spec})") for m in result.rewards)
    weights = ", ".join(_e(f"{k}={v:g}") for k, v in result.weights.items())
    prompts = result.prompts
    doc = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>videobench compare</title>
<style>{_CSS}</style></head><body>
<h1>Generator comparison</h1>
<p>Prompts: {_e(prompts.get('name'))} ({_e(prompts.get('n_prompts'))} prompts) × seeds {_e(result.seeds)};
rewards: {rewards}; Overall weights (on standardised scores): {weights}. Baseline: <b>{_e(result.baseline)}</b>.</p>
<p class=small>{_e(prompts.get('attribution') or '')}</p>
<table><tr><th class=l>checkpoint</th><th class=l>spec</th><th class=l>fingerprint</th></tr>{ckpts}</table>
<h2>Ranking and win rates</h2>
{_figures(result)}
<h3>Win rates</h3>{wins}
<h3>Bradley-Terry ranking</h3>{ranks}
<h2>Side by side</h2>
{_grid(result, table, path.parent.resolve(), n_prompts, embed_videos)}
<p class=small>Created {_e(result.provenance.get('created_at', ''))} by videobench
{_e(result.provenance.get('versions', {}).get('videobench', ''))}.</p>
</body></html>
"""
    return write_text(path, doc)
