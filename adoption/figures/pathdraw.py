"""Drawing a prepared path diagram: plotly shapes and annotations, or matplotlib
patches saved as SVG or PNG. Both renderers draw the same
:class:`PreparedDiagram` (a :class:`~adoption.figures.diagram.DiagramLayout` and the style
of each arrow), so the web figure and the report's image show the same boxes in the same
places. Nothing here decides what is drawn: :mod:`adoption.figures.pathdiagram` does.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

from adoption.figures.diagram import DiagramLayout, Edge
from adoption.figures.geometry import LINE_SPACING, text_size
from adoption.figures.save import figure_bytes

__all__ = ["EdgeStyle", "PreparedDiagram", "draw_plotly", "draw_matplotlib", "NODE_FILL",
           "ITEM_FILL", "INK", "FONT_FAMILY", "PX_PER_INCH", "NOTE_SIZE"]

NODE_FILL = "#eef3f8"


ITEM_FILL = "#ffffff"


INK = "#222222"


FONT_FAMILY = "DejaVu Sans"


PX_PER_INCH = 96.0


NOTE_SIZE = 7.5  # points


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


def draw_plotly(prep: PreparedDiagram):
    """The plotly figure of a prepared diagram (see
    :func:`adoption.figures.pathdiagram.path_figure`)."""
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


def draw_matplotlib(prep: PreparedDiagram, fmt: str, dpi: float) -> bytes:
    """The SVG (``fmt="svg"``) or PNG bytes of a prepared diagram, drawn with matplotlib."""
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
