"""The file's columns against the spec: the path, the header, Qualtrics' extra header
rows, and the spec's columns found by name, by case or by question wording."""

from __future__ import annotations

import difflib
import os
import re
import stat
from pathlib import Path

import pandas as pd

from adoption import readers
from adoption.audit import LogEntry
from adoption.errors import InputError
from adoption.load.common import STAGE, escape_controls, has_controls, norm_text
from adoption.spec import Survey

#: characters that cannot be seen in a header: byte-order marks left inside the text
#: (two files pasted together), zero-width spaces and joiners, soft hyphens
_INVISIBLE = re.compile("[\ufeff\u200b\u200c\u200d\u2060\u00ad]")

def rekey(renamed: dict[str, str], *mappings: dict) -> None:
    """Move the entries of renamed columns to their new names, in place."""
    for old, new in renamed.items():
        for m in mappings:
            if old in m:
                m[new] = m.pop(old)


def check_path(p: Path) -> str:
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


def clean_header(p: Path, header: list[str], log: list[LogEntry]) -> list[str]:
    """Strip surrounding spaces and invisible characters from column names; refuse
    names present twice."""
    out = []
    for j, h in enumerate(header):
        s = _INVISIBLE.sub("", str(h)).strip()
        if has_controls(s):
            # a tab, line break or escape inside a name would break (or rewrite) the
            # terminal line of any message that names the column: show it escaped
            s = escape_controls(s)
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
                f"{p}: column '{escape_controls(str(header[j]))}' (column {j + 1}) duplicates "
                f"'{escape_controls(str(header[i]))}' (column {i + 1}); "
                "names that differ only in case or spaces count as the same. Rename or remove one.")
        seen[key] = j
    return out


def strip_qualtrics_rows(df: pd.DataFrame, log: list[LogEntry]) -> tuple[pd.DataFrame, dict | None]:
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


def rename_to_spec(p: Path, df: pd.DataFrame, survey: Survey, log: list[LogEntry],
                   variable_labels: dict, value_labels: dict,
                   missing_ranges: dict) -> tuple[pd.DataFrame, bool]:
    """Columns renamed to the spec's names they stand for: by question wording
    (:func:`match_wording`), then by case (:func:`match_case`). The label dicts are
    re-keyed in place; a header that was a question text becomes the variable label.
    Returns the frame and whether any column was matched by its wording."""
    renamed = match_wording(p, df, survey, log, variable_labels)
    if renamed:
        df = df.rename(columns=renamed)
        for old in renamed:
            variable_labels.setdefault(old, old)
        rekey(renamed, variable_labels, value_labels, missing_ranges)
    case_renamed = match_case(df, survey, log)
    if case_renamed:
        df = df.rename(columns=case_renamed)
        rekey(case_renamed, variable_labels, value_labels, missing_ranges)
    return df, bool(renamed)


def match_wording(p: Path, df: pd.DataFrame, survey: Survey, log: list[LogEntry],
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
            wanted.setdefault(norm_text(text), []).append(item)
    if not wanted:
        return {}
    taken = set(spec_columns(survey))
    renamed: dict[str, str] = {}
    how: dict[str, str] = {}
    claimed: dict[str, str] = {}
    for col in df.columns:
        if col in taken:
            continue
        keys = [(norm_text(col), "header")]
        m = re.search(r"\[([^\]]+)\]\s*$", str(col))
        if m:
            keys.append((norm_text(m.group(1)), "header's [row text]"))
        label = variable_labels.get(col, "")
        if label:
            keys.append((norm_text(label), "question text in the file"))
            if " - " in label:
                keys.append((norm_text(label.rsplit(" - ", 1)[1]), "question text in the file"))
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


def match_case(df: pd.DataFrame, survey: Survey, log: list[LogEntry]) -> dict[str, str]:
    """Rename a column to a spec name that differs only in case (SPSS .por upper-cases)."""
    by_fold = {}
    for c in df.columns:
        by_fold.setdefault(str(c).casefold(), []).append(c)
    out = {}
    cols = set(df.columns)
    for name in spec_columns(survey):
        if name in cols:
            continue
        cands = by_fold.get(name.casefold(), [])
        if len(cands) == 1 and cands[0] not in out:
            out[cands[0]] = name
            log.append(LogEntry(STAGE, "column renamed (case)", column=name,
                                detail=f"file column {cands[0]!r} taken as spec column {name!r}"))
    return out


def spec_columns(survey: Survey) -> list[str]:
    names = [*survey.items]
    if survey.id:
        names.append(survey.id)
    names += [a.column for a in survey.screening.attention_checks]
    if survey.screening.time_column:
        names.append(survey.screening.time_column)
    names += list(survey.group_columns) + list(survey.demographics)
    return list(dict.fromkeys(names))


def check_spec_columns(p: Path, df: pd.DataFrame, survey: Survey) -> None:
    cols = [str(c) for c in df.columns]
    missing = [n for n in spec_columns(survey) if n not in cols]
    if not missing:
        return
    items = [n for n in missing if n in survey.items]
    what = "spec item(s)" if len(items) == len(missing) else "spec column(s)"
    hints = []
    spare = [c for c in cols if c not in set(spec_columns(survey))]  # not already used
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
