"""Heat maps of the heterotrait-monotrait ratios (HTMT): interactive (plotly) and static.

The lower triangle of the HTMT matrix, each cell coloured by its value and printed in APA
style; cells at or above the strict cut-off (.85) carry a dagger, at or above the lenient
one (.90) a double dagger, as in the report's HTMT table (Henseler, Ringle & Sarstedt,
2015).

Input is ``results["validity"]["htmt"]`` (``{construct: {construct: ratio}}``) or the
run's ``tables/htmt.csv`` read with its first column as the index.

* :func:`prepare_htmt` -> :class:`HtmtGrid`;
* :func:`htmt_figure` -> ``plotly.graph_objects.Figure``;
* :func:`htmt_svg`, :func:`htmt_png` -> bytes, drawn with matplotlib (no browser).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from adoption.cutoffs import CUTOFFS, judge
from adoption.format import format_bounded, is_number
from adoption.figures.save import figure_bytes

__all__ = ["HtmtGrid", "prepare_htmt", "htmt_figure", "htmt_svg", "htmt_png"]

FONT_FAMILY = "DejaVu Sans"
INK = "#222222"
# light to dark blue; the top is kept for values at or above the lenient cut-off
_SCALE = [(0.0, "#f7fbff"), (0.5, "#9ecae1"), (0.85, "#3182bd"), (0.9, "#b2182b"), (1.0, "#67000d")]
NOTE = ("HTMT ratios, lower triangle. † at or above .85 (strict cut-off); ‡ at or above .90 "
        "(lenient cut-off; discriminant validity in doubt). Henseler, Ringle & Sarstedt (2015).")


@dataclass(frozen=True)
class HtmtGrid:
    names: tuple[str, ...]
    values: np.ndarray          # lower triangle; NaN elsewhere
    text: tuple[tuple[str, ...], ...]


def prepare_htmt(matrix: Mapping[str, Mapping[str, float]] | pd.DataFrame) -> HtmtGrid:
    """The lower triangle of the HTMT matrix with the text of each cell.

    Parameters
    ----------
    matrix : mapping or DataFrame
        ``{row: {column: ratio}}`` or a square DataFrame indexed by construct.
    """
    df = pd.DataFrame(matrix) if not isinstance(matrix, pd.DataFrame) else matrix
    names = [str(n) for n in df.index]
    df = df.reindex(index=names, columns=names)
    if not names:
        raise ValueError("the HTMT matrix is empty; nothing to draw")
    k = len(names)
    values = np.full((k, k), np.nan)
    text = []
    for i, a in enumerate(names):
        row = []
        for j, b in enumerate(names):
            v = df.loc[a, b]
            if j < i and is_number(v):
                values[i, j] = float(v)
                mark = judge("htmt", float(v))
                row.append(format_bounded(v) + {"acceptable": "†", "poor": "‡"}.get(mark, ""))
            else:
                row.append("")
        text.append(tuple(row))
    return HtmtGrid(tuple(names), values, tuple(text))


def htmt_figure(matrix, labels: Mapping[str, str] | None = None):
    """An interactive HTMT heat map (hover a cell for the pair and its ratio)."""
    import plotly.graph_objects as go

    g = prepare_htmt(matrix)
    labels = dict(labels or {})
    hover = [[(f"<b>{html.escape(a)} – {html.escape(b)}</b><br>HTMT = {g.text[i][j]}"
               + (f"<br>{html.escape(labels.get(a, a))} / {html.escape(labels.get(b, b))}"
                  if labels else "")) if g.text[i][j] else ""
              for j, b in enumerate(g.names)] for i, a in enumerate(g.names)]
    # the first row and the last column of a lower triangle are empty: leave them out
    z = np.where(np.isnan(g.values), None, np.clip(g.values, 0, 1))[1:, :-1].tolist()
    hover = [r[:-1] for r in hover[1:]]
    fig = go.Figure(go.Heatmap(
        z=z, x=list(g.names[:-1]), y=list(g.names[1:]), zmin=0, zmax=1,
        colorscale=[[p, c] for p, c in _SCALE], text=[list(r[:-1]) for r in g.text[1:]],
        texttemplate="%{text}", textfont=dict(size=11), hovertext=hover, hoverinfo="text",
        colorbar=dict(title="HTMT", tickvals=[0, 0.25, 0.5, 0.75, 0.85, 0.9, 1],
                      ticktext=["0", ".25", ".50", ".75", ".85", ".90", "1"]),
        xgap=1, ygap=1))
    size = 160 + 44 * len(g.names)
    fig.update_layout(
        width=size + 120, height=size, margin=dict(l=10, r=10, t=20, b=10),
        plot_bgcolor="white", paper_bgcolor="white",
        font=dict(family=FONT_FAMILY + ", Arial, Helvetica, sans-serif", size=12, color=INK),
        xaxis=dict(side="bottom", showgrid=False), yaxis=dict(autorange="reversed", showgrid=False))
    return fig


def _draw(g: HtmtGrid, fmt: str, dpi: float) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.colors import LinearSegmentedColormap
    from matplotlib.figure import Figure

    k = len(g.names) - 1  # rows 2..k+1 and columns 1..k of the lower triangle
    side = 1.2 + 0.36 * k
    fig = Figure(figsize=(side + 1.0, side + 0.6), dpi=dpi)
    (FigureCanvasSVG if fmt == "svg" else FigureCanvasAgg)(fig)
    ax = fig.add_axes((0.5 / (side + 1.0), 0.9 / (side + 0.6), (side - 0.6) / (side + 1.0),
                       (side - 0.6) / (side + 0.6)))
    cmap = LinearSegmentedColormap.from_list("htmt", _SCALE).with_extremes(bad="white")
    vals = g.values[1:, :-1]
    im = ax.imshow(np.ma.masked_invalid(np.clip(vals, 0, 1)), cmap=cmap, vmin=0, vmax=1)
    font = dict(family=FONT_FAMILY)
    for i in range(k):
        for j in range(k):
            if g.text[i + 1][j]:
                v = vals[i, j]
                ax.text(j, i, g.text[i + 1][j], ha="center", va="center", fontsize=6.5,
                        color="white" if v >= 0.7 else INK, **font)
    ax.set_xticks(range(k), g.names[:-1], fontsize=7, rotation=90, **font)
    ax.set_yticks(range(k), g.names[1:], fontsize=7, **font)
    for s in ax.spines.values():
        s.set_visible(False)
    ax.tick_params(length=0)
    cb = fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02)
    cb.ax.tick_params(labelsize=6.5)
    cb.set_ticks([0, 0.5, CUTOFFS["htmt"][1], CUTOFFS["htmt"][2], 1],
                 labels=["0", ".50", ".85", ".90", "1"])
    ax.set_title("Note. " + NOTE, fontsize=5.5, color="#555555", loc="left", y=-0.02,
                 pad=-40, wrap=True, **font)
    return figure_bytes(fig, fmt, dpi, bbox_inches="tight", pad_inches=0.1)


def htmt_svg(matrix) -> bytes:
    """The heat map of :func:`htmt_figure` as SVG bytes (matplotlib)."""
    return _draw(prepare_htmt(matrix), "svg", dpi=72)


def htmt_png(matrix, *, dpi: float = 200) -> bytes:
    """The heat map of :func:`htmt_figure` as PNG bytes (matplotlib Agg)."""
    return _draw(prepare_htmt(matrix), "png", dpi=dpi)
