"""Property-based tests of loading and cleaning (hypothesis, derandomized).

Random specs and tables built from them, with missing codes, blank cells, answer labels in
odd case, out-of-range values and junk text, written as CSV, .xlsx or .sav, always end
either in a clean result whose sample flow adds up, or in an InputError with a one- or
two-line message. No other exception escapes, and no value of a kept row changes except
by the documented recodes (missing code -> NaN, out of range -> NaN, label -> its code,
reverse-keyed item -> min + max - x), each of them logged.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from adoption.clean import clean
from adoption.errors import InputError
from adoption.load import load_responses
from adoption.spec import parse_spec

SETTINGS = settings(max_examples=100, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

WORDS = ["Strongly disagree", "Disagree", "Somewhat disagree", "Neutral", "Somewhat agree",
         "Agree", "Strongly agree", "Very strongly agree", "Completely agree"]
# kinds of cell and what cleaning must make of them
OK, NUMTEXT, LABEL, BLANK, CODE, OOR, JUNK = "ok", "numtext", "label", "blank", "code", "oor", "junk"


@st.composite
def surveys(draw):
    lo = draw(st.sampled_from([0, 1]))
    hi = lo + draw(st.integers(3, 6))
    labels = {k: WORDS[i] for i, k in enumerate(range(lo, hi + 1))} if draw(st.booleans()) else {}
    n_con = draw(st.integers(1, 3))
    constructs, reverse = {}, set()
    for c in range(n_con):
        items = [f"C{c}_{j}" for j in range(draw(st.integers(2, 4)))]
        rev = [i for i in items if draw(st.booleans()) and draw(st.booleans())]
        reverse |= set(rev)
        constructs[f"C{c}"] = {"items": items, "reverse": rev}
    codes = draw(st.lists(st.sampled_from([99, -9, -99, 999]), max_size=2, unique=True))
    raw = {
        "title": "property", "id": "rid", "scale": {"min": lo, "max": hi, "labels": labels},
        "constructs": constructs,
        "missing": {"codes": codes, "method": draw(st.sampled_from(["listwise", "fiml"]))},
        "screening": {"duplicate_ids": draw(st.booleans()), "duplicate_rows": draw(st.booleans()),
                      "max_missing_share": draw(st.sampled_from([None, 0.5, 1.0]))},
    }
    return parse_spec(raw, path=Path("/tmp/property/survey.yaml")), reverse


@st.composite
def tables(draw):
    survey, reverse = draw(surveys())
    sc = survey.scale
    n = draw(st.integers(3, 30))
    fmt = draw(st.sampled_from(["csv", "xlsx", "sav"]))
    kinds = [OK] * 12 + [BLANK]
    if survey.missing.codes:
        kinds.append(CODE)
    kinds.append(OOR)
    if fmt != "sav":
        kinds.append(NUMTEXT)
        if sc.labels:
            kinds.append(LABEL)
    junk = fmt != "sav" and draw(st.integers(0, 9)) == 9
    cells: dict[str, list[tuple[str, object]]] = {}
    for item in survey.items:
        col = []
        for _ in range(n):
            kind = draw(st.sampled_from(kinds))
            v = draw(st.integers(sc.min, sc.max))
            if kind == CODE:
                v = draw(st.sampled_from(survey.missing.codes))
            elif kind == OOR:
                v = draw(st.sampled_from([sc.min - 1, sc.max + 1, sc.max + 0.5, 50]))
            col.append((kind, v))
        cells[item] = col
    if junk:
        item = draw(st.sampled_from(survey.items))
        row = draw(st.integers(0, n - 1))
        cells[item][row] = (JUNK, draw(st.sampled_from(["maybe?", "2024-01-01", "4,5", "seven"])))
    ids = [f"P{draw(st.integers(1, n + 2))}" for _ in range(n)]
    return survey, reverse, fmt, ids, cells


def cell_value(kind: str, v, survey, fmt: str, odd_case: bool):
    if kind == BLANK:
        return None
    if kind == NUMTEXT:
        return f" {v} " if fmt == "csv" else str(v)
    if kind == LABEL:
        text = survey.scale.labels[v]
        return text.upper() if odd_case else text
    return v


def write_table(folder: Path, survey, fmt: str, ids, cells, odd_case: bool) -> Path:
    cols = {"rid": ids}
    for item, col in cells.items():
        cols[item] = [cell_value(k, v, survey, fmt, odd_case) for k, v in col]
    df = pd.DataFrame(cols)
    path = folder / f"export.{fmt}"
    if fmt == "csv":
        df.to_csv(path, index=False)
    elif fmt == "xlsx":
        df.to_excel(path, index=False)
    else:
        df = df.astype({c: float for c in cells})
        pyreadstat.write_sav(df, str(path))
    return path


def expected(kind: str, v, survey, item: str, reverse: set[str]) -> float:
    if kind in (BLANK, CODE, OOR):
        return np.nan
    x = float(v)
    sc = survey.scale
    return float(sc.min + sc.max - x) if item in reverse else x


@SETTINGS
@given(tables(), st.booleans())
def test_load_and_clean_end_in_a_result_or_an_input_error(table, odd_case):
    survey, reverse, fmt, ids, cells = table
    with tempfile.TemporaryDirectory() as tmp:
        path = write_table(Path(tmp), survey, fmt, ids, cells, odd_case)
        try:
            loaded = load_responses(path, survey)
            before = loaded.data.copy()
            cleaned = clean(loaded, survey)
        except InputError as exc:
            event("InputError: " + str(exc).split(": ", 1)[1][:40])
            lines = str(exc).strip().splitlines()
            assert 1 <= len(lines) <= 2 and str(path) in lines[0], str(exc)
            return
    event("clean result")
    has_junk = any(k == JUNK for col in cells.values() for k, _ in col)
    assert not has_junk, "junk text in an item must be refused"
    pd.testing.assert_frame_equal(loaded.data, before)  # cleaning never changes its input

    flow = cleaned.flow
    assert flow.rows_in == len(ids)
    assert flow.rows_in == flow.rows_analysed + sum(c for _, c in flow.excluded)
    assert len(cleaned.exclusions) == flow.rows_in - flow.rows_analysed
    assert set(cleaned.exclusions["row"]).isdisjoint(cleaned.data.index)

    for item, col in cells.items():
        for row in cleaned.data.index:
            kind, v = col[row - 1]
            want = expected(kind, v, survey, item, reverse)
            got = cleaned.data.loc[row, item]
            assert (np.isnan(want) and np.isnan(got)) or got == want, (item, row, kind, v, got)

    for row in cleaned.data.index:  # the id is never changed either
        assert cleaned.data.loc[row, "rid"] == ids[row - 1]

    actions = {(e.action, e.column) for e in cleaned.log}
    for item, col in cells.items():
        kinds = {k for k, _ in col}
        if CODE in kinds:
            assert ("missing code to missing", item) in actions
        if OOR in kinds:
            assert ("out of range to missing", item) in actions
        if LABEL in kinds:
            assert ("label text to number", item) in actions
        if item in reverse:
            assert ("reverse-coded", item) in actions
    for row in cleaned.exclusions["row"]:
        assert any(e.action == "row excluded" and e.row == row for e in cleaned.log)


@SETTINGS
@given(st.lists(st.lists(st.one_of(st.none(), st.integers(-20, 120), st.floats(allow_nan=True),
                                   st.text(max_size=12)), min_size=4, max_size=4),
                min_size=1, max_size=15))
def test_any_csv_cells_end_in_a_result_or_an_input_error(rows):
    """Anything at all in the cells of a well-formed CSV."""
    survey = parse_spec({"title": "t", "id": "rid",
                         "constructs": {"A": ["a1", "a2"], "B": ["b1", "b2"]},
                         "missing": {"codes": [99]}}, path=Path("/tmp/property/survey.yaml"))
    df = pd.DataFrame(rows, columns=["a1", "a2", "b1", "b2"]).assign(rid=range(len(rows)))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cells.csv"
        df.to_csv(path, index=False)
        try:
            cleaned = clean(load_responses(path, survey), survey)
        except InputError as exc:
            assert 1 <= len(str(exc).strip().splitlines()) <= 2
            return
    flow = cleaned.flow
    assert flow.rows_in == flow.rows_analysed + sum(c for _, c in flow.excluded)
    assert cleaned.data[survey.items].stack().between(1, 5).all()
