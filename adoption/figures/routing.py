"""Stages 4 and 5 of a path diagram's layout: the arrows' routes and their labels.

* :func:`route_regressions`: a straight segment from border to border when it clears
  every other box; otherwise through the arrow's slots in the columns it crosses,
  simplified by dropping bends that are not needed, and the bends rounded.
* :func:`route_loadings`: straight, from the factor's side facing its items.
* :func:`route_covariances`: a quadratic arc on the outer side of the column.
* :func:`place_labels`: each label at the first position on its arrow, from the middle
  outwards, where it overlaps no box and no label already placed, crossing few arrows.

Each returns the kinds of arrow that did not fit, so the layout can move things apart
and try again.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence

import numpy as np

from adoption.figures.diagram import Edge, LayoutStyle
from adoption.figures.geometry import Box, bezier, point_at, segment_hits_box, segments_hit_box, text_size
from adoption.figures.placement import Placement, covariance_span

__all__ = ["ports", "round_bends", "obstacles", "clearance", "route_regressions",
           "route_loadings", "route_covariances", "place_labels"]

Point = tuple[float, float]
#: ``clear(p, q, ends)``: whether the segment p-q passes no box other than ``ends``.
Clear = Callable[[Point, Point, tuple[str, str]], bool]


def ports(box: Box, side: str, others: list[float], spacing: float, share: float) -> list[float]:
    """Positions along one side of ``box`` for arrows ordered by ``others``.

    Returns, for each arrow in the input order, the coordinate along the side (y for
    left/right, x for top/bottom), ``spacing`` apart and spread over at most ``share``
    of the side.
    """
    k = len(others)
    if k == 0:
        return []
    length = box.h if side in ("left", "right") else box.w
    centre = box.y if side in ("left", "right") else box.x
    span = min(share * length, spacing * (k - 1))
    order = sorted(range(k), key=lambda i: others[i])
    out = [0.0] * k
    for rank, i in enumerate(order):
        out[i] = centre - span / 2 + (span * rank / (k - 1) if k > 1 else span / 2)
    return out


def round_bends(points: list[Point], is_clear: Callable[[Point, Point], bool], radius: float,
                n: int) -> list[Point]:
    """Replace each bend by a quadratic curve (``n`` segments), where the curve stays
    clear of boxes.

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
        curve = bezier(a, bend, b, n=n)
        chords = [out[-1]] + list(curve)
        if all(is_clear(chords[i], chords[i + 1]) for i in range(len(chords) - 1)):
            out.extend(curve)
        else:
            out.append(bend)
    out.append(points[-1])
    return out


def obstacles(pl: Placement) -> list[tuple[str, Box]]:
    """What an arrow must not pass through: every box, and each factor with its items
    above or below it and the gap between them as one box (no arrow runs between a
    factor and its items)."""
    out = list(pl.boxes.items())
    for f, side in pl.footprint.item_side.items():
        if side in ("above", "below") and pl.graph.items_by_factor.get(f):
            parts = [pl.boxes[f]] + [pl.boxes[i] for i in pl.graph.items_by_factor[f]]
            lo_x, hi_x = min(b.left for b in parts), max(b.right for b in parts)
            lo_y, hi_y = min(b.top for b in parts), max(b.bottom for b in parts)
            out.append((f, Box((lo_x + hi_x) / 2, (lo_y + hi_y) / 2, hi_x - lo_x, hi_y - lo_y)))
    return out


def clearance(blocks: Sequence[tuple[str, Box]], pad: float) -> Clear:
    """The test ``clear(p, q, ends)`` against ``blocks`` grown by ``pad``."""
    def clear(p: Point, q: Point, ends: tuple[str, str]) -> bool:
        return not any(segment_hits_box(p, q, b, pad) for n, b in blocks if n not in ends)
    return clear


def _ends(pl: Placement, style: LayoutStyle) -> tuple[dict[int, Point], dict[int, Point]]:
    """Where each regression leaves its source (right side) and enters its target (left
    side), keyed by ``id`` of its EdgeSpec; arrows sorted by where they head."""
    out_ports: dict[str, list] = defaultdict(list)
    in_ports: dict[str, list] = defaultdict(list)
    for e in pl.graph.regs:
        ch = pl.dummies[(e.source, e.target)]
        first = pl.ypos[ch[0]] if ch else pl.ypos[e.target]
        lastp = pl.ypos[ch[-1]] if ch else pl.ypos[e.source]
        out_ports[e.source].append((e, first))
        in_ports[e.target].append((e, lastp))
    start: dict[int, Point] = {}
    end: dict[int, Point] = {}
    for v, lst in out_ports.items():
        ys = ports(pl.boxes[v], "right", [o for _, o in lst], style.port_spacing, style.port_share)
        for (e, _), y in zip(lst, ys):
            start[id(e)] = (pl.boxes[v].right, y)
    for v, lst in in_ports.items():
        ys = ports(pl.boxes[v], "left", [o for _, o in lst], style.port_spacing, style.port_share)
        for (e, _), y in zip(lst, ys):
            end[id(e)] = (pl.boxes[v].left, y)
    return start, end


def route_regressions(pl: Placement, clear: Clear, style: LayoutStyle
                      ) -> tuple[list[Edge], set[str]]:
    """Stage 4a: the regression arrows (see the module's description)."""
    def dummy_run(d) -> list[Point]:
        k = d[3]
        return [(pl.col_x[k] - pl.col_w[k] / 2, pl.ypos[d]),
                (pl.col_x[k] + pl.col_w[k] / 2, pl.ypos[d])]

    start, end = _ends(pl, style)
    failed: set[str] = set()
    routes: list[Edge] = []
    for e in pl.graph.regs:
        p, q = start[id(e)], end[id(e)]
        ends = (e.source, e.target)
        if clear(p, q, ends):
            pts = [p, q]
        else:
            full = [p]
            for d in pl.dummies[(e.source, e.target)]:
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
                failed.add("regression")
            pts = round_bends(pts, lambda a, b, ends=ends: clear(a, b, ends), style.bend_radius,
                              style.bend_points)
        routes.append(Edge(e.source, e.target, e.kind, e.label, e.key, tuple(pts), None))
    return routes, failed


def route_loadings(pl: Placement, style: LayoutStyle) -> list[Edge]:
    """Stage 4b: the loadings, straight from the factor's side facing its items."""
    routes: list[Edge] = []
    boxes = pl.boxes
    for f in pl.graph.items_by_factor:
        fb = boxes[f]
        side = pl.footprint.item_side[f]
        specs = [e for e in pl.graph.loads if e.source == f and pl.graph.item_of.get(e.target) == f]
        if side in ("left", "right"):
            ys = ports(fb, side, [boxes[e.target].y for e in specs], style.side_loading_spacing,
                       style.port_share)
            for e, y in zip(specs, ys):
                ib = boxes[e.target]
                p = (fb.left, y) if side == "left" else (fb.right, y)
                q = (ib.right, ib.y) if side == "left" else (ib.left, ib.y)
                routes.append(Edge(e.source, e.target, e.kind, e.label, e.key, (p, q), None))
        else:
            xs = ports(fb, "top", [boxes[e.target].x for e in specs], style.port_spacing,
                       style.port_share)
            for e, x_ in zip(specs, xs):
                ib = boxes[e.target]
                p = (x_, fb.top) if side == "above" else (x_, fb.bottom)
                q = (ib.x, ib.bottom) if side == "above" else (ib.x, ib.top)
                routes.append(Edge(e.source, e.target, e.kind, e.label, e.key, (p, q), None))
    return routes


def route_covariances(pl: Placement, clear: Clear, arc_step: float, style: LayoutStyle
                      ) -> tuple[list[Edge], set[str]]:
    """Stage 4c: covariance arcs on the outer side of the column (left, or right for the
    last column), bulging by ``arc_base + arc_step`` per box between their ends."""
    layer, last, boxes = pl.graph.layer, pl.graph.last, pl.boxes
    by_node: dict[str, list] = defaultdict(list)
    for e in pl.graph.covs:
        by_node[e.source].append((e, e.target))
        by_node[e.target].append((e, e.source))
    cov_port: dict = {}
    for v, lst in by_node.items():
        side = "right" if (layer[v] == last and last > 0) else "left"
        ys = ports(boxes[v], side, [boxes[o].y for _, o in lst], style.cov_port_spacing,
                   style.port_share)
        for (e, _), y in zip(lst, ys):
            xb = boxes[v].left if side == "left" else boxes[v].right
            cov_port[(id(e), v)] = (xb, y)
    failed: set[str] = set()
    routes: list[Edge] = []
    for e in pl.graph.covs:
        span = covariance_span(e, pl.graph, pl.order)
        p0, p1 = cov_port[(id(e), e.source)], cov_port[(id(e), e.target)]
        sign = 1 if (layer[e.source] == last and last > 0) else -1
        bulge = style.arc_base + arc_step * span
        c = (min(p0[0], p1[0]) + sign * bulge if sign < 0 else max(p0[0], p1[0]) + bulge,
             (p0[1] + p1[1]) / 2)
        pts = bezier(p0, c, p1, n=style.curve_points)
        ends = (e.source, e.target)
        if not all(clear(pts[i], pts[i + 1], ends) for i in range(len(pts) - 1)):
            failed.add("covariance")
        routes.append(Edge(e.source, e.target, e.kind, e.label, e.key, pts, None, curved=True))
    return routes, failed


def _best_label_box(i: int, r: Edge, size: tuple[float, float], pl: Placement,
                    placed: list[Box], segments: tuple[np.ndarray, np.ndarray, np.ndarray],
                    style: LayoutStyle) -> Box | None:
    """The best position of route ``i``'s label box of ``size`` (None if none fits)."""
    seg_p, seg_q, seg_route = segments
    all_boxes = list(pl.boxes.values())
    best_box, best_score = None, math.inf
    for rank, t in enumerate(style.label_positions(r.kind)):
        cx, cy = point_at(r.points, t)
        lb = Box(cx, cy, size[0], size[1])
        if lb.left < 0 or lb.top < 0 or lb.right > pl.width or lb.bottom > pl.height:
            continue
        if any(lb.overlaps(b, style.label_box_pad) for b in all_boxes):
            continue
        if any(lb.overlaps(b, style.label_label_pad) for b in placed):
            continue
        hit = segments_hit_box(seg_p, seg_q, lb, style.label_arrow_pad)
        crossings = len(set(seg_route[hit].tolist()) - {i})
        score = crossings * style.crossing_cost + rank * style.rank_cost
        if score < best_score:
            best_box, best_score = lb, score
    return best_box


def place_labels(routes: list[Edge], pl: Placement, label_font_size: float,
                 item_font_size: float, style: LayoutStyle) -> tuple[list[Edge], set[str]]:
    """Stage 5: every label placed, loadings first, then regressions, then covariances,
    shorter arrows first within a kind. Returns the routes with their label boxes."""
    priority = {"loading": 0, "regression": 1, "covariance": 2}
    idx = sorted(range(len(routes)), key=lambda i: (
        priority[routes[i].kind],
        sum(math.dist(routes[i].points[k], routes[i].points[k + 1])
            for k in range(len(routes[i].points) - 1))))
    segments = (np.array([r.points[k] for r in routes for k in range(len(r.points) - 1)]),
                np.array([r.points[k + 1] for r in routes for k in range(len(r.points) - 1)]),
                np.array([i for i, r in enumerate(routes) for _ in range(len(r.points) - 1)]))
    placed: list[Box] = []
    labelled: dict[int, Box | None] = {}
    lsizes: dict[int, float] = {}
    failed: set[str] = set()
    for i in idx:
        r = routes[i]
        if not r.label:
            labelled[i] = None
            continue
        lsize = label_font_size if r.kind == "regression" else item_font_size
        lsizes[i] = lsize
        tw, th = text_size((r.label,), lsize)
        size = (tw + style.label_pad_w, th * style.label_height_share + style.label_pad_h)
        best_box = _best_label_box(i, r, size, pl, placed, segments, style)
        if best_box is None:
            failed.add(r.kind)
        else:
            placed.append(best_box)
        labelled[i] = best_box
    return [Edge(r.source, r.target, r.kind, r.label, r.key, r.points, labelled[i], r.curved,
                 lsizes.get(i, label_font_size)) for i, r in enumerate(routes)], failed
