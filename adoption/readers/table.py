"""What every reader returns: one file as read, before the survey spec is applied."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass
class RawTable:
    """One file as read, before the spec is applied.

    Attributes
    ----------
    header : column names in file order, as written (duplicates possible).
    rows : DataFrame with positional columns ``0..k-1`` (renamed later, once the header
        has been checked), one row per data row.
    format : 'sav', 'zsav', 'por', 'dta', 'csv' or 'xlsx'.
    encoding : the text encoding used (CSV) or reported by the file (SPSS, Stata).
    variable_labels : column -> label, where the file has them.
    value_labels : column -> {code: label}, where the file has them.
    missing_ranges : column -> [(lo, hi), ...] SPSS user-defined missing values/ranges.
    missing_user_values : column -> letters of Stata/SAS extended missing values.
    notes : (action, detail) pairs the reader wants logged.
    """

    header: list[str]
    rows: pd.DataFrame
    format: str
    encoding: str | None = None
    variable_labels: dict[str, str] = field(default_factory=dict)
    value_labels: dict[str, dict] = field(default_factory=dict)
    missing_ranges: dict[str, list[tuple]] = field(default_factory=dict)
    missing_user_values: dict[str, list] = field(default_factory=dict)
    notes: list[tuple[str, str]] = field(default_factory=list)


def reason(exc: BaseException) -> str:
    """A library's error text fit for a one-line message: its first line, at most 200
    characters (openpyxl and pyreadstat messages can run over several lines)."""
    text = (str(exc).strip().splitlines() or [""])[0]
    return text if len(text) <= 200 else text[:197] + "..."


#: reader notes that say what was detected about the file, shown by ``validate`` and ``run``
DETECTED = ("delimiter detected", "decimal comma detected", "encoding guessed", "mixed encodings",
            "xls read", "ods read")
