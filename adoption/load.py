"""Stage 1: export file -> :class:`LoadedResponses`.

:func:`load_responses` reads one export (SPSS .sav/.zsav/.por, Stata .dta, CSV in any
common encoding and delimiter, Excel .xlsx, Qualtrics and Google Forms CSV exports),
checks it against the survey spec and returns the responses with

* one row per data row of the file, index ``row`` = 1-based data row number (first
  respondent = 1); no row is ever dropped here;
* PII columns removed (the spec's ``pii`` plus columns that look like e-mail
  addresses, phone numbers or IP addresses); an id column that looks like that is
  replaced by salted hashes (:func:`pseudonymise`);
* item and attention-check answers as numbers on the spec's scale (text labels mapped,
  SPSS user-defined missing codes set to missing, value labels that run the other way
  recoded by their text);
* every change as a :class:`~adoption.audit.LogEntry`.

Spec missing codes (``missing.codes``) and out-of-range values are left as numbers:
they are the cleaning stage's job.

The per-format readers live in :mod:`adoption.readers`.
"""

from __future__ import annotations

import difflib
import hashlib
import hmac
import os
import re
import secrets
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from adoption import readers
from adoption.audit import LogEntry
from adoption.errors import InputError
from adoption.spec import Scale, Survey, label_direction

STAGE = "load"


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
    category_labels : group or demographic column -> {:func:`category_key` of a value:
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


#: The log action of an item recoded because its scale runs descending, and the end of
#: its rule in ``LoadedResponses.recodes``.
DESCENDING_RECODE = "recoded: scale runs descending"
DESCENDING_NOTE = " (scale runs descending)"


def label_recodes(recodes: dict[str, str]) -> list[dict]:
    """The columns recoded by value labels, grouped by rule, in column order:
    ``[{"rule": "c -> 6 - c", "columns": ["PE1", "PE2"]}, ...]``."""
    groups: dict[str, list[str]] = {}
    for col, rule in recodes.items():
        groups.setdefault(rule, []).append(col)
    return [{"rule": rule, "columns": cols} for rule, cols in groups.items()]


def recode_warnings(recodes: dict[str, str]) -> list[str]:
    """One sentence per rule for the screen, results.json and the report, e.g. "3
    column(s) recoded c -> 6 - c because the file's value labels run the other way from
    the spec's scale: PE1, PE2, PE3"."""
    out = []
    for g in label_recodes(recodes):
        if g["rule"].endswith(DESCENDING_NOTE):
            out.append(f"{len(g['columns'])} column(s) recoded "
                       f"{g['rule'].removesuffix(DESCENDING_NOTE)} because the scale runs "
                       "descending (its lowest code is the most agreeing answer, said by the "
                       "spec or the file's value labels), so that higher numbers mean more "
                       f"agreement: {', '.join(g['columns'])}")
            continue
        why = ("the file's value labels run the other way from the spec's scale"
               if re.fullmatch(r"c -> \S+ - c", g["rule"]) else
               "the file's value labels differ from the spec's scale labels")
        out.append(f"{len(g['columns'])} column(s) recoded {g['rule']} because {why} (so that "
                   f"the numbers mean what the spec's labels say): {', '.join(g['columns'])}")
    return out


#: text that means "no answer" in a numeric (item) column of a text export
NA_TOKENS = frozenset({"na", "n/a", "nan", "null", "none", "#n/a", ".", "<na>"})

_EMAIL = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^\+?[\d\s().\-/]{7,24}$")
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_IPV6 = re.compile(r"^[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7}$")
_DECIMAL = re.compile(r"^-?\d+\.\d+$")
_DATE = re.compile(r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}$|^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}$")


# -- the entry point ---------------------------------------------------------------------
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
    try:
        fmt = _check_path(p)
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
        raw = readers.read_readstat(p, fmt)
    elif fmt == "xlsx":
        raw = readers.read_xlsx(p, sheet)
    elif fmt in ("xls", "ods"):
        raw = readers.read_old_sheet(p, fmt, sheet)
    else:
        raw = readers.read_csv(p, data)

    log: list[LogEntry] = [LogEntry(STAGE, action, detail=detail) for action, detail in raw.notes]
    header = _clean_header(p, raw.header, log)
    df = raw.rows
    df.columns = header
    df.index = pd.RangeIndex(1, len(df) + 1, name="row")
    variable_labels = dict(raw.variable_labels)
    value_labels = {c: dict(v) for c, v in raw.value_labels.items()}
    out_format = raw.format

    if raw.format in ("csv", "xlsx", "xls", "ods"):
        df, qualtrics_labels = _strip_qualtrics_rows(df, log)
        if qualtrics_labels is not None:
            out_format = "qualtrics"
            variable_labels.update(qualtrics_labels)
    if len(df) == 0:
        raise InputError(f"{p}: the file has a header but no data rows. "
                         "Export the responses again (check the export's filters).")

    df = _user_missing_to_nan(df, raw, log)

    missing_ranges = dict(raw.missing_ranges)
    renamed = _match_wording(p, df, survey, log, variable_labels)
    if renamed:
        df = df.rename(columns=renamed)
        for old, new in renamed.items():
            # a header that was the question text becomes the variable label
            variable_labels.setdefault(old, old)
        _rekey(renamed, variable_labels, value_labels, missing_ranges)
        if raw.format == "csv" and any(_norm_text(c) == "timestamp" for c in df.columns):
            out_format = "google-forms"
    case_renamed = _match_case(df, survey, log)
    if case_renamed:
        df = df.rename(columns=case_renamed)
        _rekey(case_renamed, variable_labels, value_labels, missing_ranges)

    df = _drop_pii(df, survey, log)
    _check_spec_columns(p, df, survey)
    id_map, kind = None, None
    if survey.id in df.columns and (kind := _pii_kind(df[survey.id])) is not None:
        key = secrets.token_bytes(32)  # random for this load, never stored
        hashed = pseudonymise(df[survey.id], key)
        if keep_id_map:
            id_map = pd.DataFrame({"id": df[survey.id], "pseudonym": hashed}).dropna().drop_duplicates()
        df[survey.id] = hashed
        log.append(LogEntry(STAGE, "id column pseudonymised", column=survey.id,
                            count=int(hashed.notna().sum()),
                            detail=f"most values look like {kind}: each id replaced by a salted hash "
                                   "(HMAC-SHA-256 with a key drawn at random for this run and not kept), "
                                   "so that repeated ids are still found"
                                   + ("; the map to the original ids is kept outside the run"
                                      if keep_id_map else "")))

    recodes: dict[str, str] = {}
    answer_cols = list(dict.fromkeys(
        [*survey.items, *(a.column for a in survey.screening.attention_checks)]))
    for col in answer_cols:
        scale = survey.scale_of(col) if col in survey.items else survey.scale
        df[col] = _answers_to_numbers(p, df[col], col, scale, log,
                                      log_numeric_text=raw.format != "csv")
        if col in value_labels:
            df[col], value_labels[col] = _reconcile_value_labels(
                p, df[col], col, value_labels[col], scale, missing_ranges.get(col, []), log,
                recodes)
        if col in survey.items:
            df[col], labels = _to_ascending(p, df[col], col, scale, value_labels.get(col, {}),
                                            survey.missing.codes, log, recodes)
            if col in value_labels:
                value_labels[col] = labels
    for col in df.columns:
        if col not in answer_cols:
            df[col] = _maybe_numeric(df[col])
    for g in survey.groups:
        if g.labels and g.column in df.columns:
            df[g.column] = _group_labels_to_codes(df[g.column], g.column, g.labels, log)
    labels = {}
    for col in dict.fromkeys([*survey.group_columns, *survey.demographics]):
        if col in df.columns:
            spec = next((g.labels for g in survey.groups if g.column == col), {})
            df[col], labels[col] = _reconcile_category_labels(
                p, df[col], col, value_labels.get(col, {}), spec, log)

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


def pseudonymise(ids: pd.Series, key: bytes) -> pd.Series:
    """Each id as ``"id-"`` and 16 hex digits of its HMAC-SHA-256 under ``key``.

    Equal ids get equal pseudonyms (duplicate ids are still found), missing stays
    missing; without ``key`` the original cannot be recovered, and 64 bits keep the
    chance that two of a million ids collide near 3e-8.

    Examples
    --------
    >>> pseudonymise(pd.Series(["a@x.org", None, "a@x.org"]), b"k").tolist()
    ['id-86666a4f916deac4', None, 'id-86666a4f916deac4']
    """
    def one(v) -> str:
        return "id-" + hmac.new(key, str(v).encode("utf-8"), hashlib.sha256).hexdigest()[:16]

    return ids.map(one, na_action="ignore").astype(object).where(ids.notna(), None)


def _rekey(renamed: dict[str, str], *mappings: dict) -> None:
    """Move the entries of renamed columns to their new names, in place."""
    for old, new in renamed.items():
        for m in mappings:
            if old in m:
                m[new] = m.pop(old)


# -- file and header checks ---------------------------------------------------------------
def _check_path(p: Path) -> str:
    if not p.exists():
        raise InputError(f"{p}: file not found. Check the path (or the spec's 'data:' key).")
    if p.is_dir():
        raise InputError(f"{p}: is a folder, not an export file. Give the file's path.")
    if not stat.S_ISREG(p.stat().st_mode):  # after symbolic links: a FIFO or device never ends
        raise InputError(f"{p}: is not a regular file (a pipe, device or socket{_target(p)}). "
                         "Save the export to a file and give that file's path.")
    fmt = readers.EXTENSIONS.get(p.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(readers.EXTENSIONS))
        hint = " Save it as .xlsx or CSV." if p.suffix.lower() == ".numbers" else ""
        raise InputError(f"{p}: unknown file type '{p.suffix or '(none)'}' (known: {known}).{hint}")
    return fmt


def _target(p: Path) -> str:
    return f", via a link to {os.path.realpath(p)}" if p.is_symlink() else ""


#: characters that cannot be seen in a header: byte-order marks left inside the text
#: (two files pasted together), zero-width spaces and joiners, soft hyphens
_INVISIBLE = re.compile("[\ufeff\u200b\u200c\u200d\u2060\u00ad]")
#: control characters (C0, DEL, C1) and the Unicode line and paragraph separators
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _escape_controls(s: str) -> str:
    """``s`` with control characters written as escapes ('\\x0b'), fit for one line."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), s)


def _clean_header(p: Path, header: list[str], log: list[LogEntry]) -> list[str]:
    """Strip surrounding spaces and invisible characters from column names; refuse
    names present twice."""
    out = []
    for j, h in enumerate(header):
        s = _INVISIBLE.sub("", str(h)).strip()
        if _CONTROL.search(s):
            # a tab, line break or escape inside a name would break (or rewrite) the
            # terminal line of any message that names the column: show it escaped
            s = _escape_controls(s)
            log.append(LogEntry(STAGE, "control characters in column name escaped", column=s,
                                detail=f"column {j + 1}"))
        if not s:
            s = f"column_{j + 1}"
            log.append(LogEntry(STAGE, "unnamed column named", column=s,
                                detail=f"column {j + 1} has no header; called '{s}'"))
        elif s != h:
            log.append(LogEntry(STAGE, "column name trimmed", column=s,
                                detail=f"surrounding spaces or invisible characters removed from {h!r}"))
        out.append(s)
    seen: dict[str, int] = {}
    for j, h in enumerate(out):
        key = h.casefold()
        if key in seen:
            i = seen[key]
            raise InputError(
                f"{p}: column '{_escape_controls(str(header[j]))}' (column {j + 1}) duplicates "
                f"'{_escape_controls(str(header[i]))}' (column {i + 1}); "
                "names that differ only in case or spaces count as the same. Rename or remove one.")
        seen[key] = j
    return out


def _strip_qualtrics_rows(df: pd.DataFrame, log: list[LogEntry]) -> tuple[pd.DataFrame, dict | None]:
    """Detect a Qualtrics export and drop its extra header rows.

    Current exports have three header rows: codes, question texts, and ``{"ImportId":
    ...}`` JSON; legacy exports have two (codes, question texts), recognised by the
    ``StartDate`` column whose first row reads ``Start Date``. Returns the rows left and
    the question texts (as variable labels), or ``(df, None)`` for other files.
    """
    if len(df) >= 2:
        third = df.iloc[1].dropna().astype(str)
        if not third.empty and third.str.lstrip().str.startswith('{"ImportId"').mean() >= 0.5:
            skip = 2
        else:
            skip = 0
    else:
        skip = 0
    if not skip and len(df) >= 1 and "StartDate" in df.columns \
            and str(df.iloc[0]["StartDate"]).strip() == "Start Date":
        skip = 1
    if not skip:
        return df, None
    texts = {c: str(v).strip() for c, v in df.iloc[0].items() if not pd.isna(v) and str(v).strip()}
    out = df.iloc[skip:].copy()
    out.index = pd.RangeIndex(1, len(out) + 1, name="row")
    what = "question texts, ImportId" if skip == 2 else "question texts"
    log.append(LogEntry(STAGE, "Qualtrics header rows skipped", count=skip,
                        detail=f"row(s) 2-{skip + 1} of the file ({what}) are not responses; "
                               "question texts kept as variable labels; row 1 = first respondent"))
    return out, texts


def _user_missing_to_nan(df: pd.DataFrame, raw: readers.RawTable, log: list[LogEntry]) -> pd.DataFrame:
    """Set SPSS user-defined missing values/ranges and Stata extended missing to NaN."""
    for col, ranges in raw.missing_ranges.items():
        if col not in df.columns or not ranges:
            continue
        s = df[col]
        mask = pd.Series(False, index=s.index)
        numeric = pd.to_numeric(s, errors="coerce")
        for lo, hi in ranges:
            if isinstance(lo, str) or isinstance(hi, str):
                mask |= s.astype("object").isin([lo, hi])
            else:
                mask |= numeric.between(lo, hi)
        n = int(mask.sum())
        if n:
            hits = s[mask].value_counts()
            df[col] = s.mask(mask)
            log.append(LogEntry(STAGE, "user-missing code to missing", column=col, count=n,
                                detail="; ".join(f"{_fmt(v)}: {k}" for v, k in hits.items())
                                + f" (file declares missing: {_ranges(ranges)})"))
    for col, letters in raw.missing_user_values.items():
        if col not in df.columns or not letters:
            continue
        s = df[col]
        mask = s.astype("object").map(lambda v: isinstance(v, str) and v in letters).astype(bool)
        n = int(mask.sum())
        if n:
            df[col] = s.mask(mask)
            log.append(LogEntry(STAGE, "user-missing code to missing", column=col, count=n,
                                detail="extended missing values " + ", ".join(
                                    f".{k}" for k in sorted(set(s[mask])))))
    return df


def _ranges(ranges) -> str:
    return ", ".join(_fmt(lo) if lo == hi else f"{_fmt(lo)} thru {_fmt(hi)}" for lo, hi in ranges)


def _fmt(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


# -- matching spec columns ----------------------------------------------------------------
def _norm_text(s: str) -> str:
    """Case, whitespace and punctuation-insensitive form of a question text."""
    s = unicodedata.normalize("NFKC", str(s)).casefold()
    s = re.sub(r"[^\w\s]", " ", s)
    return " ".join(s.split())


def _match_wording(p: Path, df: pd.DataFrame, survey: Survey, log: list[LogEntry],
                   variable_labels: dict[str, str]) -> dict[str, str]:
    """Rename columns to the item codes whose wording they carry, for items whose code
    is not a column. Compared ignoring case, spacing and punctuation, in this order:
    the header itself (Google Forms: headers are the question texts), the row text of
    a grid header ``Question [row text]``, then the column's question text from the file
    (SPSS variable label, Qualtrics question row; for a Qualtrics matrix, also the part
    after the last ' - ')."""
    cols = set(df.columns)
    wanted: dict[str, list[str]] = {}
    for item in survey.items:
        if item in cols:
            continue
        text = survey.constructs[survey.construct_of(item)].items[item]
        if text.strip():
            wanted.setdefault(_norm_text(text), []).append(item)
    if not wanted:
        return {}
    taken = set(_spec_columns(survey))
    renamed: dict[str, str] = {}
    how: dict[str, str] = {}
    claimed: dict[str, str] = {}
    for col in df.columns:
        if col in taken:
            continue
        keys = [(_norm_text(col), "header")]
        m = re.search(r"\[([^\]]+)\]\s*$", str(col))
        if m:
            keys.append((_norm_text(m.group(1)), "header's [row text]"))
        label = variable_labels.get(col, "")
        if label:
            keys.append((_norm_text(label), "question text in the file"))
            if " - " in label:
                keys.append((_norm_text(label.rsplit(" - ", 1)[1]), "question text in the file"))
        for key, source in keys:
            if key not in wanted:
                continue
            items = wanted[key]
            if len(items) > 1:
                raise InputError(f"{p}: column '{col}' matches the wording of several items "
                                 f"({', '.join(items)}). Give the items distinct wording in the spec.")
            item = items[0]
            if item in claimed:
                raise InputError(f"{p}: columns '{claimed[item]}' and '{col}' both match the "
                                 f"wording of item {item}. Remove or rename one of them.")
            claimed[item] = col
            renamed[col] = item
            how[col] = source
            break
    for col, item in renamed.items():
        log.append(LogEntry(STAGE, "column renamed (question text to item code)", column=item,
                            detail=f"column {col!r}: its {how[col]} matched the spec wording of {item}"))
    return renamed


def _match_case(df: pd.DataFrame, survey: Survey, log: list[LogEntry]) -> dict[str, str]:
    """Rename a column to a spec name that differs only in case (SPSS .por upper-cases)."""
    by_fold = {}
    for c in df.columns:
        by_fold.setdefault(str(c).casefold(), []).append(c)
    out = {}
    cols = set(df.columns)
    for name in _spec_columns(survey):
        if name in cols:
            continue
        cands = by_fold.get(name.casefold(), [])
        if len(cands) == 1 and cands[0] not in out:
            out[cands[0]] = name
            log.append(LogEntry(STAGE, "column renamed (case)", column=name,
                                detail=f"file column {cands[0]!r} taken as spec column {name!r}"))
    return out


def _spec_columns(survey: Survey) -> list[str]:
    names = [*survey.items]
    if survey.id:
        names.append(survey.id)
    names += [a.column for a in survey.screening.attention_checks]
    if survey.screening.time_column:
        names.append(survey.screening.time_column)
    names += list(survey.group_columns) + list(survey.demographics)
    return list(dict.fromkeys(names))


def _check_spec_columns(p: Path, df: pd.DataFrame, survey: Survey) -> None:
    cols = [str(c) for c in df.columns]
    missing = [n for n in _spec_columns(survey) if n not in cols]
    if not missing:
        return
    items = [n for n in missing if n in survey.items]
    what = "spec item(s)" if len(items) == len(missing) else "spec column(s)"
    hints = []
    spare = [c for c in cols if c not in set(_spec_columns(survey))]  # not already used
    for n in missing[:5]:
        close = difflib.get_close_matches(n, spare, n=1, cutoff=0.6) or \
            difflib.get_close_matches(n.casefold(), [c.casefold() for c in spare], n=1, cutoff=0.6)
        if close:
            hints.append(f"'{_orig(close[0], spare)}' for {n}")
    hint = (" Did you mean " + ", ".join(hints) + "?") if hints else ""
    shown = ", ".join(missing[:20]) + (f" and {len(missing) - 20} more" if len(missing) > 20 else "")
    raise InputError(f"{p}: {len(missing)} {what} not in the file: {shown}.{hint}\n"
                     "Rename the columns in the spec (or the file) so that they match.")


def _orig(folded: str, cols: list[str]) -> str:
    for c in cols:
        if c == folded or c.casefold() == folded:
            return c
    return folded


# -- PII ----------------------------------------------------------------------------------
def _pii_kind(values: pd.Series) -> str | None:
    """'e-mail addresses', 'IP addresses' or 'phone numbers' if most (more than half)
    of the non-empty text values look like that, else None. Numbers stored as numbers
    are not inspected (an id column of integers is not a phone list)."""
    vals = [v.strip() for v in values.dropna() if isinstance(v, str) and v.strip()]
    if not vals:
        return None
    for kind, test in (("e-mail addresses", lambda v: bool(_EMAIL.match(v))),
                       ("IP addresses", _looks_like_ip),
                       ("phone numbers", _looks_like_phone)):
        if sum(map(test, vals)) > len(vals) / 2:
            return kind
    return None


def _looks_like_ip(v: str) -> bool:
    if _IPV4.match(v):
        return True
    # IPv6: hex groups and colons, with '::' or all 8 groups (so that '10:05:00' is a time)
    return bool(_IPV6.match(v)) and ("::" in v or v.count(":") == 7)


def _looks_like_phone(v: str) -> bool:
    """A phone number: 7-15 digits with +, a leading 0, or separators between digit
    groups; not a date, an IPv4 address or a plain decimal number (a coordinate)."""
    if not _PHONE.match(v) or _DATE.match(v) or _IPV4.match(v) or _DECIMAL.match(v):
        return False
    if not 7 <= sum(ch.isdigit() for ch in v) <= 15:
        return False
    return v.startswith(("+", "(", "0")) or bool(re.search(r"\d[\s.\-/()]+\d", v))


def _drop_pii(df: pd.DataFrame, survey: Survey, log: list[LogEntry]) -> pd.DataFrame:
    drop = []
    cols = set(df.columns)
    for name in survey.pii:
        if name in cols:
            drop.append(name)
            log.append(LogEntry(STAGE, "column dropped (PII)", column=name, count=len(df),
                                detail="listed under pii in the spec"))
        else:
            log.append(LogEntry(STAGE, "PII column not found", column=name, count=0,
                                detail="listed under pii in the spec but not in the file; check its name"))
    protected = set(survey.items) | {a.column for a in survey.screening.attention_checks}
    for col in df.columns:
        if col in drop or col in protected:
            continue
        kind = _pii_kind(df[col])
        if kind is None:
            continue
        if col == survey.id:
            continue  # the id is pseudonymised by load_responses, never dropped
        drop.append(col)
        log.append(LogEntry(STAGE, "column dropped (PII)", column=col, count=len(df),
                            detail=f"most non-empty values look like {kind}"))
    return df.drop(columns=drop)


# -- answers to numbers --------------------------------------------------------------------
def _norm_label(s: str) -> str:
    return " ".join(str(s).split()).casefold()


def _answers_to_numbers(p: Path, s: pd.Series, col: str, scale: Scale, log: list[LogEntry],
                        *, log_numeric_text: bool = True) -> pd.Series:
    """Item answers as float: numbers kept, numeric text parsed, label text mapped by the
    scale's labels (case and spacing ignored), 'NA'-like text to NaN.

    In a CSV every cell is text, so reading "4" as 4 is not logged there; in SPSS string
    variables and Excel text cells it is."""
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return s.astype("float64")
    labels = {_norm_label(t): float(k) for k, t in scale.labels.items()}
    vals = s.dropna()

    def classify(v) -> tuple[float, str]:
        if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_)):
            return float(v), "number"
        key = _norm_label(v)
        if key == "":
            return np.nan, "blank"
        if key in NA_TOKENS:
            return np.nan, "na"
        try:
            return float(key), "numeric text"
        except ValueError:
            pass
        if key in labels:
            return labels[key], "label"
        row = next(r for r, x in vals.items() if type(x) is type(v) and x == v)
        numbered = numbered_label(" ".join(str(v).split()))
        if numbered is not None:
            return _check_numbered(p, col, row, v, numbered, scale), "numbered label"
        allowed = "; ".join(f"{k} = {t}" for k, t in sorted(scale.labels.items())) or \
            "(the spec's scale has no labels: add scale.labels, or recode the answers to numbers)"
        raise InputError(f"{p}: column '{col}', data row {row}: answer {str(v)!r} matches none of the "
                         f"scale's labels. Allowed: {allowed}. Fix the answer or the spec's labels.")

    # classify each distinct answer once (a column holds a handful of distinct values)
    obj = vals.astype(object)
    counts = obj.value_counts(sort=False)
    results = {v: classify(v) for v in counts.index}
    out = pd.Series(np.nan, index=s.index, name=s.name, dtype="float64")
    out[vals.index] = obj.map({v: r[0] for v, r in results.items()}).astype("float64").to_numpy()
    by_kind: dict[str, int] = {}
    per_label: dict[str, int] = {}
    for v, (num, kind) in results.items():
        by_kind[kind] = by_kind.get(kind, 0) + int(counts[v])
        if kind == "label":
            per_label[_norm_label(v)] = per_label.get(_norm_label(v), 0) + int(counts[v])
    n_label = by_kind.get("label", 0)
    if n_label:
        log.append(LogEntry(STAGE, "label text to number", column=col, count=n_label,
                            detail="; ".join(f"{k!r} -> {_fmt(labels[k])} ({n})" for k, n in per_label.items())))
    n_numbered = by_kind.get("numbered label", 0)
    if n_numbered:
        shown = "; ".join(f"{str(v)!r} -> {_fmt(r[0])}" for v, r in results.items() if r[1] == "numbered label")
        log.append(LogEntry(STAGE, "numbered label to number", column=col, count=n_numbered,
                            detail=f"answers written as number and label (SurveyMonkey style), "
                                   f"each checked against the spec's scale: {shown}"))
    n_text_num = by_kind.get("numeric text", 0)
    if n_text_num and log_numeric_text:
        log.append(LogEntry(STAGE, "numeric text to number", column=col, count=n_text_num,
                            detail="numbers stored as text read as numbers"))
    n_na = by_kind.get("na", 0)
    if n_na:
        log.append(LogEntry(STAGE, "missing-value text to missing", column=col, count=n_na,
                            detail="text such as 'NA', 'n/a', '.' read as missing"))
    return out


#: "5 - Strongly agree", "5. Strongly agree", "5) Strongly agree", "Strongly agree (5)"
#: (the label starts with a letter, so that a date '2024-03-01' is not a numbered label)
_NUMBER_FIRST = re.compile(r"([+-]?\d+(?:\.\d+)?)\s*(?:-|–|—|:|\.|\)|=)\s*([^\W\d_].*)")
_NUMBER_LAST = re.compile(r"([^\W\d_].*?)\s*[\(\[]\s*([+-]?\d+(?:\.\d+)?)\s*[\)\]]")


def numbered_label(text: str) -> tuple[float, str] | None:
    """(number, label) of an answer written with both, as SurveyMonkey and some Qualtrics
    exports do ("5 - Strongly agree", "Strongly agree (5)"); None for other text."""
    m = _NUMBER_FIRST.fullmatch(text.strip())
    if m:
        return float(m.group(1)), m.group(2)
    m = _NUMBER_LAST.fullmatch(text.strip())
    if m:
        return float(m.group(2)), m.group(1)
    return None


def _check_numbered(p: Path, col: str, row, answer, numbered: tuple[float, str], scale: Scale) -> float:
    """The number of a numbered answer whose number and label agree with the spec's scale;
    otherwise stop, naming the column, the row and what the scale says."""
    num, text = numbered
    labels = {_norm_label(t): float(k) for k, t in scale.labels.items()}
    where = f"{p}: column '{col}', data row {row}: answer {str(answer)!r}"
    if not labels:
        raise InputError(f"{where} has a number and a label, but the spec's scale has no labels "
                         "to check them against. Add scale.labels to the spec.")
    code = labels.get(_norm_label(text))
    if code is None:
        raise InputError(f"{where}: label {text!r} matches none of the scale's labels ("
                         + "; ".join(f"{k} = {t}" for k, t in sorted(scale.labels.items()))
                         + "). Fix the answer or the spec's labels.")
    if code != num:
        raise InputError(f"{where} contradicts the spec's scale: the file says {_fmt(num)} but the "
                         f"spec has {_fmt(code)} = {scale.labels[int(code)]!r}. Check the export's "
                         "answer coding (reversed scale?) and the spec's labels.")
    return num


_NONANSWER = re.compile(r"not answered|no answer|missing|don.?t know|refused|prefer not|"
                        r"not applicable|\bn/?a\b|skipped")

def _is_number(k) -> bool:
    try:
        float(k)
        return True
    except (TypeError, ValueError):
        return False


def _reconcile_value_labels(p: Path, s: pd.Series, col: str, file_labels: dict, scale: Scale,
                            missing_ranges, log: list[LogEntry],
                            recodes: dict[str, str] | None = None) -> tuple[pd.Series, dict]:
    """Make the file's numeric codes mean what the spec's labels say (see
    :func:`load_responses`, Notes). Returns the column and its re-keyed value labels; a
    recode is logged and its rule put in ``recodes[col]``."""
    if not scale.labels:
        # no labels to line the codes up with: the file's labels can still tell which
        # way the scale runs, read by the one direction rule (see _to_ascending)
        return s, file_labels

    def declared_missing(code: float) -> bool:
        return any(not isinstance(lo, str) and lo <= code <= hi for lo, hi in missing_ranges)

    spec = {_norm_label(t): float(k) for k, t in scale.labels.items()}
    coded = {float(k): v for k, v in file_labels.items() if _is_number(k) and not declared_missing(float(k))}
    if not coded:
        return s, file_labels
    matches = {c: spec[_norm_label(t)] for c, t in coded.items() if _norm_label(t) in spec}
    file_desc = "; ".join(f"{_fmt(c)} = {_escape_controls(str(t))}" for c, t in sorted(coded.items()))
    spec_desc = "; ".join(f"{k} = {t}" for k, t in sorted(scale.labels.items()))
    if not matches:
        fd, sd = label_direction(coded), label_direction(scale.labels)
        if fd and sd and fd != sd:
            raise InputError(
                f"{p}: column '{col}': the file's value labels ({file_desc}) seem to run the other "
                f"way from the spec's ({spec_desc}), and no label text matches.\n"
                "Write the spec's scale labels with the file's wording so that the codes can be "
                "recoded by label, or recode the column in the file.")
        log.append(LogEntry(STAGE, "value labels differ from spec", column=col, count=0,
                            detail=f"file: {file_desc}; spec: {spec_desc}; numeric codes kept as stored"))
        return s, file_labels
    if all(c == n for c, n in matches.items()):
        fd, sd = label_direction(coded), label_direction(scale.labels)
        if fd and sd and fd != sd:
            raise InputError(
                f"{p}: column '{col}': the file's value labels ({file_desc}) seem to run the other "
                f"way from the spec's ({spec_desc}), though the few labels that match agree.\n"
                "Write the spec's scale labels with the file's wording for every point, or recode "
                "the column in the file.")
        return s, file_labels
    # fit n = a*c + b with a = +1 or -1 on the matched labels
    fit = None
    for a in (1.0, -1.0):
        bs = {n - a * c for c, n in matches.items()}
        if len(bs) == 1 and (len(matches) >= 2 or a == 1.0):
            fit = (a, bs.pop())
            break
    lo, hi = float(scale.min), float(scale.max)
    if fit is not None:
        a, b = fit
        # the file's labelled answer codes must all land on the spec's scale; codes
        # labelled like a non-answer ("Not answered", "Don't know") are left out
        answer_codes = [c for c, t in coded.items() if not _NONANSWER.search(_norm_label(t))]
        if any(not lo <= a * c + b <= hi for c in answer_codes):
            fit = None
            if len(set(matches.values())) == len(matches) and set(answer_codes) <= set(matches):
                pass  # every answer label matched: fall through to a recode by label text
            else:
                raise InputError(
                    f"{p}: column '{col}': the file's value labels ({file_desc}) cannot be lined up "
                    f"with the spec's scale labels ({spec_desc}).\nMake the spec's labels use the "
                    "file's wording for every point, or recode the column in the file.")
    if fit is not None:

        def remap(v: float) -> float:
            if np.isnan(v):
                return v
            n = a * v + b
            return n if lo <= n <= hi and float(v).is_integer() else v
        rule = (f"c -> {_fmt(b)} - c" if a == -1 else f"c -> c {'+' if b >= 0 else '-'} {_fmt(abs(b))}")
    else:
        observed = {float(v) for v in s.dropna().unique()}
        unmatched = sorted(v for v in observed if v not in matches and lo <= v <= hi)
        if unmatched or len(set(matches.values())) != len(matches):
            raise InputError(
                f"{p}: column '{col}': the file's value labels ({file_desc}) cannot be lined up with "
                f"the spec's scale labels ({spec_desc}).\nMake the spec's labels use the file's "
                "wording for every point, or recode the column in the file.")

        def remap(v: float) -> float:
            return matches.get(v, v) if not np.isnan(v) else v
        rule = "by label text"
    new = s.map(remap).astype("float64")
    changed = int(((new != s) & s.notna()).sum())
    pairs = ", ".join(f"{_fmt(c)}->{_fmt(remap(c))}" for c in sorted(coded) if remap(c) != c)
    unmatched_labels = [t for c, t in sorted(coded.items()) if c not in matches]
    note = f"; file labels not in the spec: {', '.join(unmatched_labels)}" if unmatched_labels else ""
    if recodes is not None:
        recodes[col] = rule
    log.append(LogEntry(STAGE, "recoded by value labels", column=col, count=changed,
                        detail=f"file labels {file_desc} run differently from the spec's ({spec_desc}); "
                               f"recoded {rule} ({pairs}) so that the numbers mean what the spec says"
                               + note))
    relabelled = {}
    for k, t in file_labels.items():
        key = remap(float(k)) if _is_number(k) else k
        relabelled[key] = t
    return new, relabelled




def _to_ascending(p: Path, s: pd.Series, col: str, scale: Scale, file_labels: dict,
                  missing_codes, log: list[LogEntry],
                  recodes: dict[str, str] | None = None) -> tuple[pd.Series, dict]:
    """An item whose answers run descending (1 = Strongly agree) recoded to ascending,
    ``c -> min + max - c`` (:meth:`Scale.reverse`), so that higher means more agreement.

    Descending is what the spec says (``scale.direction``, else its labels' wording);
    a spec that says neither and has no labels takes the direction of the file's value
    labels. (With spec labels, the file's codes were already lined up with the spec's
    by :func:`_reconcile_value_labels`.) Values outside ``min..max``, non-integers and
    declared missing codes are left for the cleaning stage. Logged as
    :data:`DESCENDING_RECODE` with the rule and the reason, and its rule (ending in
    :data:`DESCENDING_NOTE`) added to ``recodes[col]`` after any recode by value labels,
    so that validate, the run's warnings, results.json and the report say it as they
    say those. Returns the column and its re-keyed value labels."""
    coded = {float(k): v for k, v in file_labels.items() if _is_number(k)}
    by_file = label_direction(coded) if not scale.labels else 0
    desc = "; ".join(f"{_fmt(c)} = {_escape_controls(str(t))}" for c, t in sorted(coded.items()))
    if scale.direction == "ascending" and by_file == -1:
        raise InputError(
            f"{p}: column '{col}': the file's value labels ({desc}) run from agreeing to "
            "disagreeing, but the spec's scale says direction: ascending.\nCorrect the spec "
            "(direction: descending, or give the scale's labels) or recode the column.")
    if scale.descending:
        reason = ("the spec's scale.direction is descending" if scale.direction else
                  "the spec's scale labels run from agreeing to disagreeing "
                  f"({scale.min} = {scale.labels.get(scale.min)})")
    elif by_file == -1:
        reason = f"the file's value labels run from agreeing to disagreeing ({desc})"
    else:
        return s, file_labels
    lo, hi = float(scale.min), float(scale.max)
    skip = {float(c) for c in missing_codes}

    def remap(v: float) -> float:
        ok = not np.isnan(v) and lo <= v <= hi and float(v).is_integer() and v not in skip
        return float(scale.reverse(v)) if ok else v

    new = s.map(remap).astype("float64")
    if recodes is not None:
        rule = f"c -> {scale.min + scale.max} - c{DESCENDING_NOTE}"
        recodes[col] = f"{recodes[col]}, then {rule}" if col in recodes else rule
    log.append(LogEntry(STAGE, DESCENDING_RECODE, column=col,
                        count=int(((new != s) & s.notna()).sum()),
                        detail=f"{reason}; recoded c -> {scale.min + scale.max} - c so that "
                               "higher numbers mean more agreement"))
    return new, {(remap(float(k)) if _is_number(k) else k): t for k, t in file_labels.items()}


def _group_labels_to_codes(s: pd.Series, col: str, labels: dict, log: list[LogEntry]) -> pd.Series:
    """A group column written as label text ('Female', as Google Forms writes it)
    becomes the spec's codes, so that a .csv and a .sav of the same survey agree. Only
    when every non-empty value is one of the group's labels; otherwise left as is."""
    if pd.api.types.is_numeric_dtype(s):
        return s
    codes = {_norm_label(t): (float(k) if _is_number(k) else k) for k, t in labels.items()}
    vals = s.dropna()
    keys = vals.astype(str).map(_norm_label)
    if vals.empty or not keys.isin(list(codes)).all():
        return s
    out = pd.Series(np.nan, index=s.index, name=s.name, dtype="float64") \
        if all(isinstance(v, float) for v in codes.values()) else pd.Series(pd.NA, index=s.index, dtype=object)
    out[vals.index] = keys.map(codes).to_numpy()
    log.append(LogEntry(STAGE, "label text to number", column=col, count=len(vals),
                        detail="group labels read as the spec's codes: "
                               + "; ".join(f"{t} -> {_fmt(codes[_norm_label(t)])}" for t in labels.values())))
    return out


def category_key(v) -> str:
    """A group or demographic value as it is shown and looked up: 1.0 -> '1', 'F' -> 'F'.

    Examples
    --------
    >>> [category_key(v) for v in (2.0, 2, np.float64(1.5), "F")]
    ['2', '2', '1.5', 'F']
    """
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def _reconcile_category_labels(p: Path, s: pd.Series, col: str, file_labels: dict, spec_labels: dict,
                               log: list[LogEntry]) -> tuple[pd.Series, dict[str, str]]:
    """The labels of a group or demographic column: the file's value labels and the
    spec's group labels, which must agree code by code.

    Where both name the same labels under other codes (the file: 1 = Male, 2 = Female;
    the spec: 1 = Female, 2 = Male), the column is recoded by label text so that each
    respondent keeps the group the file gives them, as items are recoded (logged).
    Where they disagree otherwise (the file: 1 = Female; the spec: 1 = Men), loading
    stops: a group name is a finding of the report, and neither side can be chosen
    without the user.

    Returns
    -------
    column, labels : the column (recoded where needed) and {category_key: label}.
    """
    file = {category_key(k): " ".join(str(t).split()) for k, t in file_labels.items()}
    spec = {category_key(k): str(t) for k, t in spec_labels.items()}
    conflicts = sorted(k for k in spec if k in file and _norm_label(spec[k]) != _norm_label(file[k]))
    if not conflicts:
        if file and set(file) - set(spec):
            log.append(LogEntry(STAGE, "value labels used for categories", column=col, count=0,
                                detail="labels from the file: " + "; ".join(
                                    f"{k} = {_escape_controls(t)}" for k, t in file.items() if k not in spec)))
        return s, {**file, **spec}
    by_text = {_norm_label(t): k for k, t in spec.items()}
    moves = {k: by_text.get(_norm_label(file[k])) for k in conflicts}
    if all(moves.values()) and len(set(moves.values())) == len(moves) and set(moves.values()) <= set(moves):
        codes = {_float_or_text(k): _float_or_text(v) for k, v in moves.items()}
        new = s.map(lambda v: codes.get(v, v) if pd.notna(v) else v)
        new = new.astype(s.dtype) if pd.api.types.is_numeric_dtype(s) else new
        log.append(LogEntry(STAGE, "recoded by value labels", column=col,
                            count=int(s.isin(list(codes)).sum()),
                            detail="the file's labels (" + _label_list(file) + ") give the spec's "
                                   "labels (" + _label_list(spec) + ") other codes; recoded by "
                                   "label text (" + ", ".join(f"{k}->{v}" for k, v in moves.items())
                                   + ") so that each respondent keeps the file's group"))
        return new, {**file, **spec}
    raise InputError(
        f"{p}: column '{col}': the file labels code(s) {', '.join(conflicts)} as "
        + "; ".join(f"{k} = {_escape_controls(file[k])}" for k in conflicts) + ", but the spec says "
        + "; ".join(f"{k} = {spec[k]}" for k in conflicts) + ".\nMake the spec's group labels "
        "use the file's wording for each code (or remove them to use the file's), or fix the file.")


def _float_or_text(k: str):
    try:
        return float(k)
    except ValueError:
        return k


def _label_list(labels: dict[str, str]) -> str:
    return "; ".join(f"{k} = {_escape_controls(t)}" for k, t in labels.items())


def _maybe_numeric(s: pd.Series) -> pd.Series:
    """Text columns whose every value is a number in plain decimal notation become
    numeric; text with leading zeros ('007', postcodes) or exponents ('1E1') stays text."""
    if s.dtype != object and not isinstance(s.dtype, pd.StringDtype):
        return s
    vals = s.dropna()
    if vals.empty:
        return s
    if not all(isinstance(v, (str, int, float, np.integer, np.floating)) and not isinstance(v, bool)
               for v in vals):
        return s
    texts = vals.astype(str).str.strip()
    if texts.str.match(r"^[+-]?0\d").any():
        return s
    if not texts.str.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)").all():
        # '1E1', 'inf', '1_000' are codes, not numbers: pd.to_numeric would turn an id
        # '1E1' into 10.0, the same as an id '10'
        return s.astype("str") if all(isinstance(v, str) for v in vals) else s
    conv = pd.to_numeric(texts, errors="coerce")
    if conv.isna().any():
        if all(isinstance(v, str) for v in vals):
            return s.astype("str")
        return s
    out = pd.to_numeric(s.astype("object").where(s.notna(), None).map(
        lambda v: v.strip() if isinstance(v, str) else v), errors="coerce")
    return out
