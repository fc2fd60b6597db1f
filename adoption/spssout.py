"""SPSS and Stata out: the cleaned responses with construct scores and their labels.

    cleaned responses + composite scores + spec -> responses.sav, responses.dta

So that an SPSS or Stata user can go on where the pipeline stopped: the same rows and
columns as ``responses.parquet`` (no PII: those columns were dropped when loading), each
item labelled with its wording and its scale's answer labels, and one score per
construct (the mean of its items, as the composite model uses) labelled with the
construct's name and items.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from adoption.spec import Survey
from adoption.tablesout import unique_name

#: longest variable name both SPSS (64 bytes) and Stata (32 characters) accept
MAX_NAME = 32


@dataclass(frozen=True)
class LabelledResponses:
    """A frame ready for SPSS/Stata, with its labels.

    Attributes
    ----------
    data : one column per variable, first ``row`` (the data row of the input file).
    variable_labels : variable -> label (item wording, construct description, the
        original column name where it had to be changed).
    value_labels : variable -> {code: label}.
    renamed : original column -> variable name, where a name had to change.
    """

    data: pd.DataFrame
    variable_labels: dict[str, str]
    value_labels: dict[str, dict[float, str]]
    renamed: dict[str, str]


def variable_name(name: str, taken: set[str]) -> str:
    """A name SPSS and Stata both accept: letters, digits and '_', starting with a letter,
    at most :data:`MAX_NAME` characters, not in ``taken`` (case-insensitively)."""
    base = re.sub(r"[^A-Za-z0-9_]", "_", str(name)).strip("_") or "v"
    if not base[0].isalpha():
        base = "v_" + base
    return unique_name(base, taken, MAX_NAME, "_")


def item_value_labels(survey: Survey, item: str) -> dict[float, str]:
    """The scale's answer labels of one item, keyed by the codes of the cleaned data: a
    reverse-keyed item holds ``min + max - x``, so its labels are re-keyed to match."""
    scale = survey.scale_of(item)
    reverse = any(item in c.reverse for c in survey.constructs.values())
    return {float(scale.min + scale.max - k if reverse else k): str(t) for k, t in scale.labels.items()}


def labelled_responses(data: pd.DataFrame, scores: pd.DataFrame, survey: Survey,
                       file_labels: dict[str, str] | None = None,
                       file_value_labels: dict[str, dict] | None = None) -> LabelledResponses:
    """The cleaned responses, their construct scores and every label SPSS/Stata can hold.

    Parameters
    ----------
    data : the cleaned responses (index ``row``), as written to responses.parquet.
    scores : one column per construct, same index (the composite scores).
    survey : the spec: item wording, scale labels, construct labels.
    file_labels, file_value_labels : labels the input file had (kept for columns that
        are not items, e.g. a group or demographic column of a .sav).
    """
    file_labels, file_value_labels = file_labels or {}, file_value_labels or {}
    taken: set[str] = set()
    cols, var_labels, val_labels, renamed = {}, {}, {}, {}
    cols[variable_name("row", taken)] = pd.Series(data.index, index=data.index, dtype="float64")
    var_labels["row"] = "data row of the input file"
    for c in data.columns:
        name = variable_name(c, taken)
        if name != c:
            renamed[str(c)] = name
        cols[name] = _storable(data[c])
        if c in survey.items:
            wording = survey.constructs[survey.construct_of(c)].items[c]
            reverse = any(c in k.reverse for k in survey.constructs.values())
            var_labels[name] = (wording or str(c)) + (" (reverse-coded)" if reverse else "")
            val_labels[name] = item_value_labels(survey, c)
        else:
            var_labels[name] = file_labels.get(c) or str(c)
            if c in file_value_labels and pd.api.types.is_numeric_dtype(cols[name]):
                val_labels[name] = {float(k): str(t) for k, t in file_value_labels[c].items()
                                    if isinstance(k, (int, float, np.integer, np.floating))}
    for con, s in scores.items():
        name = variable_name(f"{con}_score", taken)
        c = survey.constructs[con]
        cols[name] = s.astype("float64")
        var_labels[name] = (f"{c.label or con}: mean of {', '.join(c.items)} "
                            "(at least half answered)")
    frame = pd.DataFrame(cols).reset_index(drop=True)
    return LabelledResponses(frame, var_labels, {k: v for k, v in val_labels.items() if v}, renamed)


def _storable(s: pd.Series) -> pd.Series:
    """A column SPSS/Stata can store: numbers as float, dates as they are, anything else
    as text (missing as empty text)."""
    if pd.api.types.is_bool_dtype(s):
        return s.astype("float64")
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
        return s
    return s.astype(object).map(lambda v: "" if v is None or (isinstance(v, float) and v != v) else str(v))


def write_spss(folder: Path, lab: LabelledResponses) -> None:
    """Write ``responses.sav`` and ``responses.dta`` into ``folder`` (the run directory
    being written; :func:`adoption.rundir.write_run` makes it appear atomically)."""
    import pyreadstat

    pyreadstat.write_sav(lab.data, str(folder / "responses.sav"), column_labels=lab.variable_labels,
                         variable_value_labels=lab.value_labels)
    # Stata labels whole numbers only; its labels are at most 80 characters
    dta_values = {c: {int(k): t for k, t in v.items() if float(k).is_integer()}
                  for c, v in lab.value_labels.items()}
    pyreadstat.write_dta(lab.data, str(folder / "responses.dta"),
                         column_labels={c: t[:80] for c, t in lab.variable_labels.items()},
                         variable_value_labels={c: v for c, v in dta_values.items() if v})
