"""The report as one self-contained HTML file (no CDN, no network).

plotly.js is inlined once, with the first figure (``include_plotlyjs=True``), and later
figures reuse it (``False``). Fonts are the reader's own; there are no images to fetch.
The page is rendered with Jinja2 from ``templates/report.html.j2`` with autoescaping on:
every text from the results (titles, labels, item codes) is escaped.

Printed or saved as PDF (``@media print``), the page shows each figure's static SVG in
place of the interactive one (scaled to the page, no toolbar), lets table cells wrap,
puts tables wider than :data:`~adoption.report.content.PORTRAIT_MAX_CHARS` characters on
landscape pages and keeps every figure and table on one page.
"""

from __future__ import annotations

from pathlib import Path

from adoption import __version__
from adoption.report.content import Figure, Report, Table

TEMPLATES = Path(__file__).resolve().parent / "templates"

#: plotly's configuration for every figure: no link to plotly's site, no cloud button.
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "showSendToCloud": False,
                 "toImageButtonOptions": {"format": "svg"}}


#: the plotly template of the report's interactive figures (plotly's own default)
PLOTLY_TEMPLATE = "plotly"


def numbering(report: Report) -> dict[str, int]:
    """APA numbers: tables 1, 2, ... and figures 1, 2, ... in the order they appear."""
    out: dict[str, int] = {}
    nt = nf = 0
    for s in report.sections:
        for b in s.blocks:
            if isinstance(b, Table):
                nt += 1
                out[b.key] = nt
            elif isinstance(b, Figure):
                nf += 1
                out[b.key] = nf
    return out


def cell_class(table: Table, j: int, cell) -> str:
    """CSS classes of a body cell: 'stub' (aligned left), 'kv' (wrapping text), 'm-<mark>'."""
    cls = []
    if table.left(j):
        cls.append("stub")
    if table.key in ("methods", "spec") and j > 0:
        cls.append("kv")
    mark = getattr(cell, "mark", None)
    if mark:
        cls.append(f"m-{mark}")
    return " ".join(cls)


def plot_html(report: Report) -> dict[str, str]:
    """Each figure's ``<div>`` and script; plotly.js inlined in the first one only.

    A figure without a plotly version is inlined as SVG.
    """
    out = {}
    first = True
    for f in report.figures():
        if f.plotly is None:
            if f.svg:   # a static figure: inline SVG (no file to fetch)
                text = f.svg.decode("utf-8")
                out[f.key] = text[text.find("<svg"):]
            continue
        # plotly's own template, not the process-wide default that a figure takes when it is
        # made: importing streamlit changes that default, and the same report differed in bytes
        fig = type(f.plotly)(f.plotly).update_layout(template=PLOTLY_TEMPLATE)
        out[f.key] = fig.to_html(full_html=False, include_plotlyjs=first, include_mathjax=False,
                                 config=PLOTLY_CONFIG, div_id=f"plot-{f.key}")
        first = False
    return out


def print_images(report: Report) -> dict[str, str]:
    """For each interactive (plotly) figure, its static SVG as a ``data:`` URI.

    Printed (or saved as PDF), the page shows these instead of the interactive figures:
    they scale to the page width, carry no toolbar and cannot be cut off by a scrollbar.
    """
    import base64

    return {f.key: "data:image/svg+xml;base64," + base64.b64encode(f.svg).decode("ascii")
            for f in report.figures() if f.plotly is not None and f.svg}


def render_html(report: Report) -> str:
    """The page as a string."""
    import jinja2
    from markupsafe import Markup

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    plots = {k: Markup(v) for k, v in plot_html(report).items()}
    return env.get_template("report.html.j2").render(
        report=report, numbers=numbering(report), plots=plots, prints=print_images(report),
        version=__version__, cell_class=cell_class)


def write_html(report: Report, path: str | Path) -> Path:
    """Write ``report.html`` (UTF-8)."""
    p = Path(path)
    p.write_text(render_html(report), encoding="utf-8")
    return p
