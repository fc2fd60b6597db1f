"""The importance-performance map (IPMA): interactive (plotly) and static (matplotlib).

Input is the table of :func:`adoption.ipma.ipma_table` (``construct, label, importance,
performance, priority``): one point per construct, importance (unstandardised total
effect on the target) across, performance (0-100) up, dashed lines at the means; the
"where to act" constructs (important, under-performing) in orange.

* :func:`ipma_figure` -> ``plotly.graph_objects.Figure`` (report page, dashboard);
* :func:`ipma_svg`, :func:`ipma_png` -> bytes (``figures/pls_ipma.svg`` / ``.png``).
"""

from __future__ import annotations

import io

import pandas as pd

from adoption.format import format_number

__all__ = ["ipma_figure", "ipma_svg", "ipma_png"]

FONT_FAMILY = "DejaVu Sans"
INK = "#222222"
PRIORITY = "#d9730d"
OTHER = "#1f4e79"


#: What importance is unless told: the PLS IPMA's (Ringle & Sarstedt, 2016).
IMPORTANCE = "unstandardised total effect"


def _axis_titles(target: str, importance: str = IMPORTANCE) -> tuple[str, str]:
    return (f"Importance ({importance} on {target})", "Performance (0-100)")


def ipma_figure(table: pd.DataFrame, target: str, importance: str = IMPORTANCE):
    """An interactive IPMA; hovering a point shows its importance and performance.
    ``importance`` names what the x axis is (the dashboard's brief: standardised)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for prio, color, name in ((True, PRIORITY, "where to act"), (False, OTHER, "other constructs")):
        t = table[table["priority"] == prio]
        if t.empty:
            continue
        fig.add_trace(go.Scatter(
            x=t["importance"], y=t["performance"], mode="markers+text", name=name,
            text=t["construct"], textposition="top center",
            marker=dict(color=color, size=10),
            hovertext=[f"{lab}<br>importance {format_number(i, 3)}<br>performance {format_number(p, 1)}"
                       for lab, i, p in zip(t["label"], t["importance"], t["performance"])],
            hoverinfo="text"))
    xt, yt = _axis_titles(target, importance)
    fig.add_vline(x=float(table["importance"].mean()), line=dict(color="#888888", dash="dash", width=1))
    fig.add_hline(y=float(table["performance"].mean()), line=dict(color="#888888", dash="dash", width=1))
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=30, b=50), plot_bgcolor="white",
                      paper_bgcolor="white",
                      font=dict(family=FONT_FAMILY + ", Arial, sans-serif", size=12, color=INK),
                      xaxis=dict(title=xt, gridcolor="#eeeeee"),
                      yaxis=dict(title=yt, gridcolor="#eeeeee"),
                      legend=dict(orientation="h", x=0.5, xanchor="center", y=1.0, yanchor="bottom"))
    return fig


def _draw(table: pd.DataFrame, target: str, fmt: str, dpi: float, importance: str = IMPORTANCE) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5, 4.2), dpi=dpi)
    (FigureCanvasSVG if fmt == "svg" else FigureCanvasAgg)(fig)
    ax = fig.add_axes((0.11, 0.14, 0.85, 0.8))
    font = dict(family=FONT_FAMILY)
    for _, r in table.iterrows():
        color = PRIORITY if r["priority"] else OTHER
        ax.plot([r["importance"]], [r["performance"]], "o", color=color, markersize=6)
        ax.annotate(str(r["construct"]), (r["importance"], r["performance"]), xytext=(4, 4),
                    textcoords="offset points", fontsize=7, color=color, **font)
    ax.axvline(table["importance"].mean(), color="#888888", linestyle="--", linewidth=0.8)
    ax.axhline(table["performance"].mean(), color="#888888", linestyle="--", linewidth=0.8)
    xt, yt = _axis_titles(target, importance)
    ax.set_xlabel(xt, fontsize=7.5, **font)
    ax.set_ylabel(yt, fontsize=7.5, **font)
    ax.tick_params(labelsize=7)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(color="#eeeeee", linewidth=0.6)
    ax.set_axisbelow(True)
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, facecolor="white")
    return buf.getvalue()


def ipma_svg(table: pd.DataFrame, target: str, importance: str = IMPORTANCE) -> bytes:
    """The IPMA as SVG bytes (matplotlib)."""
    return _draw(table, target, "svg", dpi=72, importance=importance)


def ipma_png(table: pd.DataFrame, target: str, dpi: float = 200, importance: str = IMPORTANCE) -> bytes:
    """The IPMA as PNG bytes (matplotlib Agg)."""
    return _draw(table, target, "png", dpi=dpi, importance=importance)
