"""The sample-flow diagram (CONSORT style): rows received, excluded by reason, analysed.

Drawn with matplotlib as SVG (inlined in the web page) and PNG (Word file); the numbers
come from ``results["sample"]`` as they are, only formatted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adoption.format import format_int, is_number
from adoption.figures.save import figure_bytes

FONT_FAMILY = "DejaVu Sans"
INK = "#222222"
FILL = "#eef3f8"


def flow_lines(sample: Mapping[str, Any]) -> tuple[str, list[str], str]:
    """The three boxes' text: received, excluded (one line per reason), analysed."""
    excluded = [e for e in sample.get("excluded") or [] if is_number(e.get("count"))]
    total = sum(int(e["count"]) for e in excluded)
    return (f"Rows received\nn = {format_int(sample.get('rows_in'))}",
            [f"Excluded  n = {format_int(total)}"]
            + [f"• {e.get('reason', '')}: {format_int(e['count'])}" for e in excluded],
            f"Rows analysed\nn = {format_int(sample.get('rows_analysed'))}")


def flow_image(sample: Mapping[str, Any], fmt: str = "svg", dpi: float = 200) -> bytes:
    """The flow diagram as SVG (``fmt='svg'``) or PNG bytes."""
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    if fmt == "svg":
        from matplotlib.backends.backend_svg import FigureCanvasSVG as Canvas
    else:
        from matplotlib.backends.backend_agg import FigureCanvasAgg as Canvas
    top, side, bottom = flow_lines(sample)
    line_h = 0.172
    side_h = 0.25 + line_h * len(side)
    cx, bw, bh = 1.5, 2.0, 0.7
    H = 0.15 + bh + 0.35 + side_h + 0.35 + bh + 0.15
    W = 5.4
    fig = Figure(figsize=(W, H), dpi=dpi if fmt != "svg" else 72)
    Canvas(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, W)
    ax.set_ylim(H, 0)
    ax.set_axis_off()
    font = dict(family=FONT_FAMILY, color=INK)

    def box(x, y, w, h, text, align="center"):
        ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0,rounding_size=0.06",
                                    facecolor=FILL, edgecolor=INK, linewidth=1.0))
        if align == "center":
            ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=9,
                    linespacing=1.4, **font)
        else:
            ax.text(x + 0.12, y + 0.12, text, ha="left", va="top", fontsize=8.5,
                    linespacing=1.55, **font)

    box(cx - bw / 2, 0.15, bw, bh, top)
    y_side = 0.15 + bh + 0.35
    box(cx + 0.55, y_side, W - cx - 0.7, side_h, "\n".join(side), align="left")
    y_bottom = y_side + side_h + 0.35
    box(cx - bw / 2, y_bottom, bw, bh, bottom)
    arrow = dict(arrowstyle="-|>", mutation_scale=12, color=INK, linewidth=1.0)
    ax.add_patch(FancyArrowPatch((cx, 0.15 + bh), (cx, y_bottom), **arrow))
    ax.add_patch(FancyArrowPatch((cx, y_side + side_h / 2), (cx + 0.55, y_side + side_h / 2), **arrow))
    return figure_bytes(fig, fmt, dpi if fmt != "svg" else 72)
