"""The decision brief (:class:`adoption.brief.Brief`) as one A4 page: PDF or PNG.

Drawn with matplotlib (no browser, no kaleido): the title, each part of the brief as
wrapped text, and the importance-performance map drawn by
:func:`adoption.figures.ipma.ipma_png`. The font shrinks (down to :data:`MIN_FONT`) until
everything fits on the one page.
"""

from __future__ import annotations

import io
import textwrap

import matplotlib.image as mpimg

from adoption.brief import CERTAINTY_NOTE, Brief
from adoption.figures.ipma import ipma_png

__all__ = ["brief_sections", "brief_page", "MIN_FONT"]

A4 = (8.27, 11.69)                  # inches, portrait
MARGIN = 0.6                        # inches
MAP_HEIGHT = 3.0                    # inches of the importance-performance map
MIN_FONT = 6.0
FONT = "DejaVu Sans"
IMPORTANCE = "standardised total effect"


def brief_sections(brief: Brief) -> list[tuple[str, list[str]]]:
    """The brief's parts in the order of the page, each (heading, sentences); empty parts left out."""
    parts = [("What we found", list(brief.findings)),
             ("How sure we are", [CERTAINTY_NOTE, *brief.certainty] if brief.certainty else []),
             ("Where to act", list(brief.act)),
             ("Groups", list(brief.groups)),
             ("Who was asked", list(brief.sample)),
             ("What this does not show", list(brief.limits))]
    return [(h, s) for h, s in parts if s]


def _lines(sections: list[tuple[str, list[str]]], width: int) -> list[tuple[str, str]]:
    """(kind, text) lines: 'head', 'text', 'map' (the map's place, after 'Where to act')."""
    out: list[tuple[str, str]] = []
    for head, sentences in sections:
        out.append(("head", head))
        for s in sentences:
            wrapped = textwrap.wrap(s, width=width - 2) or [""]
            out += [("text", ("• " if i == 0 else "  ") + w) for i, w in enumerate(wrapped)]
        if head == "Where to act":
            out.append(("map", ""))
    return out


def _layout(brief: Brief, with_map: bool) -> tuple[float, list[tuple[str, str]]]:
    """The largest font size (pt) at which the page holds every line, and the lines."""
    usable = (A4[1] - 2 * MARGIN - 0.5) * 72 - (MAP_HEIGHT * 72 if with_map else 0)
    size = 9.0
    while True:
        width = int((A4[0] - 2 * MARGIN) * 72 / (0.55 * size))
        lines = _lines(brief_sections(brief), width)
        if not with_map:
            lines = [x for x in lines if x[0] != "map"]
        height = sum(size * (1.9 if k == "head" else 1.35) for k, _ in lines if k != "map")
        if height <= usable or size <= MIN_FONT:
            return size, lines
        size -= 0.25


def brief_page(brief: Brief, fmt: str = "pdf", dpi: float = 150) -> bytes:
    """The brief on one A4 page, as PDF or PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.backends.backend_pdf import FigureCanvasPdf
    from matplotlib.figure import Figure

    with_map = not brief.ipma.empty
    size, lines = _layout(brief, with_map)
    fig = Figure(figsize=A4, dpi=dpi)
    (FigureCanvasPdf if fmt == "pdf" else FigureCanvasAgg)(fig)
    inch = 1 / A4[1]
    y = 1 - MARGIN * inch
    x = MARGIN / A4[0]
    fig.text(x, y, brief.title or "Brief", fontsize=14, fontweight="bold", family=FONT, va="top")
    y -= 0.4 * inch
    for kind, text in lines:
        if kind == "map":
            ax = fig.add_axes((x, y - MAP_HEIGHT * inch, 1 - 2 * x, MAP_HEIGHT * inch * 0.97))
            ax.imshow(mpimg.imread(io.BytesIO(ipma_png(brief.ipma, brief.outcome or "",
                                                       importance=IMPORTANCE)), format="png"))
            ax.set_axis_off()
            y -= MAP_HEIGHT * inch
            continue
        step = size * (1.9 if kind == "head" else 1.35) / 72 * inch
        fig.text(x, y - (step - size / 72 * inch), text, fontsize=size + (1.5 if kind == "head" else 0),
                 fontweight="bold" if kind == "head" else "normal", family=FONT, va="bottom")
        y -= step
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, facecolor="white")
    return buf.getvalue()
