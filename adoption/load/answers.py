"""Answers as numbers: user-defined missing codes set to missing, numeric text parsed,
label text ("Agree", "5 - Strongly agree") mapped by the spec's scale labels."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from adoption import readers
from adoption.audit import LogEntry
from adoption.errors import InputError
from adoption.load.common import STAGE, fmt_code, norm_label
from adoption.spec import Scale

#: text that means "no answer" in a numeric (item) column of a text export
NA_TOKENS = frozenset({"na", "n/a", "nan", "null", "none", "#n/a", ".", "<na>"})


def _ranges(ranges) -> str:
    return ", ".join(fmt_code(lo) if lo == hi else f"{fmt_code(lo)} thru {fmt_code(hi)}" for lo, hi in ranges)


def user_missing_to_nan(df: pd.DataFrame, raw: readers.RawTable, log: list[LogEntry]) -> pd.DataFrame:
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
                                detail="; ".join(f"{fmt_code(v)}: {k}" for v, k in hits.items())
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


def answers_to_numbers(p: Path, s: pd.Series, col: str, scale: Scale, log: list[LogEntry],
                        *, log_numeric_text: bool = True) -> pd.Series:
    """Item answers as float: numbers kept, numeric text parsed, label text mapped by the
    scale's labels (case and spacing ignored), 'NA'-like text to NaN.

    In a CSV every cell is text, so reading "4" as 4 is not logged there; in SPSS string
    variables and Excel text cells it is."""
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return s.astype("float64")
    labels = {norm_label(t): float(k) for k, t in scale.labels.items()}
    vals = s.dropna()

    def classify(v) -> tuple[float, str]:
        if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_)):
            return float(v), "number"
        key = norm_label(v)
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
            per_label[norm_label(v)] = per_label.get(norm_label(v), 0) + int(counts[v])
    n_label = by_kind.get("label", 0)
    if n_label:
        log.append(LogEntry(STAGE, "label text to number", column=col, count=n_label,
                            detail="; ".join(f"{k!r} -> {fmt_code(labels[k])} ({n})" for k, n in per_label.items())))
    n_numbered = by_kind.get("numbered label", 0)
    if n_numbered:
        shown = "; ".join(f"{str(v)!r} -> {fmt_code(r[0])}" for v, r in results.items() if r[1] == "numbered label")
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
    labels = {norm_label(t): float(k) for k, t in scale.labels.items()}
    where = f"{p}: column '{col}', data row {row}: answer {str(answer)!r}"
    if not labels:
        raise InputError(f"{where} has a number and a label, but the spec's scale has no labels "
                         "to check them against. Add scale.labels to the spec.")
    code = labels.get(norm_label(text))
    if code is None:
        raise InputError(f"{where}: label {text!r} matches none of the scale's labels ("
                         + "; ".join(f"{k} = {t}" for k, t in sorted(scale.labels.items()))
                         + "). Fix the answer or the spec's labels.")
    if code != num:
        raise InputError(f"{where} contradicts the spec's scale: the file says {fmt_code(num)} but the "
                         f"spec has {fmt_code(code)} = {scale.labels[int(code)]!r}. Check the export's "
                         "answer coding (reversed scale?) and the spec's labels.")
    return num


def maybe_numeric(s: pd.Series) -> pd.Series:
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
