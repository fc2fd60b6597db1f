"""Stage 1: export file -> :class:`LoadedResponses`.

(Being written: readers for .sav/.zsav/.por/.dta, CSV, Excel, Qualtrics, Google Forms.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from adoption.audit import LogEntry


@dataclass(frozen=True)
class SourceInfo:
    """Where the responses came from."""

    path: str
    sha256: str
    format: str          # 'sav', 'zsav', 'por', 'dta', 'csv', 'xlsx', 'qualtrics', 'google-forms'
    rows: int            # data rows read (respondents), before any exclusion
    encoding: str | None = None


@dataclass(frozen=True)
class LoadedResponses:
    """Responses as read, PII removed, item answers as numbers.

    Attributes
    ----------
    data : one row per input data row; index named ``row`` = 1-based data row number
        in the file. Item columns (named by the spec's item codes) are float with NaN
        for missing; other columns (id, demographics, time, attention checks, extra
        columns) are kept, PII columns removed.
    source : SourceInfo.
    log : what loading changed (user-missing codes, labels mapped, PII dropped).
    variable_labels : column -> question text, where the file has them.
    value_labels : column -> {code: label}, where the file has them.
    """

    data: pd.DataFrame
    source: SourceInfo
    log: tuple[LogEntry, ...] = ()
    variable_labels: dict[str, str] = field(default_factory=dict)
    value_labels: dict[str, dict] = field(default_factory=dict)
