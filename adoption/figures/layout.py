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

Text sizes are estimated from the advance widths of DejaVu Sans (matplotlib's default
font), so no font machinery is needed here.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Box",
    "Node",
    "EdgeSpec",
    "Edge",
    "DiagramLayout",
    "layout_diagram",
    "text_size",
    "segment_hits_box",
    "polyline_hits_box",
]

#: Advance widths of DejaVu Sans in em (matplotlib ``TextToPath`` at size 100 / 100).
_WIDTHS: dict[str, float] = {
    " ": 0.318, "!": 0.401, '"': 0.46, "#": 0.838, "$": 0.636, "%": 0.95, "&": 0.78,
    "'": 0.275, "(": 0.39, ")": 0.39, "*": 0.5, "+": 0.838, ",": 0.318, "-": 0.361,
    ".": 0.318, "/": 0.337, ":": 0.337, ";": 0.337, "<": 0.838, "=": 0.838, ">": 0.838,
    "?": 0.531, "@": 1.0, "A": 0.684, "B": 0.686, "C": 0.698, "D": 0.77, "E": 0.632,
    "F": 0.575, "G": 0.775, "H": 0.752, "I": 0.295, "J": 0.295, "K": 0.656, "L": 0.557,
    "M": 0.863, "N": 0.748, "O": 0.787, "P": 0.603, "Q": 0.787, "R": 0.695, "S": 0.635,
    "T": 0.611, "U": 0.732, "V": 0.684, "W": 0.989, "X": 0.685, "Y": 0.611, "Z": 0.685,
    "[": 0.39, "\\": 0.337, "]": 0.39, "^": 0.838, "_": 0.5, "`": 0.5, "a": 0.613,
    "b": 0.635, "c": 0.55, "d": 0.635, "e": 0.615, "f": 0.352, "g": 0.635, "h": 0.634,
    "i": 0.278, "j": 0.278, "k": 0.579, "l": 0.278, "m": 0.974, "n": 0.634, "o": 0.612,
    "p": 0.635, "q": 0.635, "r": 0.411, "s": 0.521, "t": 0.392, "u": 0.634, "v": 0.592,
    "w": 0.818, "x": 0.592, "y": 0.592, "z": 0.525, "{": 0.636, "|": 0.337, "}": 0.636,
    "~": 0.838, "²": 0.401, "β": 0.638, "−": 0.838, "–": 0.5, "…": 1.0, "·": 0.318,
}
_DIGIT_WIDTH = 0.636
_DEFAULT_WIDTH = 0.7
#: Line height as a multiple of the font size.
LINE_SPACING = 1.25

KINDS = ("regression", "covariance", "loading")


def text_size(lines: Sequence[str], size_pt: float) -> tuple[float, float]:
    """Width and height in inches of a block of text lines in DejaVu Sans.

    Parameters
    ----------
    lines : sequence of str
        The lines, top to bottom.
    size_pt : float
        Font size in points (1/72 inch).

    Returns
    -------
    (width, height) : tuple of float
        The widest line's advance width and ``len(lines) * LINE_SPACING`` em, in inches.
    """
    em = size_pt / 72.0
    width = max(
        (sum(_WIDTHS.get(c, _DIGIT_WIDTH if c.isdigit() else _DEFAULT_WIDTH) for c in line)
         for line in lines),
        default=0.0,
    )
    return width * em, max(len(lines), 1) * LINE_SPACING * em


# --------------------------------------------------------------------------- geometry
@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle given by its centre and size, in inches (y down)."""

    x: float
    y: float
    w: float
    h: float

    @property
    def left(self) -> float:
        return self.x - self.w / 2

    @property
    def right(self) -> float:
        return self.x + self.w / 2

    @property
    def top(self) -> float:
        return self.y - self.h / 2

    @property
    def bottom(self) -> float:
        return self.y + self.h / 2

    def grown(self, pad: float) -> Box:
        """The same box with ``pad`` added on every side."""
        return Box(self.x, self.y, self.w + 2 * pad, self.h + 2 * pad)

    def overlaps(self, other: Box, pad: float = 0.0) -> bool:
        """Whether the two boxes, each grown by ``pad / 2``, share interior points."""
        return (abs(self.x - other.x) < (self.w + other.w) / 2 + pad
                and abs(self.y - other.y) < (self.h + other.h) / 2 + pad)


def segment_hits_box(p: tuple[float, float], q: tuple[float, float], box: Box,
                     pad: float = 0.0) -> bool:
    """Whether the segment ``p``-``q`` passes through the interior of ``box`` grown by ``pad``.

    Liang-Barsky clipping: the segment is clipped to the slab of each axis; it hits the
    box when the clipped parameter interval is non-empty (touching a border counts as
    a miss, so arrows that end on a border do not hit their own box's neighbours).
    """
    b = box.grown(pad)
    t0, t1 = 0.0, 1.0
    dx, dy = q[0] - p[0], q[1] - p[1]
    for d, lo, hi, s in ((dx, b.left, b.right, p[0]), (dy, b.top, b.bottom, p[1])):
        if abs(d) < 1e-12:
            if not (lo < s < hi):
                return False
            continue
        a, c = (lo - s) / d, (hi - s) / d
        if a > c:
            a, c = c, a
        t0, t1 = max(t0, a), min(t1, c)
        if t0 >= t1 - 1e-9:
            return False
    return t1 - t0 > 1e-9


def _segments_hit_box(p: np.ndarray, q: np.ndarray, box: Box, pad: float = 0.0) -> np.ndarray:
    """Vectorised :func:`segment_hits_box` for segments ``p[k]``-``q[k]`` (arrays n x 2)."""
    b = box.grown(pad)
    t0 = np.zeros(len(p))
    t1 = np.ones(len(p))
    ok = np.ones(len(p), dtype=bool)
    for axis, lo, hi in ((0, b.left, b.right), (1, b.top, b.bottom)):
        s = p[:, axis]
        d = q[:, axis] - s
        flat = np.abs(d) < 1e-12
        ok &= ~flat | ((lo < s) & (s < hi))
        with np.errstate(divide="ignore", invalid="ignore"):
            a = np.where(flat, -np.inf, (lo - s) / d)
            c = np.where(flat, np.inf, (hi - s) / d)
        t0 = np.maximum(t0, np.minimum(a, c))
        t1 = np.minimum(t1, np.maximum(a, c))
    return ok & (t1 - t0 > 1e-9)


def polyline_hits_box(points: Sequence[tuple[float, float]], box: Box, pad: float = 0.0) -> bool:
    """Whether any segment of the polyline passes through ``box`` grown by ``pad``."""
    return any(segment_hits_box(points[i], points[i + 1], box, pad)
               for i in range(len(points) - 1))


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Node:
    """A variable's box.

    Attributes
    ----------
    name : str
        The variable's code, as in the parameter table.
    kind : str
        ``"exogenous"``, ``"mediator"``, ``"outcome"`` or ``"item"``.
    layer : int
        Its column (0 = leftmost column of constructs; items get -1 or last + 1, or the
        column of their factor when drawn above or below it).
    box : Box
        Its rectangle.
    lines : tuple of str
        The text inside the box, top to bottom.
    font_size : float
        The size in points the box was sized for.
    """

    name: str
    kind: str
    layer: int
    box: Box
    lines: tuple[str, ...]
    font_size: float


@dataclass(frozen=True)
class EdgeSpec:
    """An arrow to draw: what the caller asks :func:`layout_diagram` for.

    Attributes
    ----------
    source, target : str
        For ``"regression"`` the predictor and the outcome (``rhs`` and ``lhs`` of
        ``lhs ~ rhs``); for ``"loading"`` the factor and the item; for ``"covariance"``
        the two variables (two-headed, order does not matter).
    kind : str
        ``"regression"``, ``"covariance"`` or ``"loading"``.
    label : str
        The text to show on the arrow ('' for none).
    key : object
        Anything that identifies the row the arrow stands for (returned unchanged).
    """

    source: str
    target: str
    kind: str = "regression"
    label: str = ""
    key: object = None


@dataclass(frozen=True)
class Edge:
    """A routed arrow.

    Attributes
    ----------
    source, target, kind, label, key
        As in the :class:`EdgeSpec` it was made from.
    points : tuple of (x, y)
        The polyline from the source's border to the target's border (a curve is given
        by many points); the head (or heads, for a covariance) sits at the end(s).
    label_box : Box or None
        Where the label's text box is centred and how big it is; ``None`` if no label.
    curved : bool
        Whether ``points`` samples a smooth curve (covariance arcs) rather than
        straight segments with bends.
    label_font_size : float
        The size in points the label box was sized for.
    """

    source: str
    target: str
    kind: str
    label: str
    key: object
    points: tuple[tuple[float, float], ...]
    label_box: Box | None
    curved: bool = False
    label_font_size: float = 9.0


@dataclass(frozen=True)
class DiagramLayout:
    """A placed diagram: boxes, routed arrows, label boxes, and the drawing's size.

    Attributes
    ----------
    nodes : tuple of Node
    edges : tuple of Edge
    width, height : float
        The drawing's size in inches; every box, arrow and label lies within
        ``[0, width] x [0, height]``.
    label_font_size : float
        The size in points edge labels were sized for.
    complete : bool
        False when some label could not be placed without a collision even after the
        columns were moved apart (the best attempt is returned).
    """

    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    width: float
    height: float
    label_font_size: float
    complete: bool = True

    def node(self, name: str) -> Node:
        """The node called ``name`` (KeyError if absent)."""
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)


# --------------------------------------------------------------------------- layering
def _layers(nodes: Sequence[str], arcs: Iterable[tuple[str, str]]) -> dict[str, int]:
    """Longest-path layering; sinks that have predecessors move to the last layer."""
    preds: dict[str, set[str]] = defaultdict(set)
    succs: dict[str, set[str]] = defaultdict(set)
    for s, t in arcs:
        preds[t].add(s)
        succs[s].add(t)
    layer: dict[str, int] = {}
    visiting: list[str] = []

    def visit(v: str) -> int:
        if v in layer:
            return layer[v]
        if v in visiting:
            cycle = visiting[visiting.index(v):] + [v]
            raise ValueError("the regression paths form a cycle: " + " -> ".join(cycle)
                             + "; a path diagram needs a recursive model")
        visiting.append(v)
        layer[v] = 1 + max((visit(p) for p in preds[v]), default=-1)
        visiting.pop()
        return layer[v]

    for v in nodes:
        visit(v)
    last = max(layer.values(), default=0)
    for v in nodes:
        if preds[v] and not succs[v]:
            layer[v] = last
    return layer


def _count_crossings(upper: list, lower_pos: dict, arcs_between: list[tuple]) -> int:
    pos_u = {v: i for i, v in enumerate(upper)}
    segs = [(pos_u[a], lower_pos[b]) for a, b in arcs_between]
    n = 0
    for i in range(len(segs)):
        for j in range(i + 1, len(segs)):
            if (segs[i][0] - segs[j][0]) * (segs[i][1] - segs[j][1]) < 0:
                n += 1
    return n


def _order_layers(order: list[list], arcs: list[tuple], sweeps: int = 8) -> list[list]:
    """Barycentre heuristic over layered ``order`` with arcs between adjacent layers."""
    nl = len(order)
    down: dict = defaultdict(list)  # v -> neighbours in the previous layer
    up: dict = defaultdict(list)    # v -> neighbours in the next layer
    for a, b in arcs:
        up[a].append(b)
        down[b].append(a)

    def crossings(o: list[list]) -> int:
        total = 0
        for i in range(nl - 1):
            pos = {v: k for k, v in enumerate(o[i + 1])}
            between = [(a, b) for a in o[i] for b in up[a]]
            total += _count_crossings(o[i], pos, between)
        return total

    best = [list(layer) for layer in order]
    best_c = crossings(best)
    cur = [list(layer) for layer in order]
    for sweep in range(sweeps):
        rng = range(1, nl) if sweep % 2 == 0 else range(nl - 2, -1, -1)
        for i in rng:
            ref_layer = cur[i - 1] if sweep % 2 == 0 else cur[i + 1]
            nbrs = down if sweep % 2 == 0 else up
            pos = {v: k for k, v in enumerate(ref_layer)}
            old = {v: k for k, v in enumerate(cur[i])}

            def bary(v, pos=pos, nbrs=nbrs, old=old):
                ns = [pos[u] for u in nbrs[v] if u in pos]
                return (sum(ns) / len(ns), old[v]) if ns else (old[v] * 1.0 - 1e-3, old[v])

            # nodes without neighbours keep their place: sort by barycentre, stable
            cur[i] = sorted(cur[i], key=bary)
        c = crossings(cur)
        if c < best_c:
            best, best_c = [list(layer) for layer in cur], c
    # layer 0 gets one more pass against layer 1 (groups exogenous by mediator)
    if nl > 1:
        pos = {v: k for k, v in enumerate(best[1])}
        old = {v: k for k, v in enumerate(best[0])}
        trial = [sorted(best[0], key=lambda v: (
            sum(pos[u] for u in up[v]) / len(up[v]) if up[v] else old[v], old[v]))] + best[1:]
        if crossings(trial) <= best_c:
            best = trial
    return best


def _isotonic_positions(desired: list[float], weights: list[float], gaps: list[float]) -> list[float]:
    """Positions closest (weighted least squares) to ``desired`` keeping ``gaps``.

    With offsets ``o_i = sum(gaps[:i])`` the constraint ``y_{i+1} - y_i >= gaps[i]``
    becomes ``z`` non-decreasing for ``z_i = y_i - o_i``: a weighted isotonic
    regression, solved by pool-adjacent-violators.
    """
    offs = [0.0]
    for g in gaps:
        offs.append(offs[-1] + g)
    target = [d - o for d, o in zip(desired, offs)]
    blocks: list[list[float]] = []  # [mean, weight, count]
    for t, w in zip(target, weights):
        blocks.append([t, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, c2 = blocks.pop()
            m1, w1, c1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    z: list[float] = []
    for m, _, c in blocks:
        z.extend([m] * c)
    return [zi + o for zi, o in zip(z, offs)]


# --------------------------------------------------------------------------- routing
def _bezier(p0, c, p1, n: int = 28) -> tuple[tuple[float, float], ...]:
    out = []
    for k in range(n + 1):
        t = k / n
        a, b, d = (1 - t) ** 2, 2 * (1 - t) * t, t * t
        out.append((a * p0[0] + b * c[0] + d * p1[0], a * p0[1] + b * c[1] + d * p1[1]))
    return tuple(out)


def _point_at(points: Sequence[tuple[float, float]], t: float) -> tuple[float, float]:
    """The point at fraction ``t`` of the polyline's length."""
    lengths = [math.dist(points[i], points[i + 1]) for i in range(len(points) - 1)]
    total = sum(lengths)
    if total == 0:
        return points[0]
    goal = t * total
    for i, seg in enumerate(lengths):
        if goal <= seg or i == len(lengths) - 1:
            f = goal / seg if seg else 0.0
            f = min(max(f, 0.0), 1.0)
            return (points[i][0] + f * (points[i + 1][0] - points[i][0]),
                    points[i][1] + f * (points[i + 1][1] - points[i][1]))
        goal -= seg
    return points[-1]


PORT_SPACING = 0.12
COV_PORT_SPACING = 0.075


def _ports(box: Box, side: str, others: list[float], spacing: float = PORT_SPACING) -> list[float]:
    """Positions along one side of ``box`` for arrows ordered by ``others``.

    Returns, for each arrow in the input order, the coordinate along the side (y for
    left/right, x for top/bottom), spread evenly over at most 80% of the side.
    """
    k = len(others)
    if k == 0:
        return []
    length = box.h if side in ("left", "right") else box.w
    centre = box.y if side in ("left", "right") else box.x
    span = min(0.8 * length, spacing * (k - 1))
    order = sorted(range(k), key=lambda i: others[i])
    out = [0.0] * k
    for rank, i in enumerate(order):
        out[i] = centre - span / 2 + (span * rank / (k - 1) if k > 1 else span / 2)
    return out


def _round_bends(points: list[tuple[float, float]], is_clear, radius: float = 0.35
                 ) -> list[tuple[float, float]]:
    """Replace each bend by a quadratic curve, where the curve stays clear of boxes.

    The curve starts ``radius`` (at most a third of each segment) before the bend and
    ends as far after it, with the bend as control point; a bend whose curve would
    touch a box (``is_clear(p, q)`` false for one of its chords) stays sharp.
    """
    if len(points) < 3:
        return list(points)
    out = [points[0]]
    for k in range(1, len(points) - 1):
        prev, bend, nxt = out[-1], points[k], points[k + 1]
        d_in, d_out = math.dist(prev, bend), math.dist(bend, nxt)
        r = min(radius, d_in / 3, d_out / 3)
        if r <= 1e-6:
            out.append(bend)
            continue
        a = (bend[0] + (prev[0] - bend[0]) * r / d_in, bend[1] + (prev[1] - bend[1]) * r / d_in)
        b = (bend[0] + (nxt[0] - bend[0]) * r / d_out, bend[1] + (nxt[1] - bend[1]) * r / d_out)
        curve = _bezier(a, bend, b, n=8)
        chords = [out[-1]] + list(curve)
        if all(is_clear(chords[i], chords[i + 1]) for i in range(len(chords) - 1)):
            out.extend(curve)
        else:
            out.append(bend)
    out.append(points[-1])
    return out


_LABEL_POSITIONS = (0.5, 0.42, 0.58, 0.34, 0.66, 0.27, 0.73, 0.2, 0.8, 0.46, 0.54,
                    0.38, 0.62, 0.3, 0.7, 0.23, 0.77, 0.16, 0.84, 0.12, 0.88)


# --------------------------------------------------------------------------- main
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
    gap, arc_step, item_gap = column_gap, 0.4, 1.0
    for _attempt in range(8):
        lay, failed = _layout_once(edges, node_lines, tuple(structure), font_size,
                                   label_font_size, item_font_size, gap, row_gap, arc_step,
                                   item_gap)
        if lay.complete:
            break
        if "regression" in failed:
            gap *= 1.25
        if "loading" in failed:
            item_gap *= 1.3
        if "covariance" in failed:
            arc_step *= 1.25
    return lay


def _layout_once(edges, node_lines, structure, font_size, label_font_size, item_font_size,
                 col_gap, row_gap, arc_step, item_gap) -> tuple[DiagramLayout, set[str]]:
    margin = 0.15
    pad_x, pad_y = 0.14, 0.08
    regs = [e for e in edges if e.kind == "regression"]
    loads = [e for e in edges if e.kind == "loading"]
    covs = [e for e in edges if e.kind == "covariance"]

    # ---- nodes, items
    item_of: dict[str, str] = {}
    for e in loads:
        item_of.setdefault(e.target, e.source)
    names: list[str] = []
    for e in list(regs) + [EdgeSpec(s, t) for s, t in structure] + list(loads) + list(covs):
        for v in (e.source, e.target):
            if v not in names:
                names.append(v)
    for v in node_lines:
        if v not in names:
            names.append(v)
    constructs = [v for v in names if v not in item_of]
    items_by_factor: dict[str, list[str]] = defaultdict(list)
    for it, f in item_of.items():
        items_by_factor[f].append(it)

    arcs = list(dict.fromkeys([(e.source, e.target) for e in regs] + list(structure)))
    layer = _layers(constructs, arcs)
    last = max(layer.values(), default=0)
    has_pred = {t for _, t in arcs}
    has_succ = {s for s, _ in arcs}

    def kind_of(v: str) -> str:
        if v not in has_pred:
            return "exogenous"
        return "outcome" if v not in has_succ else "mediator"

    for e in covs:
        if layer[e.source] != layer[e.target]:
            raise ValueError(f"covariance {e.source} ~~ {e.target}: only variables of the same "
                             "column can be joined by a covariance arc")

    # ---- box sizes
    size: dict[str, tuple[float, float]] = {}
    for v in constructs:
        tw, th = text_size(tuple(node_lines.get(v, (v,))), font_size)
        size[v] = (tw + 2 * pad_x, th + 2 * pad_y)
    for it in item_of:
        tw, th = text_size(tuple(node_lines.get(it, (it,))), item_font_size)
        size[it] = (tw + 2 * 0.08, th + 2 * 0.05)
    # ports need room: grow heights so arrows do not crowd one side
    indeg = defaultdict(int)
    outdeg = defaultdict(int)
    for e in regs:
        indeg[e.target] += 1
        outdeg[e.source] += 1
    ncov = defaultdict(int)
    for e in covs:  # arcs leave the outer side of their column
        ncov[e.source] += 1
        ncov[e.target] += 1
    for v in constructs:
        w, h = size[v]
        need = max(PORT_SPACING * (indeg[v] + 1) + COV_PORT_SPACING * ncov[v],
                   PORT_SPACING * (outdeg[v] + 1)) / 0.8
        size[v] = (w, max(h, min(need, 1.8)))
    # equal widths within a column
    for lay_i in range(last + 1):
        members = [v for v in constructs if layer[v] == lay_i]
        wmax = max((size[v][0] for v in members), default=0)
        for v in members:
            size[v] = (wmax, size[v][1])

    # ---- where items go
    item_gap_v = 0.5 * item_gap    # factor to item row (above/below)
    item_gap_h = 0.7 * item_gap    # factor column to item column (left/right)
    item_sep = 0.08
    item_side: dict[str, str] = {}
    for f in items_by_factor:
        if f not in layer:
            continue
        if layer[f] == 0:
            item_side[f] = "left"
        elif layer[f] == last:
            item_side[f] = "right"
        else:
            item_side[f] = "above"  # decided after ordering

    # ---- dummies and ordering
    order: list[list] = [[] for _ in range(last + 1)]
    for v in constructs:
        order[layer[v]].append(v)
    chain_arcs: list[tuple] = []
    dummies: dict[tuple, list] = {}
    for e in regs:
        s, t = e.source, e.target
        ls, lt = layer[s], layer[t]
        prev = s
        chain = []
        for k in range(ls + 1, lt):
            d = ("dummy", s, t, k)
            order[k].append(d)
            chain.append(d)
            chain_arcs.append((prev, d))
            prev = d
        chain_arcs.append((prev, t))
        dummies[(s, t)] = chain
    order = _order_layers(order, chain_arcs)

    for f, side in list(item_side.items()):
        if side == "above":
            col = [v for v in order[layer[f]] if not isinstance(v, tuple)]
            item_side[f] = "above" if col.index(f) < len(col) / 2 else "below"

    def item_block(f: str) -> tuple[float, float]:
        its = items_by_factor.get(f, [])
        if not its:
            return 0.0, 0.0
        if item_side[f] in ("left", "right"):
            return (max(size[i][0] for i in its),
                    sum(size[i][1] for i in its) + item_sep * (len(its) - 1))
        return (sum(size[i][0] for i in its) + item_sep * 2 * (len(its) - 1),
                max(size[i][1] for i in its))

    dummy_h = 0.14

    def extent(v) -> tuple[float, float]:
        if isinstance(v, tuple):
            return dummy_h / 2, dummy_h / 2
        h = size[v][1]
        up = down = h / 2
        if v in item_side:
            bw, bh = item_block(v)
            if item_side[v] in ("left", "right"):
                up = down = max(h, bh) / 2
            elif item_side[v] == "above":
                up += item_gap_v + bh
            else:
                down += item_gap_v + bh
        return up, down

    # ---- columns (x)
    col_w = []
    for k in range(last + 1):
        w = 0.0
        for v in order[k]:
            if isinstance(v, tuple):
                continue
            w = max(w, size[v][0])
            if item_side.get(v) in ("above", "below"):
                w = max(w, item_block(v)[0])
        col_w.append(max(w, 0.3))
    left_items = max((item_block(f)[0] for f, s in item_side.items() if s == "left"), default=0.0)
    right_items = max((item_block(f)[0] for f, s in item_side.items() if s == "right"), default=0.0)
    cov_layers = {layer[e.source] for e in covs}
    # arcs between column members: bulge grows with the distance in the column
    cov_span = 0
    for e in covs:
        col = [v for v in order[layer[e.source]] if not isinstance(v, tuple)]
        cov_span = max(cov_span, abs(col.index(e.source) - col.index(e.target)))
    arc_zone = (0.25 + arc_step * cov_span) / 2 + 0.3 if covs else 0.0
    x = margin
    if left_items:
        x += left_items + item_gap_h
    x += arc_zone
    col_x = []
    for k in range(last + 1):
        col_x.append(x + col_w[k] / 2)
        x += col_w[k] + (col_gap if k < last else 0.0)
    if right_items:
        x += item_gap_h + right_items
    width = x + margin + (arc_zone if (cov_layers - {0}) else 0.0)

    # ---- vertical positions
    nbr: dict = defaultdict(list)
    for a, b in chain_arcs:
        nbr[a].append(b)
        nbr[b].append(a)

    def gaps_of(col: list) -> list[float]:
        g = []
        for a, b in zip(col, col[1:]):
            sep = row_gap if not (isinstance(a, tuple) or isinstance(b, tuple)) else 0.08
            g.append(extent(a)[1] + sep + extent(b)[0])
        return g

    def assign_heights() -> dict:
        ypos: dict = {}
        for k in range(last + 1):
            y = 0.0
            for i, v in enumerate(order[k]):
                up, down = extent(v)
                if i:
                    y += up
                ypos[v] = y
                y += down + row_gap
        for sweep in range(10):
            seq = range(last + 1) if sweep % 2 == 0 else range(last, -1, -1)
            for k in seq:
                col = order[k]
                if not col:
                    continue
                desired, weights = [], []
                for v in col:
                    ns = [ypos[u] for u in nbr[v]]
                    desired.append(sum(ns) / len(ns) if ns else ypos[v])
                    weights.append(0.3 if isinstance(v, tuple) else 1.0)
                new = _isotonic_positions(desired, weights, gaps_of(col))
                for v, y in zip(col, new):
                    ypos[v] = y
        return ypos

    ypos = assign_heights()
    # items of a mediator go to the side its arrows come less from
    changed = False
    for f, side in item_side.items():
        if side not in ("above", "below"):
            continue
        # how far above / below the arrows come from (steep arrows would cross the row)
        n_above = sum(max(ypos[f] - ypos[u], 0.0) for u in nbr[f])
        n_below = sum(max(ypos[u] - ypos[f], 0.0) for u in nbr[f])
        want = side if abs(n_above - n_below) < 1e-6 else (
            "below" if n_above > n_below else "above")
        if want != side:
            item_side[f] = want
            changed = True
    if changed:
        ypos = assign_heights()
    # top margin
    top = min(ypos[v] - extent(v)[0] for k in range(last + 1) for v in order[k])
    for v in ypos:
        ypos[v] += margin - top
    height = max(ypos[v] + extent(v)[1] for k in range(last + 1) for v in order[k]) + margin

    # ---- boxes
    boxes: dict[str, Box] = {}
    for v in constructs:
        boxes[v] = Box(col_x[layer[v]], ypos[v], size[v][0], size[v][1])
    item_layer: dict[str, int] = {}
    for f, its in items_by_factor.items():
        fb = boxes[f]
        bw, bh = item_block(f)
        side = item_side[f]
        if side in ("left", "right"):
            cx = (margin + left_items / 2) if side == "left" else (
                col_x[last] + col_w[last] / 2 + item_gap_h + right_items / 2)
            y = fb.y - bh / 2
            for it in its:
                w, h = size[it]
                boxes[it] = Box(cx, y + h / 2, w, h)
                y += h + item_sep
                item_layer[it] = -1 if side == "left" else last + 1
        else:
            x0 = fb.x - bw / 2
            hmax = max(size[i][1] for i in its)
            cy = (fb.top - item_gap_v - hmax / 2) if side == "above" else (
                fb.bottom + item_gap_v + hmax / 2)
            for it in its:
                w, h = size[it]
                boxes[it] = Box(x0 + w / 2, cy, w, h)
                x0 += w + 2 * item_sep
                item_layer[it] = layer[f]

    # ---- regression routes
    def dummy_run(d) -> list[tuple[float, float]]:
        k = d[3]
        return [(col_x[k] - col_w[k] / 2, ypos[d]), (col_x[k] + col_w[k] / 2, ypos[d])]

    out_ports: dict[str, list] = defaultdict(list)
    in_ports: dict[str, list] = defaultdict(list)
    for e in regs:
        ch = dummies[(e.source, e.target)]
        first = ypos[ch[0]] if ch else ypos[e.target]
        lastp = ypos[ch[-1]] if ch else ypos[e.source]
        out_ports[e.source].append((e, first))
        in_ports[e.target].append((e, lastp))
    start: dict = {}
    end: dict = {}
    for v, lst in out_ports.items():
        ys = _ports(boxes[v], "right", [o for _, o in lst])
        for (e, _), y in zip(lst, ys):
            start[id(e)] = (boxes[v].right, y)
    for v, lst in in_ports.items():
        ys = _ports(boxes[v], "left", [o for _, o in lst])
        for (e, _), y in zip(lst, ys):
            end[id(e)] = (boxes[v].left, y)

    obstacles = list(boxes.items())
    # a mediator, its items above or below and the gap between them are one obstacle,
    # so no arrow runs between a factor and its items
    for f, side in item_side.items():
        if side in ("above", "below") and items_by_factor.get(f):
            parts = [boxes[f]] + [boxes[i] for i in items_by_factor[f]]
            lo_x, hi_x = min(b.left for b in parts), max(b.right for b in parts)
            lo_y, hi_y = min(b.top for b in parts), max(b.bottom for b in parts)
            obstacles.append((f, Box((lo_x + hi_x) / 2, (lo_y + hi_y) / 2, hi_x - lo_x,
                                     hi_y - lo_y)))
    clear_pad = 0.07
    complete = True
    failed: set[str] = set()

    def clear(p, q, ends: tuple[str, str]) -> bool:
        return not any(segment_hits_box(p, q, b, clear_pad)
                       for n, b in obstacles if n not in ends)

    routes: list[Edge] = []
    for e in regs:
        p, q = start[id(e)], end[id(e)]
        ends = (e.source, e.target)
        if clear(p, q, ends):
            pts = [p, q]
        else:
            full = [p]
            for d in dummies[(e.source, e.target)]:
                full.extend(dummy_run(d))
            full.append(q)
            # string pulling: drop bends that are not needed
            pts = [full[0]]
            i = 0
            while i < len(full) - 1:
                j = len(full) - 1
                while j > i + 1 and not clear(full[i], full[j], ends):
                    j -= 1
                pts.append(full[j])
                i = j
            if not all(clear(pts[i], pts[i + 1], ends) for i in range(len(pts) - 1)):
                complete = False
                failed.add("regression")
            pts = _round_bends(pts, lambda a, b, ends=ends: clear(a, b, ends))
        routes.append(Edge(e.source, e.target, e.kind, e.label, e.key, tuple(pts), None))

    # ---- loadings
    for f, its in items_by_factor.items():
        fb = boxes[f]
        side = item_side[f]
        specs = [e for e in loads if e.source == f and item_of.get(e.target) == f]
        if side in ("left", "right"):
            ys = _ports(fb, side, [boxes[e.target].y for e in specs], spacing=0.09)
            for e, y in zip(specs, ys):
                ib = boxes[e.target]
                p = (fb.left, y) if side == "left" else (fb.right, y)
                q = (ib.right, ib.y) if side == "left" else (ib.left, ib.y)
                routes.append(Edge(e.source, e.target, e.kind, e.label, e.key, (p, q), None))
        else:
            xs = _ports(fb, "top", [boxes[e.target].x for e in specs], spacing=0.12)
            for e, x_ in zip(specs, xs):
                ib = boxes[e.target]
                p = (x_, fb.top) if side == "above" else (x_, fb.bottom)
                q = (ib.x, ib.bottom) if side == "above" else (ib.x, ib.top)
                routes.append(Edge(e.source, e.target, e.kind, e.label, e.key, (p, q), None))

    # ---- covariance arcs (outer side of the column: left, or right for the last column)
    by_node: dict[str, list] = defaultdict(list)
    for e in covs:
        by_node[e.source].append((e, e.target))
        by_node[e.target].append((e, e.source))
    cov_port: dict = {}
    for v, lst in by_node.items():
        side = "right" if (layer[v] == last and last > 0) else "left"
        ys = _ports(boxes[v], side, [boxes[o].y for _, o in lst], spacing=COV_PORT_SPACING)
        for (e, _), y in zip(lst, ys):
            xb = boxes[v].left if side == "left" else boxes[v].right
            cov_port[(id(e), v)] = (xb, y)
    for e in covs:
        col = [v for v in order[layer[e.source]] if not isinstance(v, tuple)]
        span = abs(col.index(e.source) - col.index(e.target))
        p0, p1 = cov_port[(id(e), e.source)], cov_port[(id(e), e.target)]
        sign = 1 if (layer[e.source] == last and last > 0) else -1
        bulge = 0.25 + arc_step * span
        c = (min(p0[0], p1[0]) + sign * bulge if sign < 0 else max(p0[0], p1[0]) + bulge,
             (p0[1] + p1[1]) / 2)
        pts = _bezier(p0, c, p1)
        ends = (e.source, e.target)
        if not all(clear(pts[i], pts[i + 1], ends) for i in range(len(pts) - 1)):
            complete = False
            failed.add("covariance")
        routes.append(Edge(e.source, e.target, e.kind, e.label, e.key, pts, None, curved=True))

    # ---- labels
    placed: list[Box] = []
    final: list[Edge] = []
    priority = {"loading": 0, "regression": 1, "covariance": 2}
    idx = sorted(range(len(routes)), key=lambda i: (
        priority[routes[i].kind],
        sum(math.dist(routes[i].points[k], routes[i].points[k + 1])
            for k in range(len(routes[i].points) - 1))))
    labelled: dict[int, Box | None] = {}
    lsizes: dict[int, float] = {}
    seg_p = np.array([r.points[k] for r in routes for k in range(len(r.points) - 1)])
    seg_q = np.array([r.points[k + 1] for r in routes for k in range(len(r.points) - 1)])
    seg_route = np.array([i for i, r in enumerate(routes) for _ in range(len(r.points) - 1)])
    all_boxes = list(boxes.values())
    for i in idx:
        r = routes[i]
        if not r.label:
            labelled[i] = None
            continue
        lsize = label_font_size if r.kind == "regression" else item_font_size
        lsizes[i] = lsize
        tw, th = text_size((r.label,), lsize)
        lw, lh = tw + 0.06, th * 0.9 + 0.02
        best_box, best_score = None, math.inf
        positions = {"regression": _LABEL_POSITIONS,
                     "loading": (0.62, 0.7, 0.55, 0.78, 0.48, 0.85, 0.4, 0.33),
                     "covariance": (0.5, 0.44, 0.56, 0.38, 0.62, 0.32, 0.68, 0.26, 0.74,
                                    0.2, 0.8)}[r.kind]
        for rank, t in enumerate(positions):
            cx, cy = _point_at(r.points, t)
            lb = Box(cx, cy, lw, lh)
            if lb.left < 0 or lb.top < 0 or lb.right > width or lb.bottom > height:
                continue
            if any(lb.overlaps(b, 0.03) for b in all_boxes):
                continue
            if any(lb.overlaps(b, 0.05) for b in placed):
                continue
            hit = _segments_hit_box(seg_p, seg_q, lb, 0.03)
            crossings = len(set(seg_route[hit].tolist()) - {i})
            score = crossings * 3 + rank * 0.25
            if score < best_score:
                best_box, best_score = lb, score
        if best_box is None:
            complete = False
            failed.add(r.kind)
        else:
            placed.append(best_box)
        labelled[i] = best_box
    for i, r in enumerate(routes):
        final.append(Edge(r.source, r.target, r.kind, r.label, r.key, r.points, labelled[i],
                          r.curved, lsizes.get(i, label_font_size)))

    nodes = []
    for v in constructs:
        nodes.append(Node(v, kind_of(v), layer[v], boxes[v], tuple(node_lines.get(v, (v,))),
                          font_size))
    for it in item_of:
        nodes.append(Node(it, "item", item_layer[it], boxes[it], tuple(node_lines.get(it, (it,))),
                          item_font_size))
    # boxes of different constructs must not overlap (they cannot by construction; checked)
    blist = list(boxes.values())
    for a in range(len(blist)):
        for b in range(a + 1, len(blist)):
            if blist[a].overlaps(blist[b]):
                complete = False
                failed.add("regression")
    return (DiagramLayout(tuple(nodes), tuple(final), width, height, label_font_size, complete),
            failed)
