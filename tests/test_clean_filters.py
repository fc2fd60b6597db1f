"""Row filters in the spec (issue 18): ``filters:`` keeps only the rows that pass, and the
others are excluded under their own reason, REASON_FILTER, in the sample flow."""

from __future__ import annotations

import numpy as np
import pytest

from adoption.clean import REASON_ORDER, clean
from adoption.errors import InputError
from adoption.vocabulary import REASON_FILTER
from tests.test_clean import loaded, make_data, make_survey


def test_filter_excludes_rows_under_its_own_reason():
    df = make_data(n=120)
    df["attempt"] = np.where(np.arange(120) % 4 == 0, 2, 1)   # 30 second attempts
    df["country"] = ["DE", "FR", "IT"] * 40
    df.loc[3, "attempt"] = np.nan                               # missing: fails the filter
    survey = make_survey(filters=[{"column": "attempt", "equals": 1},
                                  {"column": "country", "one_of": ["DE", "FR"]}])
    c = clean(loaded(df), survey)
    expected = ~((df["attempt"] == 1) & df["country"].isin(["DE", "FR"]))
    assert dict(c.flow.excluded)[REASON_FILTER] == int(expected.sum())
    assert set(c.exclusions.loc[c.exclusions["reason"] == REASON_FILTER, "row"]) == \
        set(df.index[expected])
    assert REASON_ORDER[0] == REASON_FILTER
    assert c.flow.rows_analysed == len(df) - int(expected.sum())
    assert "attempt" not in c.data.columns     # a filter column is not carried on


def test_filter_range_and_refusals():
    df = make_data(n=60)
    df["age"] = np.arange(60) + 10
    c = clean(loaded(df), make_survey(filters=[{"column": "age", "min": 18, "max": 60}]))
    assert dict(c.flow.excluded)[REASON_FILTER] == 8 + 9     # ages 10-17 and 61-69
    with pytest.raises(InputError, match="filters name column 'nope'"):
        clean(loaded(df), make_survey(filters=[{"column": "nope", "equals": 1}]))
    with pytest.raises(InputError, match="needs equals, one_of, min or max"):
        make_survey(filters=[{"column": "age"}])
