"""Moderation figures: the interaction plot and the Johnson-Neyman plot.

Drawn from ``results["structural"]["composite"]["moderation"]`` (see
:class:`adoption.structural.moderated.ModerationResults`): its ``lines`` (the outcome
predicted at the focal predictor's mean and +/- 1 SD, one line per probed moderator
value or category), ``curves`` (the focal slope with its CI along the moderator's
observed range) and ``johnson_neyman`` (the points where the slope's significance
changes). Nothing is computed here.

* :func:`moderated_paths` - the (outcome, focal, moderator) triples that have figures;
* :func:`prepare_interaction`, :func:`prepare_jn` -> chart data (no drawing);
* :func:`interaction_figure`, :func:`jn_figure` -> plotly figures;
* :func:`interaction_image`, :func:`jn_image` -> SVG or PNG bytes (matplotlib).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adoption.format import format_number, is_number
from adoption.figures.save import figure_bytes

__all__ = ["InteractionChart", "JNChart", "moderated_paths", "prepare_interaction",
           "prepare_jn", "interaction_figure", "jn_figure", "interaction_image", "jn_image"]

FONT_FAMILY = "DejaVu Sans"
INK = "#222222"
#: line colours, low to high moderator (or category order); dashes tell them apart in grey
COLOURS = ("#1f4e79", "#7f7f7f", "#b2182b", "#2a7f3f", "#8c564b", "#6a3d9a")
DASHES = ("dash", "solid", "dot", "dashdot", "longdash", "longdashdot")
MPL_DASHES = {"dash": "--", "solid": "-", "dot": ":", "dashdot": "-.", "longdash": (0, (8, 3)),
              "longdashdot": (0, (8, 3, 2, 3))}
BAND = "#9ecae1"


@dataclass(frozen=True)
class InteractionChart:
    """Lines ``(label, x values, predicted values)``, axis titles and a note."""

    lines: tuple[tuple[str, tuple[float, ...], tuple[float, ...]], ...]
    x_title: str
    y_title: str
    note: str


@dataclass(frozen=True)
class JNChart:
    """The focal slope along the moderator with its CI band, and the JN points."""

    values: tuple[float, ...]
    est: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    jn_points: tuple[float, ...]
    x_title: str
    y_title: str
    note: str


def _rows(mod: Mapping[str, Any] | None, key: str, path: tuple[str, str, str]) -> list[dict]:
    lhs, focal, moderator = path
    return [r for r in (mod or {}).get(key) or [] if r.get("lhs") == lhs
            and r.get("focal") == focal and r.get("moderator") == moderator]


#: An axis title holds a construct's label up to this length, else its code alone.
AXIS_LABEL_CHARS = 28


def _name(code: str, labels: Mapping[str, str]) -> str:
    long = labels.get(code)
    return (f"{long} ({code})" if long and long != code and len(long) <= AXIS_LABEL_CHARS
            else code)


def moderated_paths(mod: Mapping[str, Any] | None) -> list[tuple[str, str, str]]:
    """(outcome, focal, moderator) of each interaction with an interaction plot."""
    seen = []
    for r in (mod or {}).get("lines") or []:
        t = (r["lhs"], r["focal"], r["moderator"])
        if t not in seen:
            seen.append(t)
    return seen


def prepare_interaction(mod: Mapping[str, Any], path: tuple[str, str, str],
                        labels: Mapping[str, str] | None = None) -> InteractionChart:
    """The interaction plot of ``path`` = (outcome, focal, moderator): one line per
    probed moderator value (-1 SD, mean, +1 SD) or category, in results order."""
    labels = labels or {}
    lhs, focal, moderator = path
    lines: dict[str, tuple[list, list]] = {}
    rows = _rows(mod, "lines", path)
    for r in rows:
        at = str(r["at"])
        label = (f"{moderator} {at} ({format_number(r['value'], 2)})"
                 if is_number(r.get("value")) else f"{moderator}: {at}")
        xs, ys = lines.setdefault(label, ([], []))
        xs.append(float(r["focal_value"]))
        ys.append(float(r["predicted"]))
    note = (f"Predicted {lhs} at {focal}'s mean and ±1 SD, for each "
            + ("probed value" if any(is_number(r.get("value")) for r in rows) else "category")
            + f" of {moderator}; other predictors at their means. Composite scores.")
    return InteractionChart(tuple((k, tuple(x), tuple(y)) for k, (x, y) in lines.items()),
                            _name(focal, labels), f"Predicted {_name(lhs, labels)}", note)


def prepare_jn(mod: Mapping[str, Any], path: tuple[str, str, str],
               labels: Mapping[str, str] | None = None) -> JNChart | None:
    """The Johnson-Neyman plot of ``path``; None for a categorical moderator."""
    labels = labels or {}
    lhs, focal, moderator = path
    rows = sorted(_rows(mod, "curves", path), key=lambda r: r["value"])
    if not rows:
        return None
    pts = tuple(float(r["value"]) for r in _rows(mod, "johnson_neyman", path) if r.get("in_range"))
    note = (f"Conditional effect (simple slope) of {focal} on {lhs} across the observed range "
            f"of {moderator}, with its 95% confidence band; "
            + (f"Johnson–Neyman points (where significance at .05 changes) at "
               f"{', '.join(format_number(p, 2) for p in pts)}." if pts
               else "no Johnson–Neyman point within the observed range."))
    return JNChart(tuple(r["value"] for r in rows), tuple(r["est"] for r in rows),
                   tuple(r["ci.lower"] for r in rows), tuple(r["ci.upper"] for r in rows),
                   pts, _name(moderator, labels),
                   f"Slope of {focal} on {lhs} (b)", note)


def _layout(fig, x_title: str, y_title: str) -> None:
    fig.update_layout(
        height=380, margin=dict(l=10, r=10, t=30, b=50), plot_bgcolor="white",
        paper_bgcolor="white",
        font=dict(family=FONT_FAMILY + ", Arial, Helvetica, sans-serif", size=12, color=INK),
        xaxis=dict(title=x_title, gridcolor="#eeeeee", zeroline=False),
        yaxis=dict(title=y_title, gridcolor="#eeeeee", zeroline=False),
        legend=dict(orientation="h", x=0.5, xanchor="center", y=1.0, yanchor="bottom"))


def interaction_figure(chart: InteractionChart):
    """The interaction plot as a plotly figure (a line per moderator value)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for i, (label, xs, ys) in enumerate(chart.lines):
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=label,
                                 line=dict(color=COLOURS[i % 6], dash=DASHES[i % 6], width=2),
                                 hovertemplate=f"{label}<br>x = %{{x:.2f}}<br>predicted = "
                                               "%{y:.2f}<extra></extra>"))
    _layout(fig, chart.x_title, chart.y_title)
    return fig


def jn_figure(chart: JNChart):
    """The Johnson-Neyman plot as a plotly figure: slope, CI band, zero line, JN points."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_trace(go.Scatter(x=chart.values + chart.values[::-1],
                             y=chart.upper + chart.lower[::-1], fill="toself", fillcolor=BAND,
                             line=dict(width=0), opacity=0.6, name="95% CI", hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=chart.values, y=chart.est, mode="lines", name="slope",
                             line=dict(color=COLOURS[0], width=2),
                             hovertemplate="moderator = %{x:.2f}<br>slope = %{y:.3f}"
                                           "<extra></extra>"))
    fig.add_hline(y=0, line=dict(color="#555555", width=1))
    for p in chart.jn_points:
        fig.add_vline(x=p, line=dict(color=COLOURS[2], width=1, dash="dash"),
                      annotation_text=f"JN {format_number(p, 2)}")
    _layout(fig, chart.x_title, chart.y_title)
    return fig


def _canvas(fmt: str, dpi: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.6, 3.4), dpi=dpi)
    (FigureCanvasSVG if fmt == "svg" else FigureCanvasAgg)(fig)
    ax = fig.add_axes((0.12, 0.22, 0.84, 0.70))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=7)
    ax.grid(color="#eeeeee", linewidth=0.6)
    ax.set_axisbelow(True)
    return fig, ax


def _finish(fig, ax, x_title: str, y_title: str, note: str, fmt: str, dpi: float) -> bytes:
    font = dict(family=FONT_FAMILY)
    ax.set_xlabel(x_title, fontsize=7.5, **font)
    ax.set_ylabel(y_title, fontsize=7.5, **font)
    ax.legend(frameon=False, prop=dict(family=FONT_FAMILY, size=6.5), loc="best")
    fig.text(0.02, 0.02, "Note. " + note, fontsize=6, color="#555555", ha="left",
             va="bottom", wrap=True, **font)
    return figure_bytes(fig, fmt, dpi)


def interaction_image(chart: InteractionChart, fmt: str = "svg", dpi: float = 200) -> bytes:
    """The interaction plot as SVG (1 unit = 1 point) or PNG bytes."""
    dpi = 72 if fmt == "svg" else dpi
    fig, ax = _canvas(fmt, dpi)
    for i, (label, xs, ys) in enumerate(chart.lines):
        ax.plot(xs, ys, color=COLOURS[i % 6], linestyle=MPL_DASHES[DASHES[i % 6]],
                marker="o", markersize=3, linewidth=1.4, label=label)
    return _finish(fig, ax, chart.x_title, chart.y_title, chart.note, fmt, dpi)


def jn_image(chart: JNChart, fmt: str = "svg", dpi: float = 200) -> bytes:
    """The Johnson-Neyman plot as SVG (1 unit = 1 point) or PNG bytes."""
    dpi = 72 if fmt == "svg" else dpi
    fig, ax = _canvas(fmt, dpi)
    ax.fill_between(chart.values, chart.lower, chart.upper, color=BAND, alpha=0.6,
                    linewidth=0, label="95% CI")
    ax.plot(chart.values, chart.est, color=COLOURS[0], linewidth=1.4, label="slope")
    ax.axhline(0, color="#555555", linewidth=0.8)
    for p in chart.jn_points:
        ax.axvline(p, color=COLOURS[2], linewidth=0.9, linestyle="--")
        ax.annotate(f"JN {format_number(p, 2)}", (p, 1), xycoords=("data", "axes fraction"),
                    fontsize=6.5, color=COLOURS[2], ha="left", va="top",
                    xytext=(2, -2), textcoords="offset points", family=FONT_FAMILY)
    return _finish(fig, ax, chart.x_title, chart.y_title, chart.note, fmt, dpi)
