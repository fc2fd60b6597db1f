"""Stage 2: :class:`~adoption.load.LoadedResponses` -> :class:`CleanedResponses`.

In order:

1. the spec's missing codes (99, -9...) become missing, per column, logged;
2. out-of-range answers (a 0, a 6 on a 1-5 item, a 2.5) become missing and are logged
   one line per value, or stop the run, as ``out_of_range`` in the spec says;
3. the completion time is read as seconds ("45,5", "00:45", "1:02:03" too), logged,
   with a warning where it cannot be read;
4. the screening rules mark careless rows (:mod:`adoption.screening`), each row with
   every rule it breaks;
5. under ``missing: listwise`` rows with any missing item are set aside too;
6. reverse-keyed items are recoded as ``min + max - x``.

Every input row ends up either analysed or excluded with its reasons:
``rows_in == rows_analysed + sum(excluded counts)`` always holds. Where a row breaks
several rules, the flow table counts it once, under the first rule in
:data:`REASON_ORDER`; the exclusion log lists all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from adoption import privacy, screening
from adoption.audit import LogEntry
from adoption.errors import InputError
from adoption.load import NA_TOKENS, LoadedResponses
from adoption.spec import Survey
from adoption.vocabulary import (
    REASON_ATTENTION,
    REASON_DUPLICATE_ID,
    REASON_FILTER,
    REASON_IDENTICAL,
    REASON_LISTWISE,
    REASON_LOW_VARIABILITY,
    REASON_NO_ANSWER,
    REASON_OUTLIER,
    REASON_STRAIGHT_LINING,
    REASON_TOO_FAST,
    REASON_TOO_MANY_MISSING,
)

#: Exclusion reasons in the order the flow table assigns a row's primary reason.
REASON_ORDER: tuple[str, ...] = (
    REASON_FILTER,
    REASON_NO_ANSWER,
    REASON_DUPLICATE_ID,
    REASON_IDENTICAL,
    REASON_ATTENTION,
    REASON_TOO_FAST,
    REASON_TOO_MANY_MISSING,
    REASON_STRAIGHT_LINING,
    REASON_LOW_VARIABILITY,
    REASON_OUTLIER,
    REASON_LISTWISE,
)


@dataclass(frozen=True)
class Flow:
    """The sample flow (CONSORT-style): where every input row went."""

    rows_in: int
    rows_analysed: int
    excluded: tuple[tuple[str, int], ...]  # (reason, count) in REASON_ORDER, primary reasons

    def to_dict(self) -> dict:
        return {"rows_in": self.rows_in, "rows_analysed": self.rows_analysed,
                "excluded": [{"reason": r, "count": c} for r, c in self.excluded]}


@dataclass(frozen=True)
class CleanedResponses:
    """Responses ready for analysis.

    Attributes
    ----------
    data : analysed rows only (index ``row``, the 1-based row of the input file), and only
        the columns the spec names (id, items, attention checks, time, groups,
        demographics; other columns are left out and logged); item columns recoded
        (reverse-keyed items flipped), missing as NaN.
    items : the spec's item columns, in questionnaire order.
    exclusions : one row per excluded input row: ``row``, ``id``, ``reason`` (primary),
        ``reasons`` (all, joined by '; ').
    flow : the sample flow.
    log : every value changed and row set aside, as LogEntry lines (loader's first).
    screening_scores : per input row, the screening statistics (longstring, irv,
        mahalanobis d2 and p, missing share) for the record.
    category_labels : group or demographic column -> {value: label}, from the loader
        (the file's value labels and the spec's group labels, reconciled).
    warnings : what the user must see (a screening column that cannot be read, so a
        rule was not applied to some or all rows).
    """

    data: pd.DataFrame
    items: tuple[str, ...]
    exclusions: pd.DataFrame
    flow: Flow
    log: tuple[LogEntry, ...]
    screening_scores: pd.DataFrame
    warnings: tuple[str, ...] = ()
    category_labels: dict[str, dict[str, str]] = field(default_factory=dict)


def _apply_missing_codes(df: pd.DataFrame, cols: list[str], codes: tuple[float, ...]) -> list[LogEntry]:
    log = []
    if not codes:
        return log
    for c in cols:
        hit = df[c].isin(codes)
        if hit.any():
            found = sorted(pd.unique(df.loc[hit, c]).tolist())
            log.append(LogEntry("clean", "missing code to missing", c, None, int(hit.sum()),
                                f"codes {found}"))
            df.loc[hit, c] = np.nan
    return log


def _out_of_range(df: pd.DataFrame, survey: Survey, path: str) -> list[LogEntry]:
    log = []
    for c in survey.items:
        sc = survey.scale_of(c)
        x = df[c]
        bad = x.notna() & ((x < sc.min) | (x > sc.max) | (x != np.round(x)))
        if not bad.any():
            continue
        if survey.out_of_range == "error":
            row = bad.idxmax()
            raise InputError(
                f"{path}: column {c}, row {row}: answer {x[row]:g} is outside the scale "
                f"{sc.min}..{sc.max} ({int(bad.sum())} such value(s)). Fix the data or set "
                "'out_of_range: missing' in the spec.")
        for row in x.index[bad]:
            log.append(LogEntry("clean", "out of range to missing", c, int(row), 1,
                                f"value {x[row]:g} outside {sc.min}..{sc.max}"))
        df.loc[bad, c] = np.nan
    return log


def _reverse(df: pd.DataFrame, survey: Survey) -> list[LogEntry]:
    log = []
    for name, con in survey.constructs.items():
        sc = con.scale or survey.scale
        for item in con.reverse:
            df[item] = sc.reverse(df[item])
            log.append(LogEntry("clean", "reverse-coded", item, None, int(df[item].notna().sum()),
                                f"recoded as {sc.min + sc.max} - x"))
    return log


def _completion_times(df: pd.DataFrame, survey: Survey, path: str) -> tuple[list[LogEntry], list[str]]:
    """The time column as seconds (in place), with the formats read logged and a warning
    when values cannot be read: the speed rule must never switch itself off unseen."""
    col = survey.screening.time_column
    if not col or col not in df:
        return [], []
    raw = df[col]
    seconds, formats = screening.durations_to_seconds(raw)
    df[col] = seconds
    log, warnings = [], []
    converted = {k: n for k, n in formats.items() if k not in ("number", "unreadable")}
    if converted:
        log.append(LogEntry("clean", "completion time read as seconds", col, None,
                            sum(converted.values()),
                            "; ".join(f"{n} value(s) as {k}" for k, n in converted.items())
                            + f" (e.g. {_example(raw, seconds)})"))
    blank = raw.astype(str).str.strip().str.casefold().isin(["", *NA_TOKENS])
    bad = raw.notna() & seconds.isna() & ~blank
    if bad.any():
        rows = ", ".join(map(str, df.index[bad][:5].tolist())) + (", ..." if bad.sum() > 5 else "")
        rule = (f"the speed screen (min_seconds {survey.screening.min_seconds:g}) "
                if survey.screening.min_seconds is not None else "the completion time ")
        effect = ("was not applied to any row" if seconds.notna().sum() == 0
                  else "was not applied to these rows")
        log.append(LogEntry("clean", "completion time unreadable", col, None, int(bad.sum()),
                            f"data rows {rows}: not seconds, mm:ss or h:mm:ss; set to missing"))
        warnings.append(f"{path}: time column '{col}': {int(bad.sum())} of {int(raw.notna().sum())} "
                        f"value(s) could not be read as a duration (data rows {rows}); {rule}{effect}. "
                        "Export the times as seconds, mm:ss or h:mm:ss.")
    return log, warnings


def _example(raw: pd.Series, seconds: pd.Series) -> str:
    """One converted value and its seconds, for the log."""
    text = raw.astype(str)
    changed = seconds.notna() & (pd.to_numeric(text, errors="coerce") != seconds)
    if not changed.any():
        return "values already in seconds"
    row = changed.idxmax()
    return f"{text[row]!r} -> {seconds[row]:g} s"


def _check_variance(data: pd.DataFrame, items: list[str], path: str) -> None:
    for c in items:
        x = data[c].dropna()
        if len(x) and x.nunique() < 2:
            raise InputError(
                f"{path}: column {c}: every analysed respondent gave the same answer "
                f"({x.iloc[0]:g}), so the item carries no information. Check the column or "
                "remove the item from the spec.")


def _declared_columns(df: pd.DataFrame, survey: Survey) -> tuple[pd.DataFrame, list]:
    """Only the columns the spec names (id, items, attention checks, time, groups,
    demographics): an undeclared column (a free-text comment, a timestamp, an e-mail
    the PII check could not recognise inside a sentence) never reaches an output."""
    s = survey.screening
    keep = [survey.id, *survey.items, *(a.column for a in s.attention_checks), s.time_column,
            *survey.group_columns, *survey.demographics]
    keep = set(c for c in keep if c)
    cols = [c for c in df.columns if c in keep]
    return df[cols], [c for c in df.columns if c not in keep]


def _pool_free_text(data: pd.DataFrame, survey: Survey) -> tuple[pd.DataFrame, list[LogEntry]]:
    """Text values of a demographic column held by fewer than ``small_cell`` analysed
    respondents become "other (suppressed)" (a free-text answer may be a name): the
    analysed responses, and so every file of the run, never hold them. Numeric codes and
    group columns (whose groups the comparisons need) are kept."""
    log = []
    for col in survey.demographics:
        if col not in data or col in survey.group_columns or pd.api.types.is_numeric_dtype(data[col]):
            continue
        pooled, n = privacy.pool_small_categories(data[col], survey.small_cell)
        if n:
            data = data.assign(**{col: pooled})
            log.append(LogEntry("clean", "rare categories pooled", col, None,
                                int((pooled == privacy.OTHER).sum()),
                                f"{n} text value(s) given by fewer than {survey.small_cell} analysed "
                                f"respondents each written as '{privacy.OTHER}' (not kept: they may "
                                "identify someone)"))
    return data, log


def clean(loaded: LoadedResponses, survey: Survey) -> CleanedResponses:
    """Recode, screen and account for every row.

    Parameters
    ----------
    loaded : LoadedResponses
        Output of :func:`adoption.load.load_responses`.
    survey : Survey
        The validated spec (missing codes, scale, reverse keys, screening rules).

    Returns
    -------
    CleanedResponses

    Raises
    ------
    InputError
        An out-of-range answer when the spec says ``out_of_range: error``; an item with
        no variance among the analysed rows; no row left to analyse.
    """
    path = loaded.source.path
    df = loaded.data.copy()
    items = survey.items
    log: list[LogEntry] = list(loaded.log)

    attn_cols = [a.column for a in survey.screening.attention_checks]
    log += _apply_missing_codes(df, items + [c for c in attn_cols if c in df], survey.missing.codes)
    log += _out_of_range(df, survey, path)
    time_log, warnings = _completion_times(df, survey, path)
    log += time_log

    absent = [f.column for f in survey.filters if f.column not in df]
    if absent:
        raise InputError(f"{path}: the spec's filters name column '{absent[0]}', which is not in "
                         "the data. Fix the column name under 'filters:'.")
    # Screening looks at the answers as given (before reverse-keying): a straight-liner
    # gives the same raw answer to reversed items too.
    scores = screening.scores(df, survey)
    reasons = screening.reasons(df, scores, survey)
    if survey.missing.method == "listwise":
        incomplete = df[items].isna().any(axis=1) & reasons.map(len).eq(0)
        for row in df.index[incomplete]:
            reasons[row] = [REASON_LISTWISE]

    log += _reverse(df, survey)

    excluded_mask = reasons.map(len) > 0
    order = {r: i for i, r in enumerate(REASON_ORDER)}
    primary = reasons[excluded_mask].map(lambda rs: min(rs, key=order.__getitem__))
    exclusions = pd.DataFrame({
        "row": df.index[excluded_mask].astype(int),
        "id": (df.loc[excluded_mask, survey.id].astype("string") if survey.id and survey.id in df
               else pd.Series(pd.NA, index=df.index[excluded_mask], dtype="string")).to_numpy(),
        "reason": primary.to_numpy(),
        "reasons": reasons[excluded_mask].map(lambda rs: "; ".join(
            sorted(rs, key=order.__getitem__))).to_numpy(),
    })
    for row, reason, all_reasons in exclusions[["row", "reason", "reasons"]].itertuples(index=False):
        log.append(LogEntry("clean", "row excluded", "", int(row), 1, all_reasons))

    counts = primary.value_counts()
    flow = Flow(rows_in=len(df), rows_analysed=int((~excluded_mask).sum()),
                excluded=tuple((r, int(counts[r])) for r in REASON_ORDER if r in counts))
    data, dropped = _declared_columns(df.loc[~excluded_mask], survey)
    data, pooled_log = _pool_free_text(data, survey)
    log += pooled_log
    if dropped:
        log.append(LogEntry("clean", "columns not in the spec left out", "", None, len(dropped),
                            "not carried into the analysed responses (they may hold free text or "
                            "personal data): " + ", ".join(map(str, dropped))))
    if flow.rows_analysed == 0:
        raise InputError(f"{path}: no row is left to analyse after screening "
                         f"({flow.rows_in} rows in). Check the screening thresholds in the spec.")
    _check_variance(data, items, path)
    return CleanedResponses(data=data, items=tuple(items), exclusions=exclusions, flow=flow,
                            log=tuple(log), screening_scores=scores, warnings=tuple(warnings),
                            category_labels=loaded.category_labels)
