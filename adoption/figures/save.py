"""A matplotlib figure as SVG or PNG bytes, the one place where figures are saved.

Text stays text in SVG (``svg.fonttype = "none"``): each label is a ``<text>`` element
that a researcher can edit in Inkscape or Illustrator, rather than glyph outlines. The
setting is scoped to the save (``matplotlib.rc_context``), so importing the project
changes nothing in a user's own matplotlib settings.
"""

from __future__ import annotations

import io

__all__ = ["SVG_RC", "figure_bytes"]

#: matplotlib settings in force while a figure is saved.
SVG_RC = {"svg.fonttype": "none"}


def figure_bytes(fig, fmt: str, dpi: float, **savefig) -> bytes:
    """``fig`` saved as ``fmt`` ("svg" or "png") on a white background.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    fmt : "svg" or "png".
    dpi : resolution (72 for SVG, where 1 unit is 1 point).
    savefig : further arguments of ``Figure.savefig`` (e.g. ``bbox_inches``).

    Returns
    -------
    bytes
    """
    import matplotlib

    buf = io.BytesIO()
    with matplotlib.rc_context(SVG_RC):
        fig.savefig(buf, format=fmt, dpi=dpi, facecolor="white", **savefig)
    return buf.getvalue()
