"""Forest plots of effects with their confidence intervals: interactive (plotly) and static.

One row per effect (an indirect or total effect, or any estimate with an interval), a dot
at the estimate and a line across its confidence interval, a vertical line at zero.
Effects whose interval excludes zero are drawn filled, the others hollow.

Input is the run's effect rows (``results["structural"][form]["indirect"]`` and
``["total"]``): ``name, path (list of variables), est, se, pvalue, ci.lower, ci.upper,
ci_method, std.all`` and, when the bootstrap was run, ``std.all.ci.lower,
std.all.ci.upper``.

* :func:`prepare_forest` -> :class:`ForestChart` (rows and numbers; no drawing);
* :func:`forest_figure` -> ``plotly.graph_objects.Figure``;
* :func:`forest_svg`, :func:`forest_png` -> bytes, drawn with matplotlib (no browser).
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from adoption.format import format_bounded, format_number, format_p, is_number
from adoption.figures.save import figure_bytes

__all__ = ["ForestRow", "ForestChart", "prepare_forest", "forest_figure", "forest_svg",
           "forest_png"]

FONT_FAMILY = "DejaVu Sans"
INK = "#222222"
EXCLUDES_ZERO = "#1f4e79"
INCLUDES_ZERO = "#8c8c8c"


@dataclass(frozen=True)
class ForestRow:
    """One effect: its label, estimate and interval on the chosen scale."""

    label: str
    est: float
    lower: float
    upper: float
    excludes_zero: bool
    hover: str


@dataclass(frozen=True)
class ForestChart:
    rows: tuple[ForestRow, ...]
    axis_title: str
    note: str


def _label(r: Mapping[str, Any]) -> str:
    p = r.get("path")
    if isinstance(p, (list, tuple)) and p:
        return " → ".join(str(x) for x in p)
    if isinstance(p, str) and p:
        return p.replace("->", "→")
    return str(r.get("name", ""))


def prepare_forest(effects: pd.DataFrame | Sequence[Mapping[str, Any]], *,
                   standardized: bool = False) -> ForestChart:
    """The rows of a forest plot, in table order.

    Parameters
    ----------
    effects : DataFrame or list of dicts
        Effect rows with ``est, ci.lower, ci.upper`` (and ``std.all, std.all.ci.lower,
        std.all.ci.upper`` for the standardised scale); ``path`` or ``name`` labels them.
    standardized : bool, default False
        Plot ``std.all`` and its interval instead of ``est``. Rows without a finite
        standardised interval are left out.

    Returns
    -------
    ForestChart
        Rows with a finite estimate and interval, the axis title and a note.
    """
    records = (effects.to_dict("records") if isinstance(effects, pd.DataFrame) else list(effects))
    col, lo, hi = (("std.all", "std.all.ci.lower", "std.all.ci.upper") if standardized
                   else ("est", "ci.lower", "ci.upper"))
    rows = []
    for r in records:
        e, a, b = r.get(col), r.get(lo), r.get(hi)
        if not (is_number(e) and is_number(a) and is_number(b)):
            continue
        e, a, b = float(e), float(a), float(b)
        label = _label(r)
        method = r.get("ci_method") or "CI"
        hover = "<br>".join([
            f"<b>{html.escape(label)}</b>",
            f"b = {format_number(r.get('est'), 3)}, SE = {format_number(r.get('se'), 3)}",
            f"β = {format_bounded(r.get('std.all'), 3)}, {format_p(r.get('pvalue'))}",
            f"95% CI [{format_number(a, 3)}, {format_number(b, 3)}] ({html.escape(str(method))})",
        ])
        rows.append(ForestRow(label, e, a, b, a > 0 or b < 0, hover))
    what = "Standardised effect (β)" if standardized else "Unstandardised effect (b)"
    methods = sorted({str(r.get("ci_method")) for r in records if r.get("ci_method")})
    note = (f"{what} with its 95% confidence interval"
            + (f" ({', '.join(methods)})" if methods else "")
            + ". Filled: the interval excludes zero; hollow: it includes zero.")
    return ForestChart(tuple(rows), what, note)


def forest_figure(effects: pd.DataFrame | Sequence[Mapping[str, Any]], *,
                  standardized: bool = False):
    """An interactive forest plot; hovering a row shows b, SE, beta, p and the CI.

    Parameters are those of :func:`prepare_forest`.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    import plotly.graph_objects as go

    chart = prepare_forest(effects, standardized=standardized)
    fig = go.Figure()
    if chart.rows:
        ys = [r.label for r in chart.rows]
        for excl, color, symbol in ((True, EXCLUDES_ZERO, "circle"), (False, INCLUDES_ZERO, "circle-open")):
            sel = [r for r in chart.rows if r.excludes_zero == excl]
            if not sel:
                continue
            fig.add_trace(go.Scatter(
                x=[r.est for r in sel], y=[r.label for r in sel], mode="markers",
                name="CI excludes 0" if excl else "CI includes 0",
                marker=dict(color=color, size=9, symbol=symbol, line=dict(color=color, width=2)),
                error_x=dict(type="data", symmetric=False, color=color, thickness=1.6, width=4,
                             array=[r.upper - r.est for r in sel],
                             arrayminus=[r.est - r.lower for r in sel]),
                hovertext=[r.hover for r in sel], hoverinfo="text"))
        fig.update_yaxes(categoryorder="array", categoryarray=ys, autorange="reversed")
    fig.add_vline(x=0, line=dict(color="#555555", width=1))
    fig.update_layout(
        height=int(110 + 30 * max(len(chart.rows), 1)),
        margin=dict(l=10, r=10, t=30, b=50), plot_bgcolor="white", paper_bgcolor="white",
        font=dict(family=FONT_FAMILY + ", Arial, Helvetica, sans-serif", size=12, color=INK),
        xaxis=dict(title=chart.axis_title, gridcolor="#eeeeee", zeroline=False),
        legend=dict(orientation="h", x=0.5, xanchor="center", y=1.0, yanchor="bottom"),
    )
    return fig


def _draw(chart: ForestChart, fmt: str, dpi: float) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    n = max(len(chart.rows), 1)
    height = 1.1 + 0.28 * n
    fig = Figure(figsize=(6.5, height), dpi=dpi)
    (FigureCanvasSVG if fmt == "svg" else FigureCanvasAgg)(fig)
    ax = fig.add_axes((0.38, 0.75 / height, 0.58, 1 - 1.05 / height))
    font = dict(family=FONT_FAMILY)
    for i, r in enumerate(chart.rows):
        color = EXCLUDES_ZERO if r.excludes_zero else INCLUDES_ZERO
        ax.plot([r.lower, r.upper], [i, i], color=color, linewidth=1.4, solid_capstyle="butt")
        ax.plot([r.est], [i], marker="o", markersize=5, color=color,
                markerfacecolor=color if r.excludes_zero else "white", markeredgewidth=1.4)
    ax.axvline(0, color="#555555", linewidth=0.8, zorder=1.5)
    ax.set_yticks(range(len(chart.rows)), [r.label for r in chart.rows], fontsize=7, **font)
    ax.set_ylim(n - 0.5, -0.5)
    ax.tick_params(axis="x", labelsize=7)
    ax.tick_params(axis="y", length=0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="x", color="#eeeeee", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.set_xlabel(chart.axis_title, fontsize=7.5, **font)
    fig.text(0.02, 0.12 / height, "Note. " + chart.note, fontsize=6, color="#555555",
             ha="left", va="bottom", wrap=True, **font)
    return figure_bytes(fig, fmt, dpi)


def forest_svg(effects, *, standardized: bool = False) -> bytes:
    """The chart of :func:`forest_figure` as SVG bytes (matplotlib; 1 unit = 1 point)."""
    return _draw(prepare_forest(effects, standardized=standardized), "svg", dpi=72)


def forest_png(effects, *, standardized: bool = False, dpi: float = 200) -> bytes:
    """The chart of :func:`forest_figure` as PNG bytes (matplotlib Agg)."""
    return _draw(prepare_forest(effects, standardized=standardized), "png", dpi=dpi)
