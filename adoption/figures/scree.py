"""The scree plot of the EFA with parallel analysis: observed eigenvalues against those
of random data, the number of factors retained marked.

Drawn from ``results["efa"]["parallel"]["eigenvalues"]`` (columns ``k, observed_pc,
random_pc, observed_fa, random_fa``, see :class:`adoption.measurement.efa.ParallelResult`)
as SVG and PNG with matplotlib; nothing is computed here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from adoption.format import format_int, is_number
from adoption.figures.save import figure_bytes

FONT_FAMILY = "DejaVu Sans"
INK = "#222222"
OBSERVED = "#1f4e79"
RANDOM = "#b2182b"

__all__ = ["scree_image"]


def scree_image(eigenvalues: Sequence[Mapping[str, Any]], n_factors: Any = None,
                fmt: str = "svg", dpi: float = 200) -> bytes:
    """Scree plot: observed and random (parallel analysis) eigenvalues by number k.

    Parameters
    ----------
    eigenvalues : rows with ``k``, ``observed_fa``, ``random_fa`` and optionally
        ``observed_pc``, ``random_pc``, ``observed_minres``, ``random_minres`` (as in
        ``results["efa"]["parallel"]``).
    n_factors : factors retained; a vertical line marks it.
    fmt : "svg" or "png".

    Returns
    -------
    bytes
    """
    from matplotlib.figure import Figure

    rows = [r for r in eigenvalues if is_number(r.get("k"))]
    if not rows:
        raise ValueError("no eigenvalues to plot")
    fig = Figure(figsize=(5.6, 3.2), dpi=dpi if fmt != "svg" else 72)
    if fmt == "svg":
        from matplotlib.backends.backend_svg import FigureCanvasSVG as Canvas
    else:
        from matplotlib.backends.backend_agg import FigureCanvasAgg as Canvas
    Canvas(fig)
    ax = fig.add_axes((0.11, 0.16, 0.86, 0.74))
    font = dict(family=FONT_FAMILY)
    k = [r["k"] for r in rows]
    series = (("observed_pc", "Observed (components)", OBSERVED, "-", "o"),
              ("random_pc", "Random, 95th percentile (components)", RANDOM, "--", None),
              ("observed_fa", "Observed (factors)", OBSERVED, "-", "s"),
              ("random_fa", "Random, 95th percentile (factors)", RANDOM, ":", None),
              ("observed_minres", "Observed (minres communalities)", OBSERVED, "-", "^"),
              ("random_minres", "Random, 95th percentile (minres)", RANDOM, "-.", None))
    for key, label, color, style, marker in series:
        ys = [r.get(key) for r in rows]
        if not any(is_number(y) for y in ys):
            continue
        ax.plot(k, [y if is_number(y) else float("nan") for y in ys], linestyle=style,
                marker=marker, markersize=3.5, color=color, linewidth=1.1, label=label,
                markerfacecolor="white" if marker == "s" else color)
    if is_number(n_factors):
        ax.axvline(float(n_factors) + 0.5, color="#777777", linewidth=0.8, linestyle="-.")
        ax.text(float(n_factors) + 0.7, ax.get_ylim()[1] * 0.92,
                f"{format_int(n_factors)} factors retained", fontsize=7, color="#555555",
                ha="left", va="top", **font)
    ax.axhline(1.0, color="#bbbbbb", linewidth=0.6, zorder=0)
    ax.set_xlabel("Component / factor number", fontsize=7.5, **font)
    ax.set_ylabel("Eigenvalue", fontsize=7.5, **font)
    ax.tick_params(labelsize=7)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(frameon=False, prop=dict(family=FONT_FAMILY, size=6.5), loc="upper right")
    return figure_bytes(fig, fmt, dpi if fmt != "svg" else 72)
