"""Stages 1 to 3 of a path diagram's layout: what is drawn, the columns and the order
within them, and where every box goes.

:func:`read_graph` sorts the arrows by kind, tells constructs from items and puts each
construct in its column; :func:`place` sizes the boxes, orders each column, places the
columns side by side and the boxes in them (items beside, above or below their factor)
and returns a :class:`Placement`. The arrows are routed afterwards
(:mod:`adoption.figures.routing`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from adoption.figures.diagram import EdgeSpec, LayoutStyle
from adoption.figures.geometry import Box, text_size
from adoption.figures.layering import isotonic_positions, longest_path_layers, order_layers

__all__ = ["DiagramGraph", "Footprint", "Placement", "read_graph", "place", "covariance_span",
           "is_dummy"]


@dataclass(frozen=True)
class DiagramGraph:
    """What a diagram holds, before anything is placed.

    Attributes
    ----------
    regs, loads, covs : the arrows asked for, by kind, in the order given.
    constructs : the variables that are not items, in order of first mention.
    item_of : item -> its factor (the first loading that names it), in loading order.
    items_by_factor : factor -> its items.
    arcs : the regressions (drawn or only structural) that decide the columns.
    layer : construct -> its column.
    last : the last column.
    """

    regs: tuple[EdgeSpec, ...]
    loads: tuple[EdgeSpec, ...]
    covs: tuple[EdgeSpec, ...]
    constructs: tuple[str, ...]
    item_of: dict[str, str]
    items_by_factor: dict[str, list[str]]
    arcs: tuple[tuple[str, str], ...]
    layer: dict[str, int]
    last: int

    def kind_of(self, v: str) -> str:
        """``"exogenous"`` (nothing predicts it), ``"outcome"`` (it predicts nothing) or
        ``"mediator"``."""
        if v not in {t for _, t in self.arcs}:
            return "exogenous"
        return "outcome" if v not in {s for s, _ in self.arcs} else "mediator"


def is_dummy(v) -> bool:
    """Whether an entry of a column is the slot of an arrow crossing it (not a box)."""
    return isinstance(v, tuple)


def read_graph(edges: Sequence[EdgeSpec], node_lines: Mapping[str, Sequence[str]],
               structure: Sequence[tuple[str, str]]) -> DiagramGraph:
    """Stage 1, layers: the arrows by kind, constructs and items, and each construct's
    column (:func:`~adoption.figures.layering.longest_path_layers`).

    Raises
    ------
    ValueError
        If the regressions form a cycle, or a covariance joins variables of different
        columns.
    """
    regs = tuple(e for e in edges if e.kind == "regression")
    loads = tuple(e for e in edges if e.kind == "loading")
    covs = tuple(e for e in edges if e.kind == "covariance")
    item_of: dict[str, str] = {}
    for e in loads:
        item_of.setdefault(e.target, e.source)
    names: list[str] = []
    pairs = [(e.source, e.target) for e in regs] + list(structure) + \
        [(e.source, e.target) for e in loads + covs]
    for pair in pairs:
        for v in pair:
            if v not in names:
                names.append(v)
    for v in node_lines:
        if v not in names:
            names.append(v)
    constructs = tuple(v for v in names if v not in item_of)
    items_by_factor: dict[str, list[str]] = defaultdict(list)
    for it, f in item_of.items():
        items_by_factor[f].append(it)
    arcs = tuple(dict.fromkeys([(e.source, e.target) for e in regs] + list(structure)))
    layer = longest_path_layers(constructs, arcs)
    for e in covs:
        if layer[e.source] != layer[e.target]:
            raise ValueError(f"covariance {e.source} ~~ {e.target}: only variables of the same "
                             "column can be joined by a covariance arc")
    return DiagramGraph(regs, loads, covs, constructs, item_of, dict(items_by_factor), arcs,
                        layer, max(layer.values(), default=0))


def box_sizes(graph: DiagramGraph, node_lines: Mapping[str, Sequence[str]], font_size: float,
              item_font_size: float, style: LayoutStyle) -> dict[str, tuple[float, float]]:
    """(width, height) of every box: its text plus padding, tall enough for the arrows at
    each side, and one width for the constructs of a column."""
    size: dict[str, tuple[float, float]] = {}
    for v in graph.constructs:
        tw, th = text_size(tuple(node_lines.get(v, (v,))), font_size)
        size[v] = (tw + 2 * style.node_pad_x, th + 2 * style.node_pad_y)
    for it in graph.item_of:
        tw, th = text_size(tuple(node_lines.get(it, (it,))), item_font_size)
        size[it] = (tw + 2 * style.item_pad_x, th + 2 * style.item_pad_y)
    indeg: dict[str, int] = defaultdict(int)
    outdeg: dict[str, int] = defaultdict(int)
    for e in graph.regs:
        indeg[e.target] += 1
        outdeg[e.source] += 1
    ncov: dict[str, int] = defaultdict(int)
    for e in graph.covs:  # arcs leave the outer side of their column
        ncov[e.source] += 1
        ncov[e.target] += 1
    for v in graph.constructs:
        w, h = size[v]
        need = max(style.port_spacing * (indeg[v] + 1) + style.cov_port_spacing * ncov[v],
                   style.port_spacing * (outdeg[v] + 1)) / style.port_share
        size[v] = (w, max(h, min(need, style.max_port_height)))
    for lay_i in range(graph.last + 1):
        members = [v for v in graph.constructs if graph.layer[v] == lay_i]
        wmax = max((size[v][0] for v in members), default=0)
        for v in members:
            size[v] = (wmax, size[v][1])
    return size


def order_columns(graph: DiagramGraph, style: LayoutStyle
                  ) -> tuple[list[list], list[tuple], dict[tuple[str, str], list]]:
    """Stage 2, order within a column: every arrow spanning columns gets a slot
    ``("dummy", source, target, column)`` in each column it crosses, then the barycentre
    heuristic orders the columns.

    Returns
    -------
    (order, chain_arcs, dummies)
        The entries of each column top to bottom; the arcs between adjacent columns
        (through the slots); the slots of each regression ``(source, target)``.
    """
    order: list[list] = [[] for _ in range(graph.last + 1)]
    for v in graph.constructs:
        order[graph.layer[v]].append(v)
    chain_arcs: list[tuple] = []
    dummies: dict[tuple[str, str], list] = {}
    for e in graph.regs:
        s, t = e.source, e.target
        prev = s
        chain = []
        for k in range(graph.layer[s] + 1, graph.layer[t]):
            d = ("dummy", s, t, k)
            order[k].append(d)
            chain.append(d)
            chain_arcs.append((prev, d))
            prev = d
        chain_arcs.append((prev, t))
        dummies[(s, t)] = chain
    return order_layers(order, chain_arcs, style.order_sweeps), chain_arcs, dummies


def item_sides(graph: DiagramGraph, order: list[list]) -> dict[str, str]:
    """Where each factor's items go: left of the first column, right of the last, else
    above a factor in the upper half of its column and below one in the lower half."""
    side: dict[str, str] = {}
    for f in graph.items_by_factor:
        if f not in graph.layer:
            continue
        if graph.layer[f] == 0:
            side[f] = "left"
        elif graph.layer[f] == graph.last:
            side[f] = "right"
        else:
            col = [v for v in order[graph.layer[f]] if not is_dummy(v)]
            side[f] = "above" if col.index(f) < len(col) / 2 else "below"
    return side


@dataclass(frozen=True)
class Footprint:
    """The room a column entry takes, given which side each factor's items are on.

    Attributes
    ----------
    size : box -> (width, height).
    item_side : factor -> ``"left"``, ``"right"``, ``"above"`` or ``"below"``.
    item_gap_v : gap between a factor and its items above or below it.
    """

    graph: DiagramGraph
    size: Mapping[str, tuple[float, float]]
    item_side: Mapping[str, str]
    item_gap_v: float
    style: LayoutStyle

    def item_block(self, f: str) -> tuple[float, float]:
        """(width, height) of the block of ``f``'s items (0, 0 without items)."""
        its = self.graph.items_by_factor.get(f, [])
        if not its:
            return 0.0, 0.0
        size, sep = self.size, self.style.item_sep
        if self.item_side[f] in ("left", "right"):
            return (max(size[i][0] for i in its),
                    sum(size[i][1] for i in its) + sep * (len(its) - 1))
        return (sum(size[i][0] for i in its) + sep * 2 * (len(its) - 1),
                max(size[i][1] for i in its))

    def extent(self, v) -> tuple[float, float]:
        """How far an entry reaches above and below its centre (its items included)."""
        if is_dummy(v):
            return self.style.dummy_height / 2, self.style.dummy_height / 2
        h = self.size[v][1]
        up = down = h / 2
        if v in self.item_side:
            bw, bh = self.item_block(v)
            if self.item_side[v] in ("left", "right"):
                up = down = max(h, bh) / 2
            elif self.item_side[v] == "above":
                up += self.item_gap_v + bh
            else:
                down += self.item_gap_v + bh
        return up, down


def covariance_span(e: EdgeSpec, graph: DiagramGraph, order: list[list]) -> int:
    """How many boxes apart in their column the two ends of a covariance arc are."""
    col = [v for v in order[graph.layer[e.source]] if not is_dummy(v)]
    return abs(col.index(e.source) - col.index(e.target))


def column_positions(graph: DiagramGraph, order: list[list], fp: Footprint, col_gap: float,
                     item_gap_h: float, arc_step: float
                     ) -> tuple[list[float], list[float], float, float, float]:
    """Stage 3a, horizontal positions: each column's centre and width, the widths of the
    item blocks left of the first and right of the last column, and the drawing's width.

    Returns
    -------
    (col_x, col_w, left_items, right_items, width)
    """
    style = fp.style
    col_w = []
    for k in range(graph.last + 1):
        w = 0.0
        for v in order[k]:
            if is_dummy(v):
                continue
            w = max(w, fp.size[v][0])
            if fp.item_side.get(v) in ("above", "below"):
                w = max(w, fp.item_block(v)[0])
        col_w.append(max(w, style.min_column_width))
    left_items = max((fp.item_block(f)[0] for f, s in fp.item_side.items() if s == "left"),
                     default=0.0)
    right_items = max((fp.item_block(f)[0] for f, s in fp.item_side.items() if s == "right"),
                      default=0.0)
    cov_layers = {graph.layer[e.source] for e in graph.covs}
    # arcs between column members: bulge grows with the distance in the column
    cov_span = max((covariance_span(e, graph, order) for e in graph.covs), default=0)
    arc_zone = ((style.arc_base + arc_step * cov_span) / 2 + style.arc_clearance
                if graph.covs else 0.0)
    x = style.margin
    if left_items:
        x += left_items + item_gap_h
    x += arc_zone
    col_x = []
    for k in range(graph.last + 1):
        col_x.append(x + col_w[k] / 2)
        x += col_w[k] + (col_gap if k < graph.last else 0.0)
    if right_items:
        x += item_gap_h + right_items
    width = x + style.margin + (arc_zone if (cov_layers - {0}) else 0.0)
    return col_x, col_w, left_items, right_items, width


def neighbours(chain_arcs: Sequence[tuple]) -> dict:
    """Entry -> the entries it is joined to in the adjacent columns."""
    nbr: dict = defaultdict(list)
    for a, b in chain_arcs:
        nbr[a].append(b)
        nbr[b].append(a)
    return nbr


def vertical_positions(order: list[list], nbr: Mapping, fp: Footprint, row_gap: float
                       ) -> dict:
    """Stage 3b, heights: each entry stacked in its column, then pulled to the mean
    height of its neighbours keeping the gaps
    (:func:`~adoption.figures.layering.isotonic_positions`), sweeping right and left."""
    style = fp.style

    def gaps_of(col: list) -> list[float]:
        g = []
        for a, b in zip(col, col[1:]):
            sep = row_gap if not (is_dummy(a) or is_dummy(b)) else style.dummy_sep
            g.append(fp.extent(a)[1] + sep + fp.extent(b)[0])
        return g

    last = len(order) - 1
    ypos: dict = {}
    for k in range(last + 1):
        y = 0.0
        for i, v in enumerate(order[k]):
            up, down = fp.extent(v)
            if i:
                y += up
            ypos[v] = y
            y += down + row_gap
    for sweep in range(style.height_sweeps):
        seq = range(last + 1) if sweep % 2 == 0 else range(last, -1, -1)
        for k in seq:
            col = order[k]
            if not col:
                continue
            desired, weights = [], []
            for v in col:
                ns = [ypos[u] for u in nbr[v]]
                desired.append(sum(ns) / len(ns) if ns else ypos[v])
                weights.append(style.dummy_weight if is_dummy(v) else 1.0)
            new = isotonic_positions(desired, weights, gaps_of(col))
            for v, y in zip(col, new):
                ypos[v] = y
    return ypos


def sides_away_from_arrows(item_side: Mapping[str, str], ypos: Mapping, nbr: Mapping
                           ) -> dict[str, str]:
    """The items of a mediator moved to the side (above or below) its arrows come less
    from: steep arrows would cross the row of items."""
    out = dict(item_side)
    for f, side in item_side.items():
        if side not in ("above", "below"):
            continue
        n_above = sum(max(ypos[f] - ypos[u], 0.0) for u in nbr[f])
        n_below = sum(max(ypos[u] - ypos[f], 0.0) for u in nbr[f])
        out[f] = side if abs(n_above - n_below) < 1e-6 else (
            "below" if n_above > n_below else "above")
    return out


@dataclass(frozen=True)
class Placement:
    """Stages 1 to 3 done: every box placed.

    Attributes
    ----------
    graph, footprint : what was placed, and the room each column entry takes.
    order : the entries of each column, top to bottom (boxes and arrow slots).
    chain_arcs, dummies : as returned by :func:`order_columns`.
    col_x, col_w : each column's centre and width.
    ypos : entry -> the height of its centre.
    boxes : variable -> its box.
    item_layer : item -> its column (-1 left of the first, last + 1 right of the last).
    width, height : the drawing's size.
    """

    graph: DiagramGraph
    footprint: Footprint
    order: list[list]
    chain_arcs: list[tuple]
    dummies: dict[tuple[str, str], list]
    col_x: list[float]
    col_w: list[float]
    ypos: dict
    boxes: dict[str, Box]
    item_layer: dict[str, int]
    width: float
    height: float


def item_boxes(graph: DiagramGraph, fp: Footprint, boxes: Mapping[str, Box],
               outer_x: tuple[float, float], item_gap_v: float
               ) -> tuple[dict[str, Box], dict[str, int]]:
    """Stage 3c, the items' boxes: a column beside their factor (left of the first
    column, centred on ``outer_x[0]``; right of the last, on ``outer_x[1]``), or a row
    above or below it. Returns the boxes and each item's column."""
    out: dict[str, Box] = {}
    item_layer: dict[str, int] = {}
    sep = fp.style.item_sep
    for f, its in graph.items_by_factor.items():
        fb = boxes[f]
        bw, bh = fp.item_block(f)
        side = fp.item_side[f]
        if side in ("left", "right"):
            cx = outer_x[0] if side == "left" else outer_x[1]
            y = fb.y - bh / 2
            for it in its:
                w, h = fp.size[it]
                out[it] = Box(cx, y + h / 2, w, h)
                y += h + sep
                item_layer[it] = -1 if side == "left" else graph.last + 1
        else:
            x0 = fb.x - bw / 2
            hmax = max(fp.size[i][1] for i in its)
            cy = (fb.top - item_gap_v - hmax / 2) if side == "above" else (
                fb.bottom + item_gap_v + hmax / 2)
            for it in its:
                w, h = fp.size[it]
                out[it] = Box(x0 + w / 2, cy, w, h)
                x0 += w + 2 * sep
                item_layer[it] = graph.layer[f]
    return out, item_layer


def place(graph: DiagramGraph, node_lines: Mapping[str, Sequence[str]], font_size: float,
          item_font_size: float, col_gap: float, row_gap: float, arc_step: float,
          item_gap: float, style: LayoutStyle) -> Placement:
    """Stages 2 and 3: order the columns, then place the columns and every box."""
    item_gap_v = style.item_gap_above * item_gap    # factor to item row (above/below)
    item_gap_h = style.item_gap_beside * item_gap   # factor column to item column
    order, chain_arcs, dummies = order_columns(graph, style)
    fp = Footprint(graph, box_sizes(graph, node_lines, font_size, item_font_size, style),
                   item_sides(graph, order), item_gap_v, style)
    col_x, col_w, left_items, right_items, width = column_positions(
        graph, order, fp, col_gap, item_gap_h, arc_step)
    nbr = neighbours(chain_arcs)
    ypos = vertical_positions(order, nbr, fp, row_gap)
    sides = sides_away_from_arrows(fp.item_side, ypos, nbr)
    if sides != fp.item_side:
        fp = replace(fp, item_side=sides)
        ypos = vertical_positions(order, nbr, fp, row_gap)
    entries = [v for col in order for v in col]
    top = min(ypos[v] - fp.extent(v)[0] for v in entries)
    for v in ypos:
        ypos[v] += style.margin - top
    height = max(ypos[v] + fp.extent(v)[1] for v in entries) + style.margin
    boxes = {v: Box(col_x[graph.layer[v]], ypos[v], fp.size[v][0], fp.size[v][1])
             for v in graph.constructs}
    last = graph.last
    outer_x = (style.margin + left_items / 2,
               col_x[last] + col_w[last] / 2 + item_gap_h + right_items / 2)
    items, item_layer = item_boxes(graph, fp, boxes, outer_x, item_gap_v)
    return Placement(graph, fp, order, chain_arcs, dummies, col_x, col_w, ypos,
                     {**boxes, **items}, item_layer, width, height)
