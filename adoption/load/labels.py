"""Value labels reconciled with the spec: item codes recoded where the file's labels run
the other way from the spec's scale or the scale runs descending, and the labels of
group and demographic columns checked code by code."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from adoption.audit import LogEntry
from adoption.errors import InputError
from adoption.load.common import STAGE, escape_controls, fmt_code, is_number, norm_label
from adoption.spec import Scale, Survey, label_direction

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


_NONANSWER = re.compile(r"not answered|no answer|missing|don.?t know|refused|prefer not|"
                        r"not applicable|\bn/?a\b|skipped")


def reconcile_value_labels(p: Path, s: pd.Series, col: str, file_labels: dict, scale: Scale,
                            missing_ranges, log: list[LogEntry],
                            recodes: dict[str, str] | None = None) -> tuple[pd.Series, dict]:
    """Make the file's numeric codes mean what the spec's labels say (see
    :func:`adoption.load.load_responses`, Notes). Returns the column and its re-keyed value labels; a
    recode is logged and its rule put in ``recodes[col]``."""
    if not scale.labels:
        # no labels to line the codes up with: the file's labels can still tell which
        # way the scale runs, read by the one direction rule (see to_ascending)
        return s, file_labels

    def declared_missing(code: float) -> bool:
        return any(not isinstance(lo, str) and lo <= code <= hi for lo, hi in missing_ranges)

    spec = {norm_label(t): float(k) for k, t in scale.labels.items()}
    coded = {float(k): v for k, v in file_labels.items() if is_number(k) and not declared_missing(float(k))}
    if not coded:
        return s, file_labels
    matches = {c: spec[norm_label(t)] for c, t in coded.items() if norm_label(t) in spec}
    file_desc = "; ".join(f"{fmt_code(c)} = {escape_controls(str(t))}" for c, t in sorted(coded.items()))
    spec_desc = "; ".join(f"{k} = {t}" for k, t in sorted(scale.labels.items()))
    if not matches or all(c == n for c, n in matches.items()):
        fd, sd = label_direction(coded), label_direction(scale.labels)
        if fd and sd and fd != sd:
            why = ("though the few labels that match agree.\nWrite the spec's scale labels with "
                   "the file's wording for every point" if matches else "and no label text "
                   "matches.\nWrite the spec's scale labels with the file's wording so that the "
                   "codes can be recoded by label")
            raise InputError(
                f"{p}: column '{col}': the file's value labels ({file_desc}) seem to run the other "
                f"way from the spec's ({spec_desc}), {why}, or recode the column in the file.")
        if not matches:
            log.append(LogEntry(STAGE, "value labels differ from spec", column=col, count=0,
                                detail=f"file: {file_desc}; spec: {spec_desc}; numeric codes kept as stored"))
        return s, file_labels
    remap, rule = _code_map(s, coded, matches, scale)
    if remap is None:
        raise InputError(
            f"{p}: column '{col}': the file's value labels ({file_desc}) cannot be lined up with "
            f"the spec's scale labels ({spec_desc}).\nMake the spec's labels use the file's "
            "wording for every point, or recode the column in the file.")
    new = s.map(remap).astype("float64")
    changed = int(((new != s) & s.notna()).sum())
    pairs = ", ".join(f"{fmt_code(c)}->{fmt_code(remap(c))}" for c in sorted(coded) if remap(c) != c)
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
        key = remap(float(k)) if is_number(k) else k
        relabelled[key] = t
    return new, relabelled


def _code_map(s: pd.Series, coded: dict[float, str], matches: dict[float, float],
              scale: Scale) -> tuple[object, str]:
    """The map from the file's codes to the spec's, and its rule, given the codes whose
    labels match the spec's (``matches``): a fitted ``c -> c + b`` or ``c -> b - c``
    when every labelled answer code lands on the scale, else the matched labels one by
    one when every observed code on the scale is matched. ``(None, "")`` when neither."""
    lo, hi = float(scale.min), float(scale.max)
    fit = None
    # fit n = a*c + b with a = +1 or -1 on the matched labels
    for a in (1.0, -1.0):
        bs = {n - a * c for c, n in matches.items()}
        if len(bs) == 1 and (len(matches) >= 2 or a == 1.0):
            fit = (a, bs.pop())
            break
    one_to_one = len(set(matches.values())) == len(matches)
    if fit is not None:
        a, b = fit
        # the file's labelled answer codes must all land on the spec's scale; codes
        # labelled like a non-answer ("Not answered", "Don't know") are left out
        answer_codes = [c for c, t in coded.items() if not _NONANSWER.search(norm_label(t))]
        if all(lo <= a * c + b <= hi for c in answer_codes):

            def remap(v: float) -> float:
                if np.isnan(v):
                    return v
                n = a * v + b
                return n if lo <= n <= hi and float(v).is_integer() else v
            return remap, (f"c -> {fmt_code(b)} - c" if a == -1 else
                           f"c -> c {'+' if b >= 0 else '-'} {fmt_code(abs(b))}")
        if not (one_to_one and set(answer_codes) <= set(matches)):
            return None, ""
        # every answer label matched: a recode by label text
    observed = {float(v) for v in s.dropna().unique()}
    if not one_to_one or any(v not in matches and lo <= v <= hi for v in observed):
        return None, ""
    return (lambda v: matches.get(v, v) if not np.isnan(v) else v), "by label text"


def to_ascending(p: Path, s: pd.Series, col: str, scale: Scale, file_labels: dict,
                  missing_codes, log: list[LogEntry],
                  recodes: dict[str, str] | None = None) -> tuple[pd.Series, dict]:
    """An item whose answers run descending (1 = Strongly agree) recoded to ascending,
    ``c -> min + max - c`` (:meth:`Scale.reverse`), so that higher means more agreement.

    Descending is what the spec says (``scale.direction``, else its labels' wording);
    a spec that says neither and has no labels takes the direction of the file's value
    labels. (With spec labels, the file's codes were already lined up with the spec's
    by :func:`reconcile_value_labels`.) Values outside ``min..max``, non-integers and
    declared missing codes are left for the cleaning stage. Logged as
    :data:`DESCENDING_RECODE` with the rule and the reason, and its rule (ending in
    :data:`DESCENDING_NOTE`) added to ``recodes[col]`` after any recode by value labels,
    so that validate, the run's warnings, results.json and the report say it as they
    say those. Returns the column and its re-keyed value labels."""
    coded = {float(k): v for k, v in file_labels.items() if is_number(k)}
    by_file = label_direction(coded) if not scale.labels else 0
    desc = "; ".join(f"{fmt_code(c)} = {escape_controls(str(t))}" for c, t in sorted(coded.items()))
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
    return new, {(remap(float(k)) if is_number(k) else k): t for k, t in file_labels.items()}


def group_labels_to_codes(s: pd.Series, col: str, labels: dict, log: list[LogEntry]) -> pd.Series:
    """A group column written as label text ('Female', as Google Forms writes it)
    becomes the spec's codes, so that a .csv and a .sav of the same survey agree. Only
    when every non-empty value is one of the group's labels; otherwise left as is."""
    if pd.api.types.is_numeric_dtype(s):
        return s
    codes = {norm_label(t): (float(k) if is_number(k) else k) for k, t in labels.items()}
    vals = s.dropna()
    keys = vals.astype(str).map(norm_label)
    if vals.empty or not keys.isin(list(codes)).all():
        return s
    out = pd.Series(np.nan, index=s.index, name=s.name, dtype="float64") \
        if all(isinstance(v, float) for v in codes.values()) else pd.Series(pd.NA, index=s.index, dtype=object)
    out[vals.index] = keys.map(codes).to_numpy()
    log.append(LogEntry(STAGE, "label text to number", column=col, count=len(vals),
                        detail="group labels read as the spec's codes: "
                               + "; ".join(f"{t} -> {fmt_code(codes[norm_label(t)])}" for t in labels.values())))
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


def reconcile_category_labels(p: Path, s: pd.Series, col: str, file_labels: dict, spec_labels: dict,
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
    conflicts = sorted(k for k in spec if k in file and norm_label(spec[k]) != norm_label(file[k]))
    if not conflicts:
        if file and set(file) - set(spec):
            log.append(LogEntry(STAGE, "value labels used for categories", column=col, count=0,
                                detail="labels from the file: " + "; ".join(
                                    f"{k} = {escape_controls(t)}" for k, t in file.items() if k not in spec)))
        return s, {**file, **spec}
    by_text = {norm_label(t): k for k, t in spec.items()}
    moves = {k: by_text.get(norm_label(file[k])) for k in conflicts}
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
        + "; ".join(f"{k} = {escape_controls(file[k])}" for k in conflicts) + ", but the spec says "
        + "; ".join(f"{k} = {spec[k]}" for k in conflicts) + ".\nMake the spec's group labels "
        "use the file's wording for each code (or remove them to use the file's), or fix the file.")


def _float_or_text(k: str):
    try:
        return float(k)
    except ValueError:
        return k


def _label_list(labels: dict[str, str]) -> str:
    return "; ".join(f"{k} = {escape_controls(t)}" for k, t in labels.items())


def category_columns(p: Path, df: pd.DataFrame, survey: Survey, value_labels: dict,
                     log: list[LogEntry]) -> dict[str, dict[str, str]]:
    """Group and demographic columns with their labels, in place: group columns written
    as label text become the spec's codes (:func:`group_labels_to_codes`), and the
    file's value labels are reconciled with the spec's group labels
    (:func:`reconcile_category_labels`). Returns column -> {category_key: label}."""
    for g in survey.groups:
        if g.labels and g.column in df.columns:
            df[g.column] = group_labels_to_codes(df[g.column], g.column, g.labels, log)
    labels = {}
    for col in dict.fromkeys([*survey.group_columns, *survey.demographics]):
        if col in df.columns:
            spec = next((g.labels for g in survey.groups if g.column == col), {})
            df[col], labels[col] = reconcile_category_labels(
                p, df[col], col, value_labels.get(col, {}), spec, log)
    return labels
