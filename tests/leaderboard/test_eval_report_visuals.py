"""The eval report (``videobench eval``'s report.html) on the board's scale: %, labels clear of the CI whiskers."""

from __future__ import annotations

import pytest

from videobench.leaderboard.synthetic import eval_result
from videobench.report import BarSeries, eval_report_html, format_percent, grouped_bar_figure


def test_bars_are_in_percent_with_labels_at_the_base():
    fig = grouped_bar_figure(["VQ", "TA"], [BarSeries("m", [0.7, None], [0.65, None], [0.76, None])], "t")
    (bar,) = fig.data
    assert list(bar.y) == [pytest.approx(70.0), None]
    assert list(bar.error_y.array) == [pytest.approx(6.0), 0.0] and list(bar.error_y.arrayminus) == [pytest.approx(5.0), 0.0]
    assert list(bar.text) == ["70.0", "n/a"]
    # labels inside the bar at its base; the whisker caps are at the top, so they never overlap
    assert bar.textposition == "inside" and bar.insidetextanchor == "start"
    assert list(fig.layout.yaxis.range) == [0, 100] and fig.layout.yaxis.ticksuffix == "%"
    assert fig.layout.legend.y == 1.0 and fig.layout.legend.yanchor == "bottom"  # legend under the title


def test_report_table_is_in_percent():
    r = eval_result("org/m", seed=1)
    d = r.dimensions["VQ"].accuracy_with_ties
    page = eval_report_html([r])
    assert format_percent(d.value, d.ci_low, d.ci_high) in page
    assert f"{d.value * 100:.2f} \u00b1 {(d.ci_high - d.ci_low) * 50:.2f}" in page
    assert format_percent(None) == "n/a" and format_percent(0.5) == "50.00"
