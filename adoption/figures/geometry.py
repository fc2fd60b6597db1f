"""Plane geometry of a diagram, in inches with *y pointing down*: text sizes, boxes, and
whether a segment passes through a box.

Text sizes are estimated from the advance widths of DejaVu Sans (matplotlib's default
font), so no font machinery is needed here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "LINE_SPACING",
    "Box",
    "text_size",
    "segment_hits_box",
    "segments_hit_box",
    "polyline_hits_box",
    "bezier",
    "point_at",
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


def segments_hit_box(p: np.ndarray, q: np.ndarray, box: Box, pad: float = 0.0) -> np.ndarray:
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


def bezier(p0, c, p1, n: int = 28) -> tuple[tuple[float, float], ...]:
    out = []
    for k in range(n + 1):
        t = k / n
        a, b, d = (1 - t) ** 2, 2 * (1 - t) * t, t * t
        out.append((a * p0[0] + b * c[0] + d * p1[0], a * p0[1] + b * c[1] + d * p1[1]))
    return tuple(out)


def point_at(points: Sequence[tuple[float, float]], t: float) -> tuple[float, float]:
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
