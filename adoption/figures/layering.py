"""Layered drawing of a directed acyclic graph: columns, order within a column, and
heights that keep a minimum gap.

The three classic steps of a Sugiyama-style drawing, as pure functions of names and
numbers (no boxes, no text):

* :func:`longest_path_layers`: a node's column is the length of the longest path that
  reaches it; sinks with predecessors move to the last column.
* :func:`order_layers`: the barycentre heuristic, a few down and up sweeps, keeping the
  order with the fewest crossings (:func:`count_crossings`).
* :func:`isotonic_positions`: positions closest to the desired ones that keep the gaps
  (pool-adjacent-violators).

Reference: Sugiyama, K., Tagawa, S. & Toda, M. (1981). Methods for visual understanding
of hierarchical system structures. *IEEE Transactions on Systems, Man, and Cybernetics*,
11(2), 109-125.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

__all__ = ["longest_path_layers", "count_crossings", "order_layers", "isotonic_positions"]


def longest_path_layers(nodes: Sequence[str], arcs: Iterable[tuple[str, str]]) -> dict[str, int]:
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


def count_crossings(upper: list, lower_pos: dict, arcs_between: list[tuple]) -> int:
    """How many pairs of ``arcs_between`` (upper node, lower node) cross, for the order
    ``upper`` and the positions ``lower_pos`` of the lower layer."""
    pos_u = {v: i for i, v in enumerate(upper)}
    segs = [(pos_u[a], lower_pos[b]) for a, b in arcs_between]
    n = 0
    for i in range(len(segs)):
        for j in range(i + 1, len(segs)):
            if (segs[i][0] - segs[j][0]) * (segs[i][1] - segs[j][1]) < 0:
                n += 1
    return n


def order_layers(order: list[list], arcs: list[tuple], sweeps: int = 8) -> list[list]:
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
            total += count_crossings(o[i], pos, between)
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


def isotonic_positions(desired: list[float], weights: list[float], gaps: list[float]) -> list[float]:
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
