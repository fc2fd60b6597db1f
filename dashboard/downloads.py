"""What a stakeholder may download from a run directory: the report, the figures, the tables.

Only files meant for sharing are offered: ``report.html``, ``report.docx``,
``figures/*.png|svg`` and ``tables/*.csv`` (all written under the run's small-cell rule);
respondent-level files (``responses.*``, ``exclusions.csv``, ``log.csv``) never are.
Tables are served formula-safe (:func:`adoption.rundir.safe_csv_frame`, through
:func:`ui.csv_bytes`), whatever wrote the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ui import csv_bytes

#: The report's files and their MIME types.
REPORTS = {"report.html": "text/html",
           "report.docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
FIGURE_TYPES = {".png": "image/png", ".svg": "image/svg+xml"}


@dataclass(frozen=True)
class Offer:
    """One file to offer: its name in the run directory and its MIME type."""

    name: str
    mime: str


def reports(run_dir: Path) -> list[Offer]:
    """The report files the run wrote."""
    return [Offer(n, m) for n, m in REPORTS.items() if (run_dir / n).is_file()]


def figures(run_dir: Path) -> dict[str, list[Offer]]:
    """Figure stem -> its PNG and SVG files in ``figures/`` (only the formats present)."""
    out: dict[str, list[Offer]] = {}
    folder = run_dir / "figures"
    for f in sorted(folder.glob("*")) if folder.is_dir() else []:
        if f.is_file() and f.suffix in FIGURE_TYPES:
            out.setdefault(f.stem, []).append(Offer(f"figures/{f.name}", FIGURE_TYPES[f.suffix]))
    return out


def tables(run_dir: Path) -> list[Offer]:
    """The run's CSV tables."""
    folder = run_dir / "tables"
    return [Offer(f"tables/{f.name}", "text/csv")
            for f in (sorted(folder.glob("*.csv")) if folder.is_dir() else []) if f.is_file()]


def table_csv(path: Path) -> bytes:
    """A run's CSV as text cells, unchanged except that formula-like cells are escaped."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    return csv_bytes(df)
