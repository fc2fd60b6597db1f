"""adoption.spssout: names SPSS and Stata accept, reverse-keyed labels, a round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from adoption.spec import parse_spec
from adoption.spssout import labelled_responses, variable_name, write_spss

LIKERT5 = {1: "Strongly disagree", 2: "Disagree", 3: "Neutral", 4: "Agree", 5: "Strongly agree"}


def survey():
    return parse_spec({"title": "t", "scale": {"min": 1, "max": 5, "labels": LIKERT5},
                       "constructs": {"PE": {"label": "Performance expectancy",
                                             "items": {"PE1": "AI helps me", "PE2": "AI is 50% useful & fast"},
                                             "reverse": ["PE2"]}}},
                      path=Path("/tmp/survey.yaml"))


def test_variable_names():
    taken: set[str] = set()
    assert variable_name("Any comments?", taken) == "Any_comments"
    assert variable_name("any comments!", taken) == "any_comments_2"
    assert variable_name("1st", taken) == "v_1st"
    assert len(variable_name("x" * 80, taken)) == 32


def test_round_trip_with_reverse_keyed_labels(tmp_path):
    s = survey()
    data = pd.DataFrame({"PE1": [1.0, 5.0, np.nan], "PE2": [5.0, 2.0, 4.0],
                         "Any comments?": ["ok", None, "fine"]},
                        index=pd.Index([2, 3, 7], name="row"))
    scores = pd.DataFrame({"PE": data[["PE1", "PE2"]].mean(axis=1)})
    lab = labelled_responses(data, scores, s)
    write_spss(tmp_path, lab)
    df, meta = pyreadstat.read_sav(str(tmp_path / "responses.sav"))
    assert list(df.columns) == ["row", "PE1", "PE2", "Any_comments", "PE_score"]
    np.testing.assert_array_equal(df["row"], [2, 3, 7])
    np.testing.assert_array_equal(df["PE_score"], [3.0, 3.5, 4.0])
    assert meta.column_names_to_labels["PE2"] == "AI is 50% useful & fast (reverse-coded)"
    assert meta.column_names_to_labels["Any_comments"] == "Any comments?"
    # PE2 was flipped (6 - x) when cleaning: a stored 5 is a "Strongly disagree" answer
    assert meta.variable_value_labels["PE2"][5.0] == "Strongly disagree"
    assert meta.variable_value_labels["PE1"][5.0] == "Strongly agree"
    assert "Performance expectancy" in meta.column_names_to_labels["PE_score"]
    dta, dmeta = pyreadstat.read_dta(str(tmp_path / "responses.dta"))
    np.testing.assert_array_equal(dta["PE1"], df["PE1"])
    assert dmeta.variable_value_labels["PE2"][1] == "Strongly agree"
