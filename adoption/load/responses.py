"""The load stage's entry point: export file -> :class:`LoadedResponses`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from adoption import readers
from adoption.audit import LogEntry
from adoption.errors import InputError
from adoption.load.answers import answers_to_numbers, maybe_numeric, user_missing_to_nan
from adoption.load.columns import check_path, check_spec_columns, clean_header, rename_to_spec, strip_qualtrics_rows
from adoption.load.common import STAGE, norm_text
from adoption.load.labels import category_columns, reconcile_value_labels, to_ascending
from adoption.load.pii import drop_pii, pseudonymise_id
from adoption.spec import Survey


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
    recodes : column -> the rule applied (``c -> 6 - c``) where the file's value labels
        ran differently from the spec's scale and the codes were recoded by them.
    category_labels : group or demographic column -> {:func:`~adoption.load.labels.category_key` of a value:
        label}: the file's value labels and the spec's group labels, reconciled.
    id_map : ``id, pseudonym`` when the id column looked like PII (e-mail addresses,
        phone numbers, IP addresses) and was pseudonymised, and the caller asked for the
        map (``keep_id_map``); never part of a run directory.
    ids_pseudonymised : what the ids looked like ('e-mail addresses'...) when they were
        pseudonymised, else None.
    """

    data: pd.DataFrame
    source: SourceInfo
    log: tuple[LogEntry, ...] = ()
    variable_labels: dict[str, str] = field(default_factory=dict)
    value_labels: dict[str, dict] = field(default_factory=dict)
    recodes: dict[str, str] = field(default_factory=dict)
    category_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    id_map: pd.DataFrame | None = field(default=None, repr=False)
    ids_pseudonymised: str | None = None


def load_responses(path: str | Path, survey: Survey, *, sheet: str | None = None,
                   keep_id_map: bool = False) -> LoadedResponses:
    """Read an export file and return its responses checked against the spec.

    Parameters
    ----------
    path : str or Path
        The export: ``.sav``, ``.zsav``, ``.por``, ``.dta``, ``.csv`` (also ``.tsv``,
        ``.txt``) or ``.xlsx``. Qualtrics and Google Forms CSV exports are recognised
        by their content.
    survey : Survey
        The validated spec; its items (and id, attention-check, time, group and
        demographic columns) must be in the file.
    sheet : str, optional
        Excel sheet to read (default: the first).
    keep_id_map : bool
        Return the map from original to pseudonymised ids (``id_map``) when the id
        column looks like PII and is replaced by salted hashes.

    Returns
    -------
    LoadedResponses
        ``data`` (index ``row``: 1-based data row number; item and attention-check
        columns float), ``source`` (path, sha256 of the bytes, format, rows, encoding),
        ``log`` (one entry per change), ``variable_labels`` and ``value_labels``.

    Raises
    ------
    InputError
        Missing or empty file, unknown extension, a file whose content is not what its
        extension says (e.g. a .sav renamed .csv), an unreadable or truncated file, a
        column present twice (also differing only in case or surrounding spaces), a
        spec column missing from the file (with the nearest column names), a text
        answer that matches none of the scale's labels (with column, row and the
        allowed labels), or value labels whose order cannot be reconciled with the spec.

    Notes
    -----
    Value labels in SPSS/Stata files. The numeric codes are what the file stores. For an
    item column with value labels, each label is compared (case and spacing ignored)
    with the spec's scale labels. If the matched codes say the file's numbers run the
    other way (SAQ.sav: 1 = Strongly agree ... 5 = Strongly disagree, against a spec
    with 1 = Strongly disagree), the column is recoded so that its numbers mean what the
    spec says (here c -> 6 - c), and the value labels returned are re-keyed to match.
    A map fitted on the matched labels (c -> c + b or c -> b - c) is applied to every
    value it sends into the scale; other values (e.g. 9 = "Not answered" when 9 is not
    declared missing) are left alone for the cleaning stage. If the labels share no text
    with the spec but their polarity (agree/disagree, likely/unlikely...) runs opposite to
    the spec's, loading stops rather than guess. Labels that cannot be reconciled
    otherwise also stop loading, naming the column and both sets of labels.

    Examples
    --------
    >>> loaded = load_responses("responses.sav", load_spec("survey.yaml"))  # doctest: +SKIP
    >>> loaded.data.loc[1, "PE1"]  # first respondent's answer  # doctest: +SKIP
    """
    p = Path(path)
    raw, digest = _read_raw(p, sheet)
    log: list[LogEntry] = [LogEntry(STAGE, action, detail=detail) for action, detail in raw.notes]
    df, variable_labels, out_format = _named_frame(p, raw, log)
    value_labels = {c: dict(v) for c, v in raw.value_labels.items()}
    missing_ranges = dict(raw.missing_ranges)
    df, by_wording = rename_to_spec(p, df, survey, log, variable_labels, value_labels, missing_ranges)
    if by_wording and raw.format == "csv" and any(norm_text(c) == "timestamp" for c in df.columns):
        out_format = "google-forms"
    df = drop_pii(df, survey, log)
    check_spec_columns(p, df, survey)
    df, id_map, kind = pseudonymise_id(df, survey.id, log, keep_id_map=keep_id_map)
    recodes = _answers_as_numbers(p, df, survey, value_labels, missing_ranges, log,
                                  log_numeric_text=raw.format != "csv")
    answer_cols = _answer_columns(survey)
    for col in df.columns:
        if col not in answer_cols:
            df[col] = maybe_numeric(df[col])
    labels = category_columns(p, df, survey, value_labels, log)

    keep = set(df.columns)
    source = SourceInfo(path=str(p), sha256=digest, format=out_format, rows=len(df),
                        encoding=raw.encoding)
    return LoadedResponses(
        data=df, source=source, log=tuple(log),
        variable_labels={c: t for c, t in variable_labels.items() if c in keep and t},
        value_labels={c: v for c, v in value_labels.items() if c in keep and v},
        recodes=recodes,
        category_labels={c: v for c, v in labels.items() if v},
        id_map=id_map, ids_pseudonymised=kind,
    )


def _read_raw(p: Path, sheet: str | None) -> tuple[readers.RawTable, str]:
    """The file read by the reader its extension and first bytes name, and the sha256 of
    its bytes."""
    try:
        fmt = check_path(p)
        readers.check_size(p, fmt)
        data = p.read_bytes()
    except OSError as exc:  # unreadable: permissions, a disk or network error, a name too long
        raise InputError(f"{p}: cannot read the file ({exc.strerror or exc.__class__.__name__}). "
                         "Check that it is readable, or copy it to a local disk and try again.") from None
    if not data:
        raise InputError(f"{p}: the file is empty (0 bytes). Export the responses again.")
    digest = hashlib.sha256(data).hexdigest()
    readers.check_magic(p, fmt, data[:512])
    if fmt in ("sav", "zsav"):
        fmt = readers.sniff_kind(data[:4]) or fmt  # a .zsav named .sav is still compressed
    if fmt in ("sav", "zsav", "por", "dta"):
        return readers.read_readstat(p, fmt), digest
    if fmt == "xlsx":
        return readers.read_xlsx(p, sheet), digest
    if fmt in ("xls", "ods"):
        return readers.read_old_sheet(p, fmt, sheet), digest
    return readers.read_csv(p, data), digest


def _named_frame(p: Path, raw: readers.RawTable,
                 log: list[LogEntry]) -> tuple[pd.DataFrame, dict[str, str], str]:
    """The rows under their checked column names, index ``row`` from 1, Qualtrics' extra
    header rows dropped and user-defined missing codes set to missing. Returns the
    frame, the variable labels (with Qualtrics' question texts) and the format."""
    header = clean_header(p, raw.header, log)
    df = raw.rows
    df.columns = header
    df.index = pd.RangeIndex(1, len(df) + 1, name="row")
    variable_labels = dict(raw.variable_labels)
    out_format = raw.format
    if raw.format in ("csv", "xlsx", "xls", "ods"):
        df, qualtrics_labels = strip_qualtrics_rows(df, log)
        if qualtrics_labels is not None:
            out_format = "qualtrics"
            variable_labels.update(qualtrics_labels)
    if len(df) == 0:
        raise InputError(f"{p}: the file has a header but no data rows. "
                         "Export the responses again (check the export's filters).")
    return user_missing_to_nan(df, raw, log), variable_labels, out_format


def _answer_columns(survey: Survey) -> list[str]:
    return list(dict.fromkeys([*survey.items, *(a.column for a in survey.screening.attention_checks)]))


def _answers_as_numbers(p: Path, df: pd.DataFrame, survey: Survey, value_labels: dict,
                        missing_ranges: dict, log: list[LogEntry], *,
                        log_numeric_text: bool) -> dict[str, str]:
    """Item and attention-check answers as numbers on the spec's scale, in place: text
    mapped, codes lined up with the spec's labels, descending scales made ascending.
    Re-keys ``value_labels`` to match; returns the recode rule of each recoded column."""
    recodes: dict[str, str] = {}
    for col in _answer_columns(survey):
        scale = survey.scale_of(col) if col in survey.items else survey.scale
        df[col] = answers_to_numbers(p, df[col], col, scale, log, log_numeric_text=log_numeric_text)
        if col in value_labels:
            df[col], value_labels[col] = reconcile_value_labels(
                p, df[col], col, value_labels[col], scale, missing_ranges.get(col, []), log,
                recodes)
        if col in survey.items:
            df[col], labels = to_ascending(p, df[col], col, scale, value_labels.get(col, {}),
                                           survey.missing.codes, log, recodes)
            if col in value_labels:
                value_labels[col] = labels
    return recodes
