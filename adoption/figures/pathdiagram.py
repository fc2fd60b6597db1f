"""Path diagrams of a fitted structural model: interactive (plotly) and static (SVG, PNG).

All three drawings come from one :class:`~adoption.figures.layout.DiagramLayout`, so the
web figure and the image in the report show the same boxes in the same places:

* :func:`path_figure` -> ``plotly.graph_objects.Figure`` (hover on every arrow gives
  b, beta, SE, z, p and the 95% CI; shapes have no hover, so an invisible marker sits
  on each arrow's label);
* :func:`path_svg`, :func:`path_png` -> bytes, drawn with matplotlib's Agg and SVG
  backends (no browser, no network, no kaleido).

Input is the project's vocabulary (lavaan's ``parameterEstimates()`` columns):
regressions are rows with ``op == "~"`` (``lhs`` the outcome, ``rhs`` the predictor),
covariances ``"~~"`` and loadings ``"=~"``. Numbers are formatted here, when drawn,
in APA style by :mod:`adoption.format`: no leading zero for quantities bounded by 1
(beta, r, R², p), ``p < .001``.
"""

from __future__ import annotations

import html
import math
import textwrap
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from adoption.format import format_bounded, format_number, format_p, stars
from adoption.figures.save import figure_bytes
from adoption.figures.layout import (
    LINE_SPACING,
    DiagramLayout,
    Edge,
    EdgeSpec,
    layout_diagram,
    text_size,
)
from adoption.vocabulary import OP_COVARIANCE, OP_LOADING, OP_REGRESSION

__all__ = [
    "EdgeStyle",
    "PreparedDiagram",
    "prepare_path_diagram",
    "path_figure",
    "path_svg",
    "path_png",
    "format_bounded",
    "format_number",
    "format_p",
    "stars",
]

POSITIVE = "#1f4e79"
NEGATIVE = "#b2182b"
COV_POSITIVE = "#6f8296"
COV_NEGATIVE = "#c77b84"
NODE_FILL = "#eef3f8"
ITEM_FILL = "#ffffff"
INK = "#222222"
FONT_FAMILY = "DejaVu Sans"
PX_PER_INCH = 96.0
NOTE_SIZE = 7.5  # points
_REQUIRED = ("lhs", "op", "rhs", "est", "se", "pvalue", "std.all")


# --------------------------------------------------------------------------- preparation
@dataclass(frozen=True)
class EdgeStyle:
    """How one arrow is drawn: colour, width in points, dash, heads and hover text."""

    color: str
    width: float
    dashed: bool
    heads: int
    hover: str


@dataclass(frozen=True)
class PreparedDiagram:
    """A layout plus the style of each of its edges (same order) and the figure note."""

    layout: DiagramLayout
    styles: tuple[EdgeStyle, ...]
    note: str
    node_hover: tuple[str, ...]
    draw_note: bool = True

    @property
    def note_lines(self) -> tuple[str, ...]:
        """The note, "Note." first, wrapped to the drawing's width (none when the note
        is not drawn: a caption carries it)."""
        if not self.draw_note:
            return ()
        return _wrap_to_width("Note. " + self.note, self.layout.width - 0.3, NOTE_SIZE)

    @property
    def note_height(self) -> float:
        """Height in inches of the strip under the diagram that holds the note."""
        if not self.draw_note:
            return 0.0
        return 0.2 + text_size(self.note_lines, NOTE_SIZE)[1]


def _wrap_to_width(text: str, width: float, size_pt: float) -> tuple[str, ...]:
    lines: list[str] = []
    for word in text.split():
        if lines and text_size([lines[-1] + " " + word], size_pt)[0] <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return tuple(lines)


def _check_table(paths: pd.DataFrame, name: str) -> None:
    if not isinstance(paths, pd.DataFrame):
        raise TypeError(f"{name} must be a pandas DataFrame of parameter estimates")
    missing = [c for c in _REQUIRED if c not in paths.columns]
    if missing:
        raise ValueError(f"{name} lacks the column(s) {missing}; expected lavaan's "
                         f"parameterEstimates() columns {list(_REQUIRED)}")
    drawn = paths[paths["op"].isin([OP_REGRESSION, OP_COVARIANCE, OP_LOADING])]
    dup = drawn[drawn.duplicated(["lhs", "op", "rhs"], keep=False)]
    if not dup.empty:
        lhs, op, rhs = dup.iloc[0][["lhs", "op", "rhs"]]
        n = int(((dup["lhs"] == lhs) & (dup["op"] == op) & (dup["rhs"] == rhs)).sum())
        raise ValueError(
            f"{name} has {n} rows for {lhs} {op} {rhs}; draw one model at a time "
            "(for a multi-group fit, keep one group's rows, e.g. paths[paths['group'] == 1])")


def _wrap(label: str, width: int = 18) -> list[str]:
    return textwrap.wrap(label, width=width, break_on_hyphens=True) or [label]


def _hover(row: pd.Series, arrow: str) -> str:
    lo, hi = row.get("ci.lower", np.nan), row.get("ci.upper", np.nan)
    z = row.get("z", np.nan)
    lines = [
        f"<b>{html.escape(arrow)}</b>",
        f"b = {format_number(row['est'], 3)}, SE = {format_number(row['se'], 3)}",
        f"β = {format_bounded(row['std.all'], 3)}",
        f"z = {format_number(z, 2)}, {format_p(row['pvalue'])}",
        f"95% CI [{format_number(lo, 3)}, {format_number(hi, 3)}]",
    ]
    return "<br>".join(lines)


def prepare_path_diagram(
    paths: pd.DataFrame,
    r2: Mapping[str, float] | None = None,
    labels: Mapping[str, str] | None = None,
    *,
    standardized: bool = True,
    hide_nonsignificant: bool = False,
    alpha: float = 0.05,
    show_items: bool = False,
    loadings: pd.DataFrame | None = None,
    show_covariances: bool = False,
    draw_note: bool = True,
) -> PreparedDiagram:
    """Lay out the diagram and decide how every arrow looks (shared by all renderers).

    Parameters are those of :func:`path_figure`.

    Returns
    -------
    PreparedDiagram
        ``layout`` (a :class:`~adoption.figures.layout.DiagramLayout` whose edges carry
        ``("paths" or "loadings", row index)`` of their estimate in ``key``), one
        :class:`EdgeStyle` per edge,
        the note printed under the figure and one hover text per node.
    """
    _check_table(paths, "paths")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    r2 = dict(r2 or {})
    labels = dict(labels or {})
    coef_col = "std.all" if standardized else "est"
    regs = paths[paths["op"] == OP_REGRESSION]
    if regs.empty:
        raise ValueError("paths has no regression rows (op '~'); nothing to draw")
    exog = set(regs["rhs"]) - set(regs["lhs"])

    def significant(row: pd.Series) -> bool:
        return bool(np.isfinite(row["pvalue"]) and row["pvalue"] < alpha)

    specs: list[EdgeSpec] = []
    rows: list[pd.Series] = []
    structure = [(r.rhs, r.lhs) for r in regs.itertuples()]
    for idx, row in regs.iterrows():
        if hide_nonsignificant and not significant(row):
            continue
        coef = row[coef_col]
        text = (format_bounded(coef) if standardized else format_number(coef)) + stars(row["pvalue"])
        specs.append(EdgeSpec(row["rhs"], row["lhs"], "regression", text, ("paths", idx)))
        rows.append(row)
    if show_covariances:
        covs = paths[(paths["op"] == OP_COVARIANCE) & (paths["lhs"] != paths["rhs"])]
        for idx, row in covs.iterrows():
            if row["lhs"] not in exog or row["rhs"] not in exog:
                continue  # only correlations among exogenous variables are drawn
            if hide_nonsignificant and not significant(row):
                continue
            coef = row[coef_col]
            text = (format_bounded(coef) if standardized else format_number(coef)) + stars(row["pvalue"])
            specs.append(EdgeSpec(row["lhs"], row["rhs"], "covariance", text, ("paths", idx)))
            rows.append(row)
    node_lines: dict[str, list[str]] = {}
    if show_items:
        source = "loadings" if loadings is not None else "paths"
        load = loadings if loadings is not None else paths
        _check_table(load, source)
        load = load[load["op"] == OP_LOADING]
        drawn = set(regs["lhs"]) | set(regs["rhs"])
        for idx, row in load.iterrows():
            if row["lhs"] not in drawn:
                continue
            coef = row[coef_col]
            text = format_bounded(coef) if standardized else format_number(coef)
            specs.append(EdgeSpec(row["lhs"], row["rhs"], "loading", text, (source, idx)))
            rows.append(row)
            node_lines[row["rhs"]] = [str(row["rhs"])]
    for v in sorted(set(regs["lhs"]) | set(regs["rhs"])):
        lines = _wrap(labels.get(v, v))
        if v in r2 and np.isfinite(r2[v]):
            lines.append(f"R² = {format_bounded(r2[v])}")
        node_lines[v] = lines

    layout = layout_diagram(specs, node_lines, structure=structure)
    if not layout.complete:
        warnings.warn("path diagram: some labels or arrows could not be placed without "
                      "overlap; the best attempt is drawn", RuntimeWarning, stacklevel=2)

    by_key = {spec.key: row for spec, row in zip(specs, rows)}
    coefs = [abs(by_key[e.key][coef_col]) for e in layout.edges if e.kind != "loading"]
    scale = max([c for c in coefs if np.isfinite(c)], default=1.0) or 1.0
    styles = []
    for e in layout.edges:
        row = by_key[e.key]
        coef = row[coef_col]
        c = abs(coef) if np.isfinite(coef) else 0.0
        if e.kind == "loading":
            width = 0.9
        elif e.kind == "covariance":
            width = 0.5 + 0.8 * min(c if standardized else c / scale, 1.0)
        else:
            rel = c if standardized else c / scale
            width = 0.7 + 3.0 * min(rel, 1.0)
        arrow = {"regression": f"{e.source} → {e.target}",
                 "covariance": f"{e.source} ↔ {e.target}",
                 "loading": f"{e.source} → {e.target} (loading)"}[e.kind]
        styles.append(EdgeStyle(
            color=(NEGATIVE if coef < 0 else POSITIVE) if e.kind != "covariance"
            else (COV_NEGATIVE if coef < 0 else COV_POSITIVE),
            width=width,
            dashed=not significant(row) if e.kind != "loading" or np.isfinite(row["pvalue"]) else False,
            heads=2 if e.kind == "covariance" else 1,
            hover=_hover(row, arrow),
        ))
    what = "Standardised coefficients (β)" if standardized else "Unstandardised coefficients (b)"
    note = (f"{what}; * p < .05, ** p < .01, *** p < .001. "
            f"Dashed: p ≥ {format_bounded(alpha)}. Blue positive, red negative; "
            "width ∝ |coefficient|.")
    if hide_nonsignificant:
        note += f" Paths with p ≥ {format_bounded(alpha)} hidden."
    if not show_covariances and len(exog) > 1:
        note += " Correlations among exogenous variables not shown."
    node_hover = []
    for n in layout.nodes:
        text = f"<b>{html.escape(n.name)}</b>"
        if n.name in labels:
            text += f"<br>{html.escape(labels[n.name])}"
        if n.name in r2 and np.isfinite(r2[n.name]):
            text += f"<br>R² = {format_bounded(r2[n.name], 3)}"
        node_hover.append(text)
    return PreparedDiagram(layout, tuple(styles), note, tuple(node_hover), draw_note)


# --------------------------------------------------------------------------- arrowheads
def _head_size(width_pt: float) -> tuple[float, float]:
    """Length and half-width (inches) of an arrowhead for a line ``width_pt`` wide."""
    return 0.09 + 0.008 * width_pt, 0.036 + 0.006 * width_pt


def _trim_and_heads(edge: Edge, style: EdgeStyle):
    """The line's points shortened under its head(s), and the head triangles."""
    pts = [tuple(p) for p in edge.points]
    length, half = _head_size(style.width)
    heads = []

    def head_at(tip, prev):
        dx, dy = tip[0] - prev[0], tip[1] - prev[1]
        d = math.hypot(dx, dy) or 1.0
        ux, uy = dx / d, dy / d
        base = (tip[0] - ux * length, tip[1] - uy * length)
        tri = (tip, (base[0] - uy * half, base[1] + ux * half),
               (base[0] + uy * half, base[1] - ux * half))
        return tri, (tip[0] - ux * length * 0.8, tip[1] - uy * length * 0.8)

    def ref_point(seq, tip):
        # the first point at least one head length away, so curves get the right angle
        for p in seq:
            if math.dist(p, tip) >= length:
                return p
        return seq[-1]

    tri, new_end = head_at(pts[-1], ref_point(pts[-2::-1], pts[-1]))
    heads.append(tri)
    pts[-1] = new_end
    if style.heads == 2:
        tri, new_start = head_at(pts[0], ref_point(pts[1:], pts[0]))
        heads.append(tri)
        pts[0] = new_start
    return pts, heads


# --------------------------------------------------------------------------- plotly
def path_figure(
    paths: pd.DataFrame,
    r2: Mapping[str, float] | None = None,
    labels: Mapping[str, str] | None = None,
    *,
    standardized: bool = True,
    hide_nonsignificant: bool = False,
    alpha: float = 0.05,
    show_items: bool = False,
    loadings: pd.DataFrame | None = None,
    show_covariances: bool = False,
    draw_note: bool = True,
):
    """An interactive path diagram of a fitted structural model.

    Parameters
    ----------
    paths : DataFrame
        Parameter estimates with lavaan's columns ``lhs, op, rhs, est, se, z, pvalue,
        ci.lower, ci.upper, std.all``. Rows with ``op == "~"`` are drawn as arrows
        from ``rhs`` to ``lhs``; ``"~~"`` rows between two exogenous variables are drawn
        as two-headed arcs when ``show_covariances``; ``"=~"`` rows are used as loadings
        when ``show_items`` and ``loadings`` is None. Other rows are ignored.
    r2 : mapping of str to float, optional
        R-squared of each endogenous variable, printed inside its box.
    labels : mapping of str to str, optional
        Long names (``{"HAB": "Habit"}``); the code is shown when absent.
    standardized : bool, default True
        Label arrows with ``std.all`` (beta) rather than ``est`` (b).
    hide_nonsignificant : bool, default False
        Leave out arrows with ``pvalue >= alpha`` (variables keep their columns).
    alpha : float, default 0.05
        Significance level for dashing (and hiding) arrows. Stars always use
        .05 / .01 / .001.
    show_items : bool, default False
        Draw each factor's items as small boxes outside it (left of exogenous
        factors, right of outcomes, above or below mediators) with their loadings.
    loadings : DataFrame, optional
        ``"=~"`` rows to use for the items (default: those in ``paths``).
    show_covariances : bool, default False
        Draw correlations among exogenous variables as arcs left of their column.
    draw_note : bool, default True
        Print the note (what widths, dashes and stars mean) under the diagram; False
        where a caption carries it (the report), so the note is not shown twice.

    Returns
    -------
    plotly.graph_objects.Figure
        Boxes, arrows and labels as layout shapes and annotations in inch coordinates
        (96 px per inch), one invisible hover marker per arrow and per box.

    Notes
    -----
    Arrow width grows with |coefficient|; dashed arrows are not significant at
    ``alpha``; blue is positive, red negative. The same geometry is drawn by
    :func:`path_svg` and :func:`path_png`.

    Examples
    --------
    >>> import pandas as pd
    >>> pe = pd.DataFrame({"lhs": ["Y"], "op": ["~"], "rhs": ["X"], "est": [0.5],
    ...     "se": [0.1], "z": [5.0], "pvalue": [1e-6], "ci.lower": [0.3],
    ...     "ci.upper": [0.7], "std.all": [0.45]})
    >>> fig = path_figure(pe, {"Y": 0.2})
    """
    prep = prepare_path_diagram(paths, r2, labels, standardized=standardized,
                                hide_nonsignificant=hide_nonsignificant, alpha=alpha,
                                show_items=show_items, loadings=loadings,
                                show_covariances=show_covariances, draw_note=draw_note)
    return _draw_plotly(prep)


def _draw_plotly(prep: PreparedDiagram):
    """The plotly figure of a prepared diagram (see :func:`path_figure`)."""
    import plotly.graph_objects as go

    lay = prep.layout
    W, H = lay.width, lay.height + prep.note_height
    px = PX_PER_INCH / 72.0  # points -> px
    shapes, annotations = [], []

    def path_d(points, close=False):
        d = "M " + " L ".join(f"{x:.4f},{y:.4f}" for x, y in points)
        return d + (" Z" if close else "")

    for e, s in zip(lay.edges, prep.styles):
        pts, heads = _trim_and_heads(e, s)
        shapes.append(dict(type="path", path=path_d(pts), layer="below",
                           line=dict(color=s.color, width=s.width * px,
                                     dash="dash" if s.dashed else "solid")))
        for tri in heads:
            shapes.append(dict(type="path", path=path_d(tri, close=True), layer="below",
                               fillcolor=s.color, line=dict(color=s.color, width=0.5)))
    for n in lay.nodes:
        b = n.box
        item = n.kind == "item"
        shapes.append(dict(type="rect", x0=b.left, x1=b.right, y0=b.top, y1=b.bottom,
                           layer="below",
                           fillcolor=ITEM_FILL if item else NODE_FILL,
                           line=dict(color=INK, width=(0.8 if item else 1.2) * px)))
        annotations.append(dict(x=b.x, y=b.y, xref="x", yref="y", showarrow=False,
                                text="<br>".join(html.escape(t) for t in n.lines),
                                font=dict(family=FONT_FAMILY + ", Arial, Helvetica, sans-serif",
                                          size=n.font_size * px, color=INK)))
    for e, s in zip(lay.edges, prep.styles):
        if e.label_box is None:
            continue
        b = e.label_box
        size = e.label_font_size
        shapes.append(dict(type="rect", x0=b.left, x1=b.right, y0=b.top, y1=b.bottom,
                           fillcolor="white", line=dict(width=0), layer="below"))
        annotations.append(dict(x=b.x, y=b.y, xref="x", yref="y", showarrow=False,
                                text=html.escape(e.label), font=dict(family=FONT_FAMILY + ", Arial, Helvetica, sans-serif",
                                                        size=size * px, color=s.color)))
    if prep.note_lines:
        note = "<br>".join(html.escape(t) for t in prep.note_lines).replace("Note.", "<i>Note.</i>", 1)
        annotations.append(dict(x=0.15, y=lay.height + prep.note_height / 2, xref="x", yref="y",
                                xanchor="left", align="left", showarrow=False, text=note,
                                font=dict(family=FONT_FAMILY + ", Arial, Helvetica, sans-serif",
                                          size=NOTE_SIZE * px, color="#555555")))
    hx, hy, ht = [], [], []
    for e, s in zip(lay.edges, prep.styles):
        if e.label_box is not None:
            x, y = e.label_box.x, e.label_box.y
        else:
            mid = e.points[len(e.points) // 2]
            x, y = mid
        hx.append(x)
        hy.append(y)
        ht.append(s.hover)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=hx, y=hy, mode="markers", hovertext=ht, hoverinfo="text",
                             marker=dict(size=18, opacity=0), showlegend=False, name="paths"))
    fig.add_trace(go.Scatter(x=[n.box.x for n in lay.nodes], y=[n.box.y for n in lay.nodes],
                             mode="markers", hovertext=list(prep.node_hover), hoverinfo="text",
                             marker=dict(size=24, opacity=0), showlegend=False, name="variables"))
    fig.update_layout(
        shapes=shapes, annotations=annotations,
        width=int(round(W * PX_PER_INCH)), height=int(round(H * PX_PER_INCH)),
        margin=dict(l=0, r=0, t=0, b=0), plot_bgcolor="white", paper_bgcolor="white",
        hoverlabel=dict(bgcolor="white", font=dict(family=FONT_FAMILY + ", Arial, Helvetica, sans-serif")),
        xaxis=dict(range=[0, W], visible=False, fixedrange=False),
        yaxis=dict(range=[H, 0], visible=False, scaleanchor="x", scaleratio=1),
        dragmode="pan",
    )
    return fig


# --------------------------------------------------------------------------- matplotlib
def _draw_matplotlib(prep: PreparedDiagram, fmt: str, dpi: float) -> bytes:
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch, Polygon, Rectangle

    lay = prep.layout
    W, H = lay.width, lay.height + prep.note_height
    fig = Figure(figsize=(W, H), dpi=dpi)
    if fmt == "svg":
        from matplotlib.backends.backend_svg import FigureCanvasSVG as Canvas
    else:
        from matplotlib.backends.backend_agg import FigureCanvasAgg as Canvas
    Canvas(fig)     # attaches itself as fig.canvas
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, W)
    ax.set_ylim(H, 0)
    ax.set_axis_off()
    font = dict(family=FONT_FAMILY)

    for e, s in zip(lay.edges, prep.styles):
        pts, heads = _trim_and_heads(e, s)
        xs, ys = zip(*pts)
        ax.plot(xs, ys, color=s.color, linewidth=s.width, solid_capstyle="butt",
                linestyle=(0, (4, 2.5)) if s.dashed else "solid", zorder=1)
        for tri in heads:
            ax.add_patch(Polygon(tri, closed=True, facecolor=s.color, edgecolor=s.color,
                                 linewidth=0.4, zorder=2))
    for n in lay.nodes:
        b = n.box
        if n.kind == "item":
            patch = Rectangle((b.left, b.top), b.w, b.h, facecolor=ITEM_FILL, edgecolor=INK,
                              linewidth=0.8, zorder=3)
        else:
            patch = FancyBboxPatch((b.left, b.top), b.w, b.h,
                                   boxstyle="round,pad=0,rounding_size=0.07",
                                   facecolor=NODE_FILL, edgecolor=INK, linewidth=1.2, zorder=3)
        ax.add_patch(patch)
        ax.text(b.x, b.y, "\n".join(n.lines), ha="center", va="center", fontsize=n.font_size,
                linespacing=LINE_SPACING, color=INK, zorder=4, **font)
    for e, s in zip(lay.edges, prep.styles):
        if e.label_box is None:
            continue
        b = e.label_box
        ax.add_patch(Rectangle((b.left, b.top), b.w, b.h, facecolor="white", edgecolor="none",
                               zorder=5))
        size = e.label_font_size
        ax.text(b.x, b.y, e.label, ha="center", va="center_baseline", fontsize=size,
                color=s.color, zorder=6, **font)
    if prep.note_lines:
        ax.text(0.15, lay.height + prep.note_height / 2, "\n".join(prep.note_lines), ha="left",
                va="center", fontsize=NOTE_SIZE, linespacing=LINE_SPACING, color="#555555",
                zorder=6, **font)
    return figure_bytes(fig, fmt, dpi)


def path_svg(paths: pd.DataFrame, r2: Mapping[str, float] | None = None,
             labels: Mapping[str, str] | None = None, **options) -> bytes:
    """The path diagram of :func:`path_figure` as SVG bytes (matplotlib, no browser).

    Takes the same arguments as :func:`path_figure`. Text is written as SVG ``<text>``
    (``svg.fonttype = "none"``), so labels can be edited in Inkscape or Illustrator;
    1 SVG unit is 1 point.
    """
    prep = prepare_path_diagram(paths, r2, labels, **options)
    return _draw_matplotlib(prep, "svg", dpi=72)


def path_png(paths: pd.DataFrame, r2: Mapping[str, float] | None = None,
             labels: Mapping[str, str] | None = None, *, dpi: float = 200, **options) -> bytes:
    """The path diagram of :func:`path_figure` as PNG bytes (matplotlib Agg, no browser).

    Takes the same arguments as :func:`path_figure`, plus ``dpi`` (default 200).
    """
    prep = prepare_path_diagram(paths, r2, labels, **options)
    return _draw_matplotlib(prep, "png", dpi=dpi)


def path_drawings(paths: pd.DataFrame, r2: Mapping[str, float] | None = None,
                  labels: Mapping[str, str] | None = None, *, dpi: float = 200,
                  **options) -> tuple:
    """One diagram laid out once and drawn three ways, with its note.

    Takes the arguments of :func:`path_figure` (and ``dpi`` of the PNG). Returns
    ``(plotly figure, SVG bytes, PNG bytes, note)``: with ``draw_note=False`` the note
    is returned for a caption instead of being printed in the images.
    """
    prep = prepare_path_diagram(paths, r2, labels, **options)
    return (_draw_plotly(prep), _draw_matplotlib(prep, "svg", dpi=72),
            _draw_matplotlib(prep, "png", dpi=dpi), prep.note)
