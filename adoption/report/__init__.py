"""The report of a run: ``report.html`` (one self-contained file), ``report.docx`` and
``figures/`` (SVG and PNG), all in APA style. Showing only: nothing here computes.

    build.py           results.json -> Report (sections of paragraphs, tables, figures)
    content.py         the Report as data: Section, Paragraph, Table, Cell, Figure, Code
    tables/            the APA tables (numbers formatted here, and only here): common,
                       measurement, structural, groups
    tables_paper.py    the construct table and the EFA loadings (formatted the same way)
    ordinal_tables.py  the tables of an ordinal (WLSMV) run
    pls.py             the PLS-SEM sections
    moderation.py      the moderation tables (composite model)
    latent_moderation.py  the latent interactions' blocks
    flow.py            the sample-flow figure
    summary_text.py    the plain-language summary (associations, never causes)
    brief_page.py      the decision brief (adoption/brief.py) as one A4 page, PDF or PNG
    html.py            Report -> report.html (Jinja2 template, plotly.js inlined once)
    docx.py            Report -> report.docx (python-docx)

Public names: :func:`write_report` (write the report into a run directory),
:func:`rebuild_report` (write it again from a finished run's ``results.json``),
:func:`build_report` (results -> :class:`~adoption.report.content.Report`, nothing
written) and :func:`same_svg_bytes` (reproducible SVG bytes while open).

Use :func:`write_report` as the run directory's ``extra`` callback::

    write_run(out, results=results, ..., extra=lambda folder: write_report(folder, results))
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from adoption.report.build import build_report

__all__ = ["build_report", "rebuild_report", "same_svg_bytes", "write_report"]


def write_report(run_dir: str | Path, results: Mapping[str, Any]) -> dict[str, Path]:
    """Write ``report.html``, ``report.docx`` and ``figures/*.svg|png`` into ``run_dir``.

    Parameters
    ----------
    run_dir : folder to write into (the run directory, or write_run's temporary folder).
    results : the run's results, as written to ``results.json`` (plain values; numpy
        values are accepted too). Every part is optional: what is absent shows
        "not computed in this run".

    Returns
    -------
    dict
        Name (``"report.html"``, ``"report.docx"``, ``"figures/likert.svg"``, ...) -> path.
        The tables' CSV files are the pipeline's, not written here.
    """
    from adoption.report.docx import write_docx
    from adoption.report.html import write_html
    from adoption.rundir import to_jsonable

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    with same_svg_bytes():
        report = build_report(to_jsonable(results))
        written: dict[str, Path] = {}
        figs = run_dir / "figures"
        for f in report.figures():
            for ext, data in (("svg", f.svg), ("png", f.png)):
                if data:
                    figs.mkdir(exist_ok=True)
                    p = figs / f"{f.name}.{ext}"
                    p.write_bytes(data)
                    written[f"figures/{p.name}"] = p
        written["report.html"] = write_html(report, run_dir / "report.html")
        written["report.docx"] = write_docx(report, run_dir / "report.docx")
    return written


@contextmanager
def same_svg_bytes() -> Iterator[None]:
    """While open, matplotlib writes the same SVG bytes for the same figure: its clip-path
    ids come from a fixed ``svg.hashsalt`` instead of random ones, and its date from
    ``SOURCE_DATE_EPOCH`` (0, the reproducible-builds convention) instead of the clock."""
    import matplotlib

    before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = "0"
    try:
        with matplotlib.rc_context({"svg.hashsalt": "adoption"}):
            yield
    finally:
        if before is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = before


def rebuild_report(run_dir: str | Path) -> dict[str, Path]:
    """Write the report again from a finished run directory's ``results.json``
    (e.g. after a change to the report's layout; no model is refitted)."""
    import json

    run_dir = Path(run_dir)
    results_file = run_dir / "results.json"
    if not results_file.is_file():
        from adoption.errors import InputError

        raise InputError(f"{run_dir}: no results.json here; give the folder of a finished run.")
    from adoption.runfiles import record_files

    written = write_report(run_dir, json.loads(results_file.read_text(encoding="utf-8")))
    record_files(run_dir, sorted(written))  # the manifest now lists the new report's hashes
    return written
