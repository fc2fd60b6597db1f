"""Geometry of a path diagram: where the boxes, the arrows and their labels go.

:func:`layout_diagram` places the variables of a recursive structural model in columns
(a layered, Sugiyama-style drawing) and returns a frozen :class:`DiagramLayout` of boxes,
arrow polylines and label boxes, in inches, with *y pointing down* (screen and SVG
convention). It knows nothing about statistics: the caller passes the text of every
node and every edge label already formatted, and the renderers
(:mod:`adoption.figures.pathdiagram`) draw the same object with plotly or matplotlib.

The steps:

1. **Layers.** A variable's column is the length of the longest regression path that
   reaches it from an exogenous variable; final outcomes (variables that predict
   nothing) go to the last column. Exogenous variables are on the left.
2. **Order within a column.** Edges spanning several columns get a dummy point in every
   column they cross; the order of each column is then improved by the barycentre
   heuristic (a few down and up sweeps, keeping the order with the fewest crossings),
   which keeps exogenous variables that feed the same mediator next to each other.
3. **Vertical positions.** Each node is pulled to the mean height of its neighbours,
   subject to a minimum gap, by isotonic regression (pool-adjacent-violators on
   offset coordinates), a few sweeps.
4. **Routes.** An arrow is a straight segment from border to border when that segment
   clears every other box; otherwise it follows its dummy points (a horizontal run
   through each column it crosses, in a slot reserved for it), simplified by dropping
   bends that are not needed.
5. **Labels.** Each label is placed on its arrow at the first position, from the middle
   outwards, where it overlaps no box and no label already placed (crossing few other
   arrows). When a label or a route cannot be placed the columns are moved apart and
   the layout is redone.

The guarantees (tested in ``tests/test_figures_pathdiagram.py``): no two boxes overlap;
no arrow passes through a box other than its two ends; no label overlaps a box or
another label.

The stages live in their own modules; every length they use is a field of one
:class:`~adoption.figures.diagram.LayoutStyle`:

    geometry.py   text sizes (DejaVu Sans advance widths), boxes, segment-box tests
    diagram.py    EdgeSpec in; Node, Edge, DiagramLayout out; LayoutStyle
    layering.py   longest-path layers, barycentre ordering, isotonic heights
    placement.py  steps 1-3: what is drawn, columns, boxes
    routing.py    steps 4-5: routes and labels
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from adoption.figures.diagram import (
    KINDS,
    STYLE,
    DiagramLayout,
    Edge,
    EdgeSpec,
    LayoutStyle,
    Node,
)
from adoption.figures.geometry import (
    LINE_SPACING,
    Box,
    polyline_hits_box,
    segment_hits_box,
    text_size,
)
from adoption.figures.placement import place, read_graph
from adoption.figures.routing import (
    clearance,
    obstacles,
    place_labels,
    route_covariances,
    route_loadings,
    route_regressions,
)

# the value types and geometry tests are importable from here, the layout's entry point
__all__ = [
    "Box",
    "Node",
    "EdgeSpec",
    "Edge",
    "DiagramLayout",
    "LayoutStyle",
    "STYLE",
    "KINDS",
    "LINE_SPACING",
    "layout_diagram",
    "text_size",
    "segment_hits_box",
    "polyline_hits_box",
]


def layout_diagram(
    edges: Sequence[EdgeSpec],
    node_lines: Mapping[str, Sequence[str]] | None = None,
    *,
    structure: Iterable[tuple[str, str]] = (),
    font_size: float = 10.0,
    label_font_size: float = 9.0,
    item_font_size: float = 8.0,
    column_gap: float = 1.5,
    row_gap: float = 0.3,
    style: LayoutStyle = STYLE,
) -> DiagramLayout:
    """Place the boxes, arrows and labels of a path diagram.

    Parameters
    ----------
    edges : sequence of EdgeSpec
        The arrows to draw. Regression arrows decide the columns; loading arrows make
        their targets items of their source factor; covariances are drawn as arcs
        between two variables of the same column (on the left of the first column).
    node_lines : mapping of str to sequence of str, optional
        The text of each box, line by line (default: the variable's name).
    structure : iterable of (predictor, outcome), optional
        Regression arrows that are not drawn but still decide the columns (so hiding
        non-significant paths does not move the variables).
    font_size, label_font_size, item_font_size : float
        Font sizes in points of node text, arrow labels and item boxes.
    column_gap, row_gap : float
        Starting horizontal gap between columns and vertical gap between boxes, in
        inches; the column gap grows when labels do not fit.
    style : LayoutStyle, optional
        Every other length of the layout (default: :data:`~adoption.figures.diagram.STYLE`).

    Returns
    -------
    DiagramLayout
        Boxes, routes and label boxes in inches, y pointing down.

    Raises
    ------
    ValueError
        If an edge has an unknown kind, the regressions form a cycle, or a covariance
        joins variables of different columns.

    Examples
    --------
    >>> lay = layout_diagram([EdgeSpec("X", "M", label=".40"), EdgeSpec("M", "Y", label=".30"),
    ...                       EdgeSpec("X", "Y", label=".10")])
    >>> [n.layer for n in lay.nodes]
    [0, 1, 2]
    """
    node_lines = dict(node_lines or {})
    for e in edges:
        if e.kind not in KINDS:
            raise ValueError(f"edge {e.source} -> {e.target}: kind {e.kind!r} is not one of {KINDS}")
    # when something does not fit, widen what it lives in and try again
    gap, arc_step, item_gap = column_gap, style.arc_step, style.item_gap
    for _attempt in range(style.attempts):
        lay, failed = _layout_once(edges, node_lines, tuple(structure), font_size,
                                   label_font_size, item_font_size, gap, row_gap, arc_step,
                                   item_gap, style)
        if lay.complete:
            break
        if "regression" in failed:
            gap *= style.column_growth
        if "loading" in failed:
            item_gap *= style.item_gap_growth
        if "covariance" in failed:
            arc_step *= style.arc_growth
    return lay


def _layout_once(edges, node_lines, structure, font_size, label_font_size, item_font_size,
                 col_gap, row_gap, arc_step, item_gap, style: LayoutStyle
                 ) -> tuple[DiagramLayout, set[str]]:
    """One layout with the given gaps; also the kinds of arrow that did not fit."""
    graph = read_graph(edges, node_lines, structure)
    pl = place(graph, node_lines, font_size, item_font_size, col_gap, row_gap, arc_step,
               item_gap, style)
    clear = clearance(obstacles(pl), style.clear_pad)
    regs, failed = route_regressions(pl, clear, style)
    covs, failed_covs = route_covariances(pl, clear, arc_step, style)
    routes, failed_labels = place_labels(regs + route_loadings(pl, style) + covs, pl,
                                         label_font_size, item_font_size, style)
    failed |= failed_covs | failed_labels
    nodes = [Node(v, graph.kind_of(v), graph.layer[v], pl.boxes[v],
                  tuple(node_lines.get(v, (v,))), font_size) for v in graph.constructs]
    nodes += [Node(it, "item", pl.item_layer[it], pl.boxes[it], tuple(node_lines.get(it, (it,))),
                   item_font_size) for it in graph.item_of]
    # boxes of different constructs must not overlap (they cannot by construction; checked)
    blist = list(pl.boxes.values())
    if any(blist[a].overlaps(blist[b]) for a in range(len(blist)) for b in range(a + 1, len(blist))):
        failed.add("regression")
    return (DiagramLayout(tuple(nodes), tuple(routes), pl.width, pl.height, label_font_size,
                          not failed), failed)
