"""The audit log: one line for every value changed and every row or column dropped.

Stages return their log entries as part of their result (values, not state); the run
directory writes them all to ``log.csv``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd


@dataclass(frozen=True)
class LogEntry:
    """One thing a stage did to the data.

    Attributes
    ----------
    stage : 'load' or 'clean'.
    action : short verb phrase, e.g. 'user-missing code to missing',
        'out of range to missing', 'reverse-coded', 'column dropped (PII)', 'row excluded'.
    column : the column concerned, or '' for a whole row.
    row : the 1-based data row of the input file, or None when the entry covers many.
    count : how many values or rows the entry covers.
    detail : free text (the values, the rule and its threshold).
    """

    stage: str
    action: str
    column: str = ""
    row: int | None = None
    count: int = 1
    detail: str = ""


def log_frame(entries) -> pd.DataFrame:
    """The entries as a DataFrame with columns stage, action, column, row, count, detail."""
    cols = ["stage", "action", "column", "row", "count", "detail"]
    return pd.DataFrame([asdict(e) for e in entries], columns=cols).astype({"row": "Int64"})
